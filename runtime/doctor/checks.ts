/**
 * `gantry doctor`'s decision table (docs/service.md): every prerequisite of
 * the rootful and the rootless daemon, each with what was found and the exact
 * fix. Pure over a DoctorProbe (probe.ts), so the extension and the SSH probe
 * can ask the same questions of another host later.
 *
 * A check is `required` when the daemon cannot run containers in that mode
 * without it; the others turn one feature off (bridge networking, resource
 * limits, overlayfs) and are reported as warnings. The verdict (`ok`, the exit
 * status) is about the current mode's required checks: rootful as root,
 * rootless otherwise.
 */
import * as path from 'node:path';
import { SYSTEM_SOCKET } from '../client/discovery';
import { defaultState, socketIn } from '../client/socketPath';
import { nextFreeId, subIdRanges } from '../daemon/userns';
import { CNI_PLUGINS_PACKAGE, DEFAULT_CNI_BIN_DIRS } from '../network/cni/plugin';
import { REQUIRED_PLUGINS } from '../network/availability';
import type { DoctorProbe } from './probe';

export type DoctorMode = 'rootful' | 'rootless';

export interface DoctorCheck {
  /** Stable name: "runc", "subuid", "dev-net-tun" … */
  readonly id: string;
  readonly mode: DoctorMode;
  readonly title: string;
  /** Without it, this mode runs no containers; otherwise a feature is off. */
  readonly required: boolean;
  readonly ok: boolean;
  /** What was found ("/usr/sbin/runc", "missing: portmap"). */
  readonly detail: string;
  /** The exact fix; '' when ok. */
  readonly fix: string;
}

export interface DoctorReport {
  /** The mode the verdict is about: rootful as root, rootless otherwise. */
  readonly mode: DoctorMode;
  readonly user: string;
  readonly uid: number;
  /** Every required check of `mode` passes. */
  readonly ok: boolean;
  readonly checks: readonly DoctorCheck[];
}

/** Where the sbin tools are when a user's PATH lacks them (as runtime/network/availability.ts looks). */
const SBIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Kernel overlayfs mounts in a user namespace from 5.11 on (docs/rootless.md). */
const USERNS_OVERLAY_KERNEL: readonly [number, number] = [5, 11];

/** The range a user needs: 65536 ids, the whole 16-bit space a distribution image uses. */
const SUBID_SIZE = 65536;

export function runDoctor(probe: DoctorProbe): DoctorReport {
  const mode: DoctorMode = probe.uid === 0 ? 'rootful' : 'rootless';
  const checks = [...commonChecks(probe, 'rootful'), ...rootfulChecks(probe), ...commonChecks(probe, 'rootless'), ...rootlessChecks(probe)];
  const ok = checks.every((c) => c.mode !== mode || !c.required || c.ok);
  return { mode, user: probe.user, uid: probe.uid, ok, checks };
}

type Row = Omit<DoctorCheck, 'mode' | 'fix'> & { fix?: string };

function rows(mode: DoctorMode, list: Row[]): DoctorCheck[] {
  return list.map((r) => ({ ...r, mode, fix: r.ok ? '' : (r.fix ?? '') }));
}

function tool(probe: DoctorProbe, name: string, sbinToo = false): string | undefined {
  const found = probe.which(name);
  if (found || !sbinToo) return found;
  return SBIN.map((d) => `${d}/${name}`).find((f) => isProgram(probe, f));
}

/** A file or a symlink (Debian's /usr/sbin/iptables → alternatives) where a program should be. */
function isProgram(probe: DoctorProbe, file: string): boolean {
  const kind = probe.stat(file)?.kind;
  return kind === 'file' || kind === 'symlink';
}

function toolRow(probe: DoctorProbe, id: string, title: string, pkg: string, required: boolean, sbinToo = false): Row {
  const found = tool(probe, id, sbinToo);
  return {
    id,
    title,
    required,
    ok: Boolean(found),
    detail: found ?? `not found on ${sbinToo ? 'PATH or in the sbin dirs' : 'PATH'}`,
    fix: `apt-get install ${pkg}`,
  };
}

