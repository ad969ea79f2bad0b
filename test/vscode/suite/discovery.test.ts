// How the extension finds this machine's gantryd, and what it says about a
// rootless one, in a real VS Code workbench (code-server) run by
// test/vscode/run.ts (GANTRY_TEST_SOCKET: the suite's main daemon, also the
// setting gantry.socketPath).
//
// Discovery is the CLI's order (runtime/client/discovery.ts): the setting,
// then GANTRY_SOCKET, then the user's own daemon, then the system one. The
// tests change the setting and this extension host's GANTRY_SOCKET (the
// extension reads process.env at every connect) and restore both.
//
// Status: a rootless gantryd started by a real unprivileged user this suite
// creates (test/integration/rootless/testUser.ts; skipped without
// rootlesskit, newuidmap or useradd): connected to it through the setting,
// the status bar, its tooltip and the views' headers say rootless; back on
// the main (rootful) daemon, they do not.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DAEMON_NODE_FLAGS } from '../../../runtime/client/daemonFlags';
import { SYSTEM_SOCKET } from '../../../runtime/client/discovery';
import { GANTRY_JS } from '../../helpers/daemon';
import { startProcess, type Proc } from '../../helpers/proc';
import { waitFor } from '../../helpers/waitFor';
import { createTestUser, missingTools, removeTestUser, type TestUser } from '../../integration/rootless/testUser';

interface ConnectionSnapshot {
  state: 'connected' | 'disconnected' | 'connecting' | 'reconnecting';
  socket?: string;
  version?: { rootless?: boolean; rootlessNetwork?: string; pid?: number };
  lastError?: string;
}

interface DoctorReport {
  mode: string;
  ok: boolean;
  checks: Array<{ id: string; mode: string; ok: boolean; required: boolean; fix: string }>;
}

interface GantryApi {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  readonly statusBarText: string;
  readonly statusBarTooltip: string;
  readonly viewState: { readonly descriptions: Record<string, string | undefined> };
}

function describeSnapshot(s: ConnectionSnapshot): string {
  return JSON.stringify({ state: s.state, socket: s.socket, pid: s.version?.pid, lastError: s.lastError });
}

async function waitForConnection(api: GantryApi, predicate: (s: ConnectionSnapshot) => boolean, what: string): Promise<ConnectionSnapshot> {
  return waitFor(() => (predicate(api.connection) ? api.connection : undefined), {
    what,
    timeoutMs: 60_000,
    intervalMs: 250,
    describe: () => describeSnapshot(api.connection),
    wake: (recheck) => {
      const sub = api.onDidChangeConnection(() => recheck());
      return () => sub.dispose();
    },
  });
}

