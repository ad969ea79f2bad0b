/**
 * `gantry install-service` / `uninstall-service` (docs/service.md): write or
 * remove the rootful daemon's systemd units, and create or remove the group
 * whose members may use its socket. Tools run by argv (util/exec.ts), never
 * through a shell.
 *
 * The daemon runs as root, so everything its unit executes must be root's
 * alone: a node binary, gantry.js or its bundle that another user could rewrite would
 * hand that user root. Both paths (after symlinks) and every directory above
 * them must be owned by root and not writable by group or others.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition } from '../errdefs/errdefs';
import { groupId } from '../daemon/socket';
import { run, runOk } from '../util/exec';
import { DAEMON_BUNDLE } from '../loader/bundles';
import { SERVICE_UNIT, SOCKET_UNIT, UNIT_DIR, serviceUnit, socketUnit, type UnitOptions } from './units';

export interface InstallOptions extends UnitOptions {
  /** Write the units under this directory instead of / (tests, image builds); no systemctl then. The group is this machine's either way. */
  readonly root?: string;
}

export interface ServiceReport {
  /** Files written or removed. */
  readonly files: string[];
  /** What was done besides (group created, systemctl called), one line each. */
  readonly actions: string[];
  /** What the administrator does next. */
  readonly next: string[];
}

export function unitDir(root = '/'): string {
  return path.join(root, UNIT_DIR);
}

/** Why `file` must not be run by root, or undefined when only root can change it. */
export function rootOnlyProblem(file: string): string | undefined {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    return `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  for (let p = real; ; p = path.dirname(p)) {
    const st = fs.lstatSync(p);
    if (st.uid !== 0) return `${p} belongs to uid ${st.uid}, not root`;
    // A sticky directory (/tmp) lets no one else rename or remove what root put in it.
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !sticky) return `${p} is writable by ${st.mode & 0o002 ? 'others' : 'its group'}`;
    if (p === path.dirname(p)) return undefined;
  }
}

const hasSystemd = (root: string | undefined) => root === undefined && fs.existsSync('/run/systemd/system');

export async function installService(o: InstallOptions): Promise<ServiceReport> {
  // gantry.js runs the daemon's bundle beside it (runtime/loader/bundles.ts): that file is run as root too.
  for (const file of [o.node, o.script, path.join(path.dirname(o.script), DAEMON_BUNDLE)]) {
    const problem = rootOnlyProblem(file);
    if (problem) {
      throw failedPrecondition(
        `the system service would run ${file} as root, but ${problem}; install Gantry where only root can change it (e.g. /usr/local/lib/gantry) and pass --node/--gantry`,
      );
    }
  }
  const files: string[] = [];
  const actions: string[] = [];
  const dir = unitDir(o.root);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o644 });
    files.push(file);
  };
  write(SERVICE_UNIT, serviceUnit(o));
  if (o.socketActivation) write(SOCKET_UNIT, socketUnit(o));
  else fs.rmSync(path.join(dir, SOCKET_UNIT), { force: true });

  if (groupId(o.group) === undefined) {
    await runOk('groupadd', ['--system', o.group]);
    actions.push(`created the system group ${o.group}`);
  } else {
    actions.push(`the group ${o.group} exists`);
  }
  const start = o.socketActivation ? `systemctl enable --now ${SOCKET_UNIT}` : `systemctl enable --now ${SERVICE_UNIT}`;
  if (hasSystemd(o.root)) {
    await runOk('systemctl', ['daemon-reload']);
    actions.push('systemctl daemon-reload');
  }
  return {
    files,
    actions,
    next: [
      `Start it: ${start}${o.socketActivation ? ' (gantryd starts on the first connection)' : ''}`,
      `Let a user use it: usermod -aG ${o.group} USER (effective at their next login)`,
      `Members of ${o.group} can run any container, mount any host path and so act as root on this machine: add only people you would give root.`,
    ],
  };
}

export async function uninstallService(o: { root?: string; group: string; keepGroup?: boolean }): Promise<ServiceReport> {
  const files: string[] = [];
  const actions: string[] = [];
  const dir = unitDir(o.root);
  if (hasSystemd(o.root)) {
    // Stopping gantryd leaves the containers running (KillMode=process); they are re-adopted by the next daemon.
    const r = await run('systemctl', ['disable', '--now', SOCKET_UNIT, SERVICE_UNIT]);
    actions.push(r.code === 0 ? `stopped and disabled ${SERVICE_UNIT}` : `systemctl disable: ${r.stderr.trim()}`);
  }
  for (const name of [SOCKET_UNIT, SERVICE_UNIT]) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) {
      fs.rmSync(file);
      files.push(file);
    }
  }
  if (hasSystemd(o.root)) await run('systemctl', ['daemon-reload']);
  if (!o.keepGroup && groupId(o.group) !== undefined) {
    await runOk('groupdel', [o.group]);
    actions.push(`removed the group ${o.group}`);
  }
  return { files, actions, next: [] };
}
