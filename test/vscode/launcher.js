#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests()
// (vscodeExecutablePath) and @vscode/test-cli (useInstallation.fromPath).
// No VS Code desktop build can be downloaded here, so it runs the extension
// tests in code-server instead: the same workbench, with the extension host
// running server-side in Node (as under Remote-SSH).
//
//   launcher.js [WORKSPACE] --extensionDevelopmentPath=DIR --extensionTestsPath=FILE
//               [--user-data-dir=DIR] [--extensions-dir=DIR]   (other flags are ignored)
//
// It starts code-server on a free loopback port, opens the workbench in headless
// Chromium with a test payload, prints the extension host's console output and
// exits with the test run's exit code. Its environment (runTests' extensionTestsEnv)
// reaches the extension host, because that host inherits code-server's environment.
//
// Env: GANTRY_VSCODE_TEST_TIMEOUT_MS (default 600000) overall limit;
//      GANTRY_VSCODE_TEST_VERBOSE=1 copies code-server's own log to stderr;
//      GANTRY_VSCODE_WORKSPACE_TRUST=1 keeps Workspace Trust on: the folder opens in Restricted Mode.
//
// Shared code lives in test/helpers/codeServer.ts; this file loads its compiled
// form, so run `npx tsc -p tsconfig.test.json` first (test:vscode does).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');

const REPO = path.resolve(__dirname, '../..');
const OUT = path.join(REPO, 'out/test/helpers');

function parseArgs(argv) {
  const opts = { devPaths: [], testsPath: undefined, userDataDir: undefined, extensionsDir: undefined, folder: undefined };
  for (const a of argv) {
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const val = eq > 0 ? a.slice(eq + 1) : '';
    if (key === '--extensionDevelopmentPath') opts.devPaths.push(path.resolve(val));
    else if (key === '--extensionTestsPath') opts.testsPath = path.resolve(val);
    else if (key === '--user-data-dir') opts.userDataDir = path.resolve(val);
    else if (key === '--extensions-dir') opts.extensionsDir = path.resolve(val);
    else if (!a.startsWith('-')) opts.folder = path.resolve(a);
    // Everything else (--no-sandbox, --disable-updates, --skip-welcome, ...) is for Electron.
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.devPaths.length === 0 || !opts.testsPath) {
    console.error('launcher: need --extensionDevelopmentPath=DIR and --extensionTestsPath=FILE');
    return 2;
  }
  if (opts.devPaths.length > 1) console.error('launcher: only the first --extensionDevelopmentPath is used');
  if (!fs.existsSync(path.join(OUT, 'codeServer.js'))) {
    console.error(`launcher: ${OUT}/codeServer.js is missing; run: npx tsc -p tsconfig.test.json`);
    return 2;
  }
  const cs = require(path.join(OUT, 'codeServer.js'));
  const { Cleanup, makeTempDir } = require(path.join(OUT, 'tmp.js'));

  const timeoutMs = Number(process.env.GANTRY_VSCODE_TEST_TIMEOUT_MS) || 600_000;
  const cleanup = new Cleanup();
  let server;
  let context;
  // Every exit path goes through stopAll: browser, then code-server's process group, then temp dirs.
  let stopping;
  const stopAll = () =>
    (stopping ??= (async () => {
      await cs.closeChromium(context);
      if (server) await server.stop();
      await cleanup.runAll().catch((e) => console.error(`launcher: cleanup: ${e.message}`));
    })());
  cs.onSignals(stopAll);
  // If whoever started us dies (e.g. run.js killed by a CI timeout), we are
  // re-parented: stop too, rather than leave code-server and Chromium behind.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 1000).unref();

  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => {
      console.error(`launcher: timed out after ${timeoutMs} ms (GANTRY_VSCODE_TEST_TIMEOUT_MS)`);
      if (server) console.error(`--- code-server output (tail) ---\n${tail(server.proc.stdout + server.proc.stderr)}`);
      resolve(1);
    }, timeoutMs);
  });

  const run = async () => {
    const dir = await makeTempDir('gantry-cs', cleanup);
    const folder = opts.folder ?? (await makeTempDir('gantry-ws', cleanup));
    server = await cs.startCodeServer({
      dir,
      userDataDir: opts.userDataDir,
      extensionsDir: opts.extensionsDir,
      echo: process.env.GANTRY_VSCODE_TEST_VERBOSE === '1' ? process.stderr : undefined,
      workspaceTrust: process.env.GANTRY_VSCODE_WORKSPACE_TRUST === '1',
    });
    context = await cs.launchChromium(path.join(dir, 'chromium'));
    const page = context.pages()[0] ?? (await context.newPage());

    let resolveExit;
    const exited = new Promise((resolve) => (resolveExit = resolve));
    // The workbench calls these when the payload holds extensionTestsPath:
    // the extension host's console output, then the test run's exit code.
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // printf-style, like console.log: mocha's reporter logs ('%s (%dms)', title, ms).
      const text = util.format(...(Array.isArray(args) ? args : [args]));
      if (NOISE.test(text)) return;
      process.stdout.write(type === 'error' || type === 'warn' ? `[${type}] ${text}\n` : `${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(Number(code) || 0));
    page.on('crash', () => {
      console.error('launcher: the workbench page crashed');
      resolveExit(1);
    });
    server.proc.waitForExit().then((s) => {
      if (stopping) return; // our own stop, not a crash
      console.error(`launcher: code-server exited early (${JSON.stringify(s)})\n${tail(server.proc.stderr)}`);
      resolveExit(1);
    });

    const payload = [
      ['extensionDevelopmentPath', server.remoteUri(opts.devPaths[0])],
      ['extensionTestsPath', server.remoteUri(opts.testsPath)],
      ['skipWelcome', 'true'],
    ];
    await page.goto(cs.workbenchUrl(server, folder, payload));
    return exited;
  };

  let code;
  try {
    code = await Promise.race([run(), timedOut]);
  } catch (e) {
    console.error(`launcher: ${e.stack ?? e}`);
    code = 1;
  } finally {
    clearTimeout(timer);
    await stopAll();
  }
  return code;
}

// Workbench chatter that says nothing about the tests (we disable the gallery on purpose).
const NOISE = /^Ignoring fetching additional builtin extensions from gallery as it is disabled/;

function tail(s, n = 4000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
