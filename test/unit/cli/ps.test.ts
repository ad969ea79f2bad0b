import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { ContainerStatus, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import { commandText, ellipsis, imageText, PS_HEADERS, psRow, sortByCreated } from '../../../runtime/cli/commands/ps';
import { statsRow } from '../../../runtime/cli/commands/stats';
import { bytesSize } from '../../../runtime/presentation';
import { writeTable } from '../../../runtime/cli/output';
import { containerSummary } from '../../helpers/containerSummary';

const now = Date.parse('2024-05-01T12:00:00Z');
const ID = 'a1b2c3d4e5f6'.padEnd(64, '0');

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return containerSummary({
    id: ID,
    image: 'busybox',
    command: ['sh', '-c', 'sleep 1000'],
    createdAt: new Date(now - 10 * 60_000),
    startedAt: new Date(now - 5 * 60_000),
    pid: 1234,
    ...over,
  });
}

function table(rows: string[][]): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  writeTable(out, PS_HEADERS, rows);
  return text;
}

describe('ps formatting', () => {
  it("cuts text to 20 columns with an ellipsis, as Docker's formatter", () => {
    assert.equal(ellipsis('short', 20), 'short');
    assert.equal(ellipsis('x'.repeat(20), 20), 'x'.repeat(20));
    assert.equal(ellipsis('x'.repeat(21), 20), `${'x'.repeat(19)}…`);
  });

  it('quotes the command and truncates it unless --no-trunc', () => {
    assert.equal(commandText(['sh', '-c', 'sleep 1000'], false), '"sh -c sleep 1000"');
    assert.equal(commandText(['sh', '-c', 'echo "hi there" && sleep 1000'], false), '"sh -c echo \\"hi ther…"');
    assert.equal(commandText(['sh', '-c', 'echo "hi there" && sleep 1000'], true), '"sh -c echo \\"hi there\\" && sleep 1000"');
    assert.equal(commandText([], false), '""');
  });

  it('shows the image as named, and a bare image ID shortened', () => {
    assert.equal(imageText({ image: 'busybox', imageId: 'sha256:x' }, false), 'busybox');
    const id = `sha256:${'ab'.repeat(32)}`;
    assert.equal(imageText({ image: id, imageId: id }, false), 'abababababab');
    assert.equal(imageText({ image: id, imageId: id }, true), id);
  });

  it("builds Docker's row: 12-digit ID, image, command, created, status, ports, name", () => {
    assert.deepEqual(psRow(summary(), false, now), [
      'a1b2c3d4e5f6',
      'busybox',
      '"sh -c sleep 1000"',
      '10 minutes ago',
      'Up 5 minutes',
      '',
      'web',
    ]);
    const exited = summary({
      status: ContainerStatus.CONTAINER_STATUS_EXITED,
      exitCode: 137,
      finishedAt: new Date(now - 2 * 60_000),
      name: '/old',
    });
    const row = psRow(exited, true, now);
    assert.equal(row[0], ID);
    assert.equal(row[4], 'Exited (137) 2 minutes ago');
    assert.equal(row[6], 'old');
  });

  it("lays the rows out under Docker's headers, the empty PORTS column included", () => {
    const text = table([psRow(summary(), false, now)]);
    const [header, line] = text.split('\n');
    assert.match(header, /^CONTAINER ID {3,}IMAGE {3,}COMMAND {3,}CREATED {3,}STATUS {3,}PORTS {3,}NAMES$/);
    assert.equal(header.indexOf('NAMES'), line.indexOf('web'));
    assert.equal(header.indexOf('STATUS'), line.indexOf('Up 5 minutes'));
  });

  it('lists newest first', () => {
    const older = summary({ name: 'older', createdAt: new Date(now - 3_600_000) });
    const newer = summary({ name: 'newer', createdAt: new Date(now - 60_000) });
    assert.deepEqual(
      sortByCreated([older, newer]).map((c) => c.name),
      ['newer', 'older'],
    );
  });
});

describe('stats formatting', () => {
  it("prints sizes as Docker's units.BytesSize", () => {
    assert.equal(bytesSize(0), '0B');
    assert.equal(bytesSize(1000), '1000B');
    assert.equal(bytesSize(1024), '1KiB');
    assert.equal(bytesSize(1536 * 1024), '1.5MiB');
    assert.equal(bytesSize(8_354_000_000), '7.78GiB');
  });

  it('builds a row with CPU and memory percentages', () => {
    const row = statsRow({
      id: ID,
      name: 'web',
      read: new Date(now),
      cpuPercent: 12.5,
      cpuTotalNs: 0,
      memoryUsage: 64 * 1024 * 1024,
      memoryLimit: 256 * 1024 * 1024,
      pids: 3,
      pidsLimit: 0,
    });
    assert.deepEqual(row, ['a1b2c3d4e5f6', 'web', '12.50%', '64MiB / 256MiB', '25.00%', '3']);
  });
});
