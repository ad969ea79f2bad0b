/**
 * Is this process in a user namespace other than the initial one? A rootless
 * gantryd is (docs/rootless.md); some kernel features behave differently
 * there (overlayfs keeps its xattrs under user.overlay.* with `userxattr`).
 */
import * as fs from 'node:fs';

/** The initial user namespace maps all 2^32-1 IDs onto themselves. */
export function isInitialUserns(uidMap: string): boolean {
  return /^\s*0\s+0\s+4294967295\s*$/.test(uidMap);
}

export function readUidMap(): string {
  try {
    return fs.readFileSync('/proc/self/uid_map', 'utf8');
  } catch {
    return '';
  }
}

let cached: boolean | undefined;

/** True in a non-initial user namespace (read once: a process does not change namespace). */
export function inUserNamespace(): boolean {
  cached ??= !isInitialUserns(readUidMap());
  return cached;
}
