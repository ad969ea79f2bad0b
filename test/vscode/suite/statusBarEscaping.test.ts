// The status bar trusts its tooltip (it carries command links), so text a
// daemon sends must not turn into markup or icons there: a gantryd on a host
// the user connects to is not necessarily friendly. A gRPC server of the
// test's own stands in for such a daemon (no real gantryd sends a hostile
// version string); it serves Version and an idle event stream, which is all
// the extension asks of a daemon to call it connected.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { EventsService } from '../../../runtime/api/gen/gantry/v1/events';
import { type VersionResponse, VersionService } from '../../../runtime/api/gen/gantry/v1/version';
import type { GantryApi } from '../../../src/extension';
import { waitFor } from './containersHarness';

const HOSTILE_VERSION = '9.9 $(alert) [Show Log](command:gantry.showLog) **bold**';

describe("Status bar: a daemon's version is shown as text (code-server)", function () {
  this.timeout(90_000);
  let api: GantryApi;
  let server: Server;
  let dir: string;
  const config = () => vscode.workspace.getConfiguration('gantry');

  before(async () => {
    api = (await vscode.extensions.getExtension<GantryApi>('gantry.gantry')!.activate())!;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-hostile-'));
    server = new Server();
    server.addService(VersionService, {
      version: (_call: unknown, done: (e: null, r: VersionResponse) => void) =>
        done(null, {
          version: HOSTILE_VERSION,
          apiVersion: '1',
          revision: '',
          nodeVersion: process.version,
          os: 'linux',
          arch: process.arch,
          root: dir,
          state: dir,
          socket: path.join(dir, 's.sock'),
          rootful: true,
          pid: 1,
          components: [],
          networkUnavailable: '',
          rootless: false,
          rootlessNetwork: '',
          snapshotter: '',
          socketGroup: '',
          socketActivated: false,
        }),
    });
    // An event stream that stays open until the client goes away.
    server.addService(EventsService, { subscribe: () => undefined });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${path.join(dir, 's.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
  });

  after(async () => {
    await config().update('socketPath', process.env.GANTRY_TEST_SOCKET, vscode.ConfigurationTarget.Global);
    await waitFor(
      'back on the test daemon',
      () => (api.connection.state === 'connected' && api.connection.socket === process.env.GANTRY_TEST_SOCKET) || undefined,
    );
    server.forceShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('escapes icons in the item and markup in the trusted tooltip', async () => {
    const socket = path.join(dir, 's.sock');
    await config().update('socketPath', socket, vscode.ConfigurationTarget.Global);
    await waitFor(
      'connected to the hostile daemon',
      () => (api.connection.state === 'connected' && api.connection.socket === socket) || undefined,
      () => JSON.stringify(api.connection),
    );
    const text = api.statusBarText;
    assert.ok(text.includes('\\$(alert)'), `the version's $(alert) renders as an icon: ${text}`);
    assert.ok(!/(^|[^\\])\$\(alert\)/.test(text), text);
    const tooltip = api.statusBarTooltip;
    // Escaped, the link and the bold are literal text: no command link appears that the daemon wrote.
    assert.ok(!tooltip.includes('[Show Log](command:gantry.showLog) **bold**'), tooltip);
    assert.ok(tooltip.includes('\\[Show Log\\]\\(command:gantry\\.showLog\\) \\*\\*bold\\*\\*'), tooltip);
  });
});
