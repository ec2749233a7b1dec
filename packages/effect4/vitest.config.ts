import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const core = fileURLToPath(new URL("../core/src/", import.meta.url))
const self = fileURLToPath(new URL("./src/", import.meta.url))

// Runs with vitest 5 (nested in packages/effect4/node_modules) under Node 22: scripts/test-effect4.sh.
// `effect` is not aliased: every import of it resolves from this package to its own effect 4 (a test proves it).
export default defineConfig({
  resolve: {
    // packages/frontend/src is linked into the front-ends' src/: a link's imports resolve from where it sits
    preserveSymlinks: true,
    alias: [
      { find: /^@effect-connectex\/core$/, replacement: `${core}index.ts` },
      { find: /^@effect-connectex\/core\/(.*)$/, replacement: `${core}$1.ts` },
      { find: /^@effect-connectex\/effect4$/, replacement: `${self}index.ts` },
      { find: /^@effect-connectex\/effect4\/(.*)$/, replacement: `${self}$1.ts` }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Sockets and poll handles are process-wide: each file in a process of its own, files in sequence.
    pool: "forks",
    isolate: true,
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
