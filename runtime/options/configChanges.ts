/**
 * `--change`/`-c` of `gantry commit` and `gantry import`: Dockerfile
 * instructions applied to an image config, as Docker takes them — CMD,
 * ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL. CMD,
 * ENTRYPOINT and VOLUME take the JSON form (`CMD ["echo","hi"]`) or the shell
 * form (`CMD echo hi` runs `/bin/sh -c "echo hi"`). ONBUILD (a build-time
 * trigger Gantry has no builder for) and anything else are refused.
 */
import { invalidArgument } from '../errdefs/errdefs';

/** The image config's runtime part (the `config` object of an OCI image config). */
export interface RunConfigFields {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL'] as const;

/** Applies each instruction in order to a copy of `config`. */
export function applyConfigChanges<T extends RunConfigFields>(config: T, changes: readonly string[]): T {
  const out: T = { ...config };
  for (const change of changes) applyOne(out, change);
  return out;
}

/** Checks instructions without applying them (the CLI, before a call). */
export function validateConfigChanges(changes: readonly string[]): void {
  applyConfigChanges({}, changes);
}

function applyOne(c: RunConfigFields, change: string): void {
  const m = /^\s*(\S+)\s*([\s\S]*?)\s*$/.exec(change);
  if (!m || !m[1]) throw invalidArgument('empty --change instruction');
  const instruction = m[1].toUpperCase();
  const rest = m[2];
  const need = () => {
    if (!rest) throw invalidArgument(`--change ${instruction} needs an argument`);
  };
  switch (instruction) {
    case 'CMD':
      need();
      c.Cmd = commandForm(rest, instruction);
      return;
    case 'ENTRYPOINT':
      need();
      c.Entrypoint = commandForm(rest, instruction);
      return;
    case 'ENV':
      need();
      c.Env = mergeEnv(c.Env ?? [], pairs(rest, instruction, true));
      return;
    case 'LABEL':
      need();
      c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest, instruction, false)) };
      return;
    case 'EXPOSE': {
      need();
      const ports = { ...(c.ExposedPorts ?? {}) };
      for (const p of rest.split(/\s+/)) {
        const e = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!e) throw invalidArgument(`--change EXPOSE: invalid port ${JSON.stringify(p)}`);
        const proto = (e[3] ?? 'tcp').toLowerCase();
        const last = Number(e[2] ?? e[1]);
        for (let n = Number(e[1]); n <= last; n++) ports[`${n}/${proto}`] = {};
      }
      c.ExposedPorts = ports;
      return;
    }
    case 'USER':
      need();
      c.User = rest;
      return;
    case 'WORKDIR':
      need();
      c.WorkingDir = rest.startsWith('/') ? rest : `${(c.WorkingDir || '/').replace(/\/$/, '')}/${rest}`;
      return;
    case 'VOLUME': {
      need();
      const list = rest.startsWith('[') ? jsonList(rest, instruction) : rest.split(/\s+/);
      const volumes = { ...(c.Volumes ?? {}) };
      for (const v of list) {
        if (!v.startsWith('/')) throw invalidArgument(`--change VOLUME: ${JSON.stringify(v)} is not an absolute path`);
        volumes[v] = {};
      }
      c.Volumes = volumes;
      return;
    }
    case 'STOPSIGNAL':
      need();
      c.StopSignal = rest;
      return;
    case 'ONBUILD':
      throw invalidArgument('--change ONBUILD is not supported: Gantry has no image builder to run the trigger');
    default:
      throw invalidArgument(
        `--change ${JSON.stringify(m[1])} is not a supported instruction (use one of ${CHANGE_INSTRUCTIONS.join(', ')})`,
      );
  }
}

function commandForm(rest: string, instruction: string): string[] {
  if (rest.startsWith('[')) return jsonList(rest, instruction);
  return ['/bin/sh', '-c', rest];
}

function jsonList(rest: string, instruction: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    throw invalidArgument(`--change ${instruction}: ${rest} is not a JSON list of strings`);
  }
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) {
    throw invalidArgument(`--change ${instruction}: ${rest} is not a JSON list of strings`);
  }
  return v;
}

/** `K=V K2="v 2"`, or the legacy `K V…` form (ENV only: one pair, the rest of the line is the value). */
function pairs(rest: string, instruction: string, legacy: boolean): Array<[string, string]> {
  const words = splitWords(rest);
  if (legacy && !words[0].includes('=')) {
    const key = words[0];
    return [[key, rest.slice(rest.indexOf(key) + key.length).trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidArgument(`--change ${instruction}: ${JSON.stringify(w)} is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Splits on unquoted whitespace; double and single quotes group and are removed, backslash escapes. */
function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(cur);
      cur = '';
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (quote) throw invalidArgument(`unterminated quote in ${JSON.stringify(s)}`);
  if (started) words.push(cur);
  return words;
}

function mergeEnv(env: readonly string[], add: ReadonlyArray<[string, string]>): string[] {
  const out = [...env];
  for (const [k, v] of add) {
    const i = out.findIndex((e) => e === k || e.startsWith(`${k}=`));
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}
