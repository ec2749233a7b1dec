/**
 * The soak (bench/soak.mjs --short) runs end to end: churn with interruption and timeouts, a mass abort at
 * layer close, GC under load, accepts with interruptions and serves with receive stopped at random. It must exit 0, and its last line (JSON) must show descriptors and native
 * allocations back to baseline, nothing pending, no duplicate completion. Timings are printed, not asserted
 * (the abort time only against the script's own generous bound).
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { Stats } from "../packages/effect-connectex/src/Iocp.js"
import { buildDist, runNode } from "./support/node.js"

beforeAll(buildDist, 240_000)


describe.skipIf(process.platform !== "linux")("bench/soak.mjs --short", () => {
  it("exits 0 and ends with descriptors and allocations back to baseline", async () => {
    const result = await runNode(["--expose-gc", "bench/soak.mjs", "--short"], 60_000)
    const lines = result.stdout.trimEnd().split("\n")
    const last = lines[lines.length - 1] ?? ""
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
    const report = JSON.parse(last) as {
      readonly ok: boolean
      readonly failed: ReadonlyArray<string>
      readonly fds: { readonly before: number; readonly after: number }
      readonly allocations: { readonly before: number; readonly after: number }
      readonly peakRssMB: number
      readonly churn: { readonly operations: number; readonly stats: Stats; readonly fds: { readonly before: number; readonly after: number } }
      readonly mass: { readonly operations: number; readonly pendingAtClose: number; readonly allAbortedMs: number; readonly outcomes: Record<string, number>; readonly stats: Stats }
      readonly gc: { readonly connections: number; readonly collections: { readonly major: number; readonly minor: number }; readonly stats: Stats }
      readonly accepts: { readonly operations: number; readonly stats: Stats }
      readonly serves: { readonly rounds: number; readonly handled: number; readonly stats: Stats }
    }
    expect(report.ok).toBe(true)
    expect(report.failed).toEqual([])
    expect(report.fds.after).toBe(report.fds.before)
    expect(report.allocations.after).toBe(report.allocations.before)
    expect(report.churn.operations).toBeGreaterThanOrEqual(1_000)
    expect(report.churn.fds.after).toBe(report.churn.fds.before)
    expect(report.serves.rounds).toBeGreaterThanOrEqual(50)
    expect(report.serves.handled).toBeGreaterThan(0)
    for (const stats of [report.churn.stats, report.mass.stats, report.gc.stats, report.accepts.stats, report.serves.stats]) {
      expect(stats.pending).toBe(0)
      expect(stats.duplicates).toBe(0)
      expect(stats.submitted).toBe(stats.completed)
      expect(stats.sockets).toBe(0)
    }
    expect(report.mass.stats.liveAllocations).toBe(0)
    expect(report.mass.pendingAtClose).toBe(report.mass.operations)
    expect(report.mass.outcomes).toEqual({ WSA_OPERATION_ABORTED: report.mass.operations })
    expect(report.gc.collections.major).toBeGreaterThan(0)
    expect(report.gc.collections.minor).toBeGreaterThan(0)
    expect(report.peakRssMB).toBeGreaterThan(0)
  }, 60_000)
})
