// What gantry writes, other tools read, and the other way round (issue 16):
// a push to a plain registry and to one behind TLS (private CA) with Basic
// auth, each read back by `skopeo inspect` and by a fresh daemon's pull with
// the same digests (the token-auth registry: push.test.ts); `gantry save` →
// `podman load` → `podman run` prints the image's marker; `podman save` of
// that image → `gantry load` → `gantry run` prints it too. podman runs
// daemonless with every dir of its own in a temp dir (--root, --runroot,
// --tmpdir, TMPDIR) and never touches the host's storage.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup, type Cleanup } from '../../helpers/tmp';

const MARKER = { x64: 'busybox-amd64', arm64: 'busybox-arm64' }[process.arch as 'x64' | 'arm64'];

describe('image transfer interop', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let source: Registry;
  let fixture: PushedImage;

  before(async () => {
    source = await startRegistry({ cleanup });
    fixture = await pushBusybox(source, 'src/interop:1', { format: 'oci' });
  });

  /** A DOCKER_CONFIG dir holding the registry's login, as `gantry login` writes it. */
  async function dockerConfig(registry: Registry): Promise<NodeJS.ProcessEnv> {
    const dir = await makeTempDir('dcfg', cleanup);
    const auths = registry.creds
      ? { [registry.host]: { auth: Buffer.from(`${registry.creds.username}:${registry.creds.password}`).toString('base64') } }
      : {};
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
    return { ...process.env, DOCKER_CONFIG: dir };
  }

  /** Daemon arguments that make it trust the registry's CA (certs.d layout). */
  async function trustArgs(registry: Registry): Promise<string[]> {
    if (!registry.caPath) return [];
    const certsDir = await makeTempDir('certsd', cleanup);
    fs.mkdirSync(path.join(certsDir, registry.host));
    fs.copyFileSync(registry.caPath, path.join(certsDir, registry.host, 'ca.crt'));
    return ['--certs-dir', certsDir];
  }

  async function skopeoInspect(registry: Registry, ref: string): Promise<{ digest: string; layers: string[] }> {
    const args = ['inspect'];
    args.push(...(registry.certDir ? ['--cert-dir', registry.certDir] : ['--tls-verify=false']));
    args.push(...(registry.creds ? ['--creds', `${registry.creds.username}:${registry.creds.password}`] : ['--no-creds']));
    const seen = JSON.parse((await runCommand('skopeo', [...args, `docker://${ref}`])).stdout) as { Digest: string; Layers: string[] };
    return { digest: seen.Digest, layers: seen.Layers };
  }

  const targets: { name: string; options: Parameters<typeof startRegistry>[0] }[] = [
    { name: 'a plain registry', options: {} },
    { name: 'a TLS registry with Basic auth (htpasswd)', options: { tls: true, auth: 'htpasswd' } },
  ];
  for (const { name, options } of targets) {
    it(`pushes to ${name}; skopeo inspect and a fresh pull give the same digests`, async () => {
      const target = await startRegistry({ ...options, cleanup });
      const env = await dockerConfig(target);
      const trust = await trustArgs(target);
      const daemon = await startDaemon(cleanup, trust);
      assert.equal((await daemon.cli(['pull', '-q', fixture.ref])).code, 0);
      const ref = `${target.host}/team/interop:1`;
      assert.equal((await daemon.cli(['tag', fixture.ref, ref])).code, 0);

      const push = await daemon.cli(['push', ref], { env });
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, new RegExp(`1: digest: ${fixture.manifestDigest} size: \\d+`));

      const seen = await skopeoInspect(target, ref);
      assert.equal(seen.digest, fixture.manifestDigest);
      assert.deepEqual(seen.layers, fixture.layerDigests);

      const fresh = await startDaemon(cleanup, trust);
      const pull = await fresh.cli(['pull', '--json', ref], { env });
      assert.equal(pull.code, 0, pull.stderr);
      const image = JSON.parse(pull.stdout) as { target: { digest: string }; id: string };
      assert.equal(image.target.digest, fixture.manifestDigest);
      assert.equal(image.id, fixture.configDigest);
    });
  }

  describe('podman', () => {
    let daemon: TestDaemon;
    let dir: string;
    let podman: (args: string[]) => Promise<{ stdout: string; stderr: string }>;

    before(async function () {
      if (!(await hasPodman())) {
        // scripts/install-system-deps.sh installs podman; a machine set up before it skips this suite.
        process.stderr.write('      (skipped: podman is not installed; run scripts/install-system-deps.sh)\n');
        this.skip();
      }
      [daemon, dir] = await Promise.all([startDaemon(cleanup), makeTempDir('gpodman', cleanup)]);
      podman = privatePodman(dir, cleanup);
      const pull = await daemon.cli(['pull', '-q', fixture.ref]);
      assert.equal(pull.code, 0, pull.stderr);
    });

    it('gantry save → podman load → podman run prints the image marker; podman save → gantry load → gantry run too', async () => {
      const saved = path.join(dir, 'gantry.tar');
      const save = await daemon.cli(['save', '-o', saved, fixture.ref]);
      assert.equal(save.code, 0, save.stderr);
      const load = await podman(['load', '-i', saved]);
      assert.match(load.stdout, new RegExp(`Loaded image: ${fixture.ref.replace(/[.]/g, '\\.')}`));
      const ids = (await podman(['images', '--no-trunc', '--format', '{{.ID}}'])).stdout.trim();
      assert.equal(`sha256:${ids.replace(/^sha256:/, '')}`, fixture.configDigest);
      // The rlimits podman asks for as root exceed the hard limits here (bench/lib/anchorRuntimes.ts PODMAN_RUN_LIMITS).
      const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=32768:32768'];
      const run = await podman(['run', '--rm', '--network', 'none', ...limits, fixture.ref, 'cat', '/etc/gantry-fixture']);
      assert.equal(run.stdout.trim(), MARKER);

      // And back: what podman writes (a docker-archive with uncompressed layers), gantry loads and runs.
      const back = path.join(dir, 'podman.tar');
      await podman(['save', '-o', back, fixture.ref]);
      const fresh = await startDaemon(cleanup);
      const loaded = await fresh.cli(['load', '-i', back]);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.match(loaded.stdout, /Loaded image: /);
      const gantryRun = await fresh.cli(['run', '--rm', '--network', 'none', fixture.ref, 'cat', '/etc/gantry-fixture']);
      assert.equal(gantryRun.code, 0, gantryRun.stderr);
      assert.equal(gantryRun.stdout.trim(), MARKER);
    });
  });
});

