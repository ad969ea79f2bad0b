// What Kubernetes' CRI conformance suite (critest, cri-tools' pkg/validate)
// checks and the other CRI suites do not, in its order: idempotence with IDs
// that never existed, pod attributes through status and list, the container
// lifecycle, stats by ID, label and none, ExecSync's timeout leaving no
// process behind, host-path volumes through a symlink, the log file of a
// short-lived container, rprivate/rslave/rshared mount propagation, a port
// mapping with only a container port, streaming as critest drives it, the
// image manager's tags, digests and removal by ID, and one image ID across
// PullImage, ImageStatus, ListContainers and ContainerStatus.
// critest itself cannot be built on these machines; docs/critest.md says why
// and maps each of its specs to a test. These drive the same calls with the
// same expectations against a real gantryd, runc, conmon, CNI plugins and
// registry.
import * as assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerState, MountPropagation, NamespaceMode, PodSandboxState } from '../../../runtime/cri/gen/runtime/v1/api';
import { startCriDaemon, type CriClient } from '../../helpers/criClient';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { freePort } from '../../helpers/ports';
import { runCommand } from '../../helpers/proc';
import { spdyCommand, spdyPortForward } from '../../helpers/streamClients';
import { httpGet } from '../../helpers/http';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

describe('CRI conformance: what critest checks', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let cri: CriClient;
  let registry: Registry;
  let pushed: PushedImage;
  let logDir: string;
  let imageRef: string;
  const uid = () => randomBytes(6).toString('hex');

  const podConfig = (name: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, namespace: `ns-${uid()}`, uid: uid(), attempt: 0 },
    logDirectory: path.join(logDir, name),
    linux: {},
    ...extra,
  });
  const containerConfig = (name: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image: pushed.ref },
    linux: {},
    ...extra,
  });

  const pods: string[] = [];
  async function runPod(config: ReturnType<typeof podConfig>): Promise<string> {
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
    pods.push(podSandboxId);
    return podSandboxId;
  }
  async function create(podSandboxId: string, sandboxConfig: ReturnType<typeof podConfig>, config: ReturnType<typeof containerConfig>) {
    return (await cri.runtime.createContainer({ podSandboxId, config, sandboxConfig })).containerId;
  }
  const containerState = async (containerId: string) => (await cri.runtime.containerStatus({ containerId })).status?.state;
  const sandboxState = async (podSandboxId: string) => (await cri.runtime.podSandboxStatus({ podSandboxId })).status?.state;
  const exec = (containerId: string, cmd: string[], timeout = 30) => cri.runtime.execSync({ containerId, cmd, timeout: BigInt(timeout) });

  before(async () => {
    registry = await startRegistry({ cleanup });
    pushed = await pushBusybox(registry, 'cri/conformance:1', { format: 'oci' });
    logDir = await makeTempDir('criconf', cleanup);
    ({ cri } = await startCriDaemon(cleanup, logDir, 'gtc', 232));
    imageRef = (await cri.images.pullImage({ image: { image: pushed.ref } })).imageRef;
  });

  afterEach(async () => {
    for (const podSandboxId of pods.splice(0)) {
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
    }
  });

  describe('idempotence', () => {
    it('stopping and removing sandboxes and containers that never existed (random UUIDs) succeeds', async () => {
      await cri.runtime.stopPodSandbox({ podSandboxId: randomUUID() });
      await cri.runtime.removePodSandbox({ podSandboxId: randomUUID() });
      await cri.runtime.stopContainer({ containerId: randomUUID(), timeout: 0n });
      await cri.runtime.removeContainer({ containerId: randomUUID() });
    });

    it('RemoveImage of an image ID that is not there succeeds, twice', async () => {
      const fake = '0'.repeat(64);
      await cri.images.removeImage({ image: { image: fake } });
      await cri.images.removeImage({ image: { image: fake } });
      await cri.images.removeImage({ image: { image: `sha256:${fake}` } });
    });

    it('a sandbox stopped twice is NOTREADY each time; a container stopped, removed and removed again', async () => {
      const config = podConfig('idem');
      const podSandboxId = await runPod(config);
      // top, as critest's default container runs: it ends on SIGTERM, so the stop needs no SIGKILL.
      const containerId = await create(podSandboxId, config, containerConfig('idem-c', { command: ['top'] }));
      await cri.runtime.startContainer({ containerId });
      await cri.runtime.stopContainer({ containerId, timeout: 60n });
      assert.equal(await containerState(containerId), ContainerState.CONTAINER_EXITED);
      await cri.runtime.stopContainer({ containerId, timeout: 60n });
      await cri.runtime.removeContainer({ containerId });
      await cri.runtime.removeContainer({ containerId });
      await cri.runtime.stopContainer({ containerId, timeout: 0n });
      await cri.runtime.stopPodSandbox({ podSandboxId });
      assert.equal(await sandboxState(podSandboxId), PodSandboxState.SANDBOX_NOTREADY);
      await cri.runtime.stopPodSandbox({ podSandboxId });
      assert.equal(await sandboxState(podSandboxId), PodSandboxState.SANDBOX_NOTREADY);
    });
  });

  describe('pod sandboxes', () => {
    it('keeps metadata, the kubelet labels and annotations through status and list by ID; removed is unlisted', async () => {
      const config = podConfig('attrs');
      const labels = {
        foo: 'bar',
        'io.kubernetes.pod.name': config.metadata.name,
        'io.kubernetes.pod.namespace': config.metadata.namespace,
        'io.kubernetes.pod.uid': config.metadata.uid,
      };
      const annotations = { abc: 'def' };
      const podSandboxId = await runPod({ ...config, labels, annotations, linux: { cgroupParent: '/kubepods' } } as typeof config);
      assert.equal(await sandboxState(podSandboxId), PodSandboxState.SANDBOX_READY);
      const status = (await cri.runtime.podSandboxStatus({ podSandboxId })).status;
      assert.deepEqual(status?.metadata, config.metadata);
      assert.deepEqual(status?.labels, labels);
      assert.deepEqual(status?.annotations, annotations);
      const listed = (await cri.runtime.listPodSandbox({ filter: { id: podSandboxId } })).items;
      assert.equal(listed.length, 1);
      assert.deepEqual(listed[0].metadata, config.metadata);
      assert.deepEqual(listed[0].labels, labels);
      assert.deepEqual(listed[0].annotations, annotations);
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
      assert.deepEqual((await cri.runtime.listPodSandbox({ filter: { id: podSandboxId } })).items, []);
    });
  });

  describe('containers', () => {
    it('create (listed), start (RUNNING), stop (EXITED), remove (unlisted); a created container is removed too', async () => {
      const config = podConfig('life');
      const podSandboxId = await runPod(config);
      const containerId = await create(podSandboxId, config, containerConfig('life-c', { command: ['top'] }));
      assert.deepEqual(
        (await cri.runtime.listContainers({ filter: { id: containerId } })).containers.map((c) => c.state),
        [ContainerState.CONTAINER_CREATED],
      );
      await cri.runtime.startContainer({ containerId });
      assert.equal(await containerState(containerId), ContainerState.CONTAINER_RUNNING);
      assert.deepEqual((await exec(containerId, ['echo', 'hello'])).stdout.toString(), 'hello\n');
      await cri.runtime.stopContainer({ containerId, timeout: 60n });
      assert.equal(await containerState(containerId), ContainerState.CONTAINER_EXITED);
      await cri.runtime.removeContainer({ containerId });
      assert.deepEqual((await cri.runtime.listContainers({ filter: { id: containerId } })).containers, []);
      // A created container that never started is removed as well.
      const created = await create(podSandboxId, config, containerConfig('never-started', { command: ['true'] }));
      await cri.runtime.removeContainer({ containerId: created });
      assert.deepEqual((await cri.runtime.listContainers({ filter: { id: created } })).containers, []);
    });

    it('a running container is removed without a stop; stats list it with no filter, by ID and by label, with CPU and memory times', async () => {
      const config = podConfig('running');
      const podSandboxId = await runPod(config);
      const ids: string[] = [];
      for (const name of ['one', 'two', 'three']) {
        const containerId = await create(podSandboxId, config, containerConfig(name, { command: ['top'], labels: { foo: name } }));
        await cri.runtime.startContainer({ containerId });
        ids.push(containerId);
      }
      const all = (await cri.runtime.listContainerStats({})).stats.map((s) => s.attributes?.id);
      for (const id of ids) assert.ok(all.includes(id), `${id} in ${all.join(' ')}`);
      const [byId] = (await cri.runtime.listContainerStats({ filter: { id: ids[0] } })).stats;
      assert.equal(byId.attributes?.id, ids[0]);
      assert.equal(byId.attributes?.metadata?.name, 'one');
      assert.ok((byId.cpu?.timestamp ?? 0n) > 0n && (byId.memory?.timestamp ?? 0n) > 0n, 'CPU and memory have their times');
      const byLabel = (await cri.runtime.listContainerStats({ filter: { labelSelector: { foo: 'two' } } })).stats;
      assert.deepEqual(
        byLabel.map((s) => s.attributes?.id),
        [ids[1]],
      );
      assert.deepEqual((await cri.runtime.listContainerStats({ filter: { labelSelector: { foo: 'none' } } })).stats, []);
      await cri.runtime.removeContainer({ containerId: ids[2] });
      assert.deepEqual((await cri.runtime.listContainers({ filter: { id: ids[2] } })).containers, []);
    });

    it('ExecSync past its timeout fails, and the timed-out process is gone', async () => {
      const config = podConfig('exec-timeout');
      const podSandboxId = await runPod(config);
      const containerId = await create(podSandboxId, config, containerConfig('sleeper', { command: ['sleep', '600'] }));
      await cri.runtime.startContainer({ containerId });
      await assert.rejects(exec(containerId, ['sh', '-c', 'sleep 4321'], 1));
      const left = await waitFor(
        async () => {
          const ps = (await exec(containerId, ['sh', '-c', 'ps -o args | grep -v grep | grep "sleep 4321" || true'])).stdout.toString();
          return ps.trim() === '' ? 'none' : undefined;
        },
        { what: 'the timed-out exec process to be gone', timeoutMs: 30_000 },
      );
      assert.equal(left, 'none');
    });

    it('a host-path volume, and one whose host path is a symlink, show the host files', async () => {
      const config = podConfig('volumes');
      const podSandboxId = await runPod(config);
      const hostPath = await makeTempDir('crivol', cleanup);
      fs.writeFileSync(path.join(hostPath, 'testVolume.file'), 'flag');
      const link = `${hostPath}-symlink`;
      fs.symlinkSync(hostPath, link);
      cleanup.defer(() => fs.rmSync(link, { force: true }));
      for (const [name, source] of [
        ['vol', hostPath],
        ['vol-link', link],
      ]) {
        const containerId = await create(
          podSandboxId,
          config,
          containerConfig(name, {
            command: ['sleep', '600'],
            mounts: [{ hostPath: source, containerPath: source, selinuxRelabel: true }],
          }),
        );
        await cri.runtime.startContainer({ containerId });
        assert.equal(await containerState(containerId), ContainerState.CONTAINER_RUNNING);
        const ls = await exec(containerId, ['ls', source]);
        assert.equal(ls.stdout.toString().trim(), 'testVolume.file', `${name}: ${ls.stderr.toString()}`);
      }
    });

    it("a short-lived container's output is in its CRI log once it has exited", async () => {
      const config = podConfig('log');
      fs.mkdirSync(config.logDirectory, { recursive: true });
      const podSandboxId = await runPod(config);
      const logPath = 'log-c.log';
      const containerId = await create(
        podSandboxId,
        config,
        containerConfig('log-c', { command: ['sh', '-c', 'echo "hello World"'], logPath }),
      );
      await cri.runtime.startContainer({ containerId });
      await waitFor(async () => (await containerState(containerId)) === ContainerState.CONTAINER_EXITED, {
        what: 'the container to exit',
        timeoutMs: 60_000,
      });
      const lines = fs.readFileSync(path.join(config.logDirectory, logPath), 'utf8').trim().split('\n');
      assert.equal(lines.length, 1, lines.join('\n'));
      const [time, stream, tag, ...message] = lines[0].split(' ');
      assert.ok(!Number.isNaN(Date.parse(time)), time);
      assert.deepEqual([stream, tag, message.join(' ')], ['stdout', 'F', 'hello World']);
    });
  });

  describe('mount propagation', () => {
    /** critest's set-up: `mnt` bind-mounted on itself as rshared (or rprivate), a source dir to mount into it later. */
    async function hostPaths(shared: boolean) {
      const root = await makeTempDir('criprop', cleanup);
      const mnt = path.join(root, 'mnt');
      const point = path.join(mnt, 'propagationMnt');
      const src = path.join(root, 'src');
      fs.mkdirSync(point, { recursive: true });
      fs.mkdirSync(src);
      fs.writeFileSync(path.join(src, 'flagFile'), '');
      await mount(['--rbind', mnt, mnt]);
      await mount([shared ? '--make-rshared' : '--make-rprivate', mnt]);
      cleanup.defer(() => runCommand('umount', ['-R', '-l', mnt]).then(() => undefined));
      return { mnt, point, src };
    }
    const mount = (args: string[]) => runCommand('mount', args);

    for (const [name, propagation, shared, hostSeesIn, containerSeesOut] of [
      ['rprivate', MountPropagation.PROPAGATION_PRIVATE, false, false, false],
      ['rslave', MountPropagation.PROPAGATION_HOST_TO_CONTAINER, true, true, false],
      ['rshared', MountPropagation.PROPAGATION_BIDIRECTIONAL, true, true, true],
    ] as const) {
      it(`${name}: host mounts ${hostSeesIn ? 'reach' : 'stay out of'} the container, its mounts ${containerSeesOut ? 'reach' : 'stay out of'} the host`, async () => {
        const { mnt, point, src } = await hostPaths(shared);
        const config = podConfig(`prop-${name}`, { linux: { securityContext: { privileged: true } } });
        const podSandboxId = await runPod(config);
        const containerId = await create(
          podSandboxId,
          config,
          containerConfig(`prop-${name}`, {
            command: ['top'],
            linux: { securityContext: { privileged: true } },
            mounts: [{ hostPath: mnt, containerPath: mnt, propagation }],
          }),
        );
        const [m] = (await cri.runtime.containerStatus({ containerId })).status?.mounts ?? [];
        assert.deepEqual([m?.hostPath, m?.containerPath, m?.readonly, m?.propagation], [mnt, mnt, false, propagation]);
        await cri.runtime.startContainer({ containerId });
        await mount(['--rbind', src, point]);
        const inside = (await exec(containerId, ['ls', '-A', point])).stdout.toString().trim();
        assert.equal(inside, hostSeesIn ? 'flagFile' : '');
        const mine = path.join(mnt, 'containerMntPoint');
        const made = await exec(containerId, ['sh', '-c', `mkdir -p ${mine} && mount --bind /etc ${mine}`]);
        assert.equal(made.exitCode, 0, made.stderr.toString());
        assert.equal(fs.readdirSync(mine).length > 0, containerSeesOut, `the host sees /etc of the container at ${mine}`);
      });
    }
  });

  describe('networking', () => {
    it('a port mapping with only a container port: the pod answers on its IP', async () => {
      const config = podConfig('web-cport', { portMappings: [{ protocol: 0, containerPort: 8080 }] });
      const podSandboxId = await runPod(config);
      const containerId = await create(
        podSandboxId,
        config,
        containerConfig('httpd', {
          command: ['sh', '-c', 'mkdir -p /www && echo main-page > /www/index.html && exec httpd -f -p 8080 -h /www'],
        }),
      );
      await cri.runtime.startContainer({ containerId });
      const ip = (await cri.runtime.podSandboxStatus({ podSandboxId })).status?.network?.ip;
      assert.ok(ip, 'the pod has an IP');
      const page = await waitFor(
        async () => {
          try {
            return await httpGet(`http://${ip}:8080/`);
          } catch {
            return undefined;
          }
        },
        { what: 'httpd in the pod to answer', timeoutMs: 60_000 },
      );
      assert.equal(page.trim(), 'main-page');
    });
  });

  describe('streaming, as critest drives it', () => {
    it('exec with a TTY and stdin: echo -n hello gives exactly hello', async () => {
      const config = podConfig('stream-exec');
      const podSandboxId = await runPod(config);
      const containerId = await create(podSandboxId, config, containerConfig('top', { command: ['top'] }));
      await cri.runtime.startContainer({ containerId });
      const { url } = await cri.runtime.exec({ containerId, cmd: ['echo', '-n', 'hello'], stdout: true, tty: true, stdin: true });
      const c = await spdyCommand(url, { stdout: true, tty: true, stdin: true });
      await c.stdout.waitFor('hello');
      c.endStdin();
      assert.equal((JSON.parse(await c.error) as { status: string }).status, 'Success');
      assert.equal(await c.stdout.done, 'hello');
    });

    it('attach to a shell reading its stdin (stdin_once): echo hello gives hello; the end of stdin ends it', async () => {
      const config = podConfig('stream-attach');
      const podSandboxId = await runPod(config);
      const containerId = await create(
        podSandboxId,
        config,
        containerConfig('shell', { command: ['/bin/sh'], stdin: true, stdinOnce: true, tty: false }),
      );
      await cri.runtime.startContainer({ containerId });
      const { url } = await cri.runtime.attach({ containerId, stdin: true, stdout: true, stderr: true, tty: false });
      const c = await spdyCommand(url, { stdin: true, stdout: true, stderr: true });
      c.write('echo hello\n');
      await c.stdout.waitFor('hello\n');
      c.endStdin();
      assert.equal(await c.stdout.done, 'hello\n');
      assert.equal(await c.stderr.done, '');
    });

    it('port-forward into a host-network pod, the request naming no port', async () => {
      const port = await freePort();
      const config = podConfig('stream-pf-host', {
        portMappings: [{ protocol: 0, containerPort: port }],
        linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } },
      });
      const podSandboxId = await runPod(config);
      const containerId = await create(
        podSandboxId,
        config,
        containerConfig('httpd', {
          command: ['sh', '-c', `mkdir -p /www && echo host-net-page > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`],
        }),
      );
      await cri.runtime.startContainer({ containerId });
      await waitFor(async () => (await exec(containerId, ['wget', '-qO-', `http://127.0.0.1:${port}/`])).exitCode === 0 || undefined, {
        what: 'httpd answering on the host network',
        timeoutMs: 60_000,
      });
      const pf = await spdyPortForward((await cri.runtime.portForward({ podSandboxId })).url);
      const conn = pf.forward(port);
      conn.write('GET / HTTP/1.0\r\nHost: pod\r\n\r\n');
      assert.match(await conn.data.done, /200 OK[\s\S]*host-net-page\n$/);
      pf.close();
    });
  });

  describe('image manager', () => {
    it('two tags of one image are one Image with both; by tag, without a tag (latest) and by digest; removed by ID, every name goes', async () => {
      const spec = { image: { marker: 'critest-image-manager' }, format: 'oci' as const };
      const latest = await pushBusybox(registry, 'cri/manager:latest', spec);
      const other = await pushBusybox(registry, 'cri/manager:other', spec);
      assert.equal(latest.configDigest, other.configDigest, 'one image under two tags');
      const repo = `${registry.host}/cri/manager`;
      const byDigest = `${repo}@${latest.manifestDigest}`;
      for (const ref of [repo, other.ref, byDigest]) {
        assert.equal((await cri.images.pullImage({ image: { image: ref } })).imageRef, latest.configDigest, `pull ${ref}`);
      }
      const listed = (await cri.images.listImages({})).images.filter((i) => i.id === latest.configDigest);
      assert.equal(listed.length, 1, 'one Image for the image ID');
      assert.deepEqual([...listed[0].repoTags].sort(), [latest.ref, other.ref].sort());
      assert.ok(listed[0].size > 0n);
      for (const ref of [latest.ref, other.ref, byDigest]) {
        assert.equal((await cri.images.imageStatus({ image: { image: ref } })).image?.id, latest.configDigest, `status ${ref}`);
      }
      await cri.images.removeImage({ image: { image: latest.configDigest } });
      for (const ref of [latest.ref, other.ref, byDigest, latest.configDigest]) {
        assert.equal((await cri.images.imageStatus({ image: { image: ref } })).image, undefined, `${ref} is gone`);
      }
    });
  });

  describe('image identifiers', () => {
    it('one image ID across PullImage, ImageStatus, ListContainers and ContainerStatus, for a container created by that ID', async () => {
      const status = (await cri.images.imageStatus({ image: { image: pushed.ref } })).image;
      assert.equal(status?.id, imageRef);
      const config = podConfig('ids');
      const podSandboxId = await runPod(config);
      // As the kubelet sends it: the image ref it pulled, and the name the pod spec gave.
      const containerId = await create(
        podSandboxId,
        config,
        containerConfig('ids-c', { image: { image: imageRef, userSpecifiedImage: pushed.ref }, stdin: true }),
      );
      await cri.runtime.startContainer({ containerId });
      const s = (await cri.runtime.containerStatus({ containerId })).status;
      assert.equal(s?.imageId, imageRef);
      assert.equal(s?.imageRef, imageRef);
      assert.equal(s?.image?.userSpecifiedImage, pushed.ref);
      const [listed] = (await cri.runtime.listContainers({ filter: { id: containerId } })).containers;
      assert.equal(listed.imageId, imageRef);
      assert.equal(listed.imageRef, imageRef);
    });
  });
});
