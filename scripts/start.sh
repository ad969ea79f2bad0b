#!/usr/bin/env bash
# Gantry's main job, from a clean checkout: set everything up, start gantryd,
# and open the extension in a real VS Code workbench (code-server) on
# http://127.0.0.1:$PORT. The workbench stays up while the daemon comes and
# goes (stopped, crashed, started again from the UI). Ctrl-C (or SIGTERM)
# stops code-server, the daemon this script started and every daemon the
# extension's Start Runtime started meanwhile (it records their pids in
# $GANTRY_DAEMON_PIDS_FILE); a gantryd that was already running is left alone,
# and the script says so.
# shellcheck disable=SC2317  # stop_process, cleanup and healthz run from traps and wait_until
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/start.sh [--no-vscode] [--no-setup] [--help]      (npm start)

Sets up (scripts/setup.sh: system packages as root, npm ci when needed,
code-server, a build of dist/), then starts:
  - gantryd with its default paths (as root: /var/lib/gantry, /run/gantry),
    unless a gantryd already answers on the socket; its log goes to
    .cache/workbench/gantryd.log
  - code-server on 127.0.0.1:$PORT (default 8080, no auth) with the Gantry
    extension from this checkout, its own profile under .cache/workbench
and prints the URL to open. The workbench stays up when gantryd exits: Start
Runtime in the Gantry views (or the status bar) starts it again. Ctrl-C stops
code-server, the gantryd it started and any gantryd started from VS Code
meanwhile; it never stops a gantryd that was running before, and says so.

Options:
  --no-vscode   only run gantryd, in the foreground, logging to the terminal
  --no-setup    skip scripts/setup.sh (dist/ and code-server must be there; for tests)
  -h, --help    show this help

Environment:
  PORT                  code-server's port on 127.0.0.1 (default 8080)
  GANTRY_SOCKET         gantryd's socket (default: GANTRY_STATE/gantry.sock, else
                        the CLI's default); the CLI and the extension use it too
  GANTRY_ROOT           gantryd's data root (--root), also for Start Runtime
  GANTRY_STATE          gantryd's state dir (--state), also for Start Runtime
  GANTRY_WORKBENCH_DIR  code-server's profile and the logs (default .cache/workbench)
EOF
}

vscode=1
setup=1
for arg in "$@"; do
  case "$arg" in
    --no-vscode) vscode=0 ;;
    --no-setup) setup=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "start: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

port="${PORT:-8080}"
if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  echo "start: PORT must be a TCP port number, not '$port'" >&2
  exit 2
fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
WORK="${GANTRY_WORKBENCH_DIR:-$REPO/.cache/workbench}"
GANTRY_JS="$REPO/dist/gantry.js"
# V8 flags and malloc settings gantryd runs with (runtime/client/daemonFlags.ts says why).
DAEMON_NODE_FLAGS="--max-semi-space-size=1 --optimize-for-size"
DAEMON_ENV="MALLOC_MMAP_THRESHOLD_=131072"
CODE_SERVER="$REPO/.cache/code-server/node_modules/.bin/code-server"

log() { echo "start: $*" >&2; }
die() { echo "start: ERROR: $*" >&2; exit 1; }

((setup)) && bash scripts/setup.sh
[[ -f "$GANTRY_JS" && -f "$REPO/dist/extension.js" ]] || die "dist/ was not built (node esbuild.js)"

if [[ "$(id -u)" -ne 0 ]]; then
  log "warning: not root; gantryd runs with per-user paths and cannot run containers (runc and overlayfs need root)"
fi

# The daemon's socket: GANTRY_SOCKET, else in GANTRY_STATE, else the default
# for this user as the CLI and the extension compute it. Exported, so the CLI
# calls below and the extension in code-server use the same one.
if [[ -n "${GANTRY_SOCKET:-}" ]]; then
  socket="$GANTRY_SOCKET"
elif [[ -n "${GANTRY_STATE:-}" ]]; then
  socket="$GANTRY_STATE/gantry.sock"
else
  socket="$(node "$GANTRY_JS" --help 2>/dev/null | sed -n 's/.*(env GANTRY_SOCKET; default \(.*\))$/\1/p' || true)"
  [[ -n "$socket" ]] || die "cannot tell gantryd's default socket from 'node $GANTRY_JS --help'; set GANTRY_SOCKET"
