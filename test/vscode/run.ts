// Runs the extension tests (test/vscode/suite) in a real VS Code workbench:
// code-server driven by headless Chromium, through test/vscode/launcher.js.
//
//   npx tsc -p tsconfig.test.json && node out/test/vscode/run.js
//
// Starts a real gantryd in temp dirs first and hands its socket to the tests
// (setting gantry.socketPath in the remote machine's settings, as it has
// scope machine; env GANTRY_TEST_SOCKET). If
// GANTRY_TEST_SOCKET is already set, that daemon is used instead. Every
// GANTRY_TEST_* variable of this process reaches the extension host.
// The daemon serves the Kubernetes CRI on its default socket too:
//   GANTRY_TEST_CRI_SOCKET  <state>/cri.sock (unset with GANTRY_TEST_SOCKET: the pods suite skips)
//
// It also starts a real registry on loopback (plain HTTP, as gantryd uses for
// 127.0.0.1) with fixture images pushed by skopeo, for the Images suite:
//   GANTRY_TEST_REGISTRY  "127.0.0.1:PORT"
//   GANTRY_TEST_IMAGES    JSON {oci, v2s2, cancel}: {ref, manifestDigest, configDigest, layerDigests}
//     oci     gantry-test/busybox:oci   (OCI manifest)
//     v2s2    gantry-test/busybox:v2s2  (Docker schema2; a bigger layer, another ID)
//     cancel  gantry-test/cancel:latest (own layer, pulled only by the cancel tests)
//     containers  gantry-test/containers:latest (own layer; the Containers suite pulls it, runs
//                 containers from it, and removes both when done)
//     remote  gantry-test/remote:latest (own layer; the Remote suite pulls it on the test host)
//
// And a second "host" for the Remote suite (remote.test.ts): a network
// namespace on a veth link running sshd, whose sessions get GANTRY_HOME=<temp
// dir> (test/integration/remote/harness.ts), so the gantryd the extension
// deploys there keeps to that dir. The registry is reachable from the host at
// the same 127.0.0.1:PORT as here: a forwarder inside the namespace carries
// it over the veth to a forwarder on this side, so image references are the
// same on both runtimes and plain HTTP is allowed (loopback) without daemon flags.
// The machine settings point gantry.ssh.configFile at the test's ssh config,
// the workspace settings give short keepalives (1 s × 3). After the run, no ssh or dial-stdio of the
// extension may be left, and the remote daemon and its containers are removed.
//   GANTRY_TEST_SSH_TARGET   ssh://<alias> of the test host
//   GANTRY_TEST_SSH_CONFIG   the ssh config (also in gantry.ssh.configFile)
//   GANTRY_TEST_SSH_NETNS    the test host's network namespace (to cut its link)
//   GANTRY_TEST_SSH_HOME     GANTRY_HOME of the remote daemon (its socket: state/gantry.sock)
//
// Then a second run, the Restricted Mode suite (test/vscode/untrusted/): its
// own code-server with Workspace Trust on and an untrusted folder whose
// settings plant a socket and an ssh config (see runUntrusted). Both runs
// print mocha's "N passing", which scripts/run-tests.js adds up.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, childPids, codeServerBin, onSignals, once } from '../helpers/codeServer';
import { type ServerVersion, daemonVersion, requireBuild, startDaemon } from '../helpers/daemon';
import { type PushedImage, pushBusybox, pushMultiArch } from '../helpers/fixtures';
import { pushLayeredImage } from '../helpers/layeredImage';
import { startProcess } from '../helpers/proc';
import { startRegistry } from '../helpers/registry';
import { Cleanup, makeTempDir } from '../helpers/tmp';
import { forwardTo, startRemoteHost, type RemoteHost } from '../integration/remote/harness';
import { within } from '../helpers/waitFor';

