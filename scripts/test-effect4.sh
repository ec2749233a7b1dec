#!/usr/bin/env bash
# The Effect 4 lane: packages/effect4 with its own effect 4, @effect/vitest 4 and vitest 5, under Node 22.
# Node 22 comes from the npm registry (scripts/install-node22.sh, into .cache/node22); npm itself is the
# system npm's JavaScript run by that node.
# Usage: scripts/test-effect4.sh [vitest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

NODE22="$(bash scripts/install-node22.sh)"
echo "test-effect4: $("$NODE22" --version) at .cache/node22/bin/node" >&2

# The workspace install (root `npm ci`) puts effect 4, vitest 5 and vite 8 under packages/effect4/node_modules.
# Install when they are missing (a fresh clone, or a root install that predates this package).
NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
if [[ ! -f packages/effect4/node_modules/effect/package.json || ! -f packages/effect4/node_modules/vitest/package.json ]]; then
  "$NODE22" "$NPM_CLI" ci --no-audit --no-fund
fi
"$NODE22" -e 'const v = require("./packages/effect4/node_modules/effect/package.json").version; if (!v.startsWith("4.")) { console.error("packages/effect4 has effect " + v); process.exit(1) }'

# The core's sources are what the suite aliases, and the test helpers use them through koffi; the package
# itself (its own src/ and packages/frontend/src) must build against its own effect.
"$NODE22" node_modules/typescript/bin/tsc -b packages/core
"$NODE22" scripts/build-frontend.mjs effect4
"$NODE22" node_modules/typescript/bin/tsc -p packages/effect4/tsconfig.test.json
"$NODE22" scripts/generate-wsa-errors.mjs --check

cd packages/effect4
exec "$NODE22" node_modules/vitest/vitest.mjs run "$@"
