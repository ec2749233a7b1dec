/**
 * The real-client benchmark runs end to end (--quick) and ends with its JSON line. Only the shape is checked:
 * timings are never asserted. The ioredis part must have run wherever redis-server can (test/support/servers.ts).
 */
import { readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { beforeAll, describe, expect, it } from "vitest"
import { buildDist, runNode } from "./support/node.js"
import { redisMissing } from "./support/servers.js"

beforeAll(buildDist, 240_000)

/**
 * Why the bench's ioredis part cannot run here: bench/clients.mjs spawns redis-server itself, which a Windows node
 * cannot (under Wine `redisMissing` is undefined: the client tests get their redis from the lane's server broker).
 */
const benchRedisMissing = process.platform === "win32" ? "bench/clients.mjs spawns redis-server itself (win32)" : redisMissing

const redisFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith("connectex-bench-redis-"))

const expectResults = (part: Record<string, unknown>, requests: number) => {
  const results = part["results"] as ReadonlyArray<Record<string, unknown>>
  expect(results.map((r) => r["transport"])).toEqual(["node:net", "Duplex"])
  for (const r of results) {
    for (const key of ["timeMs", "cpuMs", "usPerRequest", "cpuUsPerRequest"]) {
      expect(r[key], `${String(r["transport"])} ${key}`).toBeTypeOf("number")
      expect(r[key] as number, `${String(r["transport"])} ${key}`).toBeGreaterThan(0)
    }
    const runs = r["runs"] as ReadonlyArray<Record<string, unknown>>
    expect(runs).toHaveLength(1)
    expect(runs[0]?.["timeMs"]).toBeTypeOf("number")
    expect(runs[0]?.["cpuMs"]).toBeTypeOf("number")
    expect(r["usPerRequest"]).toBeCloseTo(((r["timeMs"] as number) * 1000) / requests, 0)
  }
}

describe("bench/clients.mjs", () => {
  it("--quick ends with one JSON line: the four ratios and every figure, or the reason a part was skipped", async () => {
    const before = redisFolders()
    const result = await runNode(["bench/clients.mjs", "--quick", "--requests", "20"], 120_000)
    expect(result.stderr).not.toMatch(/Error/)
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report).toMatchObject({ bench: "clients", quick: true, requests: 20, runs: 1, transports: ["node:net", "Duplex"] })
    for (const key of ["undiciTimeVsNet", "undiciCpuVsNet", "ioredisTimeVsNet", "ioredisCpuVsNet"]) expect(key in report, key).toBe(true)

    expectResults(report["undici"] as Record<string, unknown>, 20)
    expect(report["undiciTimeVsNet"]).toBeTypeOf("number")
    expect(report["undiciCpuVsNet"]).toBeTypeOf("number")

    const ioredis = report["ioredis"] as Record<string, unknown>
    if (benchRedisMissing !== undefined) {
      console.warn(`bench/clients.mjs: the ioredis part was skipped: ${String(ioredis["skipped"])}`)
      expect(ioredis["skipped"]).toBeTypeOf("string")
      expect(report["ioredisTimeVsNet"]).toBeNull()
      expect(report["ioredisCpuVsNet"]).toBeNull()
    } else {
      expect(ioredis["server"]).toMatch(/^redis-server \d+\.\d+/)
      expectResults(ioredis, 20)
      expect(report["ioredisTimeVsNet"]).toBeTypeOf("number")
      expect(report["ioredisCpuVsNet"]).toBeTypeOf("number")
    }
    // The bench's redis-server stopped and its folder removed.
    expect(redisFolders()).toEqual(before)
  }, 150_000)
})
