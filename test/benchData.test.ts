/**
 * The data-path benchmark runs end to end (--quick, tiny sizes) and ends with its JSON line, with the Effect 4
 * front-end's figures under `effect4` (or the reason they were skipped). Only the shape is checked: timings are
 * never asserted.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { buildDist, runNode } from "./support/node.js"

beforeAll(buildDist, 240_000)

describe("bench/data.mjs", () => {
  it("--quick ends with one JSON line holding the ratios and every client's figures", async () => {
    const result = await runNode(["bench/data.mjs", "--quick", "--rtt", "200", "--mib", "2"], 120_000)
    expect(result.stderr).not.toMatch(/Error/)
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report).toMatchObject({ bench: "data", quick: true, roundTrips: 200, rttBytes: 32, bulkMiB: 2 })
    for (const key of ["rttVsNet", "platformRttVsNodeSocket", "sendVsNet", "receiveVsNet", "cpuPerRoundTripVsNet", "duplexRttVsNet", "duplexCpuPerRoundTripVsNet"]) {
      expect(typeof report[key], key).toBe("number")
    }
    const results = report["results"] as ReadonlyArray<Record<string, Record<string, unknown>>>
    const clients = results.map((r) => String(r["client"]))
    for (const client of ["node:net", "NodeSocket", "Socket", "PlatformSocket"]) expect(clients).toContain(client)
    for (const r of results) {
      expect(typeof r["rtt"]?.["perSec"]).toBe("number")
      expect(typeof r["rtt"]?.["cpuUsPerRoundTrip"]).toBe("number")
      for (const kind of ["send", "receive"]) {
        for (const key of ["mibPerSec", "cpuMs", "cpuUsPer64KiB"]) expect(typeof r[kind]?.[key], `${kind} ${key}`).toBe("number")
      }
    }
    // The Effect 4 front-end, same run (a Node 22 child against the same peer), or the reason it was skipped.
    const effect4 = report["effect4"] as Record<string, unknown>
    const effect4Keys = ["effect4RttVsNet", "effect4SendVsNet", "effect4ReceiveVsNet", "effect4RttVsEffect3"]
    for (const key of effect4Keys) expect(key in report, key).toBe(true)
    if (typeof effect4["skipped"] === "string") {
      console.warn(`bench/data.mjs: the Effect 4 part was skipped: ${effect4["skipped"]}`)
      for (const key of effect4Keys) expect(report[key], key).toBeNull()
      return
    }
    expect(effect4).toMatchObject({ bench: "data", quick: true, roundTrips: 200, rttBytes: 32, bulkMiB: 2 })
    expect(String(effect4["node"])).toMatch(/^v2[2-9]\./)
    expect(String(effect4["effect"])).toMatch(/^4\./)
    for (const key of effect4Keys) expect(typeof report[key], key).toBe("number")
    const effect4Results = effect4["results"] as ReadonlyArray<Record<string, Record<string, unknown>>>
    expect(effect4Results.map((r) => String(r["client"]))).toEqual(["node:net", "Socket (Effect 4)", "PlatformSocket (Effect 4)"])
    for (const r of effect4Results) {
      expect(typeof r["rtt"]?.["perSec"]).toBe("number")
      for (const kind of ["send", "receive"]) expect(typeof r[kind]?.["mibPerSec"], kind).toBe("number")
    }
  }, 150_000)

  it("--no-effect4 says so in the JSON and leaves the Effect 4 ratios null", async () => {
    const result = await runNode(["bench/data.mjs", "--quick", "--rtt", "50", "--mib", "1", "--no-effect4", "--clients", "node:net,Socket"], 120_000)
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report["effect4"]).toEqual({ skipped: "--no-effect4" })
    expect(report["effect4RttVsEffect3"]).toBeNull()
  }, 150_000)
})
