import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ConnectEx } from "effect-connectex"
import { roundTrip } from "../examples/platformChannel.js"
import { makePool } from "../examples/pool.js"
import { connectWithRetry } from "../examples/retry.js"
import { connectWithin } from "../examples/timeout.js"
import { echoServer, pendingTarget, refusedPort, wine } from "./support/peers.js"

// The examples import the package by name (the built dist/), so they run with their own layer.
describe("examples/", () => {
  it.live("retry: connects, or gives up with a typed refusal after the retries", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const peer = yield* echoServer()
        expect(yield* connectWithRetry(peer.address, new Uint8Array(3))).toBe("connected, 3 bytes sent")
        expect(yield* connectWithRetry(yield* refusedPort(), new Uint8Array(3))).toBe("gave up: WSAECONNREFUSED after the retries")
      }).pipe(Effect.provide(ConnectEx.layer))
    ))

  it.live("timeout: a connect that never completes is cancelled", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const target = yield* pendingTarget()
        expect(yield* connectWithin(target, "50 millis")).toBe("no answer within 50ms")
      }).pipe(Effect.provide(ConnectEx.layer))
    ))

  it.live.skipIf(wine !== undefined)("pool: two sockets serve five requests by disconnecting for reuse (not under Wine)", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const peer = yield* echoServer()
        const pool = yield* makePool(peer.address, 2)
        const replies = yield* Effect.forEach([1, 2, 3, 4, 5], (n) => pool.request(new Uint8Array([n])), { concurrency: 2 })
        expect(replies.map((r) => r[0])).toEqual([1, 2, 3, 4, 5])
        expect(peer.received().length).toBe(5)
      }).pipe(Effect.provide(ConnectEx.layer))
    ))

  it.live("platformChannel: the platform's Socket.toChannel over our connection", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const peer = yield* echoServer()
        expect(yield* roundTrip(peer.address, ["Hello", "World"], 10)).toEqual(Option.some("HelloWorld"))
      })
    ))
})
