import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// What `npm run mutate` runs against each mutant: the core's unit tests and the fast tests of the Effect
// decision code (the driver doubles, the simulated network, dial on loopback). No CLI, no namespaces, no
// soak. The root config's aliases and pool settings, with `include` replaced (mergeConfig would append).
// A mutant that makes a test wait forever fails that test after 5 s (every test here takes well under a
// second): a failed test is a killed mutant at once, where Stryker's own timeout would also restart its
// test runner.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    testTimeout: 5_000,
    include: [
      "packages/core/test/**/*.test.ts",
      "packages/effect-connectex/test/doubles.test.ts",
      "packages/effect-connectex/test/decisions.test.ts",
      "packages/effect-connectex/test/dial.test.ts",
      "packages/effect-connectex/test/simulated.test.ts",
      "packages/effect-connectex/test/errors.test.ts",
      "packages/effect-connectex/test/observability.test.ts"
    ]
  }
})
