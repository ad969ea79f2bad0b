/**
 * Puts this build's gantryd on the host and makes sure it runs.
 *
 * Layout on the host ($GANTRY_HOME, default ~/.gantry):
 *   bin/<version>/gantry*.js         the loader and its two bundles, each replaced only when its sha256 differs
 *   bin/<version>/native/<addon>.node N-API addons (attach/exec), same rule
 *   gantryd.log                      the daemon's stdout/stderr, appended
 * and, only when GANTRY_HOME is set, the daemon's --root/--state as root/ and
 * state/ in it (otherwise gantryd's defaults, /var/lib/gantry and /run/gantry).
 *
 * A non-root login with `sudo -n` (facts.system): root must not run anything
 * the login user can change. The upload above is only a staging copy; root
 * then copies each file into SYSTEM_BIN_DIR/<version>/ (root-owned 0755 dirs,
 * 0644 files; refused when that dir exists but is not root's or is writable by
 * others), checks the copy's sha256 itself, and renames it into place
 * (INSTALL_SCRIPT). The daemon and every dial-stdio run root's copy with
 * root's Node, and runc/conmon from ROOT_PATH, by absolute path; its data
 * root, state and socket are /var/lib/gantry, /run/gantry and
 * /run/gantry/gantry.sock, whatever GANTRY_HOME says. (A root login keeps the
 * layout above: GANTRY_HOME and PATH are then root's own.)
 *
 * A non-root login without `sudo -n` (facts.rootless): the daemon is the
 * user's own rootless gantryd (docs/rootless.md), the same `gantry daemon`
 * run as that user from the layout above. Before it starts, the host's own
 * `gantry doctor` names any missing rootless prerequisite (rootlessCheck.ts).
 * Without GANTRY_HOME it gets no --socket/--root/--state (its own defaults:
 * $XDG_RUNTIME_DIR or ~/.local/state, ~/.local/share), the start script and
 * every dial-stdio find it by the CLI's discovery order, and it logs to
 * <XDG state home>/gantry/gantryd.log. A system daemon that discovery
 * reaches is reused when it is of this version (the probe saw it); one of
 * another version, which the user may not stop, makes the start script start
 * the user's own (whose socket discovery then tries first).
 *
 * Uploads stream the file into `cat > .tmp`, check the sha256 on the host,
 * and rename: a cut connection leaves the old file or none, never half of one.
 * The daemon is started detached (setsid, else nohup) as root, through
 * `sudo -n` for another user with sudo, or as the user (rootless), and
 * awaited until it answers Version. A daemon
 * of this version that already answers is reused; one of another version is
 * stopped (SIGTERM; its containers keep running under conmon and are adopted
 * by ours), then ours is started.
 */
import { DAEMON_NODE_FLAGS, daemonEnvWords } from '../daemonFlags';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../../context';
import { GantryError, notFound } from '../../errdefs/errdefs';
import { GANTRY_VERSION } from '../../version';
import { RUNTIME_FILES } from '../../loader/bundles';
import { checkRequirements, networkWarning, parseDaemonVersion, SYSTEM_BIN_DIR, SYSTEM_ROOT, SYSTEM_STATE } from './probe';
import type { DaemonInfo, DeployResult, HostFacts, RemoteOptions } from './remote';
import { checkRootless } from './rootlessCheck';
import { remoteCommand, type Ssh } from './ssh';

export interface BundleFile {
  /** Path relative to the bundle dir, with "/" ("gantry.js", "native/x.node"). */
  readonly name: string;
  readonly localPath: string;
  readonly sha256: string;
  readonly size: number;
}

/** Common prelude: sbin dirs for a non-root login, and a key=value printer. */
const PRELUDE = `PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH
say() { printf '%s=%s\\n' "$1" "$2"; }
alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ]; }
`;

