// The Kubernetes CRI (runtime.v1) on gantryd's CRI socket, driven as a
// kubelet or crictl drives it: a grpc-js client built from the same .proto
// (test/helpers/criClient.ts) against a real gantryd and a real registry,
// plain and with htpasswd auth. Pods and their containers: pods.test.ts. The
// RPCs not served yet must answer UNIMPLEMENTED with what is missing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { CgroupDriver } from '../../../runtime/cri/gen/runtime/v1/api';
import { criClient, failure, type CriClient } from '../../helpers/criClient';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

/** `du` of the image store: allocated bytes and inodes, hard links once, one filesystem. */
async function du(dirs: string[]): Promise<{ bytes: number; inodes: number }> {
  const bytes = await runCommand('du', ['-sxc', '-B1', ...dirs]);
  const inodes = await runCommand('du', ['-sxc', '--inodes', ...dirs]);
  const total = (out: string) => Number(/^(\d+)\s+total$/m.exec(out)![1]);
  return { bytes: total(bytes.stdout), inodes: total(inodes.stdout) };
}

describe('CRI runtime.v1 (Version, Status, RuntimeConfig, ImageService)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let cri: CriClient;
  let registry: Registry;
  let pushed: PushedImage;

  before(async () => {
    registry = await startRegistry({ cleanup });
    pushed = await pushBusybox(registry, 'cri/app:1', { format: 'oci', image: { user: '1000' } });
    daemon = await startDaemon(cleanup);
    cri = criClient(path.join(daemon.state, 'cri.sock'));
    cleanup.defer(() => cri.close());
  });

  describe('the socket and the runtime', () => {
    it('serves on <state>/cri.sock, a socket no one but root (and the gantry group) can open', () => {
      const st = fs.lstatSync(path.join(daemon.state, 'cri.sock'));
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o660);
      assert.equal(st.mode & 0o007, 0, 'nothing for "other"');
    });

    it('Version names gantry, its version and CRI v1', async () => {
      const v = await cri.runtime.version({ version: '0.1.0' });
      assert.equal(v.runtimeName, 'gantry');
      assert.equal(v.runtimeApiVersion, 'v1');
      assert.equal(v.runtimeVersion, (await daemon.version()).version);
      assert.equal(v.version, '0.1.0');
    });

    it('Status: RuntimeReady and NetworkReady true here; verbose info is JSON', async () => {
      const s = await cri.runtime.status({ verbose: true });
      const byType = new Map(s.status!.conditions.map((c) => [c.type, c]));
      assert.equal(byType.get('RuntimeReady')?.status, true, JSON.stringify(s.status));
      assert.equal(byType.get('NetworkReady')?.status, true, JSON.stringify(s.status));
      const config = JSON.parse(s.info.config) as Record<string, unknown>;
      assert.equal(config.criSocket, path.join(daemon.state, 'cri.sock'));
      assert.equal(config.cgroupDriver, 'cgroupfs');
      const components = JSON.parse(s.info.components) as Array<{ name: string; path: string }>;
      assert.deepEqual(components.map((c) => c.name).sort(), ['conmon', 'runc']);
      assert.ok(components.every((c) => c.path.startsWith('/')));
      const quiet = await cri.runtime.status({ verbose: false });
      assert.deepEqual(quiet.info, {}, 'info only when verbose');
    });

    it('RuntimeConfig reports the cgroupfs driver gantryd uses', async () => {
      const c = await cri.runtime.runtimeConfig({});
      assert.equal(c.linux?.cgroupDriver, CgroupDriver.CGROUPFS);
    });

    it('an RPC not served yet answers UNIMPLEMENTED naming what is missing, and the daemon lives on', async () => {
      const metrics = await failure(cri.runtime.listPodSandboxMetrics({}));
      assert.equal(metrics.code, status.UNIMPLEMENTED);
      assert.match(metrics.details, /^ListPodSandboxMetrics is not implemented: .*metrics/);
      // Exec is served now (the streaming server, test/integration/cri/streaming.test.ts): an unknown container, not UNIMPLEMENTED.
      const exec = await failure(cri.runtime.exec({ containerId: 'x', cmd: ['sh'], stdout: true }));
      assert.notEqual(exec.code, status.UNIMPLEMENTED);
      const checkpoint = await failure(cri.runtime.checkpointContainer({ containerId: 'x' }));
      assert.equal(checkpoint.code, status.UNIMPLEMENTED);
      assert.match(checkpoint.details, /checkpoint/);
      assert.equal((await cri.runtime.version({})).runtimeName, 'gantry');
    });
  });

  describe('ImageService', () => {
    const name = () => `${registry.host}/cri/app:1`;

    it('pull → list → status (by name, ID, digest; verbose) → remove, twice', async () => {
      const pulled = await cri.images.pullImage({
        image: { image: name() },
        sandboxConfig: { metadata: { name: 'web', namespace: 'default', uid: 'u1' } },
      });
      assert.equal(pulled.imageRef, pushed.configDigest, 'the image ref is the image ID (config digest)');

      const listed = (await cri.images.listImages({})).images.find((i) => i.id === pushed.configDigest);
      assert.ok(listed, 'listed');
      assert.deepEqual(listed.repoTags, [name()]);
      assert.deepEqual(listed.repoDigests, [`${registry.host}/cri/app@${pushed.manifestDigest}`]);
      assert.ok(listed.size > 0);
      assert.equal(listed.uid?.value, 1000n, "the image's numeric USER");
      assert.equal(listed.username, '');

      const filtered = await cri.images.listImages({ filter: { image: { image: name() } } });
      assert.deepEqual(
        filtered.images.map((i) => i.id),
        [pushed.configDigest],
      );
      const none = await cri.images.listImages({ filter: { image: { image: `${registry.host}/cri/absent:1` } } });
      assert.deepEqual(none.images, []);

      for (const ref of [name(), pushed.configDigest, `${registry.host}/cri/app@${pushed.manifestDigest}`]) {
        const s = await cri.images.imageStatus({ image: { image: ref } });
        assert.equal(s.image?.id, pushed.configDigest, `status by ${ref}`);
        assert.deepEqual(s.info, {}, 'no info without verbose');
      }
      const verbose = await cri.images.imageStatus({ image: { image: name() }, verbose: true });
      const info = JSON.parse(verbose.info.info) as {
        imageSpec: { config?: { User?: string } };
        chainID: string;
        target: { digest: string };
      };
      assert.equal(info.imageSpec.config?.User, '1000');
      assert.match(info.chainID, /^sha256:[0-9a-f]{64}$/);
      assert.equal(info.target.digest, pushed.manifestDigest);

      // One store: the Docker-facing side sees the same image under the same name.
      const images = await daemon.cli(['images']);
      assert.match(images.stdout, /cri\/app\s+1\s/);

      await cri.images.removeImage({ image: { image: name() } });
      assert.equal((await cri.images.imageStatus({ image: { image: name() } })).image, undefined);
      assert.equal((await cri.images.imageStatus({ image: { image: pushed.configDigest } })).image, undefined);
      await cri.images.removeImage({ image: { image: name() } }); // already gone: still a success
      assert.ok(!(await cri.images.listImages({})).images.some((i) => i.id === pushed.configDigest));
    });

    it('RemoveImage keeps an image a Docker-style container uses (FAILED_PRECONDITION), and removes it once unused', async () => {
      await cri.images.pullImage({ image: { image: name() } });
      const created = await daemon.cli(['create', '--name', 'cri-user', name(), 'true']);
      assert.equal(created.code, 0, created.stderr);
      const refused = await failure(cri.images.removeImage({ image: { image: name() } }));
      assert.equal(refused.code, status.FAILED_PRECONDITION);
      assert.match(refused.details, /in use by container cri-user/);
      assert.equal((await cri.images.imageStatus({ image: { image: name() } })).image?.id, pushed.configDigest);
      assert.equal((await daemon.cli(['rm', 'cri-user'])).code, 0);
      await cri.images.removeImage({ image: { image: name() } });
      assert.equal((await cri.images.imageStatus({ image: { image: name() } })).image, undefined);
    });

    it('ImageStatus of an image that is not there answers with no image, not an error', async () => {
      const s = await cri.images.imageStatus({ image: { image: `${registry.host}/cri/never:1` }, verbose: true });
      assert.equal(s.image, undefined);
      assert.deepEqual(s.info, {});
    });

    it('pulling an image the registry does not have fails and leaves nothing', async () => {
      const failed = await failure(cri.images.pullImage({ image: { image: `${registry.host}/cri/never:1` } }));
      assert.equal(failed.code, status.NOT_FOUND, failed.details);
      assert.equal((await cri.images.imageStatus({ image: { image: `${registry.host}/cri/never:1` } })).image, undefined);
    });

    it('ImageFsInfo: the content and snapshot trees, as du counts them', async () => {
      const dirs = [path.join(daemon.root, 'content'), path.join(daemon.root, 'snapshots')];
      const before = (await cri.images.imageFsInfo({})).imageFilesystems[0];
      await cri.images.pullImage({ image: { image: name() } });
      const fsInfo = await cri.images.imageFsInfo({});
      assert.equal(fsInfo.imageFilesystems.length, 1);
      const usage = fsInfo.imageFilesystems[0];
      const walked = await du(dirs);
      assert.equal(usage.fsId?.mountpoint, daemon.root);
      assert.ok(usage.timestamp > 0);
      assert.equal(usage.usedBytes?.value, BigInt(walked.bytes), 'used bytes = du -sxcB1');
      assert.equal(usage.inodesUsed?.value, BigInt(walked.inodes), 'inodes = du -sxc --inodes');
      assert.ok(usage.usedBytes.value > before.usedBytes!.value, 'the pull grew the image filesystem');
      const df = await runCommand('df', ['-B1', '--output=used', daemon.root]);
      const fsUsed = Number(df.stdout.trim().split('\n')[1]);
      assert.ok(usage.usedBytes.value <= BigInt(fsUsed), 'no more than the whole filesystem uses');
      await cri.images.removeImage({ image: { image: name() } });
    });
  });

  describe('ImageService with registry credentials (AuthConfig)', () => {
    let privateRegistry: Registry;
    const ref = () => `${privateRegistry.host}/private/app:1`;

    before(async () => {
      privateRegistry = await startRegistry({ auth: 'htpasswd', cleanup });
      await pushBusybox(privateRegistry, 'private/app:1', { format: 'v2s2' });
    });

    afterEach(async () => {
      await cri.images.removeImage({ image: { image: ref() } });
    });

    it('refuses a pull without credentials', async () => {
      const failed = await failure(cri.images.pullImage({ image: { image: ref() } }));
      assert.notEqual(failed.code, status.OK);
      assert.match(failed.details, /unauthorized|authentication|credentials/i);
    });

    it('pulls with username and password', async () => {
      const { username, password } = privateRegistry.creds!;
      const pulled = await cri.images.pullImage({
        image: { image: ref() },
        auth: { username, password, serverAddress: privateRegistry.host },
      });
      assert.match(pulled.imageRef, /^sha256:[0-9a-f]{64}$/);
    });

    it("pulls with Docker's base64 auth", async () => {
      const { username, password } = privateRegistry.creds!;
      const auth = Buffer.from(`${username}:${password}`).toString('base64');
      const pulled = await cri.images.pullImage({ image: { image: ref() }, auth: { auth } });
      assert.equal((await cri.images.imageStatus({ image: { image: ref() } })).image?.id, pulled.imageRef);
    });

    it('never sends credentials meant for another registry', async () => {
      const { username, password } = privateRegistry.creds!;
      const failed = await failure(
        cri.images.pullImage({ image: { image: ref() }, auth: { username, password, serverAddress: 'https://other.example:5000/v2/' } }),
      );
      assert.match(failed.details, /unauthorized|authentication|credentials/i);
    });
  });

  describe('ImageService with token credentials (AuthConfig tokens)', () => {
    let tokenRegistry: Registry;
    const ref = () => `${tokenRegistry.host}/tok/app:1`;
    const scope = 'repository:tok/app:pull';

    before(async () => {
      tokenRegistry = await startRegistry({ auth: 'token', cleanup });
      await pushBusybox(tokenRegistry, 'tok/app:1', { format: 'oci' });
    });

    afterEach(async () => {
      await cri.images.removeImage({ image: { image: ref() } });
    });

    it('pulls with a registry (bearer) token used as is', async () => {
      const { realm, service } = tokenRegistry.tokenServer!;
      const { username, password } = tokenRegistry.creds!;
      const url = `${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`;
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      const { token } = (await (await fetch(url, { headers: { authorization: basic } })).json()) as { token: string };
      const pulled = await cri.images.pullImage({ image: { image: ref() }, auth: { registryToken: token } });
      assert.match(pulled.imageRef, /^sha256:/);
    });

    it('pulls with an identity (refresh) token', async () => {
      const { realm, service } = tokenRegistry.tokenServer!;
      const { username, password } = tokenRegistry.creds!;
      const form = { grant_type: 'password', username, password, service, scope, client_id: 'gantry', access_type: 'offline' };
      const issued = (await (await fetch(realm, { method: 'POST', body: new URLSearchParams(form) })).json()) as { refresh_token: string };
      const before = tokenRegistry.tokenServer!.requests.length;
      const pulled = await cri.images.pullImage({ image: { image: ref() }, auth: { identityToken: issued.refresh_token } });
      assert.match(pulled.imageRef, /^sha256:/);
      const asked = tokenRegistry.tokenServer!.requests.slice(before);
      assert.ok(
        asked.some((r) => r.grantType === 'refresh_token' && r.status === 200),
        `the refresh token was exchanged: ${JSON.stringify(asked)}`,
      );
    });
  });

  describe('flags', () => {
    it('--cri-socket moves the socket; NetworkReady is false with the reason when CNI plugins are missing', async () => {
      const dir = await makeTempDir('cri', cleanup);
      const socket = path.join(dir, 'k8s.sock');
      const noPlugins = await makeTempDir('cni-empty', cleanup);
      const other = await startDaemon(cleanup, ['--cri-socket', socket, '--cni-bin-dir', noPlugins]);
      assert.ok(!fs.existsSync(path.join(other.state, 'cri.sock')));
      const client = criClient(socket);
      try {
        const s = await client.runtime.status({});
        const network = s.status!.conditions.find((c) => c.type === 'NetworkReady')!;
        assert.equal(network.status, false);
        assert.equal(network.reason, 'NetworkPluginNotReady');
        assert.ok(network.message.length > 0, 'says what is missing');
        assert.equal(s.status!.conditions.find((c) => c.type === 'RuntimeReady')?.status, true);
      } finally {
        client.close();
      }
      await other.stop();
      assert.ok(!fs.existsSync(socket), 'the socket goes with the daemon');
    });

    it('a SIGKILLed daemon leaves its CRI socket behind; the next one replaces it and serves', async () => {
      const crashed = await startDaemon(cleanup);
      const socket = path.join(crashed.state, 'cri.sock');
      await crashed.kill();
      assert.ok(fs.lstatSync(socket).isSocket(), 'the dead socket is still there');
      await crashed.start();
      const client = criClient(socket);
      try {
        assert.equal((await client.runtime.version({})).runtimeName, 'gantry');
      } finally {
        client.close();
      }
    });

    it('--cri=false serves no CRI socket', async () => {
      const off = await startDaemon(cleanup, ['--cri=false']);
      assert.ok(!fs.existsSync(path.join(off.state, 'cri.sock')));
      assert.ok((await off.version()).version);
    });
  });
});
