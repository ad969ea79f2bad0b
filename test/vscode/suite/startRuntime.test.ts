// The disconnected path and Gantry: Start Runtime, in a real VS Code workbench
// (code-server) run by test/vscode/run.ts, which passes the suite's main daemon:
//   GANTRY_TEST_SOCKET            its socket (also the user setting gantry.socketPath)
//   GANTRY_TEST_EXPECTED_VERSION  JSON of `gantry version --json`'s "server" part
//
// The setting gantry.socketPath (machine scope: user/remote settings) is pointed at a socket in a fresh
// temp dir where nothing listens; the extension must report 'disconnected'.
// Then gantry.runtime.start (tests run as root) spawns the bundled daemon,
// detached, on that socket, and the extension must connect to it. The test
// kills that daemon and restores the setting at the end.
//
// Start Runtime passes only --socket here (GANTRY_ROOT and GANTRY_STATE, which
// scripts/start.sh and the UI suite set, are unset in this extension host), so
// the daemon it spawns uses the default data root and state dir
// (/var/lib/gantry, /run/gantry as root). The test removes
// them afterwards when they did not exist before, and it skips when a daemon
// already serves the default socket: a second daemon on the same data root
// would write into that daemon's event log.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import { defaultRoot } from '../../../runtime/daemon/paths';
import { defaultSocket, defaultState } from '../../../runtime/client/socketPath';
import { releaseNetworks } from '../../helpers/daemon';
import { waitFor } from '../../helpers/waitFor';

interface VersionInfo {
  version: string;
  apiVersion: string;
  pid?: number;
  socket?: string;
  root?: string;
  state?: string;
}

interface ConnectionSnapshot {
  state: 'connected' | 'disconnected' | 'connecting' | 'reconnecting';
  socket?: string;
  version?: VersionInfo;
  lastError?: string;
}

interface GantryApi {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  readonly statusBarText: string;
  readonly views: { readonly images: { getChildren(): Promise<unknown[]> }; readonly containers: { getChildren(): Promise<unknown[]> } };
  readonly viewState: {
    readonly descriptions: {
      readonly images: string | undefined;
      readonly containers: string | undefined;
      readonly networks: string | undefined;
    };
    readonly message: string | undefined;
  };
}

function mainDaemon(): { socket: string; server: VersionInfo } {
  const socket = process.env.GANTRY_TEST_SOCKET;
  const json = process.env.GANTRY_TEST_EXPECTED_VERSION;
  assert.ok(socket && json, 'run through test/vscode/run.ts: GANTRY_TEST_SOCKET and GANTRY_TEST_EXPECTED_VERSION are unset');
  return { socket, server: JSON.parse(json) as VersionInfo };
}

function describeSnapshot(s: ConnectionSnapshot): string {
  return JSON.stringify({ state: s.state, socket: s.socket, pid: s.version?.pid, lastError: s.lastError });
}

/**
 * Resolves with the first connection snapshot (the current one included) that
 * satisfies `predicate`; rejects after `timeoutMs` naming the last one seen.
 */
async function waitForConnection(
  api: GantryApi,
  predicate: (s: ConnectionSnapshot) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<ConnectionSnapshot> {
  // Re-checked on each change event; the poll only covers a change between reading api.connection and subscribing.
  return waitFor(() => (predicate(api.connection) ? api.connection : undefined), {
    what,
    timeoutMs,
    intervalMs: 250,
    describe: () => describeSnapshot(api.connection),
    wake: (recheck) => {
      const sub = api.onDidChangeConnection(() => recheck());
      return () => sub.dispose();
    },
  });
}

/** Resolves once `check()` holds (polled: the header's words follow a socket probe); rejects naming the last value. */
async function waitUntil(what: string, check: () => boolean, shown: () => unknown, timeoutMs = 30_000): Promise<void> {
  await waitFor(check, { what, timeoutMs, describe: () => JSON.stringify(shown()) });
}

const notRunning = { images: 'not running', containers: 'not running', networks: 'not running' };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie has exited; the extension host reaps it.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Resolves true once `pid` is gone, false if it still runs after `ms`. */
async function gone(pid: number, ms: number): Promise<boolean> {
  return waitFor(() => !pidAlive(pid), { what: `pid ${pid} gone`, timeoutMs: ms }).then(
    () => true,
    () => false,
  );
}

/** SIGTERM (a clean shutdown removes its socket), SIGKILL after 10 s; resolves once it is gone. */
async function stopPid(pid: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await gone(pid, 10_000)) return;
  signal(pid, 'SIGKILL');
  if (!(await gone(pid, 10_000))) throw new Error(`gantryd (pid ${pid}) survived SIGKILL`);
}

