/**
 * Platforms: the host's, parsing `--platform os/arch[/variant]`, and picking
 * the manifest an index offers for a platform (as containerd's platforms
 * package does, for the cases that matter on Linux).
 */
import * as os from 'node:os';
import { invalidArgument } from '../errdefs/errdefs';
import type { Descriptor, Platform } from '../oci/descriptor';

const NODE_TO_OCI_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64le',
};

export function hostPlatform(): Platform {
  const architecture = NODE_TO_OCI_ARCH[os.arch()] ?? os.arch();
  const platform: Platform = { os: 'linux', architecture };
  if (architecture === 'arm') {
    const armVersion = (process.config.variables as { arm_version?: string }).arm_version;
    platform.variant = `v${armVersion ?? '7'}`;
  }
  return platform;
}

/** "linux/arm64", "linux/arm/v7", "arm64" (os defaults to linux). */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().toLowerCase().split('/');
  if (parts.some((p) => !p || !/^[a-z0-9._-]+$/.test(p)) || parts.length > 3) {
    throw invalidArgument(`invalid platform "${spec}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  if (parts.length === 1) return normalize({ os: 'linux', architecture: parts[0] });
  const [osName, architecture, variant] = parts;
  return normalize({ os: osName, architecture, ...(variant ? { variant } : {}) });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Canonical spellings, so "aarch64" and "arm64/v8" compare equal to "arm64". */
export function normalize(p: Platform): Platform {
  let architecture = p.architecture;
  let variant = p.variant;
  if (architecture === 'x86_64' || architecture === 'x86-64') architecture = 'amd64';
  if (architecture === 'aarch64') architecture = 'arm64';
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'armhf') {
    architecture = 'arm';
    variant = 'v7';
  }
  const out: Platform = { os: p.os, architecture };
  if (variant) out.variant = variant;
  return out;
}

/**
 * Whether an image built for `candidate` runs on `wanted`: same os and
 * architecture; a wanted variant needs an equal or older candidate variant
 * (an arm/v7 machine runs arm/v6 images), no wanted variant accepts any.
 */
export function matches(wanted: Platform, candidate: Platform): boolean {
  const w = normalize(wanted);
  const c = normalize(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  if (!w.variant || !c.variant) return true;
  return variantRank(c.variant) <= variantRank(w.variant);
}

function variantRank(variant: string): number {
  const n = /^v(\d+)$/.exec(variant);
  return n ? Number(n[1]) : Number.MAX_SAFE_INTEGER;
}

/** The best manifest in an index for `wanted`: exact variant first, then the newest compatible one. */
export function selectManifest(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  const candidates = manifests.filter((m) => m.platform && matches(wanted, m.platform));
  const w = normalize(wanted);
  candidates.sort((a, b) => score(b.platform!, w) - score(a.platform!, w));
  return candidates[0];
}

function score(p: Platform, wanted: Platform): number {
  const n = normalize(p);
  if (n.variant === wanted.variant) return 1_000;
  return n.variant ? variantRank(n.variant) : 0;
}