async function main(): Promise<number> {
  let remote: RemoteHost | undefined;
  requireBuild();
  codeServerBin(); // fail early with the install command
  const cleanup = new Cleanup();
  const cleanupOnce = once(() => cleanup.runAll());
  let testRun: Promise<unknown> | undefined;
  onSignals(async () => {
    // Stop the launcher (it stops code-server and Chromium) and wait for it:
    // it writes into our temp dir until it is gone.
    for (const pid of childPids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (testRun) await within(testRun, { what: 'the test run to end', timeoutMs: 30_000 }).catch(() => undefined);
    await cleanupOnce();
  });
  try {
    const tmp = await makeTempDir('gantry-vsc', cleanup);

    // The Docker config of both the daemon's user and the extension host (the
    // Registries view lists the daemon's; Log In… stores on the extension's side).
    const dockerConfig = path.join(tmp, 'docker');
    fs.mkdirSync(dockerConfig, { recursive: true });
    let socket = process.env.GANTRY_TEST_SOCKET;
    let server: ServerVersion;
    let criSocket: string | undefined;
    if (socket) {
      server = await daemonVersion(socket);
    } else {
      // Its own temp dir, stopped and removed by `cleanup`.
      const daemon = await startDaemon(cleanup, [], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
      socket = daemon.socket;
      criSocket = path.join(daemon.state, 'cri.sock');
      server = await daemon.version();
    }
    console.log(`gantryd ${server.version} (pid ${server.pid}) on ${socket}`);

    const registry = await startRegistry({ cleanup });
    const images = await pushFixtures(registry);
    fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: {} } }));
    console.log(
      `registry on ${registry.host}: ${Object.values(images)
        .map((i) => i.ref)
        .join(', ')}`,
    );

    remote = await startRemoteHost({ cleanup });
    await forwardRegistryInto(remote, registry.port, cleanup);
    console.log(`test host ${remote.target} (${remote.host.address}, netns ${remote.host.netns}), GANTRY_HOME ${remote.gantryHome}`);

    const workspace = path.join(tmp, 'ws');
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(workspace, '.vscode', 'settings.json'),
      JSON.stringify(
        {
          'gantry.ssh.connectTimeout': 5,
          'gantry.ssh.serverAliveInterval': 1,
          'gantry.ssh.serverAliveCountMax': 3,
        },
        null,
        2,
      ),
    );
    // Machine-scoped settings (never read from a workspace): code-server's
    // window is a remote one, so they go in the remote machine's settings.
    const userData = path.join(tmp, 'user');
    fs.mkdirSync(path.join(userData, 'Machine'), { recursive: true });
    fs.writeFileSync(
      path.join(userData, 'Machine', 'settings.json'),
      JSON.stringify({ 'gantry.socketPath': socket, 'gantry.ssh.configFile': remote.sshd.sshConfigPath }, null, 2),
    );

    const passThrough = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GANTRY_TEST_')));
    testRun = runTests({
      vscodeExecutablePath: path.join(REPO_ROOT, 'test/vscode/launcher.js'),
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(REPO_ROOT, 'out/test/vscode/suite/index.js'),
      // Our own profile dirs: test-electron's default is ./.vscode-test in the repo.
      launchArgs: [workspace, `--user-data-dir=${userData}`, `--extensions-dir=${path.join(tmp, 'ext')}`],
      extensionTestsEnv: {
        ...passThrough,
        GANTRY_TEST_SOCKET: socket,
        ...(criSocket ? { GANTRY_TEST_CRI_SOCKET: criSocket } : {}),
        GANTRY_TEST_EXPECTED_VERSION: JSON.stringify(server),
        GANTRY_TEST_REGISTRY: registry.host,
        GANTRY_TEST_IMAGES: JSON.stringify(images),
        GANTRY_TEST_SSH_TARGET: remote.target,
        GANTRY_TEST_SSH_CONFIG: remote.sshd.sshConfigPath,
        GANTRY_TEST_SSH_NETNS: remote.host.netns,
        GANTRY_TEST_SSH_HOME: remote.gantryHome,
        DOCKER_CONFIG: dockerConfig,
        GANTRY_TEST_DOCKER_CONFIG: dockerConfig,
      },
    });
    const code = await exitCode(testRun);
    const clean = await noSshLeftovers(remote);
    testRun = runUntrusted(tmp, socket, passThrough);
    const untrusted = await exitCode(testRun);
    return code || untrusted || (clean ? 0 : 1);
  } catch (e) {
    // runTests rejects with TestRunFailedError (code) when the tests fail.
    const code = (e as { code?: unknown }).code;
    if (remote) await noSshLeftovers(remote);
    if (typeof code === 'number') return code || 1;
    console.error(e instanceof Error ? e.message : e);
    return 1;
  } finally {
    await cleanupOnce().catch((e) => console.error(`cleanup: ${e}`));
  }
}

/** runTests' promise → the run's exit code (it rejects with TestRunFailedError { code } when tests fail). */
async function exitCode(run: Promise<unknown>): Promise<number> {
  try {
    return (await run) as number;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code || 1;
    throw e;
  }
}

/**
 * The Restricted Mode suite (test/vscode/untrusted): its own code-server with
 * Workspace Trust on, opening a folder nobody trusted whose settings plant
 * an ssh config with a ProxyCommand that touches a canary file, and a socket
 * where we listen and log every connection. GANTRY_SOCKET (the extension's
 * fallback) is the suite's daemon.
 */