/** The pid of the gantryd answering on `socket`, if one does. */
async function pidOn(socket: string): Promise<number | undefined> {
  if (!fs.existsSync(socket)) return undefined;
  const client = RuntimeClient.forSocket(socket);
  try {
    return (await client.system.version({ timeoutMs: 5_000 })).pid;
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/** True when something accepts connections on the unix socket `p`. */
function socketAnswers(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(p);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}

describe('Gantry: Start Runtime (code-server)', () => {
  const main = mainDaemon();
  const config = () => vscode.workspace.getConfiguration('gantry');
  let api: GantryApi;
  let tmp: string | undefined;
  let socket: string;
  let spawnedPid: number | undefined;
  let settingChanged = false;
  // Default dirs of a root daemon that did not exist before this suite (see the header).
  const created: string[] = [];

  before(async function () {
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    await waitForConnection(api, (s) => s.state === 'connected' && s.socket === main.socket, 'the main test daemon');
    if (process.getuid?.() !== 0) this.skip(); // the rootful start; the rootless one is test/ui/rootless.ts
    if (await socketAnswers(defaultSocket())) {
      // Its data root is the one Start Runtime's daemon would use too.
      console.log(`skipping: a gantryd already serves ${defaultSocket()}`);
      this.skip();
    }
    for (const dir of [defaultRoot(), defaultState()]) if (!fs.existsSync(dir)) created.push(dir);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gst-'));
    socket = path.join(tmp, 'gantry.sock');
  });

  after(async function () {
    this.timeout(60_000);
    const errors: unknown[] = [];
    const step = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    };
    // A test that failed before it read the pid may still have left a daemon.
    if (spawnedPid === undefined && tmp) spawnedPid = await pidOn(socket);
    if (spawnedPid !== undefined) await step(() => stopPid(spawnedPid!));
    if (settingChanged) {
      await step(async () => {
        await config().update('socketPath', main.socket, vscode.ConfigurationTarget.Global);
        await waitForConnection(api, (s) => s.state === 'connected' && s.socket === main.socket, 'reconnecting to the main daemon');
      });
    }
    if (tmp) await step(() => fs.rmSync(tmp!, { recursive: true, force: true }));
    // Leave no /var/lib/gantry or /run/gantry behind unless they were there
    // before or a daemon now serves the default socket (someone else's).
    if (created.length && !(await socketAnswers(defaultSocket()))) {
      // The spawned daemon was killed: its netns mount and default bridge outlive it.
      await step(() => releaseNetworks(defaultRoot(), defaultState()));
      for (const dir of created) await step(() => fs.rmSync(dir, { recursive: true, force: true }));
    }
    if (errors.length) throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'cleanup failed');
  });

  it('reports disconnected when nothing listens on the configured socket', async () => {
    assert.ok(!fs.existsSync(socket));
    settingChanged = true;
    await config().update('socketPath', socket, vscode.ConfigurationTarget.Global);
    assert.equal(config().get('socketPath'), socket);
    const snapshot = await waitForConnection(
      api,
      (s) => s.state === 'disconnected' && s.socket === socket,
      `state 'disconnected' on ${socket}`,
    );
    assert.ok(snapshot.lastError, 'a disconnected snapshot should say why');
    assert.match(api.statusBarText, /not connected/);
    // The welcome content (with Start Runtime) shows: no message line, no items.
    assert.equal(api.viewState.message, undefined);
    // The headers say it in a few words (the welcome content says the rest).
    const descriptions = () => api.viewState.descriptions;
    await waitUntil('"not running" in the view headers', () => JSON.stringify(descriptions()) === JSON.stringify(notRunning), descriptions);
    assert.deepEqual(await api.views.images.getChildren(), []);
  });

  it('gantry.runtime.start spawns gantryd on that socket and connects to it', async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand('gantry.runtime.start');
    const snapshot = await waitForConnection(api, (s) => s.state === 'connected' && s.socket === socket, `state 'connected' on ${socket}`);
    const v = snapshot.version;
    assert.ok(v, 'connected without a version');
    assert.ok(typeof v.pid === 'number' && v.pid > 0, `no pid in ${JSON.stringify(v)}`);
    spawnedPid = v.pid;
    assert.notEqual(v.pid, main.server.pid, 'connected to the main test daemon, not a new one');
    assert.ok(pidAlive(v.pid), `gantryd pid ${v.pid} is not running`);
    assert.equal(v.socket, socket);
    assert.equal(v.version, main.server.version);
    // Only --socket (no GANTRY_ROOT here), so the default data root.
    assert.equal(v.root, defaultRoot());
    assert.ok(fs.existsSync(socket), `${socket} does not exist`);
    assert.match(api.statusBarText, new RegExp(`Gantry ${v.version.replace(/\./g, '\\.')}`));
  });

  it('notices when that daemon is killed', async function () {
    if (spawnedPid === undefined) this.skip();
    await stopPid(spawnedPid);
    spawnedPid = undefined;
    const lost = await waitForConnection(api, (s) => s.state !== 'connected' && s.socket === socket, `state not 'connected' on ${socket}`);
    assert.match(api.statusBarText, /Gantry/);
    assert.equal(lost.state, 'reconnecting');
    // A view's message line hides its welcome content (and the Start Runtime,
    // Reconnect Now and Show Log buttons in it): none while not connected.
    assert.equal(api.viewState.message, undefined);
    // The first retry finds no daemon: the raw gRPC error stays in the
    // snapshot (and the log); the headers say it in a few words.
    await waitForConnection(
      api,
      (s) => s.state === 'reconnecting' && /ENOENT|ECONNREFUSED/.test(s.lastError ?? ''),
      'a retry that finds no daemon',
    );
    assert.equal(api.viewState.message, undefined);
    const descriptions = () => api.viewState.descriptions;
    await waitUntil('"not running" in the view headers', () => JSON.stringify(descriptions()) === JSON.stringify(notRunning), descriptions);
    // No items: VS Code shows a view's welcome content only while its tree is empty.
    assert.deepEqual(await api.views.images.getChildren(), []);
    assert.deepEqual(await api.views.containers.getChildren(), []);
  });

  it('reconnects to the main daemon when the setting is restored', async () => {
    await config().update('socketPath', main.socket, vscode.ConfigurationTarget.Global);
    settingChanged = false;
    const snapshot = await waitForConnection(
      api,
      (s) => s.state === 'connected' && s.socket === main.socket,
      'reconnecting to the main daemon',
    );
    if (main.server.pid !== undefined) assert.equal(snapshot.version?.pid, main.server.pid);
  });
});
