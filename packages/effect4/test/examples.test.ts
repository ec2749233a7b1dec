/**
 * The examples run: the quick start against a loopback echo server and a refusing port, the simulated-network
 * example on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import { echo, hello } from "../examples/quickstart.js"
import { dark, flaky } from "../examples/simulated.js"
import { echoServer, refusedPort } from "./support/peers.js"

describe("examples/quickstart.ts", () => {
  it.live("hello connects and sends; a refusal is a value", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      assert.strictEqual(yield* hello(server, new TextEncoder().encode("hi")), "connected, sent 2 bytes")
      const refused = yield* refusedPort("ipv4")
      assert.strictEqual(yield* hello(refused, new Uint8Array(0)), "refused (10061): nothing listens there")
    }).pipe(Effect.scoped))

  it.live("echo dials and reads the answer", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      assert.strictEqual(yield* echo(server, "ping"), "ping")
    }).pipe(Effect.scoped))
})

describe("examples/simulated.ts", () => {
  it.effect("flaky: retried on the TestClock; the network saw [10061, 10061, 0]", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(flaky)
      yield* TestClock.adjust("150 millis")
      assert.deepStrictEqual(yield* Fiber.join(fiber), [10061, 10061, 0])
    }))

  it.effect("dark: WSAETIMEDOUT once the TestClock moved 21 s", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(dark)
      yield* TestClock.adjust("21 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "timed out (10060)")
    }))
})

describe("README.md", () => {
  const between = (text: string, start: string, end: string) =>
    text.slice(text.indexOf(start) + start.length, text.indexOf(end)).replace(/^\n+|\n+$/g, "")
  const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8")

  it("shows examples/quickstart.ts and examples/simulated.ts verbatim", () => {
    const readme = read("../README.md")
    assert.include(readme, between(read("../examples/quickstart.ts"), "// --- quickstart ---", "// --- end ---"))
    assert.include(readme, between(read("../examples/simulated.ts"), "// --- simulated ---", "// --- end ---"))
    assert.notInclude(readme, "Not yet in this package")
  })
})
