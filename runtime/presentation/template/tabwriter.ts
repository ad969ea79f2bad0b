/**
 * Go's text/tabwriter as the Docker CLI sets it up for `table` formats
 * (minwidth 10, tabwidth 1, padding 3, padded with spaces): every
 * tab-terminated cell of a column is padded to the column's widest cell
 * plus 3, and at least 10; the text after a line's last tab is not aligned.
 * A column's width is taken over the run of consecutive lines that have it,
 * as Go's column blocks are.
 */
const MIN_WIDTH = 10;
const PADDING = 3;

export function tabAlign(text: string): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[][] = lines.map((cells) => new Array<number>(Math.max(0, cells.length - 1)).fill(0));
  const width = (s: string) => [...s].length;
  for (let col = 0; ; col++) {
    let any = false;
    let i = 0;
    while (i < lines.length) {
      if (lines[i].length - 1 <= col) {
        i++;
        continue;
      }
      any = true;
      let j = i;
      let w = MIN_WIDTH;
      while (j < lines.length && lines[j].length - 1 > col) w = Math.max(w, width(lines[j++][col]) + PADDING);
      for (let k = i; k < j; k++) widths[k][col] = w;
      i = j;
    }
    if (!any) break;
  }
  return lines
    .map((cells, li) => cells.map((c, ci) => (ci < cells.length - 1 ? c + ' '.repeat(widths[li][ci] - width(c)) : c)).join(''))
    .join('\n');
}