function commonChecks(probe: DoctorProbe, mode: DoctorMode): DoctorCheck[] {
  const missingPlugins = REQUIRED_PLUGINS.filter((p) => !DEFAULT_CNI_BIN_DIRS.some((d) => isProgram(probe, `${d}/${p}`)));
  const filesystems = probe.readFile('/proc/filesystems') ?? '';
  const overlay = /\boverlay$/m.test(filesystems) || probe.stat(`/lib/modules/${probe.kernel}/kernel/fs/overlayfs`)?.kind === 'dir';
  return rows(mode, [
    toolRow(probe, 'runc', 'runc (OCI runtime)', 'runc', true),
    toolRow(probe, 'conmon', 'conmon (container monitor)', 'conmon', true),
    {
      id: 'cni-plugins',
      title: 'CNI plugins (bridge networking, -p)',
      required: false,
      ok: missingPlugins.length === 0,
      detail: missingPlugins.length
        ? `missing in ${DEFAULT_CNI_BIN_DIRS.join(', ')}: ${missingPlugins.join(', ')}`
        : DEFAULT_CNI_BIN_DIRS.join(', '),
      fix: `apt-get install ${CNI_PLUGINS_PACKAGE}`,
    },
    toolRow(probe, 'iptables', 'iptables (bridge networking, -p)', 'iptables', false, true),
    // The pod infra process of the CRI (docs/cri.md); only pods need it, and --sandbox-image replaces it.
    // Rootless, it is also the namespace holder gantryd runs in (docs/rootless.md): required there.
    mode === 'rootless'
      ? toolRow(probe, 'catatonit', 'catatonit (the rootless namespace holder; Kubernetes pods)', 'catatonit', true, true)
      : toolRow(probe, 'catatonit', 'catatonit (Kubernetes pods through the CRI)', 'catatonit', false, true),
    {
      id: 'overlayfs',
      title: 'overlayfs (fast snapshots)',
      required: false,
      ok: overlay,
      detail: overlay ? 'in /proc/filesystems or as a module' : 'not in the kernel: the native snapshotter copies layers instead',
      fix: 'modprobe overlay (and add overlay to /etc/modules-load.d/gantry.conf)',
    },
  ]);
}

function rootfulChecks(probe: DoctorProbe): DoctorCheck[] {
  const v2 = probe.stat('/sys/fs/cgroup/cgroup.controllers') !== undefined;
  return rows('rootful', [
    {
      id: 'cgroups',
      title: 'cgroups',
      required: false,
      ok: true,
      detail: v2 ? 'v2 (unified)' : 'v1 or hybrid: limits work through the v1 controllers',
    },
    systemSocketRow(probe),
  ]);
}

function systemSocketRow(probe: DoctorProbe): Row {
  const base = { id: 'system-socket', title: `system socket ${SYSTEM_SOCKET}`, required: true };
  const st = probe.stat(SYSTEM_SOCKET);
  if (!st) return { ...base, ok: true, detail: 'not there: no system daemon running (gantry install-service, or gantry daemon as root)' };
  if (st.kind !== 'socket')
    return { ...base, ok: false, detail: `not a socket (${st.kind})`, fix: `remove ${SYSTEM_SOCKET} and restart gantryd` };
  if (st.uid !== 0)
    return { ...base, ok: false, detail: `owned by uid ${st.uid}, not root`, fix: `remove ${SYSTEM_SOCKET} and restart gantryd as root` };
  if (st.mode & 0o007) {
    return { ...base, ok: false, detail: `mode ${octal(st.mode)}: others may connect`, fix: 'restart gantryd (it binds the socket 0660)' };
  }
  const group = st.mode & 0o060 ? groupName(probe, st.gid) : '';
  const shared = group ? `, group ${group} (its members are equivalent to root)` : '';
  if (probe.uid !== 0 && !probe.canReadWrite(SYSTEM_SOCKET)) {
    return {
      ...base,
      required: false,
      ok: false,
      detail: `mode ${octal(st.mode)}${shared}; you may not use it`,
      fix: group ? `as root: usermod -aG ${group} ${probe.user}, then log in again` : 'only root may use this daemon',
    };
  }
  return { ...base, ok: true, detail: `mode ${octal(st.mode)}${shared}` };
}

