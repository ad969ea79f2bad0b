/**
 * Owners of a layer's entries shifted into a user-namespace mapping (the
 * daemon's --userns-remap): uid U becomes `uid + U`, gid G `gid + G`, so
 * the container's root (0 inside) owns what the image's root owned. An
 * owner past the mapping's size could not be represented inside the
 * namespace: the entry is refused with InvalidArgument naming it (Docker
 * refuses such layers too). Applied to each tar header before the writer
 * sees it, PAX uid/gid records included.
 */
import { invalidArgument } from '../errdefs/errdefs';
import type { EntryHeader } from './header';
import { quoteName } from './paths';

export interface OwnerShift {
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

function shiftId(id: number, base: number, size: number, what: string, name: string): number {
  if (!Number.isInteger(id) || id < 0 || id >= size) {
    throw invalidArgument(`entry ${quoteName(name)}: ${what} ${id} is outside the user-namespace mapping (0-${size - 1})`);
  }
  return base + id;
}

export function shiftOwners(h: EntryHeader, shift: OwnerShift): EntryHeader {
  const pax = h.pax ?? undefined;
  const uid = pax?.uid !== undefined ? Number(pax.uid) : (h.uid ?? 0);
  const gid = pax?.gid !== undefined ? Number(pax.gid) : (h.gid ?? 0);
  const newUid = shiftId(uid, shift.uid, shift.size, 'uid', h.name);
  const newGid = shiftId(gid, shift.gid, shift.size, 'gid', h.name);
  const out: EntryHeader = { ...h, uid: newUid, gid: newGid };
  if (pax && (pax.uid !== undefined || pax.gid !== undefined)) {
    const shifted: Record<string, string> = { ...pax };
    if (pax.uid !== undefined) shifted.uid = String(newUid);
    if (pax.gid !== undefined) shifted.gid = String(newGid);
    (out as { pax: unknown }).pax = shifted;
  }
  return out;
}
