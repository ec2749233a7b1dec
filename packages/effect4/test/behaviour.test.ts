/**
 * The core behaviour cases against the Effect 4 front-end, on two backends with one helper each (as the
 * repository's packages/effect-connectex/test/behaviour.test.ts does for Effect 3): the platform driver with real loopback peers
 * (posix under Node 22), and the core's simulated network through `ConnectEx.layerSimulated`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { TestClock } from "effect/testing"
import { ConnectEx, Iocp, Metrics, Simulated, Socket, SocketAddress, WsaError } from "../src/index.js"
import { echoServer, pendingTarget, refusedPort } from "./support/peers.js"

const text = (s: string) => new TextEncoder().encode(s)
const decode = (b: Uint8Array) => new TextDecoder().decode(b)

type Peer = (family: SocketAddress.Family) => Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>

interface Backend {
  readonly name: string
  /** what `ConnectEx.driverName` answers on it */
  readonly driver: "posix" | "simulated"
  readonly layer: Layer.Layer<ConnectEx.ConnectEx | Iocp.Iocp, WsaError.WsaError>
  /** a peer that sends back what it receives and ends when it saw the end */
  readonly echo: Peer
  /** an address that refuses (WSAECONNREFUSED) for as long as the scope lasts */
  readonly refused: Peer
  /** an address whose connects stay pending until cancelled */
  readonly pending: Peer
}

// Simulated peers live in the documentation ranges: no packet leaves the process.
const simulatedPeers = {
  ipv4: { echo: SocketAddress.ipv4("198.51.100.7", 7), refused: SocketAddress.ipv4("198.51.100.9", 9), pending: SocketAddress.ipv4("198.51.100.80", 80) },
  ipv6: { echo: SocketAddress.ipv6("2001:db8::7", 7), refused: SocketAddress.ipv6("2001:db8::9", 9), pending: SocketAddress.ipv6("2001:db8::80", 80) }
}

const network = Simulated.network(
  Object.fromEntries(
    (["ipv4", "ipv6"] as const).flatMap((family) => [
      [SocketAddress.format(simulatedPeers[family].echo), Simulated.accept({ echo: true })],
      [SocketAddress.format(simulatedPeers[family].refused), Simulated.refuse()],
      [SocketAddress.format(simulatedPeers[family].pending), Simulated.blackhole()]
    ])
  )
)

const backends: ReadonlyArray<Backend> = [
  {
    name: "platform driver, loopback peers",
    driver: "posix",
    layer: ConnectEx.layer,
    echo: (family) => echoServer(family),
    refused: (family) => refusedPort(family),
    pending: (family) => pendingTarget(family)
  },
  {
    name: "simulated network",
    driver: "simulated",
    layer: ConnectEx.layerSimulated(network),
    echo: (family) => Effect.succeed(simulatedPeers[family].echo),
    refused: (family) => Effect.succeed(simulatedPeers[family].refused),
    pending: (family) => Effect.succeed(simulatedPeers[family].pending)
  }
]

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

const refusedCount = Metric.value(Metric.withAttributes(Metrics.connectFailures, { error: "WSAECONNREFUSED" }))

/** Lets forked fibers run until the port has `n` operations pending (no clock involved). */
const untilPending = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < n; i++) yield* Effect.yieldNow
    assert.strictEqual((yield* Iocp.stats).pending, n)
  })

