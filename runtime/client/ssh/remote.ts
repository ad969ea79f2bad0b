/**
 * gantryd on a remote Linux host, reached over SSH: the types shared by the
 * CLI (`gantry --host ssh://…`) and the extension. No VS Code imports, no I/O
 * here; connect.ts implements it.
 *
 * Terms: the *target* is what the user typed (`ssh://user@host:port`,
 * `user@host`, or an alias of their ssh config); the *host* is the machine
 * behind it; the *bundle* is this build's dist/gantry*.js (runtime/loader/bundles.ts) plus dist/native/.
 *
 * Lifecycle of connectRemote(ctx, target, opts):
 *
 *   client                         ssh (system client)          remote host
 *     │ probe: /bin/sh -s -- VERSION  ──────────────────────────▶ PROBE_SCRIPT on stdin
 *     │ ◀── os, arch, uid, sudo, node(s), runc, conmon, GANTRY_HOME,
 *     │     socket, sha256 of bin/VERSION/*, daemon's `version --json`
 *     │ missing Node/runc/conmon? → FailedPrecondition, nothing written
 *     │ (a non-root login without sudo: rootless; after the upload below, the
 *     │  host's own `gantry doctor` names any missing rootless prerequisite)
 *     │ upload (only files whose sha256 differs), one ssh each:
 *     │   file bytes on stdin ─────────────────────────────────▶ cat > tmp; sha256 = ?; mv
 *     │ start (unless a daemon of this version answers):
 *     │   START_SCRIPT on stdin ───────────────────────────────▶ setsid [sudo -n] node gantry.js daemon
 *     │ ◀── the daemon's `version --json` once it answers          … >> GANTRY_HOME/gantryd.log
 *     │ (a daemon of another version is stopped first, then ours started)
 *     │ proxy: listen on <tmp 0700>/gantry.sock (0600)
 *     ▼
 *   RuntimeClient("unix:<proxy>") — each connection grpc-js opens:
 *     accept ──▶ spawn ssh HOST [sudo -n] NODE GANTRY_JS [--socket S] dial-stdio
 *                (no --socket for a rootless login: the host's discovery order)
 *     bytes ◀══▶ ssh stdin/stdout ◀══▶ remote dial-stdio ◀══▶ gantryd socket
 *     grpc closes → ssh stdin EOF → remote stdin EOF → dial-stdio exits → ssh exits
 *     link dies   → ssh gives up after ServerAliveInterval × ServerAliveCountMax
 *                   → the proxy closes the connection → the call fails Unavailable
 *   close(): stop listening, end every ssh's stdin, SIGTERM/SIGKILL what is left,
 *            remove the proxy dir. The remote daemon keeps running (it is shared).
 *
 * Why a proxy running `dial-stdio` rather than `ssh -L local.sock:remote.sock`:
 * grpc-js cannot dial through a child process, so some local socket is needed
 * either way; but with -L the remote end is opened by sshd as the login user,
 * which cannot open a root daemon's 0660 socket when the daemon was started
 * through sudo, and sshd may forbid stream forwarding (AllowStreamLocalForwarding
 * no). dial-stdio runs as whoever we choose (`sudo -n` too), needs no
 * forwarding rights, and gives one ssh process per gRPC connection whose exit
 * (and stderr) says exactly when and why the link died — as Docker's
 * `DOCKER_HOST=ssh://` does with `docker system dial-stdio`.
 *
 * Remote shell safety: ssh joins its command arguments into one string that
 * the login shell parses. Scripts are constants of this module; every value
 * (paths the probe reported, daemon flags) is passed as a positional
 * parameter, single-quoted (ssh.ts shellQuote), and only ever read as "$N"
 * inside the script. The host name goes only into ssh's argv.
 */
import type { Ctx } from '../../context';
import type { GantryError } from '../../errdefs/errdefs';

