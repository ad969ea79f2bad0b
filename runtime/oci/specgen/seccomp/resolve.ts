/**
 * A profile made into the OCI `linux.seccomp` section for one container:
 * the rules whose conditions hold for its capabilities on this host, the
 * host's architectures. `seccompFor` is what the spec builder calls; it
 * knows the container options (unconfined, custom, privileged). Pure, apart
 * from `hostTarget`, which reads the running process's arch and kernel.
 */
import * as os from 'node:os';
import { failedPrecondition } from '../../../errdefs/errdefs';
import type { Seccomp, SeccompSyscall } from '../../spec';
import { DEFAULT_PROFILE } from './defaultProfile';
import { parseProfile } from './parse';
import { UNCONFINED, type Condition, type Profile, type Rule, type SeccompMode, type Target } from './seccomp';

/** Go's GOARCH for Node's process.arch (the two Gantry runs on, and the 32-bit ones for tests). */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

/** libseccomp's name of each GOARCH's native architecture. */
const NATIVE: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' };

export function hostTarget(): Target {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return { arch: GOARCH[process.arch] ?? process.arch, kernel: m ? [Number(m[1]), Number(m[2])] : [0, 0] };
}

/** What the container options ask for; `privileged` comes with `--privileged`. */
export interface SeccompOptions {
  /** undefined/'' = the default profile; 'unconfined'; or a Docker-format profile's JSON text. */
  readonly seccompProfile?: string;
  readonly privileged?: boolean;
}

export function seccompMode(config: SeccompOptions): SeccompMode {
  if (config.privileged || config.seccompProfile === UNCONFINED) return 'unconfined';
  return config.seccompProfile ? 'custom' : 'default';
}

/**
 * The container's filter, or undefined for none (unconfined or privileged,
 * as Docker). `caps` is the container's capability set (CAP_ names).
 */
export function seccompFor(config: SeccompOptions, caps: readonly string[], target: Target = hostTarget()): Seccomp | undefined {
  switch (seccompMode(config)) {
    case 'unconfined':
      return undefined;
    case 'custom':
      return resolveProfile(parseProfile(config.seccompProfile!), caps, target);
    default:
      return resolveProfile(DEFAULT_PROFILE, caps, target);
  }
}

export function resolveProfile(profile: Profile, caps: readonly string[], target: Target): Seccomp {
  const held = new Set(caps.map(capName));
  const out: Seccomp = {
    defaultAction: profile.defaultAction,
    architectures: architectures(profile, target),
    syscalls: profile.syscalls.filter((r) => applies(r, held, target)).map(toOci),
  };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  return out;
}

/** The old flat list as given; else the archMap entry of the native architecture with its sub-architectures. */
function architectures(profile: Profile, target: Target): string[] {
  if (profile.architectures?.length) return [...profile.architectures];
  if (!profile.archMap) return [];
  const native = NATIVE[target.arch];
  const entry = profile.archMap.find((e) => e.architecture === native);
  if (!entry) {
    // Without its native architecture the filter would kill the container's first syscall (libseccomp's bad-arch action).
    throw failedPrecondition(
      `the seccomp profile has no rules for this host's architecture (${target.arch}); use --security-opt seccomp=unconfined`,
    );
  }
  return [entry.architecture, ...entry.subArchitectures];
}

const capName = (c: string) => {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
};

function kernelAtLeast(target: Target, min: string): boolean {
  const [major, minor] = min.split('.').map(Number);
  return target.kernel[0] > major || (target.kernel[0] === major && target.kernel[1] >= minor);
}

function includes(c: Condition | undefined, held: Set<string>, target: Target): boolean {
  if (!c) return true;
  if (c.arches?.length && !c.arches.includes(target.arch)) return false;
  if (c.caps?.some((cap) => !held.has(capName(cap)))) return false;
  if (c.minKernel && !kernelAtLeast(target, c.minKernel)) return false;
  return true;
}

function excludes(c: Condition | undefined, held: Set<string>, target: Target): boolean {
  if (!c) return false;
  if (c.arches?.includes(target.arch)) return true;
  if (c.caps?.some((cap) => held.has(capName(cap)))) return true;
  return false;
}

function applies(rule: Rule, held: Set<string>, target: Target): boolean {
  return includes(rule.includes, held, target) && !excludes(rule.excludes, held, target);
}

function toOci(rule: Rule): SeccompSyscall {
  const s: SeccompSyscall = { names: [...rule.names], action: rule.action };
  if (rule.errnoRet !== undefined) s.errnoRet = rule.errnoRet;
  if (rule.args?.length) s.args = rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
  return s;
}
