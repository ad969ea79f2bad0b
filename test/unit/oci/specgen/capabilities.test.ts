import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import {
  ALL_CAPABILITIES,
  capabilitiesFromMask,
  DEFAULT_CAPABILITIES,
  normalizeCapability,
  tweakCapabilities,
} from '../../../../runtime/oci/specgen/capabilities';

describe('oci/specgen/capabilities', () => {
  it('the kernel table is indexed by capability number', () => {
    assert.equal(ALL_CAPABILITIES[0], 'CAP_CHOWN');
    assert.equal(ALL_CAPABILITIES[13], 'CAP_NET_RAW');
    assert.equal(ALL_CAPABILITIES[21], 'CAP_SYS_ADMIN');
    assert.equal(ALL_CAPABILITIES[24], 'CAP_SYS_RESOURCE');
    assert.equal(ALL_CAPABILITIES[40], 'CAP_CHECKPOINT_RESTORE');
  });

  it("Docker's default set", () => {
    assert.deepEqual([...DEFAULT_CAPABILITIES].sort(), [
      'CAP_AUDIT_WRITE',
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_FSETID',
      'CAP_KILL',
      'CAP_MKNOD',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_RAW',
      'CAP_SETFCAP',
      'CAP_SETGID',
      'CAP_SETPCAP',
      'CAP_SETUID',
      'CAP_SYS_CHROOT',
    ]);
    assert.deepEqual(tweakCapabilities([], []), [...DEFAULT_CAPABILITIES]);
  });

  it('names with or without CAP_, any case', () => {
    for (const n of ['net_admin', 'NET_ADMIN', 'cap_net_admin', 'CAP_NET_ADMIN', ' Net_Admin ']) {
      assert.equal(normalizeCapability(n), 'CAP_NET_ADMIN');
    }
    assert.equal(normalizeCapability('all'), 'ALL');
  });

  it('unknown names are InvalidArgument naming the value', () => {
    for (const bad of ['CAP_FLY', 'fly', '', 'CAP_']) {
      assert.throws(
        () => tweakCapabilities([bad], []),
        (e: unknown) => isInvalidArgument(e) && (e as Error).message.includes(JSON.stringify(bad)),
      );
    }
    assert.throws(() => tweakCapabilities([], ['nope']), /unknown capability: "nope"/);
  });

  it('drop removes, add appends, duplicates collapse', () => {
    const caps = tweakCapabilities(['SYS_TIME', 'chown'], ['NET_RAW', 'mknod']);
    assert.ok(caps.includes('CAP_SYS_TIME'));
    assert.ok(!caps.includes('CAP_NET_RAW') && !caps.includes('CAP_MKNOD'));
    assert.equal(caps.filter((c) => c === 'CAP_CHOWN').length, 1);
    assert.equal(caps.length, DEFAULT_CAPABILITIES.length - 2 + 1);
  });

  it('cap-drop ALL keeps only the adds', () => {
    assert.deepEqual(tweakCapabilities(['NET_BIND_SERVICE'], ['ALL']), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(tweakCapabilities([], ['all']), []);
  });

  it('cap-add ALL grants everything but the drops, limited to what the host holds', () => {
    const all = tweakCapabilities(['ALL'], ['SYS_ADMIN']);
    assert.equal(all.length, ALL_CAPABILITIES.length - 1);
    assert.ok(!all.includes('CAP_SYS_ADMIN'));
    const host = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
    const limited = tweakCapabilities(['ALL'], [], host);
    assert.ok(!limited.includes('CAP_SYS_RESOURCE'));
    assert.ok(limited.includes('CAP_SYS_ADMIN'));
    // add ALL wins over drop ALL, as in Docker: everything except the explicit drops.
    assert.equal(tweakCapabilities(['ALL'], ['ALL']).length, ALL_CAPABILITIES.length);
  });

  it('reads a /proc status mask', () => {
    // This host's CapBnd: everything up to 40 except CAP_SYS_RESOURCE (24).
    const caps = capabilitiesFromMask('000001fffeffffff');
    assert.equal(caps.length, 40);
    assert.ok(!caps.includes('CAP_SYS_RESOURCE'));
    assert.deepEqual(capabilitiesFromMask('0000000000002001'), ['CAP_CHOWN', 'CAP_NET_RAW']);
    assert.deepEqual(capabilitiesFromMask('0'), []);
    assert.throws(
      () => capabilitiesFromMask('xyz'),
      (e: unknown) => isInvalidArgument(e),
    );
  });
});
