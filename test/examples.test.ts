import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schedule } from "effect"
import { ConnectEx, Listener, Socket, SocketAddress } from "effect-connectex"
import { platformEchoServer, serveEcho } from "../examples/echoServer.js"
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

  // The layer outside the scope: the servers are interrupted (and their connections closed) before it goes.
  it.live("echoServer: our listener echoes; so does the platform SocketServer version", () =>
    Effect.provide(
      Effect.scoped(Effect.gen(function*() {
        const listener = yield* Listener.listen(SocketAddress.ipv4("127.0.0.1", 0))
        const address = yield* Listener.address(listener)
        yield* Effect.forkScoped(serveEcho(listener))
        const { socket } = yield* ConnectEx.dial(address, { data: new TextEncoder().encode("echo") })
        expect(new TextDecoder().decode(yield* Socket.receive(socket, 100))).toBe("echo")
        // the SocketServer version on a port of its own (taken from a listener closed at once)
        const port = yield* Effect.scoped(Effect.flatMap(Listener.listen(SocketAddress.ipv4("127.0.0.1", 0)), Listener.address)).pipe(
          Effect.map((a) => a.port)
        )
        const target = SocketAddress.ipv4("127.0.0.1", port)
        yield* Effect.forkScoped(platformEchoServer(target))
        const second = yield* ConnectEx.dial(target, { data: new TextEncoder().encode("again"), retry: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(50))) })
        expect(new TextDecoder().decode(yield* Socket.receive(second.socket, 100))).toBe("again")
      })),
      ConnectEx.layer
    ))
})
