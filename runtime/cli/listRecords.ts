/**
 * The records `--format` templates see in list commands, with the Docker
 * CLI's field names and values (docker/cli's formatter contexts):
 * `ps` (in commands/ps.ts: .ID .Image .Command .CreatedAt .RunningFor .Ports .Status .Size
 * .Names .Labels .Mounts .Networks .State .LocalVolumes, .Label "k"),
 * `images` (.ID .Repository .Tag .Digest .CreatedSince .CreatedAt .Size …)
 * and `network ls` (.ID .Name .Driver .Scope .IPv6 .Internal .Labels
 * .CreatedAt, .Label "k"). Every value is the text Docker prints, so
 * `--format json` gives the objects `docker … --format json` gives.
 */
import type { ImageSummary, NetworkInfo } from '../client';
import { displayRepository, formatSize, humanDuration, shortId } from '../presentation';

/** Go's time.Time.String() for a local time at second precision: "2024-03-01 10:04:05 +0100 CET". */
export function goTimeString(date: Date | undefined): string {
  if (!date) return '';
  const offset = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offset * 60_000);
  const abs = Math.abs(offset);
  const sign = offset < 0 ? '-' : '+';
  const zoneOffset = `${sign}${String(Math.trunc(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  const zone =
    offset === 0
      ? 'UTC'
      : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ??
        zoneOffset);
  return `${local.toISOString().slice(0, 19).replace('T', ' ')} ${zoneOffset} ${zone}`;
}

/** Docker joins labels as k=v with commas; sorted here so the output is stable. */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** `.Label "key"`: a method, so it is not part of the record's JSON (as in Docker). */
export function withLabelMethod<T extends object>(record: T, labels: Readonly<Record<string, string>>): T {
  Object.defineProperty(record, 'Label', { value: (key: string) => labels[key] ?? '', enumerable: false });
  return record;
}

export const IMAGES_DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_DIGESTS_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGES_FIELD_HEADERS: Readonly<Record<string, string>> = { ID: 'IMAGE ID', CreatedSince: 'CREATED' };

export function imageRecord(i: ImageSummary, noTrunc: boolean, now: number) {
  const created = i.created ? new Date(i.created) : undefined;
  const valid = created && !Number.isNaN(created.getTime()) ? created : undefined;
  return {
    Containers: 'N/A',
    CreatedAt: goTimeString(valid),
    CreatedSince: valid ? `${humanDuration(Math.max(0, now - valid.getTime()))} ago` : 'N/A',
    Digest: i.target?.digest || '<none>',
    ID: noTrunc ? i.id : shortId(i.id),
    Repository: i.repository ? displayRepository(i.repository) : '<none>',
    SharedSize: 'N/A',
    Size: formatSize(i.size),
    Tag: i.tag || '<none>',
    UniqueSize: 'N/A',
    VirtualSize: formatSize(i.size),
  };
}

export const NETWORK_LS_DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Subnet}}';
export const NETWORK_FIELD_HEADERS: Readonly<Record<string, string>> = { ID: 'NETWORK ID', IPv6: 'IPV6' };

export function networkRecord(n: NetworkInfo, noTrunc: boolean) {
  return withLabelMethod(
    {
      CreatedAt: goTimeString(n.createdAt),
      Driver: n.driver,
      ID: noTrunc ? n.id : shortId(n.id),
      IPv6: 'false',
      Internal: String(n.internal),
      Labels: labelsText(n.labels),
      Name: n.name,
      Scope: 'local',
      Subnet: n.subnet,
    },
    n.labels,
  );
}
