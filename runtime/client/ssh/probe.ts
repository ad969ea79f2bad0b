/**
 * One ssh round trip that tells us everything deploy needs to decide: a fixed
 * POSIX sh script sent on stdin (`/bin/sh -s -- VERSION`), answering with
 * `key=value` lines. The script takes one argument, our own version string;
 * nothing the user typed reaches it.
 *
 * Node: the login PATH first, then the Node a VS Code server install left in
 * ~/.vscode-server; the newest one that is new enough wins (selectNode).
 * runc/conmon: PATH plus the sbin dirs, which a non-root login PATH lacks
 * although the daemon (root) will find them there.
 *
 * A non-root login with `sudo -n` (`system=1`): the daemon is root's, started through
 * `sudo -n`, so nothing the login user controls may decide what root runs or
 * where root's data goes. The probe also reports root's tools, looked up on a
 * fixed root PATH (ROOT_PATH) and accepted only when the file (after
 * symlinks) and its dir are owned by root and not group/world-writable
 * (`root_node`, `root_runc`, `root_conmon`; `root_refused` for the others),
 * the root-owned bundle in SYSTEM_BIN_DIR/<version> (`sysfile`), and the
 * system socket /run/gantry/gantry.sock whatever GANTRY_HOME says.
 *
 * A non-root login without `sudo -n` (`rootless=1`): the daemon will be the
 * user's own rootless one (deploy.ts), so no root tools are looked for; the
 * probe reports the user's XDG state home (`state_home`, for the log) and,
 * unless GANTRY_HOME names a socket, asks `version` with no --socket: the
 * host's CLI then follows its discovery order (client/discovery.ts), and
 * `socket` is empty. What rootless needs besides is the host's own doctor's
 * to say (rootlessCheck.ts), once the bundle is there.
 *
 * Networking (docs/networking.md, "What a host needs"): the script's second
 * argument is the CNI plugin dirs the daemon would use (colon-separated,
 * default DEFAULT_CNI_BIN_DIRS); it reports each plugin of REQUIRED_PLUGINS
 * found in none of them (`cni_missing`) and each tool of REQUIRED_TOOLS not
 * found (`net_tool_missing`). Missing ones are no reason to refuse the host —
 * `none` and `host` networking work without them — only a warning
 * (networkWarning) naming the Debian packages to install.
 */
import { failedPrecondition, GantryError } from '../../errdefs/errdefs';
// Straight from the files, not runtime/network/index.ts: the client (and the
// extension's bundle) needs only these pure parts, not the network manager.
import { availabilityOf, missingPlugin, missingTool, REQUIRED_PLUGINS, REQUIRED_TOOLS } from '../../network/availability';
import { DEFAULT_CNI_BIN_DIRS } from '../../network/cni/plugin';
import type { DaemonInfo, HostFacts, NetworkFacts, NodeInstall } from './remote';

/**
 * The oldest Node gantryd runs on: package.json "engines" (undici 7 needs
 * 20.18.1). Older ones fail at start-up, so they count as missing.
 */
export const MIN_NODE: readonly [number, number, number] = [20, 18, 1];

/** Where root's copy of the bundle lives on a host whose daemon runs through sudo: SYSTEM_BIN_DIR/<version>/. */
export const SYSTEM_BIN_DIR = '/usr/local/lib/gantry';
/** The only dirs root's node, runc and conmon are taken from (never the login user's PATH). */
export const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Root's daemon socket, data root and state dir on such a host (GANTRY_HOME does not move them). */
export const SYSTEM_SOCKET = '/run/gantry/gantry.sock';
export const SYSTEM_ROOT = '/var/lib/gantry';
export const SYSTEM_STATE = '/run/gantry';

