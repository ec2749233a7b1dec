import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { hello } from "../examples/quickstart.js"
import { echoServer, refusedPort } from "./support/peers.js"

const between = (text: string, start: string, end: string) => text.slice(text.indexOf(start) + start.length, text.indexOf(end)).trim()

describe("README quick start", () => {
  it("the README shows examples/quickstart.ts verbatim", () => {
    const example = between(readFileSync("examples/quickstart.ts", "utf8"), "// --- quickstart ---", "// --- end ---")
    expect(readFileSync("README.md", "utf8")).toContain(example)
  })

  it.scoped("connects and sends, and a refusal is a typed WSAECONNREFUSED", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      expect(yield* hello(peer.address, new TextEncoder().encode("hello"))).toBe("connected, sent 5 bytes")
      expect(yield* hello(yield* refusedPort(), new Uint8Array(1))).toBe("refused (10061): nothing listens there")
    }))
})
