#!/usr/bin/env bash
# Gantry's main job, from a clean checkout: set everything up, start gantryd,
# and open the extension in a real VS Code workbench (code-server) on
# http://127.0.0.1:$PORT. Ctrl-C (or SIGTERM) stops code-server and the
# daemon this script started; a gantryd that was already running is left alone.
# shellcheck disable=SC2317  # stop_process, cleanup and healthz run from traps and wait_until
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/start.sh [--no-vscode] [--help]      (npm start)

Sets up (scripts/setup.sh: system packages as root, npm ci when needed,
code-server, a build of dist/), then starts:
  - gantryd with its default paths (as root: /var/lib/gantry, /run/gantry),
    unless a gantryd already answers on the default socket; its log goes to
    .cache/workbench/gantryd.log
  - code-server on 127.0.0.1:$PORT (default 8080, no auth) with the Gantry
    extension from this checkout, its own profile under .cache/workbench
and prints the URL to open. Ctrl-C stops both (never a gantryd it did not start).

Options:
  --no-vscode   only run gantryd, in the foreground, logging to the terminal
  -h, --help    show this help

Environment:
  PORT          code-server's port on 127.0.0.1 (default 8080)
EOF
}

vscode=1
for arg in "$@"; do
  case "$arg" in
    --no-vscode) vscode=0 ;;
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
WORK="$REPO/.cache/workbench"
GANTRY_JS="$REPO/dist/gantry.js"
# V8 flags gantryd runs with (runtime/daemon/nodeFlags.ts says why).
DAEMON_NODE_FLAGS="--max-semi-space-size=1"
CODE_SERVER="$REPO/.cache/code-server/node_modules/.bin/code-server"

log() { echo "start: $*" >&2; }
die() { echo "start: ERROR: $*" >&2; exit 1; }

bash scripts/setup.sh
[[ -f "$GANTRY_JS" && -f "$REPO/dist/extension.js" ]] || die "dist/ was not built (node esbuild.js)"

if [[ "$(id -u)" -ne 0 ]]; then
  log "warning: not root; gantryd runs with per-user paths and cannot run containers (runc and overlayfs need root)"
fi

# The default socket for this user, as the CLI and the extension compute it
# (shown in messages only; the CLI calls below use that default themselves).
socket="$(node "$GANTRY_JS" --help 2>/dev/null | sed -n 's/.*(env GANTRY_SOCKET; default \(.*\))$/\1/p' || true)"
socket="${socket:-the default socket}"

# The pid of the gantryd answering on the default socket; fails if none does.
running_daemon_pid() {
  local out
  out="$(env -u GANTRY_SOCKET node "$GANTRY_JS" version --json 2>/dev/null)" || return 1
  node -e 'const s = JSON.parse(process.argv[1]).server; if (!s) process.exit(1); console.log(s.pid)' "$out"
}

if ((vscode == 0)); then
  if pid="$(running_daemon_pid)"; then
    die "a gantryd (pid $pid) already answers on $socket; stop it first"
  fi
  log "gantryd in the foreground on $socket (Ctrl-C stops it)"
  exec node $DAEMON_NODE_FLAGS "$GANTRY_JS" daemon
fi

[[ -x "$CODE_SERVER" ]] || die "code-server is missing ($CODE_SERVER); scripts/install-code-server.sh should have installed it"
mkdir -p "$WORK"

daemon_pid=""
cs_pid=""

# SIGTERM to a pid (or, for "-PGID", a process group), SIGKILL after $2 seconds.
stop_process() {
  local target="$1" grace="$2" pid="${1#-}" i
  kill -TERM -- "$target" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
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
  if [[ -n "$daemon_pid" ]]; then
    log "stopping gantryd (pid $daemon_pid)"
    stop_process "$daemon_pid" 15
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
if pid="$(running_daemon_pid)"; then
  log "using the gantryd already running on $socket (pid $pid); it keeps running after this script"
else
  daemon_log="$WORK/gantryd.log"
  echo "--- $(date -u '+%Y-%m-%dT%H:%M:%SZ') start.sh: gantryd" >>"$daemon_log"
  # Own session: Ctrl-C reaches this script only, which stops the daemon in order.
  setsid node $DAEMON_NODE_FLAGS "$GANTRY_JS" daemon >>"$daemon_log" 2>&1 </dev/null &
  daemon_pid=$!
  if ! wait_until "$daemon_pid" 30 env -u GANTRY_SOCKET node "$GANTRY_JS" version; then
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
EXTENSIONS_GALLERY='{}' \
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
echo "  Ctrl-C stops code-server${daemon_pid:+ and gantryd}."
echo

# Until Ctrl-C/SIGTERM (the traps), or one of them exits on its own.
set +e
if [[ -n "$daemon_pid" ]]; then
  wait -n "$cs_pid" "$daemon_pid"
else
  wait "$cs_pid"
fi
status=$?
set -e
if ! kill -0 "$cs_pid" 2>/dev/null; then
  log "code-server exited (status $status); see $cs_log"
  cs_pid=""
elif [[ -n "$daemon_pid" ]] && ! kill -0 "$daemon_pid" 2>/dev/null; then
  log "gantryd exited (status $status); see $WORK/gantryd.log"
  daemon_pid=""
fi
exit 1
