/**
 * Can this host attach containers to networks? The CNI plugins gantryd's
 * networks use, iptables (which bridge/portmap/firewall drive) and the
 * namespace tools. When something is missing gantryd still starts — `none`
 * and `host` need none of it — and `info`, the SSH host probe and the error
 * of a bridge run say exactly what to install (Debian package names).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition, type GantryError } from '../errdefs/errdefs';
import { CNI_PLUGINS_PACKAGE, findPlugin } from './cni/plugin';

/** The plugins gantryd's own networks run (configs.ts) plus loopback. */
export const REQUIRED_PLUGINS: readonly string[] = ['bridge', 'host-local', 'portmap', 'firewall', 'tuning', 'loopback'];

/** Tools run on the host, with the Debian package that has each. */
export const REQUIRED_TOOLS: readonly { readonly tool: string; readonly pkg: string }[] = [
  { tool: 'iptables', pkg: 'iptables' },
  { tool: 'iptables-save', pkg: 'iptables' },
  { tool: 'ip', pkg: 'iproute2' },
  { tool: 'unshare', pkg: 'util-linux' },
  { tool: 'nsenter', pkg: 'util-linux' },
];

export interface Missing {
  /** "CNI plugin portmap" or "iptables". */
  readonly what: string;
  readonly pkg: string;
}

export interface Availability {
  readonly available: boolean;
  readonly missing: readonly Missing[];
  /** Debian packages to install, each once. */
  readonly packages: readonly string[];
  /** One line for `info` and errors: "" when available. */
  readonly hint: string;
}

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

async function onPath(tool: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  for (const dir of dirs) {
    const ok = await fs.promises.access(path.join(dir, tool), fs.constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return true;
  }
  return false;
}

export async function probeAvailability(binDirs: readonly string[]): Promise<Availability> {
  const missing: Missing[] = [];
  for (const plugin of REQUIRED_PLUGINS) if (!(await findPlugin(plugin, binDirs))) missing.push(missingPlugin(plugin, binDirs));
  for (const { tool } of REQUIRED_TOOLS) if (!(await onPath(tool))) missing.push(missingTool(tool));
  return availabilityOf(missing);
}

/** A plugin not found in `binDirs`. */
export function missingPlugin(plugin: string, binDirs: readonly string[]): Missing {
  return { what: `CNI plugin ${plugin} (in ${binDirs.join(', ')})`, pkg: CNI_PLUGINS_PACKAGE };
}

/** A tool of REQUIRED_TOOLS not on PATH (or the sbin dirs). */
export function missingTool(tool: string): Missing {
  return { what: tool, pkg: REQUIRED_TOOLS.find((t) => t.tool === tool)?.pkg ?? tool };
}

/**
 * The verdict and the hint for what is missing — pure, so that what another
 * host lacks (the SSH host probe, runtime/client/ssh/probe.ts) reads the same.
 */
export function availabilityOf(missing: readonly Missing[]): Availability {
  const packages = [...new Set(missing.map((m) => m.pkg))];
  const hint =
    missing.length === 0
      ? ''
      : `container networking needs ${missing.map((m) => m.what).join(', ')}: install with apt-get install ${packages.join(' ')}`;
  return { available: missing.length === 0, missing, packages, hint };
}

/** FailedPrecondition carrying the hint, for a bridge run on a host without the parts. */
export function unavailableError(a: Availability): GantryError {
  return failedPrecondition(a.hint);
}
