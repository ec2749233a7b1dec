/**
 * The connection benchmark runs end to end (tiny N) and ends with its JSON line. Timings are never asserted.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { buildDist, runNode } from "./support/node.js"

beforeAll(buildDist, 240_000)

/**
 * Not a timing: every client's latency runs from the moment its connection was asked for, so the latencies
 * add up to the slots' busy time and conn/s x mean latency comes back as C, never above it (nothing counted
 * twice) and, at this N, well above a quarter of it (a clock that starts when a fiber first runs leaves the
 * queueing out: ConnectEx at C = 64 then gave about 1).
 */
const expectLittlesLaw = (rows: ReadonlyArray<Record<string, unknown>>) => {
  for (const r of rows) {
    const c = Number(r["concurrency"])
    const row = `${String(r["client"])} -> ${String(r["server"])} C=${c}: conn/s x mean = ${String(r["littleC"])}`
    expect(Number(r["littleC"]), row).toBeLessThanOrEqual(c * 1.01 + 0.1)
    expect(Number(r["littleC"]), row).toBeGreaterThan(c / 4)
  }
}

describe("bench/connect.mjs", () => {
  it("--quick ends with one JSON line holding every figure", async () => {
    const result = await runNode(["bench/connect.mjs", "--quick", "--n", "200"], 120_000)
    expect(result.stderr).not.toMatch(/Error/)
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report).toMatchObject({ bench: "connect", n: 200, quick: true, payloadBytes: 64 })
    expect(typeof report["ratioVsNet"]).toBe("number")
    expect(typeof report["cpuRatioVsNet"]).toBe("number")
    const results = report["results"] as ReadonlyArray<Record<string, unknown>>
    expect(results.map((r) => `${String(r["client"])}@${String(r["concurrency"])}`).sort()).toEqual(
      ["ConnectEx@1", "ConnectEx@64", "NodeSocket@1", "NodeSocket@64", "node:net@1", "node:net@64"]
    )
    for (const r of results) {
      for (const key of ["connPerSec", "p50Us", "p99Us", "meanUs", "littleC", "cpuUsPerConn", "errors"]) {
        expect(typeof r[key], `${String(r["client"])} ${key}`).toBe("number")
      }
    }
    expect(typeof report["littleLawWorst"]).toBe("number")
    expectLittlesLaw([...results, ...(report["serverResults"] as ReadonlyArray<Record<string, unknown>>)])
    // The server column: our Listener, and on Linux the driver-only server (no Effect) for the CPU split.
    expect(typeof report["serverCpuRatio"]).toBe("number")
    const servers = (report["serverResults"] as ReadonlyArray<Record<string, unknown>>).map((r) => String(r["server"]))
    expect(servers).toContain("Listener")
    if (process.platform === "linux") {
      expect(servers).toContain("driver only")
      expect(typeof report["driverServerCpuRatio"]).toBe("number")
    }
    // The Effect 4 front-end in the same run (a Node 22 child), or the reason it was skipped.
    const effect4 = report["effect4"] as Record<string, unknown>
    const effect4Keys = ["effect4RatioVsNet", "effect4CpuRatioVsNet", "effect4ConnPerSecVsEffect3", "effect4CpuVsEffect3"]
    for (const key of effect4Keys) expect(key in report, key).toBe(true)
    if (typeof effect4["skipped"] === "string") {
      console.warn(`bench/connect.mjs: the Effect 4 part was skipped: ${effect4["skipped"]}`)
      for (const key of effect4Keys) expect(report[key], key).toBeNull()
    } else {
      for (const key of effect4Keys) expect(typeof report[key], key).toBe("number")
    }
  }, 150_000)
})
