import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { frontendSources } from "../../scripts/frontendSources.js"

const core = fileURLToPath(new URL("../core/src/", import.meta.url))
const self = fileURLToPath(new URL("./src/", import.meta.url))

// Runs with vitest 5 (nested in packages/effect4/node_modules) under Node 22: scripts/test-effect4.sh.
// `effect` is not aliased: every import of it resolves from this package to its own effect 4, the shared
// modules' too (frontendSources; a test proves it).
export default defineConfig({
  // This package's src/ and packages/frontend/src (the Effect code written once) as one folder
  plugins: [frontendSources(self)],
  resolve: {
    alias: [
      { find: /^@effect-connectex\/core$/, replacement: `${core}index.ts` },
      { find: /^@effect-connectex\/core\/(.*)$/, replacement: `${core}$1.ts` },
      { find: /^@effect-connectex\/effect4$/, replacement: `${self}index.ts` },
      { find: /^@effect-connectex\/effect4\/(.*)$/, replacement: `${self}$1.ts` },
      // what the tests written once (packages/frontend/test) take from this front-end
      { find: /^#test-kit$/, replacement: fileURLToPath(new URL("./test/support/kit.ts", import.meta.url)) }
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
