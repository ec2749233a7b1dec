/**
 * The scale benchmark runs end to end (--quick: N = 200, every server once) and ends with its JSON line: a row
 * per server with every figure, the ratios against node:net, and the churn section. Only the shape is checked:
 * timings and sizes are never asserted.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { buildDist, runNode } from "./support/node.js"

beforeAll(buildDist, 240_000)

const servers = ["node:net", "Listener.serve", "Listener.serveChunks", "Listener.serveChunks (Effect 4)", "PlatformSocketServer", "NodeSocketServer"]
const figures = [
  "connected",
  "connectErrors",
  "accepted",
  "heapPerConnBytes",
  "rssPerConnBytes",
  "roundMs",
  "p50Us",
  "p99Us",
  "serverCpuUsPerConn",
  "served",
  "lost",
  "heapPerConnVsNet",
  "rssPerConnVsNet",
  "serverCpuPerConnVsNet"
]

describe("bench/scale.mjs", () => {
  it("--quick ends with one JSON line holding every server's figures", async () => {
    const result = await runNode(["bench/scale.mjs", "--quick"], 240_000)
    expect(result.stderr).not.toMatch(/Error/)
    expect(result.code).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    const report = JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>
    expect(report).toMatchObject({ bench: "scale", quick: true, ns: [200], requestBytes: 16, servers })
    const rows = report["results"] as ReadonlyArray<Record<string, unknown>>
    expect(rows.map((r) => `${String(r["server"])}@${String(r["n"])}`)).toEqual(servers.map((s) => `${s}@200`))
    for (const row of rows) {
      for (const key of figures) expect(typeof row[key], `${String(row["server"])} ${key}`).toBe("number")
      // acceptMs is null when the server never ran a handler for every connection
      expect(["number", "object"], `${String(row["server"])} acceptMs`).toContain(typeof row["acceptMs"])
    }
    expect(Array.isArray(report["skipped"])).toBe(true)
    // The churn section: bench/serve-cost.mjs's rows at each concurrency, or the reason it was skipped.
    const churn = report["churn"] as Record<string, unknown>
    if (typeof churn["skipped"] === "string") {
      console.warn(`bench/scale.mjs: the churn section was skipped: ${churn["skipped"]}`)
    } else {
      const churnRows = churn["results"] as ReadonlyArray<Record<string, unknown>>
      expect(churnRows.map((r) => String(r["server"]))).toEqual(expect.arrayContaining(["node:net", "Listener/receive"]))
      for (const row of churnRows) {
        for (const key of ["concurrency", "serverCpuUsPerConn", "serverCpuPerConnVsNet", "errors"]) {
          expect(typeof row[key], `churn ${String(row["server"])} ${key}`).toBe("number")
        }
      }
    }
  }, 300_000)
})
