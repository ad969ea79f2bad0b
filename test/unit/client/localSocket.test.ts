import { strict as assert } from 'node:assert';
import { discoverSocket } from '../../../runtime/client';
import { LocalSocket } from '../../../src/client/localSocket';

describe("LocalSocket (the extension's daemon discovery)", () => {
  it('the setting wins over GANTRY_SOCKET, at once and at discovery, as --socket does for the CLI', async () => {
    let setting = '/setting/gantry.sock';
    const local = new LocalSocket(() => setting, { GANTRY_SOCKET: '/env/gantry.sock', HOME: '/nonexistent' });
    assert.equal(local.current, '/setting/gantry.sock');
    assert.deepEqual(await local.discover(), { socket: '/setting/gantry.sock', source: 'flag', found: true, tried: [] });
    setting = '';
    // Cleared: GANTRY_SOCKET, before the next discovery too.
    assert.equal(local.current, '/env/gantry.sock');
    assert.equal((await local.discover()).source, 'env');
  });

  it("without a setting or GANTRY_SOCKET, the CLI's order decides (discoverSocket), and current follows it", async () => {
    const env = { HOME: '/nonexistent', XDG_RUNTIME_DIR: '/nonexistent/run' };
    const local = new LocalSocket(() => '', env);
    const found = await local.discover();
    assert.deepEqual(found, await discoverSocket({ env }));
    assert.ok(found.source === 'user' || found.source === 'system', found.source);
    assert.equal(local.current, found.socket);
    assert.equal(local.discovered, found);
  });
});
