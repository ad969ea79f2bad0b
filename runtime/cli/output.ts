import type { Writable } from 'node:stream';

export function writeJson(out: Writable, value: unknown, pretty = true): void {
  out.write(JSON.stringify(value, null, pretty ? 2 : undefined) + '\n');
}

/** Aligned "Key: value" lines under a heading, as `docker version` prints them. */
export function writeSection(out: Writable, heading: string, rows: ReadonlyArray<readonly [string, string]>): void {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  out.write(`${heading}\n`);
  for (const [key, value] of rows) out.write(` ${(key + ':').padEnd(width)}${value}\n`);
}

/** Columns separated by at least three spaces, as `docker ps` prints them. */
export function writeTable(out: Writable, headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3)))
      .join('')
      .trimEnd() + '\n';
  out.write(line(headers));
  for (const row of rows) out.write(line(row));
}
