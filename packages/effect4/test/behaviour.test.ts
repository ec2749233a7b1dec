/**
 * The core behaviour cases against the Effect 4 front-end, on real loopback sockets (posix driver).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { TestClock } from "effect/testing"
import { ConnectEx, Iocp, Metrics, Socket, SocketAddress, WsaError } from "../src/index.js"
import { echoServer, pendingTarget, refusedPort } from "./support/peers.js"

const text = (s: string) => new TextEncoder().encode(s)
const decode = (b: Uint8Array) => new TextDecoder().decode(b)

/** Each test gets a fresh port (layer), so that its stats are its own. */
const live = <A, E>(effect: Effect.Effect<A, E, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
  effect.pipe(Effect.scoped, Effect.provide(ConnectEx.layer))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

const refusedCount = Metric.value(Metric.withAttributes(Metrics.connectFailures, { error: "WSAECONNREFUSED" }))

describe.each(["ipv4", "ipv6"] as const)("%s", (family) => {
  const wildcard = SocketAddress.wildcard(family)

  it.live("open, bind, connect, send and receive against an echo server", () =>
    live(Effect.gen(function*() {
      const server = yield* echoServer(family)
      assert.strictEqual(yield* ConnectEx.driverName, "posix")
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      const { bytesSent } = yield* ConnectEx.connect(socket, server, { data: text("hello ") })
      assert.strictEqual(bytesSent, 6)
      assert.strictEqual(yield* Socket.send(socket, text("world")), 5)
      let received = ""
      while (received.length < 11) received += decode(yield* Socket.receive(socket, 1024))
      assert.strictEqual(received, "hello world")
      const peer = yield* Socket.peerAddress(socket)
      assert.isTrue(SocketAddress.equals(peer, server))
      assert.notStrictEqual((yield* Socket.localAddress(socket)).port, 0)
      assert.isTrue(Option.isSome(yield* Socket.connectTime(socket)))
      yield* Socket.shutdown(socket, "send")
      assert.strictEqual((yield* Socket.receive(socket, 1024)).byteLength, 0) // the echo server ends too
    })))

  it.live("a refused connect is WSAECONNREFUSED, and the same socket may connect again", () =>
    live(Effect.gen(function*() {
      const refused = yield* refusedPort(family)
      const server = yield* echoServer(family)
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      const error = yield* Effect.flip(ConnectEx.connect(socket, refused))
      assert.strictEqual(error._tag, "WSAECONNREFUSED")
      assert.strictEqual(error.code, 10061)
      assert.isTrue(WsaError.isRetryable(error))
      assert.isTrue(error instanceof WsaError.WSAECONNREFUSED)
      yield* ConnectEx.connect(socket, server)
    })))

  it.live("connect on an unbound socket is WSAEINVAL; on a connected one WSAEISCONN", () =>
    live(Effect.gen(function*() {
      const server = yield* echoServer(family)
      const socket = yield* Socket.open({ family })
      const unbound = yield* Effect.flip(ConnectEx.connect(socket, server))
      assert.strictEqual(unbound._tag, "WSAEINVAL")
      yield* Socket.bind(socket, wildcard)
      const again = yield* Effect.flip(Socket.bind(socket, wildcard))
      assert.strictEqual(again._tag, "WSAEINVAL")
      yield* ConnectEx.connect(socket, server)
      const connected = yield* Effect.flip(ConnectEx.connect(socket, server))
      assert.strictEqual(connected._tag, "WSAEISCONN")
    })))

  it.live("connect to the unspecified address is WSAEADDRNOTAVAIL", () =>
    live(Effect.gen(function*() {
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      const error = yield* Effect.flip(ConnectEx.connect(socket, SocketAddress.wildcard(family)))
      assert.strictEqual(error._tag, "WSAEADDRNOTAVAIL")
    })))

  it.live("a timeout cancels the pending connect: TimeoutError, then pending 0 and liveAllocations 0", () =>
    live(Effect.gen(function*() {
      const target = yield* pendingTarget(family)
      const exit = yield* Effect.exit(Effect.scoped(ConnectEx.dial(target, { timeout: "200 millis" })))
      const error = failureOf(exit)
      assert.isTrue(Cause.isTimeoutError(error), `expected a TimeoutError, got ${String(error)}`)
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.sockets, 0)
      assert.strictEqual(stats.liveAllocations, 0)
      assert.strictEqual(stats.duplicates, 0)
    })))

  it.live("interrupting a pending connect spends the socket and frees everything", () =>
    live(Effect.gen(function*() {
      const target = yield* pendingTarget(family)
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      const fiber = yield* Effect.forkChild(ConnectEx.connect(socket, target))
      yield* Effect.sleep("50 millis")
      assert.strictEqual((yield* Iocp.stats).pending, 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual((yield* Iocp.stats).pending, 0)
      const after = yield* Effect.flip(ConnectEx.connect(socket, target))
      assert.notStrictEqual(after._tag, "WSAEALREADY")
    })))

  it.live("dial retries a refused connect with a real short schedule, stepping only retryable errors", () =>
    live(Effect.gen(function*() {
      const refused = yield* refusedPort(family)
      const before = (yield* refusedCount).count
      const error = yield* Effect.flip(Effect.scoped(ConnectEx.dial(refused, { retry: Schedule.max([Schedule.spaced("10 millis"), Schedule.recurs(2)]) })))
      assert.strictEqual(error._tag, "WSAECONNREFUSED")
      assert.strictEqual((yield* refusedCount).count - before, 3) // the first attempt and two retries

      const addrBefore = (yield* Metric.value(Metric.withAttributes(Metrics.connectFailures, { error: "WSAEADDRNOTAVAIL" }))).count
      const notRetryable = yield* Effect.flip(Effect.scoped(ConnectEx.dial(SocketAddress.wildcard(family), { retry: Schedule.recurs(5) })))
      assert.strictEqual(notRetryable._tag, "WSAEADDRNOTAVAIL")
      const addrAfter = (yield* Metric.value(Metric.withAttributes(Metrics.connectFailures, { error: "WSAEADDRNOTAVAIL" }))).count
      assert.strictEqual(addrAfter - addrBefore, 1) // the schedule was not stepped
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.sockets, 0)
      assert.strictEqual(stats.liveAllocations, 0)
    })))

  it.effect("dial's retry schedule sleeps on the TestClock", () =>
    live(Effect.gen(function*() {
      const refused = yield* refusedPort(family)
      const before = (yield* refusedCount).count
      const fiber = yield* Effect.forkChild(Effect.scoped(ConnectEx.dial(refused, { retry: ConnectEx.retryPolicy(2) })))
      // The first attempt fails at once (loopback); then the dial sleeps 50 ms, then 100 ms, on the TestClock.
      yield* TestClock.withLive(Effect.sleep("100 millis"))
      assert.strictEqual((yield* refusedCount).count - before, 1)
      yield* TestClock.adjust("50 millis")
      yield* TestClock.withLive(Effect.sleep("100 millis"))
      assert.strictEqual((yield* refusedCount).count - before, 2)
      yield* TestClock.adjust("100 millis")
      const exit = yield* Fiber.await(fiber)
      assert.strictEqual(failureOf(exit)?._tag, "WSAECONNREFUSED")
      assert.strictEqual((yield* refusedCount).count - before, 3)
    })))

  it.live("closing the layer aborts a pending connect with WSA_OPERATION_ABORTED", () =>
    Effect.gen(function*() {
      const target = yield* pendingTarget(family)
      const layerScope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(ConnectEx.layer, layerScope)
      const pending = Effect.gen(function*() {
        const socket = yield* Socket.open({ family })
        yield* Socket.bind(socket, wildcard)
        return yield* ConnectEx.connect(socket, target)
      }).pipe(Effect.scoped, Effect.provide(context))
      const fiber = yield* Effect.forkChild(pending)
      yield* Effect.sleep("50 millis")
      const port = yield* Effect.provide(Iocp.stats, context)
      assert.strictEqual(port.pending, 1)
      yield* Scope.close(layerScope, Exit.void)
      const exit = yield* Fiber.await(fiber)
      const error = failureOf(exit)
      assert.strictEqual(error?._tag, "WSA_OPERATION_ABORTED")
      assert.strictEqual(error?.code, 995)
      // After the layer is gone, the socket functions answer WSANOTINITIALISED.
      const late = yield* Effect.flip(Effect.scoped(Effect.provide(Socket.open({ family }), context)))
      assert.strictEqual(late._tag, "WSANOTINITIALISED")
    }).pipe(Effect.scoped))
})
