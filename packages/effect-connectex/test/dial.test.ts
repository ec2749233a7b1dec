import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref, Schedule, TestClock } from "effect"
import * as net from "node:net"
import { ConnectEx, Iocp, Socket, SocketAddress } from "../src/index.js"
import { echoServer, openDescriptors, pendingTarget, refusedPort } from "../../../test/support/peers.js"
import { driveRetries, text, until } from "../../../test/support/fixtures.js"


describe("ConnectEx.dial", () => {
  it.scoped("binds the wildcard of the destination's family and connects with data (IPv4 and IPv6)", () =>
    Effect.gen(function*() {
      for (const family of ["ipv4", "ipv6"] as const) {
        const peer = yield* echoServer(family)
        const { bytesSent, socket } = yield* ConnectEx.dial(peer.address, { data: text("hi") })
        expect(bytesSent).toBe(2)
        expect(socket.family).toBe(family)
        expect(new TextDecoder().decode(yield* Socket.receive(socket, 10))).toBe("hi")
      }
      expect(yield* ConnectEx.driverName).toBe(process.platform === "win32" ? "windows" : "posix")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("binds the given local address", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const { socket } = yield* ConnectEx.dial(peer.address, { bind: SocketAddress.ipv4("127.0.0.1", 0) })
      expect((yield* Socket.localAddress(socket)).host).toBe("127.0.0.1")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("retries refusals on the schedule (TestClock), then fails with the last WSAECONNREFUSED", () =>
    Effect.gen(function*() {
      const refused = yield* refusedPort()
      const steps = yield* Ref.make(0)
      const retry = Schedule.spaced("1 second").pipe(
        Schedule.intersect(Schedule.recurs(3)),
        Schedule.tapInput(() => Ref.update(steps, (n) => n + 1))
      )
      const fiber = yield* Effect.fork(Effect.flip(ConnectEx.dial(refused, { retry })))
      yield* driveRetries(fiber, "1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("WSAECONNREFUSED")
      expect(yield* Ref.get(steps)).toBe(4)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("a non-retryable error fails at once and never steps the schedule", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const steps = yield* Ref.make(0)
      const retry = Schedule.forever.pipe(Schedule.tapInput(() => Ref.update(steps, (n) => n + 1)))
      const inUse = yield* Effect.flip(ConnectEx.dial(peer.address, { bind: peer.address, retry }))
      expect(inUse._tag).toBe("WSAEADDRINUSE")
      const fault = yield* Effect.flip(ConnectEx.dial(peer.address, { data: "x" as unknown as Uint8Array, retry }))
      expect(fault._tag).toBe("WSAEFAULT")
      const zero = yield* Effect.flip(ConnectEx.dial(SocketAddress.ipv4("0.0.0.0", 80), { retry }))
      expect(zero._tag).toBe("WSAEADDRNOTAVAIL")
      expect(yield* Ref.get(steps)).toBe(0)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("timeout bounds the whole dial: TimeoutException, and nothing is left open", () =>
    Effect.gen(function*() {
      const target = yield* pendingTarget()
      const before = { fds: openDescriptors(), stats: yield* Iocp.stats }
      const fiber = yield* Effect.fork(Effect.flip(Effect.scoped(ConnectEx.dial(target, { timeout: "2 seconds" }))))
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("TimeoutException")
      const after = yield* Iocp.stats
      expect(openDescriptors()).toBe(before.fds)
      expect(after.liveAllocations).toBe(before.stats.liveAllocations)
      expect(after.pending).toBe(0)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.live("rides out a peer that comes up late", () =>
    Effect.scoped(
      Effect.gen(function*() {
        // The port is released at once so the late server can take it; until then it refuses.
        const refused = yield* Effect.scoped(refusedPort())
        const server = net.createServer((c) => c.on("data", (d) => c.write(d)).on("error", () => {}))
        yield* Effect.addFinalizer(() => Effect.sync(() => server.close()))
        const refusals = yield* Ref.make(0)
        const dialing = yield* Effect.fork(ConnectEx.dial(refused, {
          data: text("late"),
          retry: Schedule.spaced("25 millis").pipe(
            Schedule.intersect(Schedule.recurs(100)),
            Schedule.tapInput(() => Ref.update(refusals, (n) => n + 1))
          )
        }))
        // The server comes up once the dial has really been refused twice (a condition, not a fixed delay).
        yield* until(Effect.map(Ref.get(refusals), (n) => n >= 2), "two refusals")
        yield* Effect.async<void, Error>((resume) => {
          server.once("error", (error) => resume(Effect.fail(error)))
          server.listen(refused.port, "127.0.0.1", () => resume(Effect.void))
        })
        const { bytesSent, socket } = yield* Fiber.join(dialing)
        expect(yield* Ref.get(refusals)).toBeGreaterThanOrEqual(2)
        expect(bytesSent).toBe(4)
        expect(new TextDecoder().decode(yield* Socket.receive(socket, 10))).toBe("late")
      }).pipe(Effect.provide(ConnectEx.layer))
    ))

  it.scoped("dial's socket is closed with the caller's scope", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const before = openDescriptors()
      const socket = yield* Effect.scoped(Effect.map(ConnectEx.dial(peer.address), (d) => d.socket))
      expect(openDescriptors()).toBe(before)
      expect((yield* Effect.flip(Socket.send(socket, text("x"))))._tag).toBe("WSAENOTSOCK")
    }).pipe(Effect.provide(ConnectEx.layer)))

  // Live clock: the timeouts are real.
  it.live("a dial that times out or is interrupted closes its socket before it returns, in a long-lived scope", () =>
    Effect.gen(function*() {
      const pending = yield* pendingTarget()
      const before = yield* Iocp.stats
      // Three dials that time out inside one long-lived scope: nothing of theirs may stay open until it closes.
      for (let i = 0; i < 3; i++) {
        const outcome = yield* Effect.flip(ConnectEx.dial(pending, { timeout: "30 millis" }))
        expect(outcome._tag).toBe("TimeoutException")
      }
      const afterTimeouts = yield* Iocp.stats
      expect(afterTimeouts.sockets).toBe(before.sockets)
      expect(afterTimeouts.liveAllocations).toBe(before.liveAllocations)
      expect(afterTimeouts.pending).toBe(0)
      // An interrupted dial: the same.
      const fiber = yield* Effect.fork(ConnectEx.dial(pending))
      for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < 1; i++) yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      const afterInterrupt = yield* Iocp.stats
      expect(afterInterrupt.sockets).toBe(before.sockets)
      expect(afterInterrupt.liveAllocations).toBe(before.liveAllocations)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})
