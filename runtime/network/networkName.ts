/**
 * The network-name rule, shared by the daemon (network create) and the
 * front ends that check a name as it is typed (through `runtime/options/`):
 * a letter or digit, then up to 63 letters, digits, `_`, `.` or `-`; not
 * `none`, `host` or `default`, which name network modes, not networks.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const RESERVED = new Set(['none', 'host', 'default']);

/** Undefined when `name` can name a new network, else why not. */
export function networkNameProblem(name: string): string | undefined {
  if (name === '') return 'a network needs a name';
  if (RESERVED.has(name)) return `"${name}" is reserved (it names a network mode)`;
  if (!NAME.test(name)) return 'use letters, digits, "_", "." or "-" (starting with a letter or digit), at most 64 characters';
  return undefined;
}
