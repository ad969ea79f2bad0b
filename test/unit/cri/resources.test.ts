import * as assert from 'node:assert/strict';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import type { LinuxContainerResources } from '../../../runtime/cri/gen/runtime/v1/api';
import {
  configResourcesOf,
  criResourcesOf,
  linuxContainerResourcesOf,
  mergeResources,
  ociResourcesOf,
} from '../../../runtime/cri/resources';

const MiB = 1024 * 1024;

function wire(r: Partial<LinuxContainerResources>): LinuxContainerResources {
  return {
    cpuPeriod: 0n,
    cpuQuota: 0n,
    cpuShares: 0n,
    memoryLimitInBytes: 0n,
    oomScoreAdj: 0n,
    cpusetCpus: '',
    cpusetMems: '',
    hugepageLimits: [],
    unified: {},
    memorySwapLimitInBytes: 0n,
    ...r,
  };
}

describe('cri/resources', () => {
  it('maps every set field onto OCI linux.resources and nothing that is zero', () => {
    const r = criResourcesOf(
      wire({
        cpuPeriod: 50_000n,
        cpuQuota: 25_000n,
        cpuShares: 512n,
        memoryLimitInBytes: BigInt(64 * MiB),
        cpusetCpus: '0',
        cpusetMems: '0',
        hugepageLimits: [{ pageSize: '2MB', limit: 0n }],
        unified: { 'memory.high': '50000000' },
      }),
    );
    assert.deepEqual(ociResourcesOf(r, true), {
      memory: { limit: 64 * MiB, swap: 128 * MiB },
      cpu: { shares: 512, quota: 25_000, period: 50_000, cpus: '0', mems: '0' },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      unified: { 'memory.high': '50000000' },
    });
    assert.deepEqual(ociResourcesOf(r, false).memory, { limit: 64 * MiB }, 'no swap limit where the host does not account swap');
    assert.deepEqual(ociResourcesOf(criResourcesOf(undefined), true), {});
    const config = configResourcesOf(r, true);
    assert.equal(config.memoryBytes, 64 * MiB);
    assert.equal(config.nanoCpus, 0.5e9);
    assert.deepEqual(linuxContainerResourcesOf(r), wire({ ...linuxContainerResourcesOf(r) }), 'round trip to the wire');
    assert.equal(linuxContainerResourcesOf(r).memoryLimitInBytes, BigInt(64 * MiB));
  });

  it("oom_score_adj is the asked value, or gantryd's own when it may not go lower (no CAP_SYS_RESOURCE)", () => {
    const asked = (v: bigint) => criResourcesOf(wire({ oomScoreAdj: v }));
    assert.equal(configResourcesOf(asked(-997n), true, null).oomScoreAdj, -997, 'any value with the capability');
    assert.equal(configResourcesOf(asked(-997n), true, 0).oomScoreAdj, 0, "clamped to gantryd's own");
    assert.equal(configResourcesOf(asked(500n), true, 0).oomScoreAdj, 500, 'raising it needs nothing');
    assert.equal(configResourcesOf(asked(0n), true, -500).oomScoreAdj, 0, 'zero is a value, not "unset"');
  });

  it('refuses what runc or the kernel would refuse', () => {
    assert.throws(() => criResourcesOf(wire({ memoryLimitInBytes: 1024n })), isInvalidArgument);
    assert.throws(() => criResourcesOf(wire({ cpuQuota: 10n })), isInvalidArgument);
    assert.throws(() => criResourcesOf(wire({ cpuShares: -1n })), isInvalidArgument);
    assert.throws(() => criResourcesOf(wire({ oomScoreAdj: 1001n })), isInvalidArgument);
    assert.throws(() => criResourcesOf(wire({ hugepageLimits: [{ pageSize: 'huge', limit: 1n }] })), isInvalidArgument);
  });

  it('an update replaces what it sets and keeps the rest; a new memory limit drops an old swap limit', () => {
    const current = criResourcesOf(
      wire({ cpuShares: 256n, memoryLimitInBytes: BigInt(32 * MiB), memorySwapLimitInBytes: BigInt(32 * MiB), unified: { a: '1' } }),
    );
    const merged = mergeResources(current, criResourcesOf(wire({ memoryLimitInBytes: BigInt(100 * MiB), unified: { b: '2' } })));
    assert.equal(merged.cpuShares, 256);
    assert.equal(merged.memoryLimitInBytes, 100 * MiB);
    assert.equal(merged.memorySwapLimitInBytes, 0);
    assert.deepEqual(merged.unified, { a: '1', b: '2' });
    assert.deepEqual(ociResourcesOf(merged, true).memory, { limit: 100 * MiB, swap: 200 * MiB });
  });
});