// A plain template literal: `\${` and `\\n` are its only escapes.
export const PROBE_SCRIPT = `
ver=$1
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH
say() { printf '%s=%s\\n' "$1" "$2"; }
say probe 1
say os "$(uname -s)"
say arch "$(uname -m)"
uid=$(id -u)
say uid "$uid"
sudo=0
if [ "$uid" != 0 ] && sudo -n true </dev/null >/dev/null 2>&1; then sudo=1; fi
say sudo "$sudo"
find_exe() {
  set -f; old_ifs=$IFS; IFS=:
  for d in $PATH; do
    if [ -n "$d" ] && [ -f "$d/$1" ] && [ -x "$d/$1" ]; then IFS=$old_ifs; set +f; printf '%s\\n' "$d/$1"; return 0; fi
  done
  IFS=$old_ifs; set +f
  return 1
}
for tool in runc conmon sha256sum; do
  p=$(find_exe "$tool") && say "$tool" "$p"
done
node=
if p=$(find_exe node) && v=$("$p" --version </dev/null 2>/dev/null); then say node "path $v $p"; node=$p; fi
for p in "$HOME"/.vscode-server/bin/*/node "$HOME"/.vscode-server/cli/servers/*/server/node; do
  [ -f "$p" ] && [ -x "$p" ] || continue
  if v=$("$p" --version </dev/null 2>/dev/null); then say node "vscode-server $v $p"; [ -n "$node" ] || node=$p; fi
done
if [ -n "$GANTRY_HOME" ]; then home=$GANTRY_HOME; sock=$GANTRY_HOME/state/gantry.sock; say gantry_home_set 1
else home=$HOME/.gantry; sock=/run/gantry/gantry.sock; fi
# Root-owned, not group/world-writable, and so is its dir.
root_owned() { [ -n "$(find "$1" "\${1%/*}" -prune -user 0 ! -perm -020 ! -perm -002 -print 2>/dev/null | sed -n 2p)" ]; }
root_node=
# Without sudo the daemon is the user's own rootless one (rootless=1): found, as by the CLI there, through its discovery order.
discover=
if [ "$uid" != 0 ] && [ "$sudo" != 1 ]; then
  say rootless 1
  case "$XDG_STATE_HOME" in /*) say state_home "$XDG_STATE_HOME";; *) say state_home "$HOME/.local/state";; esac
  if [ -z "$GANTRY_HOME" ]; then sock=; discover=1; fi
fi
if [ "$uid" != 0 ] && [ "$sudo" = 1 ]; then
  say system 1
  sock=${SYSTEM_SOCKET}
  for tool in node runc conmon; do
    rp=${ROOT_PATH}; set -f; old_ifs=$IFS; IFS=:
    for d in $rp; do
      [ -f "$d/$tool" ] && [ -x "$d/$tool" ] || continue
      p=$(readlink -f "$d/$tool") || continue
      if ! root_owned "$p"; then say root_refused "$tool $p"; continue; fi
      if [ "$tool" = node ]; then v=$("$p" --version </dev/null 2>/dev/null) || continue; say root_node "path $v $p"; root_node=$p
      else say "root_$tool" "$p"; fi
      break
    done
    IFS=$old_ifs; set +f
  done
fi
say gantry_home "$home"
say socket "$sock"
as=
if [ "$uid" != 0 ] && [ "$sudo" = 1 ] && ! [ -w "$sock" ]; then as="sudo -n"; say via_sudo 1; fi
bin=$home/bin/$ver
sysbin=${SYSTEM_BIN_DIR}/$ver
if find_exe sha256sum >/dev/null; then
  for f in "$bin"/gantry*.js "$bin"/native/*.node; do
    [ -f "$f" ] || continue
    sum=$(sha256sum <"$f") && say file "\${sum%% *} \${f#"$bin/"}"
  done
  if [ "$uid" != 0 ]; then
    for f in "$sysbin"/gantry*.js "$sysbin"/native/*.node; do
      [ -f "$f" ] || continue
      sum=$(sha256sum <"$f") && say sysfile "\${sum%% *} \${f#"$sysbin/"}"
    done
  fi
fi
# Through sudo only root's node and root's copy; as ourselves our own files are fine.
js=$bin/gantry.js; run_node=$node
if [ -n "$as" ]; then js=$sysbin/gantry.js; run_node=$root_node; fi
if [ -n "$run_node" ] && [ -f "$js" ] && [ -n "$discover" ]; then
  out=$("$run_node" "$js" version --json </dev/null 2>/dev/null) && say daemon "$(printf '%s' "$out" | tr -d '\\n')"
elif [ -n "$run_node" ] && [ -f "$js" ] && [ -S "$sock" ]; then
  out=$($as "$run_node" "$js" --socket "$sock" version --json </dev/null 2>/dev/null) && say daemon "$(printf '%s' "$out" | tr -d '\\n')"
fi
cni_dirs=\${2:-${DEFAULT_CNI_BIN_DIRS.join(':')}}
say cni_dirs "$cni_dirs"
for plugin in ${REQUIRED_PLUGINS.join(' ')}; do
  found=0; set -f; old_ifs=$IFS; IFS=:
  for d in $cni_dirs; do
    if [ -n "$d" ] && [ -f "$d/$plugin" ] && [ -x "$d/$plugin" ]; then found=1; break; fi
  done
  IFS=$old_ifs; set +f
  [ "$found" = 1 ] || say cni_missing "$plugin"
done
for tool in ${[...new Set(REQUIRED_TOOLS.map((t) => t.tool))].join(' ')}; do
  find_exe "$tool" >/dev/null || say net_tool_missing "$tool"
done
say end 1
`;

