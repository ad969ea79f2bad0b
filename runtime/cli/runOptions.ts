/**
 * `gantry run`/`create` flags → the ContainerConfig sent to the daemon. Pure
 * apart from the two inputs it is handed (the shell's environment, for
 * `-e KEY`, and a file reader, for `--env-file`/`--label-file` and a
 * `--security-opt seccomp=` profile), so every flag's
 * mapping is unit-tested without a daemon.
 *
 * Errors: a mistake in how the flags are combined is a UsageError (exit 2);
 * a value the option parsers reject is their InvalidArgument, which `run`
 * reports as Docker does for values the daemon refuses (exit 125).
 */
import { fullConfig, type ContainerConfig, type HealthcheckConfig } from '../client';
import {
  parseCpus,
  parseDuration,
  parseEnvFile,
  parseLabelFile,
  parseLabels,
  parseMemory,
  parseRestartPolicy,
  parseSignal,
  parseTmpfs,
  parseMount,
  parseVolume,
  parseVolumesFrom,
  type ParsedMount,
  validateContainerName,
  validateHostname,
  parseSecurityOpts,
} from '../options';
import { parseCgroupns, parseDevice } from '../oci/specgen/privileges';
import { invalidArgument } from '../errdefs/errdefs';
import { UsageError } from './command';

