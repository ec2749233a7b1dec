/**
 * bench/connect-effect4.mjs runs end to end (tiny N) against the built package (scripts/test-effect4.sh builds
 * it first) and ends with the JSON line of bench/connect.mjs's shape. Timings are never asserted.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))

describe("bench/connect-effect4.mjs", () => {
  it("--quick ends with one JSON line holding every figure, for node:net and ConnectEx (Effect 4)", async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["bench/connect-effect4.mjs", "--quick", "--n", "200"], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? 1, stdout, stderr }))
    })
    expect(stderr).not.toMatch(/Error/)
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report).toMatchObject({ bench: "connect", n: 200, quick: true, payloadBytes: 64, effect: "4.1.0" })
    expect(typeof report["ratioVsNet"]).toBe("number")
    expect(typeof report["cpuRatioVsNet"]).toBe("number")
    const results = report["results"] as ReadonlyArray<Record<string, unknown>>
    expect(results.map((r) => `${String(r["client"])}@${String(r["concurrency"])}`).sort()).toEqual(
      ["ConnectEx (Effect 4)@1", "ConnectEx (Effect 4)@64", "node:net@1", "node:net@64"]
    )
    for (const r of results) {
      expect(r["errors"]).toBe(0)
      for (const key of ["connPerSec", "p50Us", "p99Us", "meanUs", "littleC", "cpuUsPerConn"]) {
        expect(typeof r[key], `${String(r["client"])} ${key}`).toBe("number")
      }
      // Little's law, not a timing: latency runs from the moment a connection is asked for, so conn/s x mean
      // latency comes back as C (never above it; well above a quarter of it unless queueing is left out)
      const c = Number(r["concurrency"])
      expect(Number(r["littleC"]), `${String(r["client"])} C=${c}`).toBeLessThanOrEqual(c * 1.01 + 0.1)
      expect(Number(r["littleC"]), `${String(r["client"])} C=${c}`).toBeGreaterThan(c / 4)
    }
    expect(typeof report["littleLawWorst"]).toBe("number")
  }, 150_000)
})
