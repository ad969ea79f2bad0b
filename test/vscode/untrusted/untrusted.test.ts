// A cloned repository's settings in Restricted Mode: test/vscode/run.ts opens
// a folder that is not trusted (Workspace Trust on) whose .vscode/settings.json
// sets the two settings that would hand the workspace local code execution or
// our credentials:
//   gantry.ssh.configFile → an ssh config whose `Host *` ProxyCommand touches
//                           GANTRY_TEST_CANARY (and that lists Host gantry-planted)
//   gantry.socketPath     → GANTRY_TEST_TRAP_SOCKET, where run.ts listens and
//                           appends one line per connection to GANTRY_TEST_TRAP_LOG
// GANTRY_SOCKET (the extension's fallback) is the suite's real daemon. The
// extension must run (capabilities.untrustedWorkspaces: limited), connect to
// that daemon, never to the trap, and run ssh without the planted config.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { ConnectionSnapshot } from '../../../src/client/connection';
import type { HostPickEntry } from '../../../src/hosts/hostPicks';
import { waitFor as waitUntil } from '../../helpers/waitFor';

interface GantryApi {
  readonly connection: ConnectionSnapshot;
  hostPicks(typed?: string): HostPickEntry[];
}

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `run through test/vscode/run.ts: ${name} is unset`);
  return value;
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  return (
    await waitUntil(
      () => {
        const v = probe();
        return v === undefined ? undefined : { v };
      },
      { what, timeoutMs: ms, intervalMs: 100 },
    )
  ).v;
}

const trapConnections = () => fs.readFileSync(env('GANTRY_TEST_TRAP_LOG'), 'utf8').split('\n').filter(Boolean);

describe('Restricted Mode: workspace settings cannot redirect Gantry', function () {
  this.timeout(90_000);
  let api: GantryApi;

  before(async () => {
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
  });

  it('runs in an untrusted workspace whose settings name a socket and an ssh config', () => {
    assert.equal(vscode.workspace.isTrusted, false);
    // The folder's settings do plant both (VS Code hides them from the API: machine scope, restricted).
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'a folder is open');
    const planted = JSON.parse(fs.readFileSync(`${folder}/.vscode/settings.json`, 'utf8')) as Record<string, string>;
    assert.equal(planted['gantry.socketPath'], env('GANTRY_TEST_TRAP_SOCKET'));
    assert.equal(planted['gantry.ssh.configFile'], env('GANTRY_TEST_PLANTED_SSH_CONFIG'));
  });

  it('connects to the default socket (GANTRY_SOCKET), never to the workspace’s', async () => {
    const daemon = env('GANTRY_SOCKET');
    await waitFor('connected', () => (api.connection.state === 'connected' ? true : undefined));
    assert.equal(api.connection.socket, daemon);
    // A reconnect reads the setting again.
    await vscode.commands.executeCommand('gantry.runtime.reconnect');
    await waitFor('connected again', () => (api.connection.state === 'connected' ? true : undefined));
    assert.equal(api.connection.socket, daemon);
    assert.deepEqual(trapConnections(), [], 'the workspace’s socket was dialled');
  });

  it('lists no Host of the workspace’s ssh config, and runs ssh without it', async () => {
    const picks = api.hostPicks();
    assert.ok(
      !JSON.stringify(picks).includes('gantry-planted'),
      `Connect to Host… lists the planted config's host: ${JSON.stringify(picks)}`,
    );
    // Nothing listens on port 1: without the planted config ssh fails at once;
    // with it, its ProxyCommand would touch the canary first.
    // (Commands never reject: the failure goes to the user, and the connection retries until we switch back.)
    await vscode.commands.executeCommand('gantry.host.connect', 'ssh://root@127.0.0.1:1');
    assert.notEqual(api.connection.state, 'connected');
    await vscode.commands.executeCommand('gantry.host.connect', 'local');
    await waitFor('back on the local runtime', () =>
      api.connection.state === 'connected' && api.connection.host === undefined ? true : undefined,
    );
    assert.equal(fs.existsSync(env('GANTRY_TEST_CANARY')), false, 'ssh ran the workspace’s ProxyCommand');
    assert.deepEqual(trapConnections(), []);
  });
});
