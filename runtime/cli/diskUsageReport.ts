/**
 * `gantry system df` as the Docker CLI words it (docker/cli
 * formatter/disk_usage.go), from the daemon's DiskUsage answer:
 *
 * - Images: TOTAL image IDs, ACTIVE those with a container, SIZE every
 *   distinct layer once, RECLAIMABLE = SIZE − the unique bytes of the active
 *   images (Docker's formula: layers shared with an active image count as
 *   reclaimable too).
 * - Containers: SIZE the writable layers, RECLAIMABLE those of containers
 *   that are not running, paused or restarting.
 * - Local Volumes: SIZE their bytes, RECLAIMABLE those no container links.
 * - Build Cache: Gantry builds nothing, so 0.
 *
 * Sizes in the summary are units.HumanSize (4 significant digits, SI units);
 * the -v tables use 3 digits, as Docker's image and container contexts do.
 */
import type { DiskUsageResponse } from '../client';
import { ContainerStatus } from '../api/gen/gantry/v1/containers';
import { displayName, displayRepository, humanDuration, shortId, statusText } from '../presentation';
import { commandText } from './commands/ps';

/** go-units HumanSizeWithPrecision: SI units, `%.{precision}g`. */
export function humanSize(bytes: number, precision = 4): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(precision))}${units[unit]}`;
}

/** "SIZE (PERCENT%)" with the integer percentage Go computes, or just the size when the total is 0. */
function reclaimableText(reclaimable: number, total: number): string {
  return total > 0 ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize(reclaimable);
}

const ACTIVE = new Set([
  ContainerStatus.CONTAINER_STATUS_RUNNING,
  ContainerStatus.CONTAINER_STATUS_PAUSED,
  ContainerStatus.CONTAINER_STATUS_RESTARTING,
]);

/** One summary row; the field names are Docker's (`--format '{{.Type}} {{.Reclaimable}}'`). */
export interface DfRow {
  readonly Type: string;
  readonly TotalCount: string;
  readonly Active: string;
  readonly Size: string;
  readonly Reclaimable: string;
}

export const DF_DEFAULT_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
export const DF_FIELD_HEADERS: Readonly<Record<string, string>> = { TotalCount: 'TOTAL' };

/** The numbers behind the summary, for tests and for prune's reclaimed total. */
export function dfTotals(du: DiskUsageResponse) {
  const activeImages = du.images.filter((i) => i.containers > 0);
  const usedByActive = activeImages.reduce((n, i) => n + (i.size - i.sharedSize), 0);
  const containersSize = du.containers.reduce((n, c) => n + c.size, 0);
  const stoppedSize = du.containers.filter((c) => !ACTIVE.has(c.status)).reduce((n, c) => n + c.size, 0);
  const known = du.volumes.filter((v) => v.size >= 0);
  return {
    images: { total: du.images.length, active: activeImages.length, size: du.layersSize, reclaimable: du.layersSize - usedByActive },
    containers: {
      total: du.containers.length,
      active: du.containers.length - du.containers.filter((c) => !ACTIVE.has(c.status)).length,
      size: containersSize,
      reclaimable: stoppedSize,
    },
    volumes: {
      total: du.volumes.length,
      active: du.volumes.filter((v) => v.links > 0).length,
      size: known.reduce((n, v) => n + v.size, 0),
      reclaimable: known.filter((v) => v.links === 0).reduce((n, v) => n + v.size, 0),
    },
    buildCache: { total: 0, active: 0, size: du.buildCacheSize, reclaimable: du.buildCacheSize },
  };
}

export function dfRows(du: DiskUsageResponse): DfRow[] {
  const t = dfTotals(du);
  const row = (type: string, x: { total: number; active: number; size: number; reclaimable: number }): DfRow => ({
    Type: type,
    TotalCount: String(x.total),
    Active: String(x.active),
    Size: humanSize(x.size),
    Reclaimable: reclaimableText(x.reclaimable, x.size),
  });
  return [row('Images', t.images), row('Containers', t.containers), row('Local Volumes', t.volumes), row('Build Cache', t.buildCache)];
}

/** The -v tables: one row per image name, per container and per volume, as `docker system df -v` prints them. */
export function dfVerboseTables(du: DiskUsageResponse, now: number): Array<{ title: string; headers: string[]; rows: string[][] }> {
  const imageRows: string[][] = [];
  for (const i of du.images) {
    const ago =
      i.created && !Number.isNaN(Date.parse(i.created)) ? `${humanDuration(Math.max(0, now - Date.parse(i.created)))} ago` : 'N/A';
    const cells = [
      shortId(i.id),
      ago,
      humanSize(i.size, 3),
      humanSize(i.sharedSize, 3),
      humanSize(i.size - i.sharedSize, 3),
      String(i.containers),
    ];
    const tagged = i.names.filter((n) => !n.includes('@'));
    if (!tagged.length) imageRows.push(['<none>', '<none>', ...cells]);
    for (const name of tagged) {
      const shown = displayName(name);
      const colon = shown.lastIndexOf(':');
      imageRows.push([displayRepository(shown.slice(0, colon)), shown.slice(colon + 1), ...cells]);
    }
  }
  const containerRows = du.containers.map((c) => [
    shortId(c.id),
    c.image,
    commandText(c.command, false),
    String(c.localVolumes),
    humanSize(c.size, 3),
    c.createdAt ? `${humanDuration(Math.max(0, now - c.createdAt.getTime()))} ago` : '',
    statusText({ status: c.status, exitCode: c.exitCode, startedAt: c.startedAt, finishedAt: c.finishedAt, health: 0 }, now),
    c.name.replace(/^\//, ''),
  ]);
  const volumeRows = du.volumes.map((v) => [v.name, String(v.links), v.size >= 0 ? humanSize(v.size) : 'N/A']);
  return [
    {
      title: 'Images space usage:',
      headers: ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
      rows: imageRows,
    },
    {
      title: 'Containers space usage:',
      headers: ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'],
      rows: containerRows,
    },
    { title: 'Local Volumes space usage:', headers: ['VOLUME NAME', 'LINKS', 'SIZE'], rows: volumeRows },
  ];
}