fi
export GANTRY_SOCKET="$socket"
# What start.sh starts gantryd with; GANTRY_ROOT/GANTRY_STATE stay in the
# environment, where Start Runtime in code-server reads them too.
daemon_args=(daemon)
[[ -n "${GANTRY_ROOT:-}" ]] && daemon_args+=(--root "$GANTRY_ROOT")
[[ -n "${GANTRY_STATE:-}" ]] && daemon_args+=(--state "$GANTRY_STATE")
daemon_args+=(--socket "$socket")

# The pid of the gantryd answering on the socket; fails if none does.
running_daemon_pid() {
  local out
  out="$(node "$GANTRY_JS" version --json 2>/dev/null)" || return 1
  node -e 'const s = JSON.parse(process.argv[1]).server; if (!s) process.exit(1); console.log(s.pid)' "$out"
}

if ((vscode == 0)); then
  if pid="$(running_daemon_pid)"; then
    die "a gantryd (pid $pid) already answers on $socket; stop it first"
  fi
  log "gantryd in the foreground on $socket (Ctrl-C stops it)"
  exec env $DAEMON_ENV node $DAEMON_NODE_FLAGS "$GANTRY_JS" "${daemon_args[@]}"
fi

[[ -x "$CODE_SERVER" ]] || die "code-server is missing ($CODE_SERVER); scripts/install-code-server.sh should have installed it"
mkdir -p "$WORK"

daemon_pid=""
cs_pid=""
# Start Runtime in code-server appends the pid of each gantryd it starts here
# (src/commands/runtime/spawnDaemon.ts); Ctrl-C stops those too.
pids_file="$WORK/started-daemons.pids"
: >"$pids_file"
# A gantryd already running before this script: never stopped by it.
preexisting_pid=""

# Whether pid $1 runs (a zombie has exited: its parent just did not reap it yet).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# Whether pid $1 is a gantryd (…/gantry.js … daemon): a recorded pid may have been reused.
is_gantryd() {
  local arg js=0
  [[ -r "/proc/$1/cmdline" ]] || return 1
  while IFS= read -r -d '' arg; do
    [[ "$arg" == */gantry.js ]] && js=1
    ((js)) && [[ "$arg" == daemon ]] && return 0
  done <"/proc/$1/cmdline"
  return 1
}

