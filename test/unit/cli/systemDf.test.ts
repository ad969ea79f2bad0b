import { strict as assert } from 'node:assert';
import { ContainerStatus } from '../../../runtime/api/gen/gantry/v1/containers';
import type { DiskUsageResponse } from '../../../runtime/client';
import { dfRows, dfVerboseTables, humanSize } from '../../../runtime/cli/diskUsageReport';
import { hasFilters, matchesPruneFilter, parsePruneFilters } from '../../../runtime/cli/pruneFilters';
import { pruneWarning } from '../../../runtime/cli/commands/system';
import { parseRecordFormat, renderRecords } from '../../../runtime/presentation/template';

const du: DiskUsageResponse = {
  images: [
    {
      id: 'sha256:' + 'a'.repeat(64),
      names: ['docker.io/library/a:1'],
      created: '',
      size: 1_230_000,
      sharedSize: 1_000_000,
      containers: 1,
      digest: '',
    },
    {
      id: 'sha256:' + 'b'.repeat(64),
      names: ['b@sha256:x'],
      created: '',
      size: 1_004_000,
      sharedSize: 1_000_000,
      containers: 0,
      digest: '',
    },
  ],
  containers: [
    {
      id: 'c'.repeat(64),
      name: 'up',
      image: 'a:1',
      command: ['sleep', '1'],
      status: ContainerStatus.CONTAINER_STATUS_RUNNING,
      size: 500,
      createdAt: undefined,
      exitCode: 0,
      finishedAt: undefined,
      startedAt: undefined,
      localVolumes: 0,
    },
    {
      id: 'd'.repeat(64),
      name: 'down',
      image: 'a:1',
      command: ['true'],
      status: ContainerStatus.CONTAINER_STATUS_EXITED,
      size: 1500,
      createdAt: undefined,
      exitCode: 3,
      finishedAt: undefined,
      startedAt: undefined,
      localVolumes: 0,
    },
  ],
  volumes: [
    { name: 'data', driver: 'local', size: 2048, links: 1 },
    { name: 'old', driver: 'local', size: 1024, links: 0 },
  ],
  layersSize: 1_234_000,
  buildCacheSize: 0,
};

describe('cli: system df and prune', () => {
  it("humanSize is go-units' HumanSize: SI units, 4 significant digits (3 with precision 3)", () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1_234_000), '1.234MB');
    assert.equal(humanSize(4_200_000_000), '4.2GB');
    assert.equal(humanSize(1_234_567, 3), '1.23MB');
  });

  it("summary rows follow Docker's arithmetic", () => {
    assert.deepEqual(dfRows(du), [
      // Reclaimable images: all layers minus the unique bytes of images in use (1.234MB − 0.23MB).
      { Type: 'Images', TotalCount: '2', Active: '1', Size: '1.234MB', Reclaimable: '1.004MB (81%)' },
      { Type: 'Containers', TotalCount: '2', Active: '1', Size: '2kB', Reclaimable: '1.5kB (75%)' },
      { Type: 'Local Volumes', TotalCount: '2', Active: '1', Size: '3.072kB', Reclaimable: '1.024kB (33%)' },
      { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
    ]);
    const table = renderRecords(
      parseRecordFormat('table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}'),
      dfRows(du),
      { TotalCount: 'TOTAL' },
    );
    assert.match(table.split('\n')[0], /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
  });

  it('-v tables: a row per image name (<none> when untagged), per container, per volume', () => {
    const [images, containers, volumes] = dfVerboseTables(du, Date.now());
    assert.deepEqual(images.rows[0].slice(0, 3), ['a', '1', 'a'.repeat(12)]);
    assert.deepEqual(images.rows[0].slice(4), ['1.23MB', '1MB', '230kB', '1']);
    assert.deepEqual(images.rows[1].slice(0, 2), ['<none>', '<none>']);
    assert.deepEqual(containers.rows[1], ['d'.repeat(12), 'a:1', '"true"', '0', '1.5kB', '', 'Created', 'down']);
    assert.deepEqual(volumes.rows, [
      ['data', '1', '2.048kB'],
      ['old', '0', '1.024kB'],
    ]);
  });

  it('prune filters: until (duration, time, unix seconds), label, label!=', () => {
    const now = Date.parse('2024-06-01T00:00:00Z');
    const f = parsePruneFilters(['until=24h', 'label=team', 'label!=keep=yes'], now);
    assert.equal(f.until, now - 24 * 3600_000);
    assert.ok(hasFilters(f));
    assert.ok(!hasFilters(parsePruneFilters([])));
    const old = new Date(now - 48 * 3600_000);
    assert.ok(matchesPruneFilter(f, old, { team: 'web' }));
    assert.ok(!matchesPruneFilter(f, new Date(now - 3600_000), { team: 'web' }), 'too new');
    assert.ok(!matchesPruneFilter(f, old, {}), 'no team label');
    assert.ok(!matchesPruneFilter(f, old, { team: 'web', keep: 'yes' }), 'spared by label!=');
    assert.equal(parsePruneFilters(['until=2024-01-01T00:00:00Z']).until, Date.parse('2024-01-01T00:00:00Z'));
    assert.equal(parsePruneFilters(['until=1700000000']).until, 1_700_000_000_000);
    assert.throws(() => parsePruneFilters(['dangling=true']), /system prune takes until=TIME/);
    assert.throws(() => parsePruneFilters(['until=soon']), /bad filter until=soon/);
  });

  it('the confirmation names what goes, as Docker words it', () => {
    const text = pruneWarning({ all: true, volumes: true, filter: parsePruneFilters([]) }, ['label=x']);
    assert.match(text, /^WARNING! This will remove:\n {2}- all stopped containers\n/);
    assert.match(text, /all volumes not used by at least one container/);
    assert.match(text, /all images without at least one container associated to them/);
    assert.match(text, /filtered with:\n {2}- label=x\n/);
    assert.ok(text.endsWith('Are you sure you want to continue? [y/N] '));
  });
});
