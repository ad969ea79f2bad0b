// UI tests: the installed extension in a real VS Code workbench (code-server),
// driven by headless Chromium, against a real gantryd. Saves screenshots to
// test-output/ui/ so anyone can see what a user sees.
//
//   npx tsc -p tsconfig.test.json && node out/test/ui/run.js
//
// The extension is "installed" by linking the repo into a fresh extensions dir
// as gantry.gantry-<version>: the layout `code-server --install-extension`
// produces, without packaging a .vsix first. Build dist/ before running.
// Env: GANTRY_VSCODE_TEST_TIMEOUT_MS (default 600000) overall limit;
//      GANTRY_VSCODE_TEST_VERBOSE=1 copies code-server's log to stderr.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import {
  REPO_ROOT,
  closeChromium,
  codeServerBin,
  launchChromium,
  onSignals,
  once,
  startCodeServer,
  waitForWorkbench,
  workbenchUrl,
} from '../helpers/codeServer';
import { removeContainers, requireBuild, startDaemon, type TestDaemon } from '../helpers/daemon';
import { pushBusybox } from '../helpers/fixtures';
import { startRegistry, type Registry } from '../helpers/registry';
import { Cleanup, makeTempDir } from '../helpers/tmp';
import { containerInspectChecks, containerLogsChecks, containersChecks, createUiContainers } from './containers.ui';
import {
  containerClearFilterChecks,
  containerCopyFilterChecks,
  containerStoppedChecks,
  containerStoppingChecks,
} from './containersActions.ui';
import { startGatedRegistry } from './gatedRegistry';
import { imageActionChecks, imageRemoveChecks } from './imageActions.ui';
import { frameImagesView, imageTooltipChecks, imagesChecks } from './images.ui';
import { networksChecks } from './networks.ui';
import { podsChecks, podsRemoveChecks, type PodsUiContext } from './pods.ui';
import { startPushGate } from './pushGate';
import { pushChecks, pushedChecks, registriesChecks, registriesRestoreChecks, type RegistriesUiContext } from './registries.ui';
import { filesChecks, filesRestoreChecks } from './files.ui';
import { volumesChecks, volumesRestoreChecks } from './volumes.ui';
import { layersChecks, layersRestoreChecks } from './layers.ui';
import { pushLayeredImage } from '../helpers/layeredImage';
import { pullChecks, pulledChecks, runFromUiChecks, type PullRunUiContext } from './pullRun.ui';
import {
  attachedRunChecks,
  closeAttachedChecks,
  failedRunChecks,
  pullAndRunChecks,
  removeFailedChecks,
  type RunFlowUiContext,
} from './runFlow.ui';
import { UiCheck, disconnectedChecks, restartFromUiChecks, sidebarChecks, type DisconnectedUiContext } from './sidebar.ui';
import { stopPid } from '../helpers/proc';

const OUTPUT_DIR = path.join(REPO_ROOT, 'test-output/ui');

// Set on timeout or signal: remaining checks are skipped, not failed.
let aborted = false;
// A setup error or the timeout counts as one failure.
const tally = { passed: 0, failed: 0 };
let currentPage: Page | undefined;

async function main(): Promise<number> {
  const cleanup = new Cleanup();
  const cleanupOnce = once(() => cleanup.runAll());
  onSignals(async () => {
    aborted = true;
    await cleanupOnce();
    console.log(`${tally.passed} passed, ${tally.failed + 1} failed (interrupted)`);
  });
  const timeoutMs = Number(process.env.GANTRY_VSCODE_TEST_TIMEOUT_MS) || 600_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      aborted = true;
      console.error(`ui: timed out after ${timeoutMs} ms (GANTRY_VSCODE_TEST_TIMEOUT_MS)`);
      const shot = currentPage ? screenshot(currentPage, 'timeout.png').catch(() => undefined) : Promise.resolve();
      void shot.then(() => {
        tally.failed++;
        resolve(1);
      });
    }, timeoutMs);
  });
  let code: number;
  try {
    code = await Promise.race([run(cleanup), timedOut]);
  } catch (e) {
    console.error(e instanceof Error ? e.stack : e);
    tally.failed++;
    code = 1;
  } finally {
    clearTimeout(timer);
    await cleanupOnce().catch((e) => console.error(`cleanup: ${e}`));
  }
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  return code;
}

