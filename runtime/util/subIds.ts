/** `/etc/subuid` and `/etc/subgid`: lines `owner:start:count`, owner a user name or a numeric uid. */

export interface SubIdRange {
  readonly start: number;
  readonly size: number;
}

/** The ranges of `/etc/subuid`-format text that belong to `name` or numeric `id`, in file order. */
export function subIdRanges(text: string, name: string, id?: number): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, size] = line.trim().split(':');
    if (!owner || owner.startsWith('#') || start === undefined || size === undefined) continue;
    if (owner !== name && (id === undefined || owner !== String(id))) continue;
    const s = Number(start);
    const n = Number(size);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(n) && s >= 0 && n > 0) out.push({ start: s, size: n });
  }
  return out;
}