/** Options of `create`; `run` adds -d. Docker's -h (hostname) is --hostname only: -h is help here. */
export const CREATE_OPTIONS = {
  name: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  hostname: { type: 'string' },
  label: { type: 'string', short: 'l', multiple: true },
  'label-file': { type: 'string', multiple: true },
  volume: { type: 'string', short: 'v', multiple: true },
  mount: { type: 'string', multiple: true },
  'volumes-from': { type: 'string', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  'read-only': { type: 'boolean' },
  memory: { type: 'string', short: 'm' },
  cpus: { type: 'string' },
  'pids-limit': { type: 'string' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  network: { type: 'string' },
  net: { type: 'string' },
  'network-alias': { type: 'string', multiple: true },
  publish: { type: 'string', short: 'p', multiple: true },
  'publish-all': { type: 'boolean', short: 'P' },
  expose: { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  'dns-search': { type: 'string', multiple: true },
  'dns-option': { type: 'string', multiple: true },
  'add-host': { type: 'string', multiple: true },
  ip: { type: 'string' },
  'mac-address': { type: 'string' },
  restart: { type: 'string' },
  'health-cmd': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  'health-retries': { type: 'string' },
  'health-start-period': { type: 'string' },
  'no-healthcheck': { type: 'boolean' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  entrypoint: { type: 'string' },
  rm: { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  pull: { type: 'string' },
  privileged: { type: 'boolean' },
  device: { type: 'string', multiple: true },
  cgroupns: { type: 'string' },
  'security-opt': { type: 'string', multiple: true },
} as const;

export const RUN_OPTIONS = {
  ...CREATE_OPTIONS,
  detach: { type: 'boolean', short: 'd' },
} as const;

type OptionValue<O> = O extends { type: 'boolean' } ? boolean : O extends { multiple: true } ? string[] : string;

/** What parseArgs yields for RUN_OPTIONS (create's are a subset). */
export type RunValues = { [K in keyof typeof RUN_OPTIONS]?: OptionValue<(typeof RUN_OPTIONS)[K]> };

export type PullPolicy = 'missing' | 'always' | 'never';

export interface RunPlan {
  /** '' = let the daemon generate one. */
  readonly name: string;
  readonly config: ContainerConfig;
  readonly detach: boolean;
  readonly pull: PullPolicy;
}

export interface RunInputs {
  /** The shell's environment, for `-e KEY` and bare keys in env files. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads an env or label file (utf8). */
  readonly readFile: (path: string) => string;
}

/**
 * Docker's `-e`: `KEY=VALUE` as given, a bare `KEY` copied from `env` (and
 * dropped when `env` lacks it, so `-e HOME` never sends an empty value).
 */
export function expandEnv(items: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === 0 || item === '') throw invalidArgument(`invalid environment variable: ${JSON.stringify(item)}`);
    if (eq > 0) out.push(item);
    else if (env[item] !== undefined) out.push(`${item}=${env[item]}`);
  }
  return out;
}

function wholeNumber(flag: string, value: string, min: number): number {
  if (!/^[+-]?\d+$/.test(value) || Number(value) < min) {
    throw invalidArgument(`invalid ${flag} value ${JSON.stringify(value)}: want a whole number${min === 0 ? ' ≥ 0' : ` ≥ ${min}`}`);
  }
  return Number(value);
}

function readKeyValueFile(inputs: RunInputs, path: string, what: string): string {
  try {
    return inputs.readFile(path);
  } catch (e) {
    throw invalidArgument(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
}

function healthcheck(v: RunValues): HealthcheckConfig | undefined {
  const timing = ['health-interval', 'health-timeout', 'health-retries', 'health-start-period'] as const;
  const given = v['health-cmd'] !== undefined || timing.some((k) => v[k] !== undefined);
  if (v['no-healthcheck']) {
    if (given) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { test: [], intervalMs: 0, timeoutMs: 0, startPeriodMs: 0, retries: 0, disabled: true };
  }
  if (!given) return undefined;
  const duration = (flag: string, value: string | undefined) => {
    if (value === undefined) return 0;
    const ms = parseDuration(value);
    if (ms === 0) throw invalidArgument(`${flag} must be at least 1ms (or left out for the default)`);
    return ms;
  };
  return {
    // No --health-cmd: only the timings change and the image's test is kept (Docker does the same).
    test: v['health-cmd'] === undefined ? [] : ['CMD-SHELL', v['health-cmd']],
    intervalMs: duration('--health-interval', v['health-interval']),
    timeoutMs: duration('--health-timeout', v['health-timeout']),
    startPeriodMs: duration('--health-start-period', v['health-start-period']),
    retries: v['health-retries'] === undefined ? 0 : wholeNumber('--health-retries', v['health-retries'], 0),
    disabled: false,
  };
}

/**
 * `--network`/`--net`: passed through ('' = the daemon's default, `bridge`);
 * the daemon knows which networks exist and refuses the others by name.
 */
function network(v: RunValues): string {
  if (v.network !== undefined && v.net !== undefined && v.network !== v.net) {
    throw new UsageError('conflicting options: --network and --net name different networks');
  }
  const value = v.network ?? v.net;
  if (value === '') throw invalidArgument('--network needs a name: bridge, none, host or a network created with gantry network create');
  return value ?? '';
}

function pullPolicy(value: string | undefined): PullPolicy {
  if (value === undefined) return 'missing';
  if (value !== 'missing' && value !== 'always' && value !== 'never') {
    throw invalidArgument(`invalid --pull value ${JSON.stringify(value)}: want missing, always or never`);
  }
  return value;
}

/** -v, --mount, --tmpfs and --volumes-from → binds, volumes and tmpfs mounts (runtime/options/mountSpecs.ts). */
function mountFlags(v: RunValues): Pick<ContainerConfig, 'mounts' | 'tmpfs' | 'volumeMounts' | 'volumesFrom'> {
  const parsed: ParsedMount[] = [...(v.volume ?? []).map(parseVolume), ...(v.mount ?? []).map(parseMount)];
  const out: Pick<ContainerConfig, 'mounts' | 'tmpfs' | 'volumeMounts' | 'volumesFrom'> = {
    mounts: [],
    tmpfs: (v.tmpfs ?? []).map((spec) => {
      const { destination, options } = parseTmpfs(spec);
      return { destination, options: [...options] };
    }),
    volumeMounts: [],
    volumesFrom: (v['volumes-from'] ?? []).map((spec) => (parseVolumesFrom(spec), spec)),
  };
  for (const m of parsed) {
    if (m.type === 'bind') out.mounts.push({ ...m.bind });
    else if (m.type === 'tmpfs') out.tmpfs.push({ destination: m.tmpfs.destination, options: [...m.tmpfs.options] });
    else
      out.volumeMounts.push({
        name: m.volume.name,
        destination: m.volume.destination,
        readOnly: m.volume.readOnly,
        noCopy: m.volume.noCopy ?? false,
        volumeOptions: { ...(m.volume.volumeOptions ?? {}) },
        volumeLabels: { ...(m.volume.volumeLabels ?? {}) },
        anonymous: false,
      });
  }
  return out;
}

/** Maps parsed flags and positionals (IMAGE [COMMAND [ARG...]]) to what `create` sends. */
export function buildRunPlan(command: 'run' | 'create', v: RunValues, positionals: readonly string[], inputs: RunInputs): RunPlan {
  const [image, ...cmd] = positionals;
  if (!image) throw new UsageError(`${command} needs an image`);
  const restartPolicy = v.restart === undefined ? undefined : parseRestartPolicy(v.restart);
  if (v.rm && restartPolicy && restartPolicy.name !== 'no') throw new UsageError('conflicting options: --restart and --rm');
  const env = [
    ...(v['env-file'] ?? []).flatMap((f) => parseEnvFile(readKeyValueFile(inputs, f, 'env file'), inputs.env)),
    ...expandEnv(v.env ?? [], inputs.env),
  ];
  const labels = parseLabels([
    ...(v['label-file'] ?? []).flatMap((f) => parseLabelFile(readKeyValueFile(inputs, f, 'label file'))),
    ...(v.label ?? []),
  ]);
  if (v.workdir !== undefined && !v.workdir.startsWith('/')) {
    throw invalidArgument(`the working directory ${JSON.stringify(v.workdir)} is invalid: it needs to be an absolute path`);
  }
  const pidsLimit = v['pids-limit'] === undefined ? 0 : wholeNumber('--pids-limit', v['pids-limit'], -1);
  const security = parseSecurityOpts(v['security-opt'] ?? [], inputs.readFile);
  const config = fullConfig({
    image,
    cmd,
    entrypoint: v.entrypoint === undefined || v.entrypoint === '' ? [] : [v.entrypoint],
    entrypointSet: v.entrypoint !== undefined,
    env,
    workingDir: v.workdir ?? '',
    user: v.user ?? '',
    hostname: v.hostname === undefined ? '' : validateHostname(v.hostname),
    labels,
    ...mountFlags(v),
    readOnlyRootfs: v['read-only'] === true,
    memoryBytes: v.memory === undefined ? 0 : parseMemory(v.memory),
    nanoCpus: v.cpus === undefined ? 0 : parseCpus(v.cpus),
    // Docker: 0 and -1 both mean no limit.
    pidsLimit: Math.max(0, pidsLimit),
    capAdd: v['cap-add'] ?? [],
    capDrop: v['cap-drop'] ?? [],
    network: network(v),
    // The network options go as typed: the daemon parses them (runtime/network/ports/publish.ts
    // for -p and --expose) and its InvalidArgument names the bad value.
    publish: v.publish ?? [],
    publishAll: v['publish-all'] === true,
    expose: v.expose ?? [],
    dns: v.dns ?? [],
    dnsSearch: v['dns-search'] ?? [],
    dnsOptions: v['dns-option'] ?? [],
    addHosts: v['add-host'] ?? [],
    ip: v.ip ?? '',
    macAddress: v['mac-address'] ?? '',
    networkAliases: v['network-alias'] ?? [],
    restartPolicy,
    healthcheck: healthcheck(v),
    tty: v.tty === true,
    openStdin: v.interactive === true,
    stopSignal: v['stop-signal'] === undefined ? '' : parseSignal(v['stop-signal']).name,
    stopTimeout: v['stop-timeout'] === undefined ? 0 : wholeNumber('--stop-timeout', v['stop-timeout'], 0),
    stopTimeoutSet: v['stop-timeout'] !== undefined,
    autoRemove: v.rm === true,
    privileged: v.privileged === true,
    devices: (v.device ?? []).map(parseDevice),
    cgroupns: v.cgroupns === undefined ? '' : parseCgroupns(v.cgroupns),
    seccompProfile: security.seccompProfile ?? '',
    // Unset (not false) lets the daemon's --no-new-privileges decide.
    ...(security.noNewPrivileges === undefined ? {} : { noNewPrivileges: security.noNewPrivileges }),
    apparmorProfile: security.apparmorProfile ?? '',
  });
  return {
    name: v.name === undefined ? '' : validateContainerName(v.name),
    config,
    detach: v.detach === true,
    pull: pullPolicy(v.pull),
  };
}