function rootlessChecks(probe: DoctorProbe): DoctorCheck[] {
  const v2 = probe.stat('/sys/fs/cgroup/cgroup.controllers') !== undefined;
  const uid = probe.uid === 0 ? 1000 : probe.uid;
  const delegated = (probe.readFile(`/sys/fs/cgroup/user.slice/user-${uid}.slice/user@${uid}.service/cgroup.controllers`) ?? '').split(
    /\s+/,
  );
  const missingControllers = ['cpu', 'memory', 'pids'].filter((c) => !delegated.includes(c));
  const [major, minor] = probe.kernel.split(/[.-]/).map(Number);
  const kernelOverlay = major > USERNS_OVERLAY_KERNEL[0] || (major === USERNS_OVERLAY_KERNEL[0] && minor >= USERNS_OVERLAY_KERNEL[1]);
  const fuse = tool(probe, 'fuse-overlayfs', true);
  const tun = probe.stat('/dev/net/tun');
  const tunOk = tun?.kind === 'char' && (probe.uid === 0 ? (tun.mode & 0o006) === 0o006 : probe.canReadWrite('/dev/net/tun'));
  return rows('rootless', [
    uidmapRow(probe),
    subIdRow(probe, 'subuid'),
    subIdRow(probe, 'subgid'),
    userNamespacesRow(probe),
    toolRow(probe, 'rootlesskit', 'rootlesskit', 'rootlesskit', true, true),
    toolRow(probe, 'slirp4netns', 'slirp4netns (outside connectivity)', 'slirp4netns', false, true),
    {
      id: 'dev-net-tun',
      title: '/dev/net/tun usable (slirp4netns)',
      required: false,
      ok: tunOk,
      detail: tun ? `mode ${octal(tun.mode)}${tunOk ? '' : ': not usable by the user; only none and host networking'}` : 'missing',
      fix: tun ? 'as root: chmod 0666 /dev/net/tun (and a udev rule KERNEL=="tun", MODE="0666" to keep it)' : 'as root: modprobe tun',
    },
    {
      id: 'userns-overlay',
      title: 'overlayfs in a user namespace',
      required: false,
      ok: kernelOverlay || Boolean(fuse),
      detail: kernelOverlay
        ? `kernel ${probe.kernel} (≥ 5.11)`
        : fuse
          ? `fuse-overlayfs ${fuse}`
          : `kernel ${probe.kernel} < 5.11 and no fuse-overlayfs: layers are copied`,
      fix: 'apt-get install fuse-overlayfs',
    },
    {
      id: 'cgroup-delegation',
      title: 'cgroup v2 delegation (-m, --cpus, --pids-limit)',
      required: false,
      ok: v2 && missingControllers.length === 0,
      detail: !v2
        ? 'cgroup v1 or hybrid: no limits for rootless containers'
        : missingControllers.length
          ? `not delegated to user@${uid}.service: ${missingControllers.join(', ')}`
          : 'cpu, memory, pids delegated',
      fix: !v2
        ? 'boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line'
        : 'as root: printf "[Service]\\nDelegate=cpu cpuset io memory pids\\n" > /etc/systemd/system/user@.service.d/delegate.conf; systemctl daemon-reload; log in again',
    },
    userSocketRow(probe),
  ]);
}

function uidmapRow(probe: DoctorProbe): Row {
  const found = ['newuidmap', 'newgidmap'].map((t) => [t, tool(probe, t, true)] as const);
  const missing = found.filter(([, f]) => !f).map(([t]) => t);
  return {
    id: 'uidmap',
    title: 'newuidmap, newgidmap',
    required: true,
    ok: missing.length === 0,
    detail: missing.length ? `not found: ${missing.join(', ')}` : found.map(([, f]) => f).join(', '),
    fix: 'apt-get install uidmap',
  };
}