/** One line (it goes on the command line, and csh cannot quote a newline). $1 dir, $2 name, $3 sha256. */
export const UPLOAD_SCRIPT =
  'umask 022; t="$1/.$2.$$.tmp"; if mkdir -p "$1" && cat >"$t" && s=$(sha256sum <"$t") && [ "${s%% *}" = "$3" ] && mv -f "$t" "$1/$2"; ' +
  'then exit 0; fi; rm -f "$t"; echo "upload of $2 failed, or its sha256 did not match" >&2; exit 4';

/**
 * Run as root (`sudo -n /bin/sh -c …`). $1 staged file, $2 dir, $3 name, $4 sha256.
 * The copy is made and checked by root, so what the login user does to the
 * staged file afterwards does not matter. Exits 4 on a mismatch, 5 when the
 * dir is not root's own.
 */
export const INSTALL_SCRIPT =
  'umask 022; d=$2; t="$d/.$3.$$.tmp"; mkdir -p "$d" || exit 5; ' +
  'for x in "$d" "${d%/*}"; do [ -n "$(find "$x" -prune -user 0 ! -perm -020 ! -perm -002 -print)" ] || { echo "$x is not root-owned, or is writable by others" >&2; exit 5; }; done; ' +
  // 0600 until verified: the staged path is the user's, and could name a file only root may read.
  'umask 077; if cat <"$1" >"$t" && s=$(sha256sum <"$t") && [ "${s%% *}" = "$4" ] && chmod 0644 "$t" && mv -f "$t" "$d/$3"; ' +
  'then exit 0; fi; rm -f "$t"; echo "installing $3 failed, or its sha256 did not match" >&2; exit 4';

/**
 * $1 node, $2 gantry.js, $3 socket ('' = the CLI's discovery order, for a
 * rootless login), $4 log file, $5 how the daemon runs (DaemonMode), then the
 * daemon's flags. Prints daemon=<version --json> (+ via_sudo=1,
 * started=0|1), or the log's tail and exits 3.
 */
export const START_SCRIPT = `${PRELUDE}
node=$1; js=$2; sock=$3; log=$4; mode=$5; shift 5
ask() {
  as=
  if [ -z "$sock" ]; then
    out=$("$node" "$js" version --json </dev/null 2>/dev/null) || return 1
    # Discovery may reach the system daemon: one of this version the probe already reused; another, the user cannot replace, so start the user's own.
    case "$(printf '%s' "$out" | tr -d '\\n')" in *'"rootless": true'*) ;; *) return 1;; esac
  else
    if [ "$mode" = sudo ] && ! [ -w "$sock" ]; then as="sudo -n"; fi
    out=$($as "$node" "$js" --socket "$sock" version --json </dev/null 2>/dev/null) || return 1
  fi
  [ -z "$as" ] || say via_sudo 1
  answered=$(printf '%s' "$out" | tr -d '\\n' | sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p')
  say daemon "$(printf '%s' "$out" | tr -d '\\n')"
}
# Whether the daemon that answered is the one started here: the process itself, or its child (sudo's, or the rootless daemon's inner one).
ours() {
  [ "$answered" = "$pid" ] && return 0
  [ "$(sed 's/.*) //' "/proc/$answered/stat" 2>/dev/null | cut -d' ' -f2)" = "$pid" ]
}
if ask; then say started 0; exit 0; fi
# The log is the user's alone (a rootless daemon's lands in the user's state dir).
(umask 077; mkdir -p "\${log%/*}" && : >>"$log") || exit 1
cd / || exit 1
start_as=
if [ "$mode" = sudo ]; then start_as="sudo -n"; fi
detach=nohup
if command -v setsid >/dev/null 2>&1; then detach=setsid; fi
printf '%s gantry: starting gantryd\\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" >>"$log"
since=$(($(wc -l <"$log") + 1))
$detach $start_as env ${daemonEnvWords().join(' ')} "$node" ${DAEMON_NODE_FLAGS.join(' ')} "$js" daemon "$@" </dev/null >>"$log" 2>&1 &
pid=$!
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep 0.2
  if ask; then
    if ours; then say started 1; exit 0; fi
    # Another client started one at the same moment and it answered first:
    # ours ends on the daemon's single-instance lock. Wait for that, so no
    # second daemon is left starting up when this returns.
    i=0
    while alive "$pid" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    say started 0
    exit 0
  fi
  if ! alive "$pid"; then
    if ask; then say started 0; exit 0; fi
    # Ours lost the single-instance lock to another client's daemon, which may still be starting up: keep asking.
    if tail -n "+$since" "$log" | grep -q 'another gantryd'; then continue; fi
    say exited 1
    break
  fi
done
if alive "$pid"; then $start_as kill "$pid" 2>/dev/null; say timeout 1; fi
tail -n 20 "$log" | sed 's/^/log=/'
exit 3
`;

