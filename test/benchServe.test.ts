/**
 * The server-cost benchmark runs end to end (tiny N) and ends with its JSON line: every server it could start,
 * with a rate and a server CPU per connection. Timings are never asserted.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { buildDist, runNode } from "./support/node.js"

beforeAll(buildDist, 240_000)

describe("bench/serve-cost.mjs", () => {
  it("--quick ends with one JSON line holding every server's figures", async () => {
    const result = await runNode(["bench/serve-cost.mjs", "--quick", "--n", "200", "--concurrency", "16"], 120_000)
    expect(result.stderr).not.toMatch(/Error/)
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report).toMatchObject({ bench: "serve-cost", n: 200, concurrency: 16, quick: true })
    if (process.platform !== "linux") return void expect(report["skipped"]).toBe("Linux only")
    const results = report["results"] as ReadonlyArray<Record<string, unknown>>
    const servers = results.map((r) => String(r["server"]))
    for (const server of ["node:net", "Listener/close", "Listener/async", "Listener/receive"]) expect(servers).toContain(server)
    expect(servers).toEqual(expect.arrayContaining(["driver/close", "driver/receive"]))
    for (const r of results) {
      for (const key of ["connPerSec", "serverCpuUsPerConn", "errors"]) expect(typeof r[key], `${String(r["server"])} ${key}`).toBe("number")
    }
  }, 150_000)
})
