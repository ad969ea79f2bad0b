// The rootless UI test (docs/rootless.md, "The extension"): code-server run
// as a real unprivileged user this test creates, with a subordinate ID range
// of its own (test/integration/rootless/testUser.ts), and the installed
// extension clicked through in headless Chromium:
//
//   1. A socket dir another user (root here) made first: Start Runtime
//      refuses to start, its notification names the check and the fix, and
//      Open Walkthrough opens the rootless walkthrough.
//   2. The fix applied (the dir removed): Start Runtime, clicked again, starts
//      a rootless gantryd with code-server's Node; the status bar says rootless.
//   3. An image loaded and a container run by the same user's CLI: the views
//      fill; Open Shell in Container opens a shell whose `id -u` is 0 and
//      whose uid map is the user's.
//
//   npx tsc -p tsconfig.test.json && node esbuild.js && node out/test/ui/rootless.js
//
// Skipped (saying why, counted as passed 0) without rootlesskit, newuidmap or
// useradd. Screenshots go to test-output/ui/rootless-*.png. Prints
// "N passed, N failed" as the other runners do (scripts/run-tests.js).
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
import { GANTRY_JS, requireBuild } from '../helpers/daemon';
import { pushBusybox } from '../helpers/fixtures';
import { runCommand, startProcess, stopPid } from '../helpers/proc';
import { startRegistry } from '../helpers/registry';
import { Cleanup } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';
import { createTestUser, missingTools, removeTestUser, type TestUser } from '../integration/rootless/testUser';
import { row as containerRow } from './containers.ui';
import { WAIT, expand, paneBody, paneHeader, pickFromContextMenu, statusBarItem, welcomeButton, type UiCheck } from './sidebar.ui';

const OUTPUT_DIR = path.join(REPO_ROOT, 'test-output/ui');
const IMAGE = 'rootless/busybox:latest';
const CONTAINER = 'rootless-web';

interface RootlessUiContext {
  page: Page;
  user: TestUser;
  /** The user's socket dir, $XDG_RUNTIME_DIR/gantry. */
  socketDir: string;
  /** A docker-archive of busybox tagged IMAGE, readable by the user. */
  archive: string;
  /** Pids Start Runtime recorded (GANTRY_DAEMON_PIDS_FILE). */
  startedPids(): number[];
  /** The Node code-server (and so its extension host) runs on. */
  serverNode: string;
}

const tally = { passed: 0, failed: 0 };
let aborted = false;

/** `node dist/gantry.js ARGS` as the user, with its environment (so its default socket); resolves with stdout. */
async function gantryAs(user: TestUser, args: readonly string[]): Promise<string> {
  const proc = startProcess(process.execPath, [GANTRY_JS, ...args], {
    uid: user.uid,
    gid: user.gid,
    env: user.env,
    cwd: user.home,
    name: `gantry ${args.join(' ')}`,
  });
  const status = await proc.waitForExit();
  if (status.code !== 0) throw new Error(`gantry ${args.join(' ')} as ${user.name}: exit ${status.code}: ${proc.stderr}`);
  return proc.stdout.trim();
}

const toast = (page: Page, text: RegExp) => page.locator('.notification-toast', { hasText: text });
const terminalText = (page: Page) => page.locator('.part.panel .xterm .xterm-rows');

