import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Sockets and poll handles are process-wide resources: one fork, files in sequence, so that
    // descriptor counts taken by the leak tests are not disturbed by another file's sockets.
    pool: "forks",
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