# SIGTERM to a pid (or, for "-PGID", a process group), SIGKILL after $2 seconds.
stop_process() {
  local target="$1" grace="$2" pid="${1#-}" i
  kill -TERM -- "$target" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "pid $pid did not stop within ${grace}s; killing it"
  fi
  # Also whatever is left of a group after its leader exited.
  kill -KILL -- "$target" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stopped=0
cleanup() {
  ((stopped)) && return 0
  stopped=1
  if [[ -n "$cs_pid" ]]; then
    log "stopping code-server"
    stop_process "-$cs_pid" 10
  fi
  if [[ -n "$daemon_pid" ]] && alive "$daemon_pid"; then
    log "stopping gantryd (pid $daemon_pid)"
    stop_process "$daemon_pid" 15
  fi
  local pid
  if [[ -f "$pids_file" ]]; then
    while IFS= read -r pid; do
      [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && is_gantryd "$pid" || continue
      log "stopping gantryd (pid $pid), started from VS Code"
      stop_process "$pid" 15
    done <"$pids_file"
  fi
  if pid="$(running_daemon_pid)"; then
    if [[ "$pid" == "$preexisting_pid" ]]; then
      log "left running: gantryd (pid $pid) on $socket, which was running before start.sh began"
    else
      log "left running: gantryd (pid $pid) on $socket, which start.sh did not start"
    fi
  else
    log "stopped; no gantryd left running on $socket"
  fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap cleanup EXIT

# Wait (up to $2 seconds) until command "${@:3}" succeeds while pid $1 runs.
wait_until() {
  local pid="$1" timeout="$2" i
  shift 2
  for ((i = 0; i < timeout * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# --- gantryd -----------------------------------------------------------------
daemon_log="$WORK/gantryd.log"
if pid="$(running_daemon_pid)"; then
  preexisting_pid="$pid"
  log "using the gantryd already running on $socket (pid $pid); it keeps running after this script"
else
  echo "--- $(date -u '+%Y-%m-%dT%H:%M:%SZ') start.sh: gantryd" >>"$daemon_log"
  # Own session: Ctrl-C reaches this script only, which stops the daemon in order.
  setsid env $DAEMON_ENV node $DAEMON_NODE_FLAGS "$GANTRY_JS" "${daemon_args[@]}" >>"$daemon_log" 2>&1 </dev/null &
  daemon_pid=$!
  if ! wait_until "$daemon_pid" 30 node "$GANTRY_JS" version; then
    tail -n 20 "$daemon_log" >&2 || true
    die "gantryd did not answer on $socket (log: $daemon_log)"
  fi
  log "gantryd (pid $daemon_pid) on $socket; log: $daemon_log"
fi

# --- code-server ---------------------------------------------------------------
publisher="$(node -p 'require("./package.json").publisher')"
name="$(node -p 'require("./package.json").name')"
version="$(node -p 'require("./package.json").version')"
ext_dir="$WORK/extensions"
user_dir="$WORK/user-data"
mkdir -p "$ext_dir" "$user_dir/User"
# "Install" this checkout the way `code-server --install-extension` lays it out,
# without packaging a .vsix: a link named publisher.name-version.
for old in "$ext_dir/$publisher.$name"-*; do
  [[ -L "$old" ]] && rm -f "$old"
done
ln -sfn "$REPO" "$ext_dir/$publisher.$name-$version"
if [[ ! -f "$user_dir/User/settings.json" ]]; then
  cat >"$user_dir/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true
}
EOF
fi

cs_log="$WORK/code-server.log"
echo "--- $(date -u '+%Y-%m-%dT%H:%M:%SZ') start.sh: code-server on 127.0.0.1:$port" >>"$cs_log"
# No extension gallery (code-server's default, open-vsx.org, is unreachable here).
# XDG dirs under .cache/workbench keep $HOME clean. Own session and process
# group, so stopping it reaches its extension hosts too.
EXTENSIONS_GALLERY='{}' GANTRY_DAEMON_PIDS_FILE="$pids_file" \
  XDG_CONFIG_HOME="$WORK/xdg-config" XDG_DATA_HOME="$WORK/xdg-data" XDG_CACHE_HOME="$WORK/xdg-cache" \
  setsid "$CODE_SERVER" \
  --bind-addr "127.0.0.1:$port" \
  --auth none \
  --config /dev/null \
  --user-data-dir "$user_dir" \
  --extensions-dir "$ext_dir" \
  --disable-telemetry \
  --disable-update-check \
  --disable-workspace-trust \
  --disable-getting-started-override \
  >>"$cs_log" 2>&1 </dev/null &
cs_pid=$!
log "code-server (pid $cs_pid) on 127.0.0.1:$port; log: $cs_log"

healthz() {
  node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
    "http://127.0.0.1:$port/healthz"
}
if ! wait_until "$cs_pid" 60 healthz; then
  tail -n 20 "$cs_log" >&2 || true
  die "code-server did not answer on 127.0.0.1:$port (port in use? set PORT); log: $cs_log"
fi

folder="$(node -p 'encodeURIComponent(process.argv[1]).replace(/%2F/g, "/")' "$REPO")"
echo
echo "Gantry is running. Open: http://127.0.0.1:$port/?folder=$folder"
echo "  code-server log: $cs_log"
echo "  Ctrl-C stops code-server${daemon_pid:+, gantryd} and any gantryd started from VS Code."
echo

# Until Ctrl-C/SIGTERM (the traps), or code-server exits. gantryd may exit
# and be started again from the UI meanwhile: the workbench stays up.
set +e
while :; do
  if [[ -n "$daemon_pid" ]]; then
    wait -n "$cs_pid" "$daemon_pid"
  else
    wait "$cs_pid"
  fi
  status=$?
  if ! alive "$cs_pid"; then
    log "code-server exited (status $status); see $cs_log"
    cs_pid=""
    break
  fi
  if [[ -n "$daemon_pid" ]] && ! alive "$daemon_pid"; then
    log "gantryd (pid $daemon_pid) exited (status $status); see $daemon_log. VS Code stays up: Start Runtime in the Gantry view starts gantryd again"
    daemon_pid=""
  fi
done
exit 1