describe.each(backends)("shared behaviour: $name", (backend) => {
  /** Each test gets a fresh port (layer), so that its stats are its own. */
  const live = <A, E>(effect: Effect.Effect<A, E, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    effect.pipe(Effect.scoped, Effect.provide(backend.layer))

describe.each(["ipv4", "ipv6"] as const)("%s", (family) => {
  const echoServer = backend.echo
  const refusedPort = backend.refused
  const pendingTarget = backend.pending
  const wildcard = SocketAddress.wildcard(family)

  it.live("open, bind, connect, send and receive against an echo server", () =>
    live(Effect.gen(function*() {
      const server = yield* echoServer(family)
      assert.strictEqual(yield* ConnectEx.driverName, backend.driver)
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
      const context = yield* Layer.buildWithScope(backend.layer, layerScope)
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
  it.live("pending -> WSAEALREADY; interruption cancels and waits; the cancelled socket is spent (WSAEINVAL)", () =>
    live(Effect.gen(function*() {
      const pending = yield* pendingTarget(family)
      const target = yield* echoServer(family)
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      const fiber = yield* Effect.forkChild(ConnectEx.connect(socket, pending))
      yield* untilPending(1)
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(socket, pending)))._tag, "WSAEALREADY")
      yield* Fiber.interrupt(fiber)
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.duplicates, 0)
      // Windows leaves a socket whose ConnectEx was cancelled unusable: every backend says so.
      const spent = yield* Effect.flip(ConnectEx.connect(socket, target))
      assert.strictEqual(spent._tag, "WSAEINVAL")
      assert.include(spent.message, "WSA_OPERATION_ABORTED")
    })))

  it.live("family mismatch -> WSAEAFNOSUPPORT; a closed socket -> WSAENOTSOCK; a second bind -> WSAEINVAL", () =>
    live(Effect.gen(function*() {
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      const other = family === "ipv4" ? SocketAddress.ipv6("::1", 80) : SocketAddress.ipv4("127.0.0.1", 80)
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(socket, other)))._tag, "WSAEAFNOSUPPORT")
      assert.strictEqual((yield* Effect.flip(Socket.bind(socket, wildcard)))._tag, "WSAEINVAL")
      const closed = yield* Effect.scoped(Effect.tap(Socket.open({ family }), (s) => Socket.bind(s, wildcard)))
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(closed, yield* echoServer(family))))._tag, "WSAENOTSOCK")
    })))

  it.live("shutdown(send): the peer reads to the end and closes; this side still receives; later sends are WSAESHUTDOWN", () =>
    live(Effect.gen(function*() {
      const target = yield* echoServer(family)
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      yield* ConnectEx.connect(socket, target, { data: text("last words") })
      yield* Socket.shutdown(socket, "send")
      let echoed = ""
      while (true) {
        const chunk = yield* Socket.receive(socket, 100)
        if (chunk.length === 0) break
        echoed += decode(chunk)
      }
      assert.strictEqual(echoed, "last words")
      assert.strictEqual((yield* Effect.flip(Socket.send(socket, text("more"))))._tag, "WSAESHUTDOWN")
    })))

  it.effect("connectTime follows the TestClock; None after a disconnect with reuse, and the socket connects again", () =>
    live(Effect.gen(function*() {
      const target = yield* echoServer(family)
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      assert.isTrue(Option.isNone(yield* Socket.connectTime(socket)))
      yield* ConnectEx.connect(socket, target)
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(Option.map(yield* Socket.connectTime(socket), Duration.toSeconds), Option.some(2))
      yield* Socket.disconnect(socket, { reuse: true })
      assert.isTrue(Option.isNone(yield* Socket.connectTime(socket)))
      yield* ConnectEx.connect(socket, target, { data: text("again") })
      assert.strictEqual(decode(yield* Socket.receive(socket, 100)), "again")
    })))

  it.live("after disconnect without reuse: send WSAESHUTDOWN, connect WSAEISCONN", () =>
    live(Effect.gen(function*() {
      const target = yield* echoServer(family)
      const socket = yield* Socket.open({ family })
      yield* Socket.bind(socket, wildcard)
      yield* ConnectEx.connect(socket, target, { data: text("echo me") })
      yield* Socket.disconnect(socket, { reuse: false })
      assert.strictEqual((yield* Effect.flip(Socket.send(socket, text("more"))))._tag, "WSAESHUTDOWN")
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(socket, target)))._tag, "WSAEISCONN")
    })))

  it.live("closing the socket's scope aborts a pending connect with WSA_OPERATION_ABORTED", () =>
    live(Effect.gen(function*() {
      const pending = yield* pendingTarget(family)
      const fiber = yield* Effect.scoped(Effect.gen(function*() {
        const socket = yield* Socket.open({ family })
        yield* Socket.bind(socket, wildcard)
        const fiber = yield* Effect.forkDetach(ConnectEx.connect(socket, pending))
        yield* untilPending(1)
        return fiber
      }))
      assert.strictEqual((yield* Effect.flip(Fiber.join(fiber)))._tag, "WSA_OPERATION_ABORTED")
      assert.strictEqual((yield* Iocp.stats).pending, 0)
    })))
})
})