/** Where to connect; ssh resolves `host` (so ssh_config aliases and ProxyJump apply). */
export interface SshTarget {
  /** Host name, address or ssh_config alias. */
  readonly host: string;
  /** Login user; undefined = ssh's choice (ssh_config `User`, else the local user). */
  readonly user?: string;
  /** Undefined = ssh's choice (ssh_config `Port`, else 22). */
  readonly port?: number;
}

export interface SshOptions {
  /** `ssh -F FILE` (CLI: env GANTRY_SSH_CONFIG). Default: ssh's own (~/.ssh/config). */
  readonly configFile?: string;
  /** ConnectTimeout in seconds; default 15 (CLI: GANTRY_SSH_CONNECT_TIMEOUT). */
  readonly connectTimeoutSec?: number;
  /** ServerAliveInterval in seconds; default 5 (CLI: GANTRY_SSH_ALIVE_INTERVAL). */
  readonly aliveIntervalSec?: number;
  /** ServerAliveCountMax; default 3 (CLI: GANTRY_SSH_ALIVE_COUNT). A dead link is noticed after interval × count. */
  readonly aliveCountMax?: number;
  /** The ssh client binary; default `ssh` on PATH. */
  readonly sshPath?: string;
}

export interface RemoteOptions extends SshOptions {
  /** Dir holding gantry*.js and native/ to deploy; default: the dir of the running bundle. */
  readonly bundleDir?: string;
  /** Extra `gantry daemon` flags for a daemon this connect starts (ignored when one is reused). */
  readonly daemonArgs?: readonly string[];
  /** Human-readable steps ("uploading gantry.js (3.1 MB)"), for a progress UI or a log. */
  readonly onProgress?: (message: string) => void;
}

export interface NodeInstall {
  readonly path: string;
  /** "v20.11.1" */
  readonly version: string;
  /** Where it came from: the login PATH, or a VS Code server install. */
  readonly source: 'path' | 'vscode-server';
}

/** What the probe found on the host (probe.ts). */
export interface HostFacts {
  /** `uname -s`, e.g. "Linux". */
  readonly os: string;
  /** `uname -m`, e.g. "x86_64". */
  readonly arch: string;
  readonly uid: number;
  /** Not root, but `sudo -n true` works. */
  readonly sudo: boolean;
  /** Every Node found, in probe order. */
  readonly nodes: readonly NodeInstall[];
  /** The one gantryd will run on (new enough), if any. */
  readonly node?: NodeInstall;
  readonly runc?: string;
  readonly conmon?: string;
  readonly sha256sum?: string;
  /** $GANTRY_HOME, default ~/.gantry: holds bin/<version>/ and gantryd.log. */
  readonly gantryHome: string;
  /** GANTRY_HOME was set: the daemon's --root/--state live under it too. */
  readonly gantryHomeSet: boolean;
  /**
   * The daemon socket on the host; '' when the host's CLI finds it by its
   * discovery order (a rootless login without GANTRY_HOME, see `rootless`)
   * and no daemon answered yet. After a deploy: the answering daemon's.
   */
  readonly socket: string;
  /**
   * A non-root login without `sudo -n`: the daemon there is the user's own
   * rootless gantryd (docs/rootless.md), started from the user's own copy of
   * the bundle; the probe, the start and every dial-stdio find it as the CLI
   * there does (`GANTRY_SOCKET` → the user's socket → the system socket),
   * unless GANTRY_HOME names its socket.
   */
  readonly rootless?: boolean;
  /** For `rootless`: the user's XDG state home (the daemon logs to gantry/gantryd.log in it). */
  readonly stateHome?: string;
  /** Run the daemon-side commands through `sudo -n` (socket not ours, not root). */
  readonly viaSudo: boolean;
  /** sha256 of each file already in bin/<version>/ ("gantry.js", "native/x.node"). */
  readonly installed: ReadonlyMap<string, string>;
  /** The daemon that answered on `socket`, if any. */
  readonly daemon?: DaemonInfo;
  /** What CNI networking needs and the host lacks (undefined: the probe did not say). */
  readonly network?: NetworkFacts;
  /**
   * Set for a non-root login: the daemon is root's (started through `sudo -n`),
   * so root runs only root-owned files (probe.ts, deploy.ts).
   */
  readonly system?: SystemFacts;
}

