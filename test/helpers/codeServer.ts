// code-server (the real VS Code workbench + a Node extension host) and headless
// Chromium for the VS Code test suites. No VS Code desktop build can be
// downloaded on these machines; see docs/testing.md.
//
// Used by test/vscode/launcher.js (the stand-in "VS Code executable" that
// @vscode/test-electron starts) and by the UI tests in test/ui/.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { freePort } from './ports';
import { Proc, startProcess } from './proc';
import { within } from './waitFor';

export const CODE_SERVER_VERSION = '4.100.3';

/** The repository root: the nearest ancestor holding package.json (works from test/ and out/test/). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'scripts'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** Path of the installed code-server binary; throws with the install command if missing. */
export function codeServerBin(): string {
  const bin = process.env.GANTRY_CODE_SERVER_BIN ?? path.join(REPO_ROOT, '.cache/code-server/node_modules/.bin/code-server');
  if (!fs.existsSync(bin)) {
    throw new Error(`code-server is not installed (${bin} is missing). Run: bash scripts/install-code-server.sh`);
  }
  return bin;
}

export interface CodeServerOptions {
  /** Scratch dir for this server: XDG dirs, logs; user data and extensions unless given. */
  dir: string;
  userDataDir?: string;
  extensionsDir?: string;
  /** Added to the server's environment; the extension host inherits it. */
  env?: NodeJS.ProcessEnv;
  /** Copy the server's output to this stream as it arrives (for debugging). */
  echo?: NodeJS.WritableStream;
  /**
   * Keep Workspace Trust on (no `--disable-workspace-trust`, trust enabled in
   * the user settings, no start-up prompt): a folder opened is untrusted, so
   * the window runs in Restricted Mode. Default: off, every folder trusted.
   */
  workspaceTrust?: boolean;
  /**
   * Run code-server (so its extension host) as this user instead of ours:
   * its dirs are given to the user, and its environment is `env` alone
   * (none of ours: HOME, PATH, XDG_RUNTIME_DIR come from `env`).
   */
  user?: { readonly uid: number; readonly gid: number };
}

export interface CodeServer {
  port: number;
  /** http://127.0.0.1:PORT */
  origin: string;
  proc: Proc;
  /** `vscode-remote://` URI of a path on the server, as the workbench payload wants it. */
  remoteUri(absPath: string): string;
  /** Stops the server and everything it forked (extension hosts, pty host, file watcher). */
  stop(): Promise<void>;
}

// User settings that keep popups and network calls out of test runs.
const QUIET_USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
};