/** $1 pid of the daemon to stop, $2 DaemonMode. Exits 0 once it is gone. */
export const STOP_SCRIPT = `${PRELUDE}
case "$1" in ''|*[!0-9]*) echo "bad pid" >&2; exit 2;; esac
as=
if [ "$2" = sudo ]; then as="sudo -n"; fi
$as kill -TERM "$1" 2>/dev/null
i=0
while alive "$1" && [ "$i" -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
if alive "$1"; then echo "gantryd (pid $1) is still running 20 s after SIGTERM" >&2; exit 1; fi
`;

/**
 * How gantryd runs on the host: as the root login, as root through `sudo -n`
 * for a non-root login, or rootless as a non-root login without sudo.
 */
export type DaemonMode = 'root' | 'sudo' | 'rootless';

export function daemonMode(facts: HostFacts): DaemonMode {
  if (facts.uid === 0) return 'root';
  return facts.rootless ? 'rootless' : 'sudo';
}

/** The dir of the running bundle (dist/), when gantry.js is in it. */
export function defaultBundleDir(): string {
  return __dirname;
}

/** The runtime's files in `dir` (runtime/loader/bundles.ts) and native/*.node, with their sha256. NotFound when one is not there. */
export async function readLocalBundle(dir: string = defaultBundleDir()): Promise<BundleFile[]> {
  for (const name of RUNTIME_FILES) {
    if (!fs.existsSync(path.join(dir, name)))
      throw notFound(`no ${name} in ${dir} to deploy to the remote host (build it with: node esbuild.js)`);
  }
  const names = [...RUNTIME_FILES];
  const nativeDir = path.join(dir, 'native');
  if (fs.existsSync(nativeDir)) {
    for (const f of (await fs.promises.readdir(nativeDir)).sort()) if (f.endsWith('.node')) names.push(`native/${f}`);
  }
  const files: BundleFile[] = [];
  for (const name of names) {
    const localPath = path.join(dir, ...name.split('/'));
    const data = await fs.promises.readFile(localPath);
    files.push({ name, localPath, sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
  }
  return files;
}

/** Node's arch name for `uname -m`, as N-API addon file names use it. */
function nodeArch(unameM: string): string {
  return (
    (
      { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm', ppc64le: 'ppc64', s390x: 's390x' } as Record<
        string,
        string
      >
    )[unameM] ?? unameM
  );
}

const remoteBinDir = (facts: HostFacts) => path.posix.join(facts.gantryHome, 'bin', GANTRY_VERSION);

/** Remote path of our gantry.js. */
export function remoteGantryJs(facts: HostFacts): string {
  return path.posix.join(remoteBinDir(facts), 'gantry.js');
}

/**
 * Uploads what differs, then reuses, replaces or starts the daemon.
 * Checks the host's requirements first: nothing is written to a host that
 * cannot run gantryd. Returns the facts as they are afterwards (the daemon,
 * whether to dial through sudo).
 */
export async function deploy(
  ctx: Ctx,
  ssh: Ssh,
  facts: HostFacts,
  opts: RemoteOptions,
): Promise<{ result: DeployResult; facts: HostFacts }> {
  const progress = opts.onProgress ?? (() => undefined);
  const canReuse = facts.daemon?.version === GANTRY_VERSION;
  const missing = checkRequirements(facts, ssh.label, canReuse);
  if (missing) throw missing;
  const node = facts.node!;

  const warnings: string[] = [];
  const network = networkWarning(facts.network, ssh.label);
  if (network) warnings.push(network);
  const bundle = await readLocalBundle(opts.bundleDir);
  const wanted = bundle.filter((f) => {
    if (!f.name.startsWith('native/')) return true;
    // Addon files are named <pkg>.<platform>-<arch>[-libc].node; one for another arch is useless there.
    if (f.name.includes(`.linux-${nodeArch(facts.arch)}`)) return true;
    warnings.push(`${path.posix.basename(f.name)} is not for ${facts.arch}: attach and exec will be unavailable on ${ssh.label}`);
    return false;
  });

  // Root's copy (a non-root login with sudo): see the comment at the top.
  const system = facts.system && facts.sudo ? facts.system : undefined;
  const uploaded: string[] = [];
  for (const f of wanted) {
    const dir = path.posix.join(remoteBinDir(facts), path.posix.dirname(f.name));
    if (facts.installed.get(f.name) !== f.sha256) {
      progress(`uploading ${f.name} (${(f.size / 1e6).toFixed(1)} MB) to ${ssh.label}`);
      await upload(ctx, ssh, dir, path.posix.basename(f.name), f);
      uploaded.push(f.name);
    }
    if (system && system.installed.get(f.name) !== f.sha256) {
      progress(`installing ${f.name} for root in ${systemBinDir()} on ${ssh.label}`);
      await installForRoot(
        ctx,
        ssh,
        path.posix.join(dir, path.posix.basename(f.name)),
        path.posix.join(systemBinDir(), path.posix.dirname(f.name)),
        path.posix.basename(f.name),
        f,
      );
    }
  }

  const gantryJs = system ? path.posix.join(systemBinDir(), 'gantry.js') : remoteGantryJs(facts);
  const runNode = system ? system.node!.path : node.path;
  if (canReuse) {
    return {
      result: { uploaded, started: false, daemon: facts.daemon, warnings, gantryJs, node: runNode },
      facts: { ...facts, socket: facts.socket || facts.daemon?.socket || '' },
    };
  }

  const mode = daemonMode(facts);
  if (mode === 'rootless') {
    // The user's own daemon: what it needs besides (subordinate IDs, uidmap, RootlessKit …), in the doctor's words (rootlessCheck.ts).
    progress(`checking the rootless prerequisites on ${ssh.label}`);
    const verdict = await checkRootless(ctx, ssh, runNode, gantryJs, facts.uid);
    if (verdict.missing) throw verdict.missing;
    warnings.push(...verdict.warnings);
  }

  const daemonArgs = facts.socket ? ['--socket', facts.socket] : [];
  if (system) daemonArgs.push('--root', SYSTEM_ROOT, '--state', SYSTEM_STATE, '--runtime', system.runc!, '--conmon', system.conmon!);
  else {
    if (facts.gantryHomeSet)
      daemonArgs.push('--root', path.posix.join(facts.gantryHome, 'root'), '--state', path.posix.join(facts.gantryHome, 'state'));
    daemonArgs.push('--runtime', facts.runc!, '--conmon', facts.conmon!);
  }
  daemonArgs.push(...(opts.daemonArgs ?? []));
  // A rootless daemon logs to the user's state dir (beside its socket's default place), the others to GANTRY_HOME.
  const log =
    mode === 'rootless' && facts.stateHome
      ? path.posix.join(facts.stateHome, 'gantry', 'gantryd.log')
      : path.posix.join(facts.gantryHome, 'gantryd.log');
  const start = () => startDaemon(ctx, ssh, [runNode, gantryJs, facts.socket, log, mode, ...daemonArgs]);

  progress(`starting gantryd ${GANTRY_VERSION} on ${ssh.label}`);
  let started = await start();
  let replaced: DaemonInfo | undefined;
  if (started.daemon.version !== GANTRY_VERSION) {
    replaced = started.daemon;
    progress(`stopping gantryd ${replaced.version} (pid ${replaced.pid}) on ${ssh.label} to start ${GANTRY_VERSION}`);
    await stopDaemon(ctx, ssh, replaced.pid, mode);
    started = await start();
    if (started.daemon.version !== GANTRY_VERSION) {
      throw new GantryError(
        'FailedPrecondition',
        `${ssh.label}: gantryd ${started.daemon.version} (pid ${started.daemon.pid}) is running there and came back after being stopped; stop it yourself to use ${GANTRY_VERSION}`,
      );
    }
  }
  return {
    result: { uploaded, started: started.started, replaced, daemon: started.daemon, warnings, gantryJs, node: runNode },
    facts: { ...facts, daemon: started.daemon, viaSudo: started.viaSudo, socket: facts.socket || started.daemon.socket || '' },
  };
}

async function upload(ctx: Ctx, ssh: Ssh, dir: string, name: string, f: BundleFile): Promise<void> {
  const res = await ssh.run(ctx, remoteCommand(['/bin/sh', '-c', UPLOAD_SCRIPT, 'gantry-upload', dir, name, f.sha256]), {
    input: fs.createReadStream(f.localPath),
    timeoutMs: 300_000,
    what: `uploading ${f.name}`,
  });
  if (res.code !== 0) {
    throw new GantryError(
      'DataLoss',
      `uploading ${f.name} to ${ssh.label}:${dir} failed (exit ${res.code}): ${res.stderr.trim() || 'no message'}`,
    );
  }
}

const systemBinDir = () => path.posix.join(SYSTEM_BIN_DIR, GANTRY_VERSION);

async function installForRoot(ctx: Ctx, ssh: Ssh, staged: string, dir: string, name: string, f: BundleFile): Promise<void> {
  const res = await ssh.run(
    ctx,
    remoteCommand(['sudo', '-n', '/bin/sh', '-c', INSTALL_SCRIPT, 'gantry-install', staged, dir, name, f.sha256]),
    {
      timeoutMs: 120_000,
      what: `installing ${f.name} for root`,
    },
  );
  if (res.code !== 0) {
    throw new GantryError(
      res.code === 5 ? 'FailedPrecondition' : 'DataLoss',
      `installing ${f.name} for root in ${ssh.label}:${dir} failed (exit ${res.code}): ${res.stderr.trim() || 'no message'}`,
    );
  }
}

async function startDaemon(ctx: Ctx, ssh: Ssh, args: string[]): Promise<{ daemon: DaemonInfo; started: boolean; viaSudo: boolean }> {
  const res = await ssh.run(ctx, remoteCommand(['/bin/sh', '-s', '--', ...args]), {
    input: START_SCRIPT,
    timeoutMs: 150_000,
    what: 'starting gantryd',
  });
  const lines = res.stdout.split('\n');
  const value = (key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
  const daemon = parseDaemonVersion(value('daemon'));
  if (res.code === 0 && daemon) return { daemon, started: value('started') === '1', viaSudo: value('via_sudo') === '1' };
  const log = lines
    .filter((l) => l.startsWith('log='))
    .map((l) => `    ${l.slice(4)}`)
    .join('\n');
  const why = value('timeout')
    ? 'did not answer within 60 s'
    : value('exited')
      ? 'exited'
      : `could not be started (exit ${res.code}${res.stderr.trim() ? `: ${res.stderr.trim()}` : ''})`;
  throw new GantryError('Unavailable', `gantryd on ${ssh.label} ${why}${log ? `; the end of its log (${args[3]}):\n${log}` : ''}`, {
    transport: true,
  });
}

async function stopDaemon(ctx: Ctx, ssh: Ssh, pid: number, mode: DaemonMode): Promise<void> {
  const res = await ssh.run(ctx, remoteCommand(['/bin/sh', '-s', '--', String(pid), mode]), {
    input: STOP_SCRIPT,
    timeoutMs: 60_000,
    what: 'stopping gantryd',
  });
  if (res.code !== 0)
    throw new GantryError(
      'FailedPrecondition',
      `cannot stop gantryd (pid ${pid}) on ${ssh.label}: ${res.stderr.trim() || `exit ${res.code}`}`,
    );
}
