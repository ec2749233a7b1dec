import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Sockets and poll handles are process-wide resources: each file in a process of its own, files in
    // sequence, so that descriptor counts taken by the leak tests see only their own file's sockets.
    pool: "forks",
    poolOptions: { forks: { isolate: true } },
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