/** Starts code-server on a free loopback port and resolves once /healthz answers. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const bin = codeServerBin();
  const userDataDir = opts.userDataDir ?? path.join(opts.dir, 'user');
  const extensionsDir = opts.extensionsDir ?? path.join(opts.dir, 'ext');
  const userSettings = path.join(userDataDir, 'User', 'settings.json');
  if (!fs.existsSync(userSettings)) {
    fs.mkdirSync(path.dirname(userSettings), { recursive: true });
    const trust = opts.workspaceTrust
      ? {
          'security.workspace.trust.enabled': true,
          'security.workspace.trust.startupPrompt': 'never',
          'security.workspace.trust.banner': 'never',
        }
      : {};
    fs.writeFileSync(userSettings, JSON.stringify({ ...QUIET_USER_SETTINGS, ...trust }, null, 2));
  }
  fs.mkdirSync(extensionsDir, { recursive: true });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // XDG dirs and TMPDIR under our scratch dir, so nothing lands in $HOME or
  // /tmp (the extension host leaves vscode-ipc-*.sock and the TS server its
  // vscode-typescript* dir there). Socket paths stay well under 108 bytes.
  const tmpDir = path.join(opts.dir, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...(opts.user ? {} : process.env),
    ...opts.env,
    XDG_CONFIG_HOME: path.join(opts.dir, 'xdg-config'),
    XDG_DATA_HOME: path.join(opts.dir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(opts.dir, 'xdg-cache'),
    TMPDIR: tmpDir,
  };
  // No extension gallery (code-server defaults to open-vsx.org, unreachable
  // here): without a serviceUrl the workbench makes no gallery requests.
  env.EXTENSIONS_GALLERY ??= '{}';
  // A VS Code terminal's CLI hook would confuse the server.
  delete env.VSCODE_IPC_HOOK_CLI;
  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--config',
    '/dev/null',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
  ];
  if (opts.user) for (const dir of new Set([opts.dir, userDataDir, extensionsDir])) chownTree(dir, opts.user.uid, opts.user.gid);
  // Own process group (Proc uses detached: true): stop() reaches every child.
  const proc = startProcess(bin, args, { env, name: 'code-server', maxOutput: 200_000, uid: opts.user?.uid, gid: opts.user?.gid });
  if (opts.echo) {
    const echo = opts.echo;
    proc.child.stdout!.on('data', (s: string) => echo.write(s));
    proc.child.stderr!.on('data', (s: string) => echo.write(s));
  }
  const server: CodeServer = {
    port,
    origin,
    proc,
    remoteUri: (absPath) => `vscode-remote://127.0.0.1:${port}${encodeURI(absPath)}`,
    stop: async () => {
      await proc.stop(5000);
    },
  };
  try {
    await proc.waitFor(() => httpOk(`${origin}/healthz`), { what: 'code-server /healthz', timeout: 60_000, interval: 200 });
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** chown -R, not following symlinks (the extensions dir links the repo, which stays ours). */
function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** Workbench URL that opens `folder`, optionally with a test payload (see workbenchPayload). */
export function workbenchUrl(server: CodeServer, folder: string, payload?: [string, string][]): string {
  let url = `${server.origin}/?folder=${encodeURIComponent(folder)}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/** Flags that work for /usr/bin/chromium on these machines (see docs/testing.md). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Headless Chromium with a fresh profile in `profileDir`. Playwright starts it
 * in its own process group and SIGKILLs that group if this process exits
 * first; call context.close() for the normal path.
 */
export async function launchChromium(profileDir: string): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  // Chromium's own temp files (org.chromium.Chromium.*) go next to the profile.
  const tmpDir = `${profileDir}-tmp`;
  fs.mkdirSync(tmpDir, { recursive: true });
  return chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium',
    env: { ...process.env, TMPDIR: tmpDir },
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
    // Our callers own signal handling and clean up code-server too.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

/** Closes the browser, but never waits on a hung one for more than `ms`. */
export async function closeChromium(context: BrowserContext | undefined, ms = 10_000): Promise<void> {
  if (!context) return;
  await within(context.close(), { what: 'Chromium to close', timeoutMs: ms }).catch(() => undefined);
}

/** Resolves once the workbench has rendered (the activity bar is there). */
export async function waitForWorkbench(page: Page, timeout = 120_000): Promise<void> {
  await page.locator('.monaco-workbench .part.activitybar').first().waitFor({ state: 'visible', timeout });
}

/** Wraps `fn` so that every call after the first returns the first call's promise. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** Pids of this process's direct children (Linux /proc). */
export function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${process.pid}/task`)) {
      const text = fs.readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8');
      pids.push(...text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // not Linux, or /proc unavailable: callers fall back to their own timeouts
  }
  return pids;
}

/**
 * Runs `cleanup` once on SIGINT/SIGTERM/SIGHUP, then exits with 128+signal.
 * Returns a function that removes the handlers.
 */
export function onSignals(cleanup: () => Promise<void>): () => void {
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  let running = false;
  const handler = (sig: NodeJS.Signals) => {
    if (running) return;
    running = true;
    process.stderr.write(`\n${sig}: stopping code-server and Chromium\n`);
    void cleanup().finally(() => process.exit(codes[sig] ?? 1));
  };
  for (const sig of Object.keys(codes)) process.on(sig, handler);
  return () => {
    for (const sig of Object.keys(codes)) process.off(sig, handler);
  };
}
