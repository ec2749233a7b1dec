import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// What `npm run mutate` runs against each mutant: the core's unit tests and the fast tests of the Effect
// decision code (the driver doubles, the simulated network, dial on loopback). No CLI, no namespaces, no
// soak. The root config's aliases and pool settings, with `include` replaced (mergeConfig would append).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      // the core's tests the checked-in incremental report was made with; the newer unit tests (the port, queues,
      // readers, serve loop, Duplex, POSIX driver) join with the per-group mutation work (branch mutate)
      "packages/core/test/{address,codes,completion,connectors,happyEyeballs,noEffect,options,resolver,simulated,socket,unions}.test.ts",
      "packages/core/test/windows/**/*.test.ts",
      "test/doubles.test.ts",
      "test/decisions.test.ts",
      "test/dial.test.ts",
      "test/simulated.test.ts",
      "test/errors.test.ts",
      "test/observability.test.ts"
    ]
  }
})