/** The probe's second argument: the CNI plugin dirs a daemon started with `daemonArgs` would search. */
export function probeCniDirs(daemonArgs: readonly string[] = []): string {
  const dirs: string[] = [];
  for (let i = 0; i < daemonArgs.length; i++) {
    const a = daemonArgs[i];
    if (a === '--cni-bin-dir' && i + 1 < daemonArgs.length) dirs.push(daemonArgs[++i]);
    else if (a.startsWith('--cni-bin-dir=')) dirs.push(a.slice('--cni-bin-dir='.length));
  }
  return (dirs.length ? dirs : DEFAULT_CNI_BIN_DIRS).join(':');
}

/** Parses the probe's output; DataLoss when it is cut short (the connection dropped mid-answer). */
export function parseProbe(stdout: string): HostFacts {
  const values = new Map<string, string>();
  const nodes: NodeInstall[] = [];
  const installed = new Map<string, string>();
  const systemInstalled = new Map<string, string>();
  const rootRefused: string[] = [];
  const cniMissing: string[] = [];
  const netToolsMissing: string[] = [];
  let rootNode: NodeInstall | undefined;
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'node') {
      const m = /^(path|vscode-server) (v\d+\.\d+\.\d+\S*) (.+)$/.exec(value);
      if (m) nodes.push({ source: m[1] as NodeInstall['source'], version: m[2], path: m[3] });
    } else if (key === 'root_node') {
      const m = /^path (v\d+\.\d+\.\d+\S*) (.+)$/.exec(value);
      if (m) rootNode = { source: 'path', version: m[1], path: m[2] };
    } else if (key === 'file' || key === 'sysfile') {
      const m = /^([0-9a-f]{64}) (.+)$/.exec(value);
      if (m) (key === 'file' ? installed : systemInstalled).set(m[2], m[1]);
    } else if (key === 'root_refused') {
      rootRefused.push(value);
    } else if (key === 'cni_missing') {
      cniMissing.push(value);
    } else if (key === 'net_tool_missing') {
      netToolsMissing.push(value);
    } else {
      values.set(key, value);
    }
  }
  if (values.get('probe') !== '1' || values.get('end') !== '1') {
    throw new GantryError('DataLoss', `the host's answer to the probe was cut short:\n${stdout.slice(-500)}`, { transport: true });
  }
  return {
    os: values.get('os') ?? '',
    arch: values.get('arch') ?? '',
    uid: Number(values.get('uid') ?? NaN),
    sudo: values.get('sudo') === '1',
    nodes,
    node: selectNode(nodes),
    runc: values.get('runc'),
    conmon: values.get('conmon'),
    sha256sum: values.get('sha256sum'),
    gantryHome: values.get('gantry_home') ?? '',
    gantryHomeSet: values.get('gantry_home_set') === '1',
    socket: values.get('socket') ?? '',
    viaSudo: values.get('via_sudo') === '1',
    rootless: values.get('rootless') === '1',
    stateHome: values.get('state_home') || undefined,
    installed,
    daemon: parseDaemonVersion(values.get('daemon')),
    network: values.has('cni_dirs')
      ? { cniBinDirs: values.get('cni_dirs')!.split(':').filter(Boolean), missingPlugins: cniMissing, missingTools: netToolsMissing }
      : undefined,
    system:
      values.get('system') === '1'
        ? {
            node: rootNode && selectNode([rootNode]),
            runc: values.get('root_runc'),
            conmon: values.get('root_conmon'),
            refused: rootRefused,
            installed: systemInstalled,
          }
        : undefined,
  };
}

/**
 * What the host lacks for CNI networks (bridge, user networks, -p), as one
 * warning in the words gantryd itself uses (runtime/network/availability.ts);
 * undefined when nothing is missing or the probe did not say. Not an error:
 * containers there still run with `--network none` or `host`.
 */
export function networkWarning(network: NetworkFacts | undefined, label: string): string | undefined {
  if (!network) return undefined;
  const missing = [
    ...network.missingPlugins.map((p) => missingPlugin(p, network.cniBinDirs)),
    ...network.missingTools.map((t) => missingTool(t)),
  ];
  const { available, hint } = availabilityOf(missing);
  if (available) return undefined;
  return `${label}: ${hint}; until then containers there can use only --network none or host`;
}

