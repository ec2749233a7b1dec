import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { frontendSources } from "./scripts/frontendSources.js"

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/`, import.meta.url))

export default defineConfig({
  // The Effect 3 front-end's src/ and packages/frontend/src (the Effect code written once) as one folder
  plugins: [frontendSources(src("effect-connectex"))],
  resolve: {
    // The workspace packages from their sources, so that the suite runs (and mutation testing mutates) the
    // code itself, and one copy of each module is loaded.
    alias: [
      { find: /^@effect-connectex\/core$/, replacement: `${src("core")}index.ts` },
      { find: /^@effect-connectex\/core\/(.*)$/, replacement: `${src("core")}$1.ts` },
      { find: /^effect-connectex$/, replacement: `${src("effect-connectex")}index.ts` },
      { find: /^effect-connectex\/(.*)$/, replacement: `${src("effect-connectex")}$1.ts` },
      // what the tests written once (packages/frontend/test) take from the front-end they run on
      { find: /^#test-kit$/, replacement: fileURLToPath(new URL("./packages/effect-connectex/test/support/kit.ts", import.meta.url)) }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // packages/effect4 has its own effect 4 and vitest 5 and runs under Node 22: npm run test:effect4.
    // The POSIX driver's own tests load libc at import: not on Windows (the Wine lane runs this config).
    exclude: ["**/node_modules/**", "packages/effect4/**", ...(process.platform === "win32" ? ["packages/core/test/posix*.test.ts"] : [])],
    // Sockets and poll handles are process-wide resources: each file in a process of its own, files in
    // sequence, so that descriptor counts taken by the leak tests see only their own file's sockets.
    // Linux: every poll handle of the POSIX driver is checked to be closed with its socket (see the file).
    setupFiles: process.platform === "win32" ? [] : ["test/support/pollHandles.setup.ts"],
    pool: "forks",
    poolOptions: { forks: { isolate: true } },
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