async function hasPodman(): Promise<boolean> {
  return runCommand('podman', ['--version']).then(
    () => true,
    () => false,
  );
}

/**
 * podman without a daemon and without the host's storage: root, run root,
 * libpod's tmpdir and big temp files in `dir`. Its storage driver keeps
 * mounts under --root (the overlay home is bind-mounted private), so the
 * cleanup unmounts everything below `dir` before the dir goes.
 */
function privatePodman(dir: string, cleanup: Cleanup): (args: string[]) => Promise<{ stdout: string; stderr: string }> {
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  const env = { ...process.env, TMPDIR: tmp };
  const global = [
    '--root',
    path.join(dir, 'root'),
    '--runroot',
    path.join(dir, 'run'),
    '--tmpdir',
    path.join(dir, 'libpod'),
    '--storage-driver',
    'overlay',
    '--events-backend',
    'none',
    '--cgroup-manager',
    'cgroupfs',
  ];
  cleanup.defer(async () => {
    await runCommand('podman', [...global, 'rm', '--all', '--force'], { env }).catch(() => undefined);
    await unmountBelow(dir);
  });
  return (args) => runCommand('podman', [...global, ...args], { env, timeout: 120_000 });
}

async function unmountBelow(dir: string): Promise<void> {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await runCommand('umount', ['-l', m]).catch(() => undefined);
}
