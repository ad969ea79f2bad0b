// The extension in a real VS Code workbench (code-server), against a real
// gantryd that test/vscode/run.ts started before VS Code. run.ts passes:
//   GANTRY_TEST_SOCKET            the daemon's socket (also in the workspace's gantry.socketPath)
//   GANTRY_TEST_EXPECTED_VERSION  JSON of `gantry version --json`'s "server" part
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

interface VersionInfo {
  version: string;
  apiVersion: string;
  pid?: number;
}

interface ConnectionSnapshot {
  state: 'connected' | 'disconnected' | 'connecting';
  socket?: string;
  // A VersionResponse today; a plain string is accepted too.
  version?: VersionInfo | string;
  lastError?: string;
}

interface GantryApi {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  readonly statusBarText?: string;
}

function expectedDaemon(): { socket: string; server: VersionInfo } {
  const socket = process.env.GANTRY_TEST_SOCKET;
  const json = process.env.GANTRY_TEST_EXPECTED_VERSION;
  assert.ok(socket && json, 'run through test/vscode/run.ts: GANTRY_TEST_SOCKET and GANTRY_TEST_EXPECTED_VERSION are unset');
  return { socket, server: JSON.parse(json) as VersionInfo };
}

function versionOf(snapshot: ConnectionSnapshot): string | undefined {
  return typeof snapshot.version === 'string' ? snapshot.version : snapshot.version?.version;
}

/** Resolves with the first snapshot in state 'connected' (mocha's timeout bounds the wait). */
function whenConnected(api: GantryApi): Promise<ConnectionSnapshot> {
  if (api.connection.state === 'connected') return Promise.resolve(api.connection);
  return new Promise((resolve) => {
    const sub = api.onDidChangeConnection((s) => {
      if (s.state === 'connected') {
        sub.dispose();
        resolve(s);
      }
    });
    // It may have connected between the check above and the subscription.
    if (api.connection.state === 'connected') {
      sub.dispose();
      resolve(api.connection);
    }
  });
}

describe('Gantry extension in VS Code (code-server)', () => {
  const { socket, server } = expectedDaemon();
  let api: GantryApi;

  it('activates and returns its API', async () => {
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    assert.ok(ext.isActive);
    assert.ok(api && api.connection, 'activate() returned no connection');
    assert.equal(typeof api.onDidChangeConnection, 'function');
  });

  it('reads the socket from the workspace setting', () => {
    assert.equal(vscode.workspace.getConfiguration('gantry').get('socketPath'), socket);
  });

  it('registers the Gantry view container with the Images and Containers views', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.gantry');
    const commands = await vscode.commands.getCommands(true);
    for (const view of ['gantry.images', 'gantry.containers']) {
      assert.ok(commands.includes(`${view}.focus`), `no ${view}.focus command: view ${view} is not registered`);
      await vscode.commands.executeCommand(`${view}.focus`);
    }
  });

  it('connects to the test daemon', async () => {
    const snapshot = await whenConnected(api);
    if (snapshot.socket !== undefined) assert.equal(snapshot.socket, socket);
    assert.equal(versionOf(snapshot), server.version);
  });

  it('shows the version in the status bar', function () {
    if (api.statusBarText === undefined) this.skip(); // the API does not expose it
    assert.match(api.statusBarText, /Gantry/);
    assert.ok(api.statusBarText.includes(server.version), `status bar: ${api.statusBarText}`);
  });

  it("gantry.runtime.showInfo returns that daemon's version", async () => {
    const info = await vscode.commands.executeCommand<VersionInfo>('gantry.runtime.showInfo');
    assert.ok(info, 'gantry.runtime.showInfo returned nothing');
    assert.equal(info.version, server.version);
    assert.equal(info.apiVersion, server.apiVersion);
    // The pid tells this daemon apart from any other gantryd on the machine.
    if (server.pid !== undefined) assert.equal(Number(info.pid), server.pid);
  });
});