describe('Gantry: finding the daemon, and a rootless one (code-server)', () => {
  const mainSocket = process.env.GANTRY_TEST_SOCKET as string;
  const config = () => vscode.workspace.getConfiguration('gantry');
  const envBefore = process.env.GANTRY_SOCKET;
  let api: GantryApi;
  let tmp: string;

  before(async () => {
    assert.ok(mainSocket, 'run through test/vscode/run.ts: GANTRY_TEST_SOCKET is unset');
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    await waitForConnection(api, (s) => s.state === 'connected' && s.socket === mainSocket, 'the main test daemon');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gdisc-'));
  });

  after(async function () {
    this.timeout(60_000);
    if (envBefore === undefined) delete process.env.GANTRY_SOCKET;
    else process.env.GANTRY_SOCKET = envBefore;
    await config().update('socketPath', mainSocket, vscode.ConfigurationTarget.Global);
    await waitForConnection(api, (s) => s.state === 'connected' && s.socket === mainSocket, 'back on the main daemon');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('with the setting empty, GANTRY_SOCKET is used; the setting, once set, wins over it', async () => {
    process.env.GANTRY_SOCKET = mainSocket;
    await config().update('socketPath', '', vscode.ConfigurationTarget.Global);
    // The setting's change reconnects; GANTRY_SOCKET names the same daemon, so it stays (or comes back) connected there.
    await vscode.commands.executeCommand('gantry.runtime.reconnect');
    await waitForConnection(api, (s) => s.state === 'connected' && s.socket === mainSocket, 'connected through GANTRY_SOCKET');
    const nothing = path.join(tmp, 'nothing.sock');
    await config().update('socketPath', nothing, vscode.ConfigurationTarget.Global);
    await waitForConnection(api, (s) => s.state === 'disconnected' && s.socket === nothing, `the setting's ${nothing}, not GANTRY_SOCKET`);
  });

  it("with neither, the CLI's order: as root the user's own socket is the system one", async () => {
    delete process.env.GANTRY_SOCKET;
    await config().update('socketPath', '', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('gantry.runtime.reconnect');
    // Connected when a system daemon runs here, disconnected otherwise: at the system socket either way.
    const s = await waitForConnection(
      api,
      (x) => (x.state === 'connected' || x.state === 'disconnected' || x.state === 'reconnecting') && x.socket === SYSTEM_SOCKET,
      `looking at ${SYSTEM_SOCKET}`,
    );
    assert.equal(s.socket, process.getuid?.() === 0 ? SYSTEM_SOCKET : s.socket);
    process.env.GANTRY_SOCKET = mainSocket;
    await vscode.commands.executeCommand('gantry.runtime.reconnect');
    await waitForConnection(api, (x) => x.state === 'connected' && x.socket === mainSocket, 'GANTRY_SOCKET again');
  });

  it('Gantry: Check Set-up returns the doctor’s rows of both modes and shows them in a Markdown preview', async () => {
    const report = await vscode.commands.executeCommand<DoctorReport>('gantry.doctor');
    assert.equal(report.mode, process.getuid?.() === 0 ? 'rootful' : 'rootless');
    const ids = (mode: string) => report.checks.filter((c) => c.mode === mode).map((c) => c.id);
    for (const id of ['runc', 'conmon', 'system-socket']) assert.ok(ids('rootful').includes(id), `rootful ${id}`);
    for (const id of ['rootlesskit', 'uidmap', 'subuid', 'subgid', 'userns', 'dev-net-tun'])
      assert.ok(ids('rootless').includes(id), `rootless ${id}`);
    for (const c of report.checks) assert.equal(c.fix === '', c.ok, `${c.mode} ${c.id}: a fix exactly when it fails`);
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
    await waitFor(() => tabs().some((label) => /Gantry Set-up/.test(label)), { what: 'the set-up preview tab', describe: tabs });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  describe('a rootless daemon', function () {
    this.timeout(180_000);
    let user: TestUser | undefined;
    let daemon: Proc | undefined;
    let socket: string;

    before(async function () {
      const missing = missingTools();
      if (missing) {
        console.log(`skipping the rootless status tests: ${missing}`);
        this.skip();
      }
      // Not under this extension host's TMPDIR (code-server's, closed to other users).
      user = await createTestUser('/tmp');
      socket = path.join(user.runtimeDir, 'gantry', 'gantry.sock');
      daemon = startProcess(process.execPath, [...DAEMON_NODE_FLAGS, GANTRY_JS, 'daemon'], {
        uid: user.uid,
        gid: user.gid,
        env: user.env,
        cwd: user.home,
        name: 'rootless gantryd',
      });
      await config().update('socketPath', socket, vscode.ConfigurationTarget.Global);
      // It answers once RootlessKit's child has bound the socket; the extension keeps retrying until then.
      await waitForConnection(api, (s) => s.state === 'connected' && s.socket === socket, `the rootless daemon at ${socket}`).catch((e) => {
        throw new Error(`${(e as Error).message}; gantryd said: ${daemon?.stderr.slice(-2000)}`);
      });
    });

    after(async function () {
      this.timeout(60_000);
      await config().update('socketPath', mainSocket, vscode.ConfigurationTarget.Global);
      if (daemon && !daemon.exitStatus) {
        daemon.kill('SIGTERM');
        await daemon.waitForExit();
      }
      if (user) await removeTestUser(user);
    });

    it('the status bar, its tooltip and the views’ headers say rootless', async () => {
      assert.equal(api.connection.version?.rootless, true);
      assert.match(api.statusBarText, /Gantry \S+ · rootless$/);
      // Markdown: the parentheses are escaped.
      assert.match(api.statusBarTooltip, /Rootless: the user's own daemon in a user namespace \\\(RootlessKit, /);
      await waitFor(
        () => /rootless/.test(api.viewState.descriptions.images ?? '') && /rootless/.test(api.viewState.descriptions.containers ?? ''),
        {
          what: '"rootless" in the view headers',
          describe: () => JSON.stringify(api.viewState.descriptions),
        },
      );
    });

    it('back on the rootful main daemon, nothing says rootless', async () => {
      await config().update('socketPath', mainSocket, vscode.ConfigurationTarget.Global);
      await waitForConnection(api, (s) => s.state === 'connected' && s.socket === mainSocket, 'the main daemon');
      assert.doesNotMatch(api.statusBarText, /rootless/);
      assert.doesNotMatch(api.statusBarTooltip, /Rootless/);
      await waitFor(() => !/rootless/.test(JSON.stringify(api.viewState.descriptions)), {
        what: 'no "rootless" in the view headers',
        describe: () => JSON.stringify(api.viewState.descriptions),
      });
    });
  });
});