async function runUntrusted(tmp: string, daemonSocket: string, passThrough: Record<string, string | undefined>): Promise<number> {
  const dir = path.join(tmp, 'untrusted');
  const workspace = path.join(dir, 'ws');
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const canary = path.join(dir, 'canary');
  const trapSocket = path.join(dir, 'trap.sock');
  const trapLog = path.join(dir, 'trap.log');
  const sshConfig = path.join(workspace, '.vscode', 'ssh_config');
  fs.writeFileSync(trapLog, '');
  fs.writeFileSync(sshConfig, `Host gantry-planted\n  HostName 127.0.0.1\n\nHost *\n  ProxyCommand /bin/sh -c 'touch ${canary}; exit 1'\n`);
  fs.writeFileSync(
    path.join(workspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'gantry.socketPath': trapSocket, 'gantry.ssh.configFile': sshConfig }, null, 2),
  );
  const trap = net.createServer((c) => {
    fs.appendFileSync(trapLog, `connection at ${new Date().toISOString()}\n`);
    c.destroy();
  });
  await new Promise<void>((resolve, reject) => trap.once('error', reject).listen(trapSocket, () => resolve()));
  try {
    return await exitCode(
      runTests({
        vscodeExecutablePath: path.join(REPO_ROOT, 'test/vscode/launcher.js'),
        extensionDevelopmentPath: REPO_ROOT,
        extensionTestsPath: path.join(REPO_ROOT, 'out/test/vscode/untrusted/index.js'),
        launchArgs: [workspace, `--user-data-dir=${path.join(dir, 'user')}`, `--extensions-dir=${path.join(dir, 'ext')}`],
        extensionTestsEnv: {
          ...passThrough,
          GANTRY_VSCODE_WORKSPACE_TRUST: '1',
          GANTRY_SOCKET: daemonSocket,
          GANTRY_TEST_TRAP_SOCKET: trapSocket,
          GANTRY_TEST_TRAP_LOG: trapLog,
          GANTRY_TEST_CANARY: canary,
          GANTRY_TEST_PLANTED_SSH_CONFIG: sshConfig,
        },
      }),
    );
  } finally {
    await new Promise((r) => trap.close(r));
  }
}

/**
 * 127.0.0.1:`port` inside the test host's namespace, carried to the registry
 * here: a forwarder in the namespace → the veth → forwardTo() → 127.0.0.1:`port`.
 */
async function forwardRegistryInto(remote: RemoteHost, port: number, cleanup: Cleanup): Promise<void> {
  const [hostSide, hostPort] = (await forwardTo(port, remote.host.localAddress, cleanup)).split(':');
  const script = `const net = require('node:net');
const [port, host, target] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(target), host);
  const drop = () => { c.destroy(); u.destroy(); };
  c.on('error', drop).on('close', drop);
  u.on('error', drop).on('close', drop);
  c.pipe(u).pipe(c);
}).listen(Number(port), '127.0.0.1', () => console.log('forwarding'));`;
  const proc = startProcess('ip', ['netns', 'exec', remote.host.netns, process.execPath, '-e', script, String(port), hostSide, hostPort], {
    name: 'registry forwarder in the test host',
  });
  cleanup.defer(() => proc.stop());
  await proc.waitFor((p) => p.stdout.includes('forwarding'), { what: 'the registry forwarder in the test host', timeout: 20_000 });
}

/** After the run: the extension left no ssh or remote dial-stdio (deactivate closes its connection). */
async function noSshLeftovers(remote: RemoteHost): Promise<boolean> {
  try {
    await remote.expectNoLeftovers(15_000);
    return true;
  } catch (e) {
    console.error(`after the run: ${e instanceof Error ? e.message : e}`);
    return false;
  }
}

/** What the suites need to know of a pushed image (not the raw manifest). */
type FixtureImage = Pick<PushedImage, 'ref' | 'manifestDigest' | 'configDigest' | 'layerDigests'>;

async function pushFixtures(registry: {
  host: string;
}): Promise<Record<'oci' | 'v2s2' | 'cancel' | 'containers' | 'remote' | 'layered', FixtureImage>> {
  const brief = ({ ref, manifestDigest, configDigest, layerDigests }: PushedImage): FixtureImage => ({
    ref,
    manifestDigest,
    configDigest,
    layerDigests,
  });
  // ~200 kB of hex that gzip cannot squeeze away: the v2s2 image is clearly bigger (for sorting by size).
  const filler = Array.from({ length: 3000 }, (_, i) => crypto.createHash('sha256').update(String(i)).digest('hex')).join('\n');
  const oci = await pushBusybox(registry, 'gantry-test/busybox:oci', { format: 'oci' });
  const v2s2 = await pushBusybox(registry, 'gantry-test/busybox:v2s2', {
    format: 'v2s2',
    image: { files: { '/filler.txt': filler }, labels: { 'org.gantry.test': 'v2s2' } },
  });
  const cancel = await pushBusybox(registry, 'gantry-test/cancel:latest', {
    format: 'oci',
    image: { files: { '/cancel.txt': `${filler}\ncancel\n` } },
  });
  const containers = await pushBusybox(registry, 'gantry-test/containers:latest', { format: 'oci', image: { marker: 'containers' } });
  // An index with amd64 and arm64: Pull… asks which platform (images.test.ts).
  await pushMultiArch(registry, 'gantry-test/multi:latest');
  const remote = await pushBusybox(registry, 'gantry-test/remote:latest', { format: 'oci', image: { marker: 'remote' } });
  // Layers that add, change and delete files, for the layer explorer (layers.test.ts).
  const layered = await pushLayeredImage(registry, 'gantry-test/layered:1');
  return {
    oci: brief(oci),
    v2s2: brief(v2s2),
    cancel: brief(cancel),
    containers: brief(containers),
    remote: brief(remote),
    layered: brief(layered),
  };
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
