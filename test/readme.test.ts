import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { hello } from "../examples/quickstart.js"
import { retryPolicyTest } from "../examples/simulatedRetry.js"
import { echoServer, refusedPort } from "./support/peers.js"

const between = (text: string, start: string, end: string) => text.slice(text.indexOf(start) + start.length, text.indexOf(end)).trim()

describe("README quick start", () => {
  it("the README shows examples/quickstart.ts and examples/simulatedRetry.ts verbatim", () => {
    const readme = readFileSync("README.md", "utf8")
    expect(readme).toContain(between(readFileSync("examples/quickstart.ts", "utf8"), "// --- quickstart ---", "// --- end ---"))
    expect(readme).toContain(between(readFileSync("examples/simulatedRetry.ts", "utf8"), "// --- simulated ---", "// --- end ---"))
    const echo = readFileSync("examples/echoServer.ts", "utf8")
    expect(readme).toContain(between(echo, "// --- echoServer ---", "// --- end ---"))
    expect(readme).toContain(between(echo.slice(echo.indexOf("// --- socketServer ---")), "// --- socketServer ---", "// --- end ---"))
  })

  it.effect("testing a retry policy on the simulated network: refused twice, then connected", () =>
    Effect.gen(function*() {
      expect(yield* retryPolicyTest).toEqual([10061, 10061, 0])
    }))

  it.scoped("connects and sends, and a refusal is a typed WSAECONNREFUSED", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      expect(yield* hello(peer.address, new TextEncoder().encode("hello"))).toBe("connected, sent 5 bytes")
      expect(yield* hello(yield* refusedPort(), new Uint8Array(1))).toBe("refused (10061): nothing listens there")
    }))
})