/** `gantry version --json` output (on one line) → the daemon's version and pid. */
export function parseDaemonVersion(json: string | undefined): DaemonInfo | undefined {
  if (!json) return undefined;
  try {
    const server = (JSON.parse(json) as { server?: { version?: unknown; pid?: unknown; socket?: unknown; rootless?: unknown } }).server;
    if (typeof server?.version === 'string' && typeof server.pid === 'number') {
      return {
        version: server.version,
        pid: server.pid,
        ...(typeof server.socket === 'string' && server.socket ? { socket: server.socket } : {}),
        ...(server.rootless === true ? { rootless: true } : {}),
      };
    }
  } catch {
    // not JSON: treat as no answer
  }
  return undefined;
}

/**
 * The host's CLI finds the daemon by its own discovery order (client/discovery.ts):
 * a rootless login whose GANTRY_HOME does not name the socket. Probe, start
 * and dial-stdio then pass no --socket.
 */
export function discoversSocket(facts: HostFacts): boolean {
  return facts.rootless === true && !facts.gantryHomeSet;
}

export function parseNodeVersion(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The Node on PATH if new enough, else the newest new-enough VS Code server Node. */
export function selectNode(nodes: readonly NodeInstall[]): NodeInstall | undefined {
  const ok = nodes.filter((n) => {
    const v = parseNodeVersion(n.version);
    return v !== undefined && compareVersions(v, MIN_NODE) >= 0;
  });
  const onPath = ok.find((n) => n.source === 'path');
  if (onPath) return onPath;
  return [...ok].sort((a, b) => compareVersions(parseNodeVersion(b.version)!, parseNodeVersion(a.version)!))[0];
}

/**
 * Everything the host lacks for running gantryd, as one FailedPrecondition
 * that lists each missing piece and how to install it; undefined when
 * nothing is missing. `canReuse`: a daemon of ours already answers, so its
 * tools are not needed. A non-root login without `sudo -n` needs no root: its
 * daemon is rootless, and what that needs besides is the doctor's to say
 * (rootlessCheck.ts, once the bundle is there).
 */
export function checkRequirements(facts: HostFacts, label: string, canReuse: boolean): GantryError | undefined {
  if (facts.os !== 'Linux') {
    return failedPrecondition(`${label} runs ${facts.os || 'an unknown OS'}: gantryd runs on Linux only`);
  }
  const missing: string[] = [];
  const min = MIN_NODE.join('.');
  // A daemon of ours answers: it found its runc and conmon; only Node (for dial-stdio) matters.
  const needTools = !canReuse;
  const system = facts.system;
  if (system && facts.sudo) {
    // Root will run these: only root's own, on ROOT_PATH.
    const refused = system.refused.length ? ` (refused, not root's own or writable by others: ${system.refused.join(', ')})` : '';
    const tools = [
      system.node ? undefined : `Node.js ${min} or newer`,
      needTools && !system.runc ? 'runc' : undefined,
      needTools && !system.conmon ? 'conmon' : undefined,
    ].filter((t): t is string => !!t);
    if (tools.length) {
      missing.push(
        `${tools.join(', ')} for root: root runs only root-owned, not group/world-writable files from ${ROOT_PATH}${refused}; install them as root (e.g. \`sudo apt install nodejs runc conmon\`)`,
      );
    }
  } else if (!facts.node) {
    const found = facts.nodes.map((n) => `${n.version} at ${n.path}`).join(', ');
    missing.push(
      found
        ? `Node.js ${min} or newer (found only ${found}): install a newer Node.js (nodejs.org or NodeSource packages)`
        : `Node.js ${min} or newer (none on PATH or in ~/.vscode-server): install Node.js (nodejs.org, NodeSource packages, or your distribution's nodejs if it is new enough)`,
    );
  }
  const tools =
    needTools && !(system && facts.sudo)
      ? [facts.runc ? undefined : 'runc', facts.conmon ? undefined : 'conmon'].filter((t): t is string => !!t)
      : [];
  if (tools.length) {
    missing.push(
      `${tools.join(' and ')} (not on PATH or in the sbin dirs): install ${tools.length > 1 ? 'them' : 'it'}, e.g. \`sudo apt install ${tools.join(' ')}\` (Debian/Ubuntu) or \`sudo dnf install ${tools.join(' ')}\` (Fedora)`,
    );
  }
  if (needTools && !facts.sha256sum) missing.push('sha256sum (GNU coreutils or busybox), to verify uploads');
  if (!missing.length) return undefined;
  return failedPrecondition(`${label} cannot run gantryd; missing:\n  - ${missing.join('\n  - ')}`);
}