/** The probe's look at what the daemon's CNI networks need (runtime/network/availability.ts). */
export interface NetworkFacts {
  /** The plugin dirs looked in: the daemon's --cni-bin-dir, else its defaults. */
  readonly cniBinDirs: readonly string[];
  /** Of REQUIRED_PLUGINS, those in none of the dirs. */
  readonly missingPlugins: readonly string[];
  /** Of REQUIRED_TOOLS (iptables, ip, …), those not found. */
  readonly missingTools: readonly string[];
}

/** Root's side of a host reached as a non-root user. */
export interface SystemFacts {
  /** Root's Node (new enough), from ROOT_PATH, root-owned and not group/world-writable. */
  readonly node?: NodeInstall;
  readonly runc?: string;
  readonly conmon?: string;
  /** "TOOL PATH" of each candidate refused (not root's, or writable by others). */
  readonly refused: readonly string[];
  /** sha256 of each file already in SYSTEM_BIN_DIR/<version>/. */
  readonly installed: ReadonlyMap<string, string>;
}

export interface DaemonInfo {
  readonly version: string;
  readonly pid: number;
  /** Its socket as it reports it (Version), when it did. */
  readonly socket?: string;
  /** It runs rootless (Version's `rootless`). */
  readonly rootless?: boolean;
}

export interface DeployResult {
  /** Bundle files written to the host this time (empty when all matched). */
  readonly uploaded: readonly string[];
  /**
   * True when this connect launched gantryd; false when one already answered.
   * (Two clients connecting at once may both launch one; the second exits on
   * the socket lock, and both end up with the same daemon.)
   */
  readonly started: boolean;
  /** A daemon of another version that was stopped to start this one. */
  readonly replaced?: DaemonInfo;
  readonly daemon: DaemonInfo;
  /** Things that work but not fully (e.g. no native addon for the host's arch). */
  readonly warnings: readonly string[];
  /** Remote path of the gantry.js that dial-stdio runs (root's copy when through sudo). */
  readonly gantryJs: string;
  /** Remote path of the Node that runs it (root's when through sudo). */
  readonly node: string;
}

/**
 * A connected remote runtime. Owns the local proxy and every ssh process it
 * spawned; the remote daemon outlives it.
 */
export interface RemoteRuntime {
  readonly target: SshTarget;
  /** "ssh://user@host:port" as given (user/port only when given). */
  readonly label: string;
  /** For `new RuntimeClient(grpcTarget)`: `unix:<proxy socket>`. */
  readonly grpcTarget: string;
  /** The local proxy socket (a CLI's --socket). */
  readonly socketPath: string;
  readonly facts: HostFacts;
  readonly deploy: DeployResult;
  /**
   * Probe again and start (or redeploy) the daemon if it is gone — for a
   * client that lost its daemon. The proxy and its socket stay the same.
   * Errors as connectRemote.
   */
  ensureDaemon(ctx: Ctx): Promise<DeployResult>;
  /** Pids of the ssh processes carrying connections right now (tests check none outlive close()). */
  readonly sshPids: readonly number[];
  /** Why the most recent bridged connection failed (ssh or dial-stdio), cleared when one succeeds. */
  lastError(): GantryError | undefined;
  /**
   * For showing a failed call: a transport error becomes the ssh-level reason
   * (lastError) or "lost the connection to gantryd on <label>"; anything else
   * is returned as is.
   */
  translate(e: unknown): unknown;
  /** Idempotent. Kills every ssh this object started and removes the proxy socket. */
  close(): Promise<void>;
}
