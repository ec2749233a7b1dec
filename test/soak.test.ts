/**
 * The soak (bench/soak.mjs --short) runs end to end: churn with interruption and timeouts, a mass abort at
 * layer close, GC under load, accepts with interruptions, serves with receive stopped at random, the shutdown
 * trials (servers and clients of every kind stopped at random moments by interruption, scope close and layer
 * close) and the idle section (connections served, then all closed by the server's scope). It must exit 0, and
 * its last line (JSON) must show descriptors and native allocations back to baseline, nothing pending, no
 * duplicate completion. Timings are printed, not asserted (the stops and the aborts only against the script's
 * own bounds).
 *
 * Under Wine (npm run test:windows -- test/soak.test.ts) the same run drives the Windows driver; there is no
 * /proc/self/fd, so the descriptor counts are null and only the port's own counts (sockets, allocations,
 * pending operations) are checked.
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { Stats } from "../packages/effect-connectex/src/Iocp.js"
import { buildDist, runNode } from "./support/node.js"

beforeAll(buildDist, 240_000)

type Fds = { readonly before: number | null; readonly after: number | null }

interface Distribution {
  readonly stops: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  readonly maxMs: number | null
  readonly buckets: Record<string, number>
}

interface IdleRound {
  readonly form: "serve" | "serveChunks"
  readonly connected: number
  readonly served: number
  readonly closeMs: number
  readonly clientsClosed: number
  readonly serveExit: string
  readonly stats: Stats
  readonly allocations: { readonly before: number; readonly after: number }
  readonly fds: Fds
}

interface Report {
  readonly ok: boolean
  readonly failed: ReadonlyArray<string>
  readonly platform: string
  readonly fds: Fds
  readonly allocations: { readonly before: number; readonly after: number }
  readonly peakRssMB: number
  readonly churn: { readonly operations: number; readonly stats: Stats; readonly fds: Fds }
  readonly mass: { readonly operations: number; readonly pendingAtClose: number; readonly allAbortedMs: number; readonly outcomes: Record<string, number>; readonly stats: Stats }
  readonly gc: { readonly connections: number; readonly collections: { readonly major: number; readonly minor: number }; readonly stats: Stats }
  readonly accepts: { readonly operations: number; readonly stats: Stats }
  readonly serves: { readonly rounds: number; readonly handled: number; readonly stats: Stats }
  readonly shutdown: {
    readonly trials: number
    readonly boundMs: number
    readonly hangs: number
    readonly problems: ReadonlyArray<string>
    readonly stopMs: { readonly interrupt: Distribution; readonly scope: Distribution; readonly layer: Distribution }
    readonly statesAtStop: Record<string, number>
    readonly trialsBy: Record<string, Record<string, number>>
    readonly fds: Fds
  }
  readonly idle: { readonly connections: number; readonly skipped?: string; readonly rounds: ReadonlyArray<IdleRound> }
}

const timeout = process.platform === "win32" ? 600_000 : 120_000

describe.skipIf(process.platform !== "linux" && process.platform !== "win32")("bench/soak.mjs --short", () => {
  it("exits 0 and ends with descriptors and allocations back to baseline", async () => {
    const result = await runNode(["--expose-gc", "bench/soak.mjs", "--short"], timeout - 10_000)
    const lines = result.stdout.trimEnd().split("\n")
    const last = lines[lines.length - 1] ?? ""
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
    const report = JSON.parse(last) as Report
    expect(report.ok).toBe(true)
    expect(report.failed).toEqual([])
    expect(report.platform).toBe(process.platform)
    // descriptors are counted where /proc/self/fd exists (Linux); null elsewhere
    for (const fds of [report.fds, report.churn.fds, report.shutdown.fds, ...report.idle.rounds.map((r) => r.fds)]) {
      if (process.platform === "linux") expect(fds.before).toBeGreaterThan(0)
      expect(fds.after).toBe(fds.before)
    }
    expect(report.allocations.after).toBe(report.allocations.before)
    expect(report.churn.operations).toBeGreaterThanOrEqual(1_000)
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

    // shutdown: every trial ran, every stop within the bound, nothing left (each trial's baseline is checked by
    // the script: any miss is a problem), every kind of stop, layer and state met
    const { shutdown } = report
    expect(shutdown.trials).toBeGreaterThanOrEqual(300)
    expect(shutdown.hangs).toBe(0)
    expect(shutdown.problems).toEqual([])
    for (const kind of ["interrupt", "scope", "layer"] as const) {
      const stops = shutdown.stopMs[kind]
      expect(stops.stops).toBeGreaterThan(0)
      expect(stops.buckets.overBound).toBe(0)
      expect(stops.maxMs).toBeLessThanOrEqual(shutdown.boundMs)
    }
    expect(shutdown.stopMs.interrupt.stops + shutdown.stopMs.scope.stops + shutdown.stopMs.layer.stops).toBe(shutdown.trials)
    expect(Object.keys(shutdown.trialsBy.layer ?? {}).sort()).toEqual(["runtime", "scope"])
    expect(Object.keys(shutdown.trialsBy.clientsVsLimit ?? {}).sort()).toEqual(["at", "below", "manyOver", "oneOver", "unbounded"])
    expect(Object.keys(shutdown.trialsBy.netClient ?? {}).sort()).toEqual(["halfClosing", "quiet", "resetting", "sending", "silent"])
    for (const state of ["accepting", "waitingForSlot", "handlerReceiving", "handlerSending", "idleClients", "dialing", "duplexMidWrite", "runMidRead"]) {
      expect(shutdown.statesAtStop[state], state).toBeGreaterThan(0)
    }

    // idle: every connection served, then closed by the server's scope, everything back at baseline
    const { idle } = report
    expect(idle.connections).toBeGreaterThanOrEqual(500)
    if (idle.skipped === undefined) {
      expect(idle.rounds.map((r) => r.form)).toEqual(["serve", "serveChunks"])
      for (const round of idle.rounds) {
        expect(round.connected).toBe(idle.connections)
        expect(round.served).toBe(idle.connections)
        expect(round.clientsClosed).toBe(idle.connections)
        expect(round.closeMs).toBeGreaterThanOrEqual(0)
        expect(round.serveExit).toBe("interrupted")
        expect(round.stats.pending).toBe(0)
        expect(round.stats.sockets).toBe(0)
        expect(round.stats.duplicates).toBe(0)
        expect(round.stats.submitted).toBe(round.stats.completed)
        expect(round.allocations.after).toBe(round.allocations.before)
      }
    } else {
      expect(idle.skipped).toMatch(/descriptor limit/)
    }
  }, timeout)
})
