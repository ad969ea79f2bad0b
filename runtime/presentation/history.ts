/** How an image's history and layers read, in `gantry history` and in the Images view's layers (docs/layers.md). */

/** Docker's formatter.Ellipsis: at most `width` characters, the last one "…" when cut. */
export function ellipsis(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

/** A `created_by` on one line, as `docker history` prints it (tabs become spaces). */
export function createdByLine(createdBy: string): string {
  return createdBy.replace(/\t/g, ' ');
}

/**
 * A `created_by` shortened for a tree label: the shell wrapper of classic
 * builds (`/bin/sh -c #(nop) `, `/bin/sh -c `) dropped, whitespace collapsed,
 * at most `width` characters.
 */
export function createdByShort(createdBy: string, width = 60): string {
  const text = createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/\s+/g, ' ')
    .trim();
  return ellipsis(text, width);
}
