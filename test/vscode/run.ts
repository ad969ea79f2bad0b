// Runs the extension tests (test/vscode/suite) in a real VS Code workbench:
// code-server driven by headless Chromium, through test/vscode/launcher.js.
//
//   npx tsc -p tsconfig.test.json && node out/test/vscode/run.js
//
// Starts a real gantryd in temp dirs first and hands its socket to the tests
// (workspace setting gantry.socketPath, env GANTRY_TEST_SOCKET). If
// GANTRY_TEST_SOCKET is already set, that daemon is used instead. Every
// GANTRY_TEST_* variable of this process reaches the extension host.
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
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, childPids, codeServerBin, onSignals, once } from '../helpers/codeServer';
import { type ServerVersion, daemonVersion, requireBuild, startDaemon } from '../helpers/daemon';
import { type PushedImage, pushBusybox } from '../helpers/fixtures';
import { startRegistry } from '../helpers/registry';
import { Cleanup, makeTempDir } from '../helpers/tmp';

async function main(): Promise<number> {
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
    await Promise.race([testRun?.catch(() => undefined), new Promise((r) => setTimeout(r, 30_000).unref())]);
    await cleanupOnce();
  });
  try {
    const tmp = await makeTempDir('gantry-vsc', cleanup);

    let socket = process.env.GANTRY_TEST_SOCKET;
    let server: ServerVersion;
    if (socket) {
      server = await daemonVersion(socket);
    } else {
      // Its own temp dir, stopped and removed by `cleanup`.
      const daemon = await startDaemon(cleanup);
      socket = daemon.socket;
      server = await daemon.version();
    }
    console.log(`gantryd ${server.version} (pid ${server.pid}) on ${socket}`);

    const registry = await startRegistry({ cleanup });
    const images = await pushFixtures(registry);
    console.log(`registry on ${registry.host}: ${Object.values(images).map((i) => i.ref).join(', ')}`);

    const workspace = path.join(tmp, 'ws');
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'gantry.socketPath': socket }, null, 2),
    );

    const passThrough = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GANTRY_TEST_')));
    testRun = runTests({
      vscodeExecutablePath: path.join(REPO_ROOT, 'test/vscode/launcher.js'),
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(REPO_ROOT, 'out/test/vscode/suite/index.js'),
      // Our own profile dirs: test-electron's default is ./.vscode-test in the repo.
      launchArgs: [workspace, `--user-data-dir=${path.join(tmp, 'user')}`, `--extensions-dir=${path.join(tmp, 'ext')}`],
      extensionTestsEnv: {
        ...passThrough,
        GANTRY_TEST_SOCKET: socket,
        GANTRY_TEST_EXPECTED_VERSION: JSON.stringify(server),
        GANTRY_TEST_REGISTRY: registry.host,
        GANTRY_TEST_IMAGES: JSON.stringify(images),
      },
    });
    return (await testRun) as number;
  } catch (e) {
    // runTests rejects with TestRunFailedError (code) when the tests fail.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code || 1;
    console.error(e instanceof Error ? e.message : e);
    return 1;
  } finally {
    await cleanupOnce().catch((e) => console.error(`cleanup: ${e}`));
  }
}

/** What the suites need to know of a pushed image (not the raw manifest). */
type FixtureImage = Pick<PushedImage, 'ref' | 'manifestDigest' | 'configDigest' | 'layerDigests'>;

async function pushFixtures(registry: { host: string }): Promise<Record<'oci' | 'v2s2' | 'cancel' | 'containers', FixtureImage>> {
  const brief = ({ ref, manifestDigest, configDigest, layerDigests }: PushedImage): FixtureImage => ({ ref, manifestDigest, configDigest, layerDigests });
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
  return { oci: brief(oci), v2s2: brief(v2s2), cancel: brief(cancel), containers: brief(containers) };
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
