// Small helpers of the privilege tests: capability masks and KEY=value output.
import { ALL_CAPABILITIES } from '../../../runtime/oci/specgen/capabilities';

/** The /proc/<pid>/status mask of a capability set. */
export function capMask(caps: readonly string[]): string {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(ALL_CAPABILITIES.indexOf(c));
  return m.toString(16).padStart(16, '0');
}

/** `KEY=value` lines of a container's output. */
export function fields(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}
