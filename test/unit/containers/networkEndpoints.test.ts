// What a container's config says about its networks (networkEndpoints.ts):
// the endpoints attached at start, connect/disconnect of the config, and
// Docker's refusals.
import { strict as assert } from 'node:assert';
import type { ContainerConfig } from '../../../runtime/containers/containers';
import {
  configuredNetworks,
  endpointsOf,
  requireConnectable,
  requireOwnNetworks,
  withConnection,
  withoutConnection,
} from '../../../runtime/containers/networkEndpoints';
import { isGantryError } from '../../../runtime/errdefs/errdefs';

const base = { image: 'busybox', network: 'bridge', networkAliases: ['web'], ip: '10.88.0.9' } as unknown as ContainerConfig;

function fails(fn: () => unknown, kind: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => isGantryError(e) && e.kind === kind && message.test(e.message));
}

describe('network endpoints of a container config', () => {
  it('the primary network first, then the connected ones; none for none/host/container:', () => {
    const c = withConnection(withConnection(base, 'c', { network: 'b', aliases: ['x'], ip: '10.1.0.2' }), 'c', { network: 'a' });
    assert.deepEqual(endpointsOf(c), [
      { network: 'bridge', aliases: ['web'], ip: '10.88.0.9', mac: undefined },
      { network: 'b', aliases: ['x'], ip: '10.1.0.2' },
      { network: 'a', aliases: undefined, ip: undefined },
    ]);
    for (const network of ['none', 'host', 'container:abc']) assert.deepEqual(endpointsOf({ ...base, network }), []);
  });

  it('connect twice is refused in Docker words; disconnect of one that is not connected too', () => {
    const c = withConnection(base, 'c', { network: 'b' });
    fails(() => withConnection(c, 'c', { network: 'b' }), 'AlreadyExists', /^endpoint with name c already exists in network b$/);
    fails(() => withConnection(c, 'c', { network: 'bridge' }), 'AlreadyExists', /already exists in network bridge/);
    fails(() => withoutConnection(c, 'c', 'zzz'), 'FailedPrecondition', /^container c is not connected to network zzz$/);
    assert.deepEqual(withoutConnection(c, 'c', 'b'), base, 'the last connection gone leaves the config as it was');
  });

  it('the primary network can be disconnected (loopback only) and connected again with new settings', () => {
    const off = withoutConnection(base, 'c', 'bridge');
    assert.equal(off.primaryDisconnected, true);
    assert.deepEqual(endpointsOf(off), []);
    assert.deepEqual(configuredNetworks(off), []);
    fails(() => withoutConnection(off, 'c', 'bridge'), 'FailedPrecondition', /not connected to network bridge/);
    const on = withConnection(off, 'c', { network: 'bridge', aliases: ['w2'] });
    assert.equal(on.primaryDisconnected, undefined);
    assert.deepEqual(endpointsOf(on), [{ network: 'bridge', aliases: ['w2'], ip: undefined, mac: undefined }]);
  });

  it("refuses modes without networks of their own, and modes as networks, in Docker's words", () => {
    fails(() => requireOwnNetworks({ ...base, network: 'host' }, 'connect'), 'FailedPrecondition', /connected to host network/);
    fails(() => requireOwnNetworks({ ...base, network: 'container:x' }, 'connect'), 'FailedPrecondition', /sharing network namespace/);
    fails(() => requireOwnNetworks({ ...base, network: 'none' }, 'connect'), 'FailedPrecondition', /private \(none\) mode/);
    requireOwnNetworks(base, 'connect');
    fails(() => requireConnectable('host'), 'FailedPrecondition', /host network/);
    fails(() => requireConnectable('none'), 'FailedPrecondition', /network mode, not a network/);
    requireConnectable('second');
  });
});
