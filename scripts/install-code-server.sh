#!/usr/bin/env bash
# Installs code-server (the real VS Code workbench + a Node extension host) into
# $REPO/.cache/code-server, once. The VS Code and UI test suites run against it,
# because no VS Code desktop build can be downloaded on these machines.
# Needs: node 20, npm, and the apt packages libkrb5-dev (kerberos native module)
# and ripgrep (we hand Debian's rg to @vscode/ripgrep instead of a GitHub download).
set -euo pipefail

VERSION=4.100.3
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$REPO/.cache/code-server"
BIN="$PREFIX/node_modules/.bin/code-server"

die() { echo "install-code-server: ERROR: $*" >&2; exit 1; }

# Everything code-server writes (its first run writes a default config.yaml
# and prints "Wrote default config file to …" before anything else) stays in
# this cache, never in the user's home.
STATE="$REPO/.cache/code-server-state"
in_cache_dirs() {
  mkdir -p "$STATE/config" "$STATE/data" "$STATE/cache"
  XDG_CONFIG_HOME="$STATE/config" XDG_DATA_HOME="$STATE/data" XDG_CACHE_HOME="$STATE/cache" "$@"
}

# Already installed? `code-server --version` prints "4.100.3 <commit> with Code 1.100.3",
# possibly after log lines: take the first line that starts with a version number.
# (Captured first: `| head -1 | grep -q` under pipefail would report SIGPIPE.)
installed_version() {
  local out line
  out="$(in_cache_dirs "$BIN" --config /dev/null --version 2>/dev/null)" || return 0
  while IFS= read -r line; do
    if [[ "$line" =~ ^([0-9]+\.[0-9]+\.[0-9]+)[[:space:]] ]]; then
      echo "${BASH_REMATCH[1]}"
      return 0
    fi
  done <<<"$out"
}
if [[ -x "$BIN" && "$(installed_version)" == "$VERSION" ]]; then
  echo "install-code-server: code-server $VERSION already in $PREFIX"
  exit 0
fi

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"
RG="$(command -v rg || true)"
[[ -n "$RG" ]] || die "ripgrep is missing: apt-get install ripgrep"
[[ -e /usr/include/krb5.h || -e /usr/include/gssapi/gssapi.h ]] ||
  die "kerberos headers are missing: apt-get install libkrb5-dev"

# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache already
# holds the tarball. The cache lives in os.tmpdir() (= $TMPDIR, or /tmp when unset).
TMP="$(node -p 'require("os").tmpdir()')"
RG_CACHE="$TMP/vscode-ripgrep-cache-1.15.11"
RG_TAR="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [[ ! -s "$RG_TAR" ]]; then
  mkdir -p "$RG_CACHE"
  stage="$(mktemp -d)"
  cp "$RG" "$stage/rg"
  tar -czf "$RG_TAR.tmp" -C "$stage" rg && mv "$RG_TAR.tmp" "$RG_TAR"
  rm -rf "$stage"
fi

# A half-finished earlier attempt would confuse npm; start clean.
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
# npm 11 only runs dependency install scripts that package.json's allowScripts
# approves (unapproved ones run with a warning today; strict mode skips them).
# code-server's postinstall installs lib/vscode's deps and builds node-pty;
# argon2 builds its native module.
cat >"$PREFIX/package.json" <<JSON
{
  "name": "gantry-code-server-cache",
  "private": true,
  "description": "code-server for Gantry's VS Code tests (scripts/install-code-server.sh)",
  "allowScripts": { "code-server@$VERSION": true, "argon2@0.31.2": true }
}
JSON
echo "install-code-server: installing code-server@$VERSION into $PREFIX (about 1 minute, 300 MB)"
# unsafe_perm: code-server's postinstall refuses to run as root without it.
# npm_config_yes: node-pty's install calls `npx node-gyp`, which would otherwise prompt.
# ignore_scripts / strict_allow_scripts off, in case an npmrc turned them on; as
# env vars they also reach the nested `npm install` code-server's postinstall runs.
if ! npm_config_yes=true npm_config_unsafe_perm=true npm_config_ignore_scripts=false \
  npm_config_strict_allow_scripts=false \
  npm install --no-audit --no-fund --no-save --loglevel=warn \
  --prefix "$PREFIX" "code-server@$VERSION"; then
  die "npm install code-server@$VERSION failed (see the output above)"
fi

# The install scripts of code-server (which installs its own lib/vscode deps)
# and of node-pty must have run; check their outputs rather than trusting npm.
CS="$PREFIX/node_modules/code-server"
[[ -x "$BIN" ]] || die "$BIN is missing after npm install"
pty="$(find "$CS/lib/vscode/node_modules/node-pty" -name pty.node -path '*Release*' 2>/dev/null | head -1)"
[[ -n "$pty" ]] || die "node-pty was not built (no pty.node under $CS/lib/vscode/node_modules/node-pty); were install scripts skipped?"
[[ -x "$CS/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]] ||
  die "@vscode/ripgrep has no rg binary; its postinstall did not run"

[[ "$(installed_version)" == "$VERSION" ]] || die "installed code-server does not report $VERSION"

# Smoke test: the server starts and /healthz answers.
work="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache" \
  setsid "$BIN" --bind-addr "127.0.0.1:$port" --auth none --config /dev/null \
  --user-data-dir "$work/user" --extensions-dir "$work/ext" --disable-telemetry \
  --disable-update-check >"$work/log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null || true; rm -rf "$work"' EXIT
ok=
for _ in $(seq 1 150); do
  if node -e 'require("http").get(process.argv[1],r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' \
    "http://127.0.0.1:$port/healthz"; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [[ -z "$ok" ]]; then
  cat "$work/log" >&2
  die "code-server did not answer /healthz; see its log above"
fi
echo "install-code-server: code-server $VERSION installed and answers /healthz"