async function run(cleanup: Cleanup): Promise<number> {
  requireBuild();
  codeServerBin(); // fail early with the install command
  const tmp = await makeTempDir('gantry-ui', cleanup);
  // One Docker config for the daemon's user and code-server's (registries.ui.ts).
  const dockerConfig = path.join(tmp, 'docker');
  fs.mkdirSync(dockerConfig);
  // Its own temp dir, stopped and removed by `cleanup`.
  const daemon = await startDaemon(cleanup, [], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
  const daemonInfo = await daemon.version();
  console.log(`gantryd ${daemonInfo.version} (pid ${daemonInfo.pid}) on ${daemon.socket}`);
  const { host: registry, pullRun, unpulled } = await pullFixtures(daemon, cleanup);
  fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry]: {} } }));
  const pushGate = await startPushGate(registry, cleanup);
  // Removed with the daemon's other containers by startDaemon's cleanup.
  await createUiContainers(daemon.socket, `${registry}/gantry-test/busybox:latest`);

  const workspace = path.join(tmp, 'ws');
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(workspace, '.vscode', 'settings.json'),
    // No GPU rendering: xterm then draws the terminal's rows as elements, which runFlow.ui.ts reads.
    // (gantry.socketPath is machine-scoped and never read from a workspace: GANTRY_SOCKET below points
    // the extension at the test daemon, as scripts/start.sh does.)
    JSON.stringify({ 'terminal.integrated.gpuAcceleration': 'off' }, null, 2),
  );

  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  const extensionsDir = path.join(tmp, 'ext');
  fs.mkdirSync(extensionsDir);
  fs.symlinkSync(REPO_ROOT, path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`));

  // Start Runtime (the last checks) starts gantryd on the test daemon's dirs
  // and records its pid here; it is stopped after code-server.
  const startedPidsFile = path.join(tmp, 'started-daemons.pids');
  fs.writeFileSync(startedPidsFile, '');
  const startedPids = () => fs.readFileSync(startedPidsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  cleanup.defer(async () => {
    if (startedPids().length) await removeContainers(daemon.socket);
    await Promise.all(startedPids().map((pid) => stopPid(pid, 15_000)));
  });
  const server = await startCodeServer({
    dir: path.join(tmp, 'cs'),
    extensionsDir,
    env: {
      GANTRY_TEST_SOCKET: daemon.socket,
      GANTRY_SOCKET: daemon.socket,
      GANTRY_ROOT: daemon.root,
      GANTRY_STATE: daemon.state,
      GANTRY_DAEMON_PIDS_FILE: startedPidsFile,
      DOCKER_CONFIG: dockerConfig,
    },
    echo: process.env.GANTRY_VSCODE_TEST_VERBOSE === '1' ? process.stderr : undefined,
  });
  cleanup.defer(() => server.stop());

  let context: BrowserContext | undefined;
  cleanup.defer(() => closeChromium(context));
  context = await launchChromium(path.join(tmp, 'chromium'));
  const page = context.pages()[0] ?? (await context.newPage());
  currentPage = page;
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(workbenchUrl(server, workspace));
  await waitForWorkbench(page);

  await runChecks(sidebarChecks, { page, daemonVersion: daemonInfo.version });
  if (aborted) return 1;
  await page.mouse.move(700, 450); // no hover tooltip in the picture
  await screenshot(page, 'sidebar.png');

  await runChecks(imagesChecks, { page, registry });
  if (aborted) return 1;
  await frameImagesView(page);
  await screenshot(page, 'images.png');
  await runChecks(imageTooltipChecks, { page, registry });
  if (aborted) return 1;
  await screenshot(page, 'images-tooltip.png');

  await page.keyboard.press('Escape'); // the image tooltip
  await page.mouse.move(700, 450);
  const actionsCtx = { page, socket: daemon.socket, registry };
  await runChecks(imageActionChecks, actionsCtx);
  if (aborted) return 1;
  await screenshot(page, 'images-repository-menu.png');
  await page.keyboard.press('Escape'); // the repository's menu
  await runChecks(imageRemoveChecks, actionsCtx);
  if (aborted) return 1;
  const pullRunCtx: PullRunUiContext = { page, socket: daemon.socket, ...pullRun };
  await runChecks(pullChecks, pullRunCtx);
  if (aborted) return 1;
  await screenshot(page, 'pull-progress.png');
  await runChecks(pulledChecks, pullRunCtx);
  if (aborted) return 1;
  await runChecks(runFromUiChecks, pullRunCtx);
  if (aborted) return 1;
  await page.mouse.move(700, 450);
  await screenshot(page, 'run-from-ui.png');

  await runChecks(containersChecks, { page });
  if (aborted) return 1;
  await page.mouse.move(700, 450);
  await screenshot(page, 'containers.png');
  await runChecks(containerLogsChecks, { page });
  if (aborted) return 1;
  await page.mouse.move(700, 450);
  await screenshot(page, 'containers-logs.png');
  await runChecks(containerInspectChecks, { page });
  if (aborted) return 1;
  await page.mouse.move(700, 450);
  await screenshot(page, 'containers-inspect.png');

  await runChecks(containerCopyFilterChecks, { page });
  if (aborted) return 1;
  await screenshot(page, 'containers-filtered.png');
  await runChecks(containerClearFilterChecks, { page });
  await runChecks(containerStoppingChecks, { page });
  if (aborted) return 1;
  await screenshot(page, 'containers-stopping.png');
  await runChecks(containerStoppedChecks, { page });
  if (aborted) return 1;
  // Kubernetes pods, made through the daemon's CRI socket (on by default).
  const podsCtx: PodsUiContext = {
    page,
    criSocket: path.join(daemon.state, 'cri.sock'),
    image: `${registry}/gantry-test/busybox:latest`,
  };
  await runChecks(podsChecks, podsCtx);
  if (aborted) return 1;
  await screenshot(page, 'containers-pods.png');
  await runChecks(podsRemoveChecks, podsCtx);
  if (aborted) return 1;

  const runFlowCtx: RunFlowUiContext = { page, socket: daemon.socket, image: `${registry}/gantry-test/busybox:latest`, unpulled };
  await runChecks(failedRunChecks, runFlowCtx);
  if (aborted) return 1;
  await screenshot(page, 'run-failed.png');
  await runChecks(removeFailedChecks, runFlowCtx);
  await runChecks(attachedRunChecks, runFlowCtx);
  if (aborted) return 1;
  await screenshot(page, 'run-attached-exit.png');
  await runChecks(closeAttachedChecks, runFlowCtx);
  await runChecks(pullAndRunChecks, runFlowCtx);
  if (aborted) return 1;
  await runChecks(networksChecks, runFlowCtx);
  if (aborted) return 1;
  await page.mouse.move(700, 450);
  await screenshot(page, 'networks.png');
  await runChecks(filesChecks, runFlowCtx);
  if (aborted) return 1;
  await screenshot(page, 'files.png');
  await runChecks(filesRestoreChecks, runFlowCtx);
  await runChecks(volumesChecks, runFlowCtx);
  if (aborted) return 1;
  await screenshot(page, 'volumes.png');
  await runChecks(volumesRestoreChecks, runFlowCtx);

  const registriesCtx: RegistriesUiContext = {
    page,
    socket: daemon.socket,
    registry,
    image: `${registry}/gantry-test/busybox:latest`,
    gate: pushGate,
  };
  await page.keyboard.press('Escape');
  await runChecks(pushChecks, registriesCtx);
  if (aborted) return 1;
  await screenshot(page, 'push-progress.png');
  await runChecks(pushedChecks, registriesCtx);
  await runChecks(registriesChecks, registriesCtx);
  if (aborted) return 1;
  await screenshot(page, 'registries.png');
  await runChecks(registriesRestoreChecks, registriesCtx);
  await runChecks(layersChecks, { page, registry });
  if (aborted) return 1;
  await screenshot(page, 'layers.png');
  await runChecks(layersRestoreChecks, { page, registry });

  // Last, as they stop the daemon: the views without a runtime, and Start Runtime from them.
  await page.keyboard.press('Escape');
  const disconnected: DisconnectedUiContext = { page, daemonVersion: daemonInfo.version, stopDaemon: () => daemon.stop(), startedPids };
  await runChecks(disconnectedChecks, disconnected);
  if (aborted) return 1;
  await screenshot(page, 'disconnected.png');
  await runChecks(restartFromUiChecks, disconnected);
  if (aborted) return 1;
  return tally.failed > 0 ? 1 : 0;
}

/**
 * Pushes two busybox images to a fresh registry and pulls them with the CLI,
 * tags one under a second repository and pulls one by digest (an untagged
 * `<none>` record). Pushes a third, left for pullRun.ui.ts to pull through
 * the UI, behind a gate that holds its layer. Returns the registry's host
 * and what pullRun.ui.ts needs.
 */
async function pullFixtures(
  daemon: TestDaemon,
  cleanup: Cleanup,
): Promise<{ host: string; pullRun: Omit<PullRunUiContext, 'page' | 'socket'>; unpulled: string }> {
  const registry = await startRegistry({ cleanup });
  const latest = await pushBusybox(registry, 'gantry-test/busybox:latest', { format: 'oci' });
  const older = await pushBusybox(registry, 'gantry-test/busybox:1.36', {
    format: 'v2s2',
    image: { labels: { 'org.gantry.test': 'older' }, marker: 'busybox-1.36' },
  });
  const commands = [
    ['pull', '--quiet', latest.ref],
    ['pull', '--quiet', older.ref],
    ['pull', '--quiet', `${registry.host}/gantry-test/busybox@${older.manifestDigest}`],
    ['tag', latest.ref, 'gantry-test/app:v1'],
    // The layer explorer's image (layers.ui.ts).
    ['pull', '--quiet', (await pushLayeredImage(registry, 'gantry-test/layered:1')).ref],
  ];
  for (const args of commands) {
    const res = await daemon.cli(args);
    if (res.code !== 0) throw new Error(`gantry ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}`);
  }
  console.log(`pulled from ${registry.host}: ${latest.ref}, ${older.ref}, one by digest; tagged gantry-test/app:v1`);
  // Left for runFlow.ui.ts's "Pull and run".
  const unpulled = await pushBusybox(registry, 'gantry-test/pull-and-run:v1', { format: 'oci', image: { marker: 'pull-and-run' } });
  return { host: registry.host, pullRun: await pushForUiPull(registry, cleanup), unpulled: unpulled.ref };
}

/** Its own layer (a marker file of its own), so the daemon has to fetch it through the gate. */
async function pushForUiPull(registry: Registry, cleanup: Cleanup): Promise<Omit<PullRunUiContext, 'page' | 'socket'>> {
  const pushed = await pushBusybox(registry, 'gantry-test/ui-pull:v1', { format: 'oci', image: { marker: 'ui-pull' } });
  const gate = await startGatedRegistry(registry.host, pushed.layerDigests[0], cleanup);
  const reference = `${gate.host}/gantry-test/ui-pull:v1`;
  console.log(`pushed ${pushed.ref}, not pulled; the UI pulls it as ${reference}`);
  return { reference, manifestDigest: pushed.manifestDigest, gate };
}

async function runChecks<C>(checks: UiCheck<C>[], ctx: C): Promise<void> {
  for (const check of checks) {
    if (aborted) break;
    try {
      await check.run(ctx);
      tally.passed++;
      console.log(`  ✔ ${check.name}`);
    } catch (e) {
      if (aborted) break;
      tally.failed++;
      console.log(`  ✘ ${check.name}\n      ${(e instanceof Error ? e.message : String(e)).split('\n').join('\n      ')}`);
    }
  }
}

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, name);
  await page.screenshot({ path: file, timeout: 10_000 });
  console.log(`screenshot: ${path.relative(REPO_ROOT, file)}`);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
