/**
 * The data-path benchmark runs end to end (--quick, tiny sizes) and ends with its JSON line. Only the
 * shape is checked: timings are never asserted.
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
    for (const key of ["rttVsNet", "platformRttVsNodeSocket", "sendVsNet", "receiveVsNet", "cpuPerRoundTripVsNet"]) {
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
  }, 150_000)
})