function subIdRow(probe: DoctorProbe, kind: 'subuid' | 'subgid'): Row {
  const file = `/etc/${kind}`;
  const text = probe.readFile(file) ?? '';
  const user = probe.uid === 0 ? '' : probe.user;
  const ranges = user ? subIdRanges(text, user, probe.uid) : [];
  const size = ranges.reduce((n, r) => n + r.size, 0);
  const start = nextFreeId(text);
  const flag = kind === 'subuid' ? '--add-subuids' : '--add-subgids';
  return {
    id: kind,
    title: `${kind} range (${file})`,
    required: true,
    // Root runs rootful: the range that matters is the user's, checked when they run doctor.
    ok: user === '' || size >= SUBID_SIZE,
    detail: !user
      ? 'checked for a user when they run gantry doctor'
      : ranges.length
        ? `${ranges.map((r) => `${r.start}:${r.size}`).join(', ')}${size < SUBID_SIZE ? ` (fewer than ${SUBID_SIZE} ids)` : ''}`
        : `no range for ${user}`,
    fix: user ? `as root: usermod ${flag} ${start}-${start + SUBID_SIZE - 1} ${user}` : '',
  };
}

function userNamespacesRow(probe: DoctorProbe): Row {
  const clone = probe.readFile('/proc/sys/kernel/unprivileged_userns_clone')?.trim();
  const max = Number(probe.readFile('/proc/sys/user/max_user_namespaces')?.trim() ?? '1');
  const apparmor = probe.readFile('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')?.trim();
  const base = { id: 'userns', title: 'unprivileged user namespaces', required: true };
  if (clone === '0') {
    return {
      ...base,
      ok: false,
      detail: 'kernel.unprivileged_userns_clone = 0',
      fix: "as root: sysctl -w kernel.unprivileged_userns_clone=1; echo 'kernel.unprivileged_userns_clone=1' > /etc/sysctl.d/50-gantry-userns.conf",
    };
  }
  if (!(max > 0)) {
    return {
      ...base,
      ok: false,
      detail: `user.max_user_namespaces = ${max}`,
      fix: "as root: sysctl -w user.max_user_namespaces=28633; echo 'user.max_user_namespaces=28633' > /etc/sysctl.d/50-gantry-userns.conf",
    };
  }
  if (apparmor === '1') {
    return {
      ...base,
      ok: false,
      detail: 'kernel.apparmor_restrict_unprivileged_userns = 1',
      fix: 'as root: an AppArmor profile allowing userns for rootlesskit (/etc/apparmor.d/), or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
    };
  }
  return { ...base, ok: true, detail: `user.max_user_namespaces = ${max}${clone ? `, kernel.unprivileged_userns_clone = ${clone}` : ''}` };
}

function userSocketRow(probe: DoctorProbe): Row {
  // The probed user's rule (XDG_RUNTIME_DIR first), which may not be this process's user.
  const dir = probe.env.XDG_RUNTIME_DIR ? path.join(probe.env.XDG_RUNTIME_DIR, 'gantry') : defaultState(probe.env);
  const base = { id: 'user-socket', title: `your socket dir ${dir}`, required: true };
  if (probe.uid === 0) return { ...base, ok: true, detail: "root's is the system socket" };
  const st = probe.stat(dir);
  if (!st) return { ...base, ok: true, detail: 'not there yet: gantryd creates it 0700' };
  const bad =
    st.kind !== 'dir'
      ? `a ${st.kind}, not a directory`
      : st.uid !== probe.uid
        ? `owned by uid ${st.uid}, not you (${probe.uid}): another user may have created it to receive your credentials`
        : st.mode & 0o022
          ? `mode ${octal(st.mode)}: others may write in it`
          : '';
  const sock = probe.stat(socketIn(dir));
  const badSock = !bad && sock && (sock.kind !== 'socket' || sock.uid !== probe.uid) ? `${socketIn(dir)} is not your socket` : '';
  if (bad || badSock)
    return { ...base, ok: false, detail: bad || badSock, fix: `remove ${dir} (as root if you cannot) and start gantryd again` };
  return { ...base, ok: true, detail: `yours, mode ${octal(st.mode)}` };
}

function groupName(probe: DoctorProbe, gid: number): string {
  for (const line of (probe.readFile('/etc/group') ?? '').split('\n')) {
    const [name, , id] = line.split(':');
    if (id !== undefined && Number(id) === gid) return name;
  }
  return String(gid);
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');