const checks: UiCheck<RootlessUiContext>[] = [
  {
    name: 'with no daemon, the Containers view offers Start Runtime to the unprivileged user',
    async run({ page }) {
      await expand(page, 'Containers');
      await welcomeButton(page, 'Containers', 'Start Runtime').waitFor({ state: 'visible', ...WAIT });
      await statusBarItem(page)
        .filter({ hasText: 'not connected' })
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'a socket dir made by another user first: Start Runtime names the check and its fix, and starts nothing',
    async run({ page, socketDir, startedPids }) {
      // Root makes the user's socket dir before the user does (the attack docs/rootless.md "Paths" names).
      fs.mkdirSync(socketDir, { mode: 0o700 });
      await welcomeButton(page, 'Containers', 'Start Runtime').click();
      const note = toast(page, /cannot start a rootless runtime/);
      await note.waitFor({ state: 'visible', ...WAIT });
      const text = await note.innerText();
      for (const want of [socketDir, 'owned by uid 0', `remove ${socketDir}`]) {
        if (!text.includes(want)) throw new Error(`the notification does not say "${want}": ${JSON.stringify(text)}`);
      }
      if (startedPids().length) throw new Error(`Start Runtime started gantryd anyway: ${startedPids().join(', ')}`);
    },
  },
  {
    name: 'Open Walkthrough on it opens the rootless walkthrough, prerequisites and all',
    async run({ page }) {
      const note = toast(page, /cannot start a rootless runtime/);
      await note.locator('.monaco-button', { hasText: /^Open Walkthrough$/ }).click();
      const walkthrough = page.locator('.part.editor', { hasText: 'Gantry without root' });
      await walkthrough.waitFor({ state: 'visible', ...WAIT });
      for (const step of ['What rootless is', 'Check the prerequisites', 'Start the runtime', 'Run a first container']) {
        await walkthrough
          .getByText(step, { exact: true })
          .first()
          .waitFor({ state: 'visible', ...WAIT });
      }
    },
  },
  {
    name: 'the fix applied, Start Runtime starts a rootless gantryd with VS Code’s Node; the status bar says rootless',
    async run({ page, user, socketDir, startedPids, serverNode }) {
      fs.rmdirSync(socketDir);
      await page.keyboard.press('Escape');
      await welcomeButton(page, 'Containers', 'Start Runtime').click();
      await statusBarItem(page)
        .filter({ hasText: 'rootless' })
        .waitFor({ state: 'visible', ...WAIT });
      const pids = startedPids();
      if (pids.length !== 1) throw new Error(`Start Runtime recorded ${pids.length} daemons: ${pids.join(', ')}`);
      // The daemon runs as the user, started by code-server's own Node (the extension host's process.execPath).
      const status = fs.readFileSync(`/proc/${pids[0]}/status`, 'utf8');
      if (!new RegExp(`^Uid:\\s+${user.uid}\\b`, 'm').test(status)) throw new Error(`gantryd ${pids[0]} is not the user's: ${status}`);
      const exe = fs.readlinkSync(`/proc/${pids[0]}/exe`);
      if (exe !== serverNode) throw new Error(`gantryd runs ${exe}, not code-server's Node ${serverNode}`);
      const info = JSON.parse(await gantryAs(user, ['info', '--json'])) as { rootless?: boolean; socket?: string };
      if (info.rootless !== true || info.socket !== path.join(socketDir, 'gantry.sock')) {
        throw new Error(`gantry info as the user: ${JSON.stringify(info)}`);
      }
    },
  },
  {
    name: "the user's image and container fill the views",
    async run({ page, user, archive }) {
      await gantryAs(user, ['load', '-i', archive]);
      await gantryAs(user, ['run', '-d', '--name', CONTAINER, '--network', 'none', IMAGE, 'sleep', '3600']);
      await expand(page, 'Images');
      await paneBody(paneHeader(page, 'Images'))
        .locator('.monaco-list-row', { hasText: 'rootless/busybox' })
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await containerRow(page, CONTAINER)
        .first()
        .waitFor({ state: 'visible', ...WAIT });
      await paneHeader(page, 'Containers')
        .filter({ hasText: 'rootless' })
        .waitFor({ state: 'visible', ...WAIT });
    },
  },
  {
    name: 'Open Shell in Container opens a shell that is root inside and the user outside',
    async run({ page, user }) {
      await pickFromContextMenu(page, containerRow(page, CONTAINER).first(), 'Open Shell in Container');
      const input = page.locator('.part.panel .xterm-helper-textarea');
      await input.waitFor({ state: 'attached', ...WAIT });
      await input.focus();
      await page.keyboard.type('echo "uid=$(id -u)"; cat /proc/self/uid_map\n');
      const rows = terminalText(page);
      await rows.filter({ hasText: 'uid=0' }).waitFor({ state: 'visible', ...WAIT });
      // The first line of the map: 0 inside is the user outside (RootlessKit's mapping).
      await waitFor(async () => new RegExp(`^\\s*0\\s+${user.uid}\\s+1\\s*$`, 'm').test((await rows.innerText()).replace(/\u00a0/g, ' ')), {
        what: `uid_map "0 ${user.uid} 1" in the terminal`,
        describe: () => 'see test-output/ui/rootless-shell.png',
      });
    },
  },
];

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing) {
    console.log(`skipping the rootless UI test: ${missing}`);
    console.log('0 passed, 0 failed');
    return 0;
  }
  requireBuild();
  codeServerBin();
  const cleanup = new Cleanup();
  const cleanupOnce = once(() => cleanup.runAll());
  onSignals(async () => {
    aborted = true;
    await cleanupOnce();
  });
  let page: Page | undefined;
  try {
    const user = await createTestUser();
    cleanup.defer(() => removeTestUser(user));
    const registry = await startRegistry();
    cleanup.defer(() => registry.stop());
    const image = await pushBusybox(registry, 'rootless/busybox');
    // An archive the user's CLI loads: a rootless daemon with slirp4netns does not reach the host's loopback registry.
    const archive = path.join(user.base, 'busybox.tar');
    await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${image.ref}`, `docker-archive:${archive}:${IMAGE}`]);
    fs.chmodSync(archive, 0o644);

    const own = (p: string) => {
      fs.mkdirSync(p, { recursive: true });
      fs.chownSync(p, user.uid, user.gid);
      return p;
    };
    const workspace = own(path.join(user.base, 'ws'));
    fs.mkdirSync(path.join(workspace, '.vscode'));
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'terminal.integrated.gpuAcceleration': 'off' }));
    const startedPidsFile = path.join(user.base, 'started-daemons.pids');
    fs.writeFileSync(startedPidsFile, '');
    fs.chownSync(startedPidsFile, user.uid, user.gid);
    const startedPids = () => fs.readFileSync(startedPidsFile, 'utf8').split('\n').filter(Boolean).map(Number);
    // Before the user goes: its container removed by its daemon, then the daemon stopped (SIGTERM: RootlessKit and all).
    cleanup.defer(async () => {
      if (!startedPids().length) return;
      await gantryAs(user, ['rm', '-f', CONTAINER]).catch(() => undefined);
      for (const pid of startedPids()) await stopPid(pid, 20_000);
    });

    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const extensionsDir = own(path.join(user.base, 'ext'));
    fs.symlinkSync(REPO_ROOT, path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`));
    const server = await startCodeServer({
      dir: own(path.join(user.base, 'cs')),
      extensionsDir,
      user,
      // The user's login environment and nothing of ours (no GANTRY_SOCKET: the extension discovers the socket).
      env: { ...user.env, GANTRY_DAEMON_PIDS_FILE: startedPidsFile },
      echo: process.env.GANTRY_VSCODE_TEST_VERBOSE === '1' ? process.stderr : undefined,
    });
    cleanup.defer(() => server.stop());

    let context: BrowserContext | undefined;
    cleanup.defer(() => closeChromium(context));
    context = await launchChromium(path.join(user.base, 'chromium'));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(workbenchUrl(server, workspace));
    await waitForWorkbench(page);
    await page.locator('.part.activitybar a.action-label[class*="activity-workbench-view-extension-gantry-"]').click();

    const serverNode = fs.readlinkSync(`/proc/${server.proc.child.pid}/exe`);
    const ctx: RootlessUiContext = { page, user, socketDir: path.join(user.runtimeDir, 'gantry'), archive, startedPids, serverNode };
    for (const check of checks) {
      if (aborted) break;
      try {
        await check.run(ctx);
        tally.passed++;
        console.log(`  ✔ ${check.name}`);
      } catch (e) {
        tally.failed++;
        console.log(`  ✘ ${check.name}\n      ${(e instanceof Error ? e.message : String(e)).split('\n').join('\n      ')}`);
        await screenshot(page, `rootless-failed-${tally.passed + tally.failed}.png`).catch(() => undefined);
        break; // each check needs the one before
      }
      if (check === checks[checks.length - 1]) await screenshot(page, 'rootless-shell.png');
    }
  } catch (e) {
    console.error(e instanceof Error ? e.stack : e);
    if (page) await screenshot(page, 'rootless-setup-failed.png').catch(() => undefined);
    tally.failed++;
  } finally {
    await cleanupOnce().catch((e) => console.error(`cleanup: ${e}`));
  }
  const skipped = checks.length - tally.passed - tally.failed;
  if (skipped > 0 && tally.failed) console.log(`${skipped} later checks not run`);
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  return tally.failed ? 1 : 0;
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
