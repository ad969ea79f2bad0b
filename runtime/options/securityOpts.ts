/**
 * `--security-opt` values, parsed as the docker CLI parses them, for every
 * front end to share:
 * - `seccomp=unconfined` (no filter) or `seccomp=PATH` (a Docker-format
 *   JSON profile; the file is read here, on the client, checked, and sent
 *   to the daemon as text — the daemon may be on another host);
 * - `apparmor=unconfined` or `apparmor=PROFILE`;
 * - `no-new-privileges` or `no-new-privileges=true|false`.
 * SELinux labels and the rest of Docker's options are refused by name.
 * Pure apart from the file reader it is handed.
 */
import { invalidArgument } from '../errdefs/errdefs';
import { validateProfileName } from '../oci/specgen/apparmor/apparmor';
import { parseProfile } from '../oci/specgen/seccomp/parse';
import { UNCONFINED } from '../oci/specgen/seccomp/seccomp';

export interface SecurityOptions {
  /** undefined = the default profile; 'unconfined'; or the profile's JSON text. */
  seccompProfile?: string;
  /** undefined = the daemon's default. */
  noNewPrivileges?: boolean;
  /** undefined = the default profile; 'unconfined'; or a profile name. */
  apparmorProfile?: string;
}

const q = (s: string) => JSON.stringify(s);

function readProfile(path: string, readFile: (path: string) => string): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    throw invalidArgument(`cannot read seccomp profile ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
  parseProfile(text, path);
  return text;
}

function bool(opt: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidArgument(`invalid --security-opt ${q(opt)}: want no-new-privileges, no-new-privileges=true or no-new-privileges=false`);
}

/** The options in order; a later one of the same kind wins, as in Docker. */
export function parseSecurityOpts(items: readonly string[], readFile: (path: string) => string): SecurityOptions {
  const out: SecurityOptions = {};
  for (const opt of items) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (eq < 0) {
      const hint = /^(seccomp|apparmor|no-new-privileges):/.test(opt) ? ` (write ${q(opt.replace(':', '='))})` : '';
      throw invalidArgument(`invalid --security-opt ${q(opt)}: want KEY=VALUE${hint}`);
    }
    switch (key) {
      case 'seccomp':
        if (value === '') throw invalidArgument(`invalid --security-opt ${q(opt)}: want seccomp=unconfined or seccomp=PROFILE.json`);
        out.seccompProfile = value === UNCONFINED ? UNCONFINED : readProfile(value, readFile);
        break;
      case 'apparmor':
        out.apparmorProfile = validateProfileName(value);
        break;
      case 'no-new-privileges':
        out.noNewPrivileges = bool(opt, value);
        break;
      case 'label':
        throw invalidArgument(`--security-opt ${q(opt)}: SELinux labels are not supported`);
      default:
        throw invalidArgument(`invalid --security-opt ${q(opt)}: want seccomp=…, apparmor=… or no-new-privileges`);
    }
  }
  return out;
}
