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
