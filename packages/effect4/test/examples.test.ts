/**
 * The examples run: the quick start against a loopback echo server and a refusing port, the simulated-network
 * example on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
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
