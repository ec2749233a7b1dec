/**
 * Guarantees the README sells, each written so that a deliberate break of the library fails it (issue 13):
 * connect data is copied, sends on one socket are queued (a shutdown after them follows them), layer close
 * aborts what sockets of a longer-lived scope still have pending, WSAEALREADY comes from the library's own
 * check, and the Linux port-0 bind defers the port.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, FiberRef, Layer, Scope } from "effect"
import * as net from "node:net"
import type { Driver } from "../../core/src/index.js"
import { ConnectEx, Iocp, Simulated, Socket, SocketAddress } from "../src/index.js"
import { makeDouble } from "../../../test/support/doubles.js"
import { bound, untilPending } from "../../../test/support/fixtures.js"
import { echoServer, loopback, openDescriptors, pendingTarget, recordingServer } from "../../../test/support/peers.js"

const MiB = 1024 * 1024

/** A loopback server whose connections are not read until `release` (the kernel's buffers fill up). */
const pausedServer = Effect.gen(function*() {
  const connections: Array<net.Socket> = []
  const chunks: Array<Buffer> = []
  let ended: () => void = () => {}
  const end = new Promise<void>((resolve) => (ended = resolve))
  const server = net.createServer({ pauseOnConnect: true }, (connection) => {
    connections.push(connection)
    connection.on("data", (chunk) => chunks.push(chunk))
    connection.on("end", () => ended())
    connection.on("error", () => {})
  })
  const port = yield* Effect.acquireRelease(
    Effect.async<number, Error>((resume) => {
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const c of connections) c.destroy()
        server.close(() => resume(Effect.void))
      })
  )
  return {
    address: loopback("ipv4", port),
    /** Starts reading every connection accepted so far (waits for the first one to be accepted). */
    release: Effect.gen(function*() {
      for (let i = 0; i < 10_000 && connections.length === 0; i++) yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
      expect(connections.length).toBe(1)
      for (const c of connections) c.resume()
    }),
    /** All the bytes of the first connection, once its peer ended the stream. */
    receivedAll: Effect.promise(() => end.then(() => Buffer.concat(chunks)))
  }
})

/** A run of `length` bytes of `value`. */
const run = (value: number, length: number) => new Uint8Array(length).fill(value)

/** Whether `bytes[from, from + length)` are all `value` (compared in one pass, not byte by byte with expect). */
const allOf = (bytes: Uint8Array, from: number, length: number, value: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset + from, length).equals(Buffer.alloc(length, value))

describe("the platform's driver", () => {
  it.scopedLive("connect data is copied: overwriting the caller's buffer while a 16 MiB connect is pending changes nothing the peer gets", () =>
    Effect.gen(function*() {
      const peer = yield* pausedServer
      const socket = yield* bound()
      const data = new Uint8Array(16 * MiB).map((_, i) => (i * 7) % 251)
      const original = Buffer.from(data)
      const connecting = yield* Effect.fork(ConnectEx.connect(socket, peer.address, { data }))
      // The peer reads nothing yet: the kernel took what fits in its buffers, the rest is still to send.
      yield* untilPending(1)
      data.fill(0xee)
      yield* peer.release
      const { bytesSent } = yield* Fiber.join(connecting)
      expect(bytesSent).toBe(16 * MiB)
      yield* Socket.shutdown(socket, "send")
      const received = yield* peer.receivedAll
      expect(received.length).toBe(original.length)
      expect(received.equals(original)).toBe(true)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("two concurrent 16 MiB sends arrive as two whole runs in call order, and a shutdown issued after both arrives after both", () =>
    Effect.gen(function*() {
      const peer = yield* recordingServer()
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, peer.address)
      const first = run(0x41, 16 * MiB)
      const second = run(0x42, 16 * MiB)
      // Started in this order, all three while the first is still in progress (the peer reads as it can).
      const sends = yield* Effect.all(
        [Socket.send(socket, first), Socket.send(socket, second), Socket.shutdown(socket, "send")],
        { concurrency: "unbounded" }
      ).pipe(Effect.fork)
      const [a, b] = yield* Fiber.join(sends)
      expect([a, b]).toEqual([16 * MiB, 16 * MiB])
      const recorded = yield* peer.closed(0)
      const received = recorded.received()
      expect(received.length).toBe(32 * MiB)
      expect(allOf(received, 0, 16 * MiB, 0x41)).toBe(true)
      expect(allOf(received, 16 * MiB, 16 * MiB, 0x42)).toBe(true)
      // The FIN came after all 32 MiB: a normal end of stream, and nothing was lost to it.
      expect(recorded.ending()).toBe("end")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.live("layer close with sockets in a longer-lived scope: their pending connects end with WSA_OPERATION_ABORTED and the sockets are closed", () =>
    Effect.gen(function*() {
      const outer = yield* Scope.make()
      const target = yield* Scope.extend(pendingTarget(), outer)
      const before = openDescriptors()
      const layerScope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(ConnectEx.layer, layerScope)
      // The sockets live in `outer`, which outlives the layer: only the layer's release can abort and close them.
      const sockets = yield* Effect.forEach([1, 2, 3], () => Scope.extend(bound(), outer)).pipe(Effect.provide(context))
      const fibers = yield* Effect.forEach(sockets, (s) => Effect.fork(ConnectEx.connect(s, target))).pipe(Effect.provide(context))
      yield* untilPending(3).pipe(Effect.provide(context))
      if (before !== undefined) expect(openDescriptors()).toBe(before + 3)
      yield* Scope.close(layerScope, Exit.void)
      const errors = yield* Effect.forEach(fibers, (f) => Effect.flip(Fiber.join(f)))
      expect(errors.map((e) => e._tag)).toEqual(["WSA_OPERATION_ABORTED", "WSA_OPERATION_ABORTED", "WSA_OPERATION_ABORTED"])
      // Closed by the layer, while their own scope is still open.
      expect(openDescriptors()).toBe(before)
      expect((yield* Effect.flip(Socket.localAddress(sockets[0]!)))._tag).toBe("WSANOTINITIALISED")
      yield* Scope.close(outer, Exit.void)
    }))
})

describe("interruption at any step of a send never strands the socket's send queue", () => {
  // A fiber that yields every few operations: an interruption can land between any two steps of Socket.send,
  // among them between taking the send queue (a partial synchronous send) and installing its release.
  it.scopedLive("sends that yield every 12..40 operations, interrupted after 0..10 steps: a later send still completes", () =>
    Effect.gen(function*() {
      // a peer that reads and discards everything
      const server = net.createServer((connection) => {
        connection.on("data", () => {})
        connection.on("error", () => {})
      })
      const port = yield* Effect.acquireRelease(
        Effect.async<number>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))),
        () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const { socket } = yield* ConnectEx.dial(loopback("ipv4", port))
      yield* Socket.setOption(socket, "SO_SNDBUF", 64 * 1024)
      const big = new Uint8Array(MiB / 2)
      // Effect's runtime needs about a dozen operations per step of its own, so the yield interval starts at 12.
      for (let maxOps = 12; maxOps <= 40; maxOps++) {
        for (let steps = 0; steps <= 10; steps++) {
          const sending = yield* Effect.fork(Effect.locally(Socket.send(socket, big), FiberRef.currentMaxOpsBeforeYield, maxOps))
          for (let k = 0; k < steps; k++) yield* Effect.yieldNow()
          yield* Fiber.interrupt(sending)
        }
      }
      // Every interrupted send left the queue; this one takes it and completes (the peer reads everything).
      const sent = yield* Socket.send(socket, new Uint8Array(10)).pipe(Effect.timeout("10 seconds"))
      expect(sent).toBe(10)
      expect((yield* Iocp.stats).pending).toBe(0)
    }).pipe(Effect.provide(ConnectEx.layer)), 30_000)
})

describe("an interrupted receive is cancelled in the kernel before the interruption returns", () => {
  // Effect 3 does not run an interrupted async's canceller in every case; the port cancels from the wait's
  // exit too. Without that, some of these receives stayed pending and swallowed the next bytes that arrived.
  it.scopedLive("receives that yield every 12..40 operations, interrupted after 0..10 steps: none left pending; the next receive gets the next bytes", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const { socket } = yield* ConnectEx.dial(peer.address)
      let leftPending = 0
      for (let maxOps = 12; maxOps <= 40; maxOps++) {
        for (let steps = 0; steps <= 10; steps++) {
          const receiving = yield* Effect.fork(Effect.locally(Socket.receive(socket, 100), FiberRef.currentMaxOpsBeforeYield, maxOps))
          for (let k = 0; k < steps; k++) yield* Effect.yieldNow()
          yield* Fiber.interrupt(receiving)
          if ((yield* Iocp.stats).pending !== 0) leftPending++
        }
      }
      expect(leftPending).toBe(0)
      yield* Socket.send(socket, new TextEncoder().encode("next"))
      let got = ""
      while (got.length < 4) got += new TextDecoder().decode(yield* Socket.receive(socket, 100))
      expect(got).toBe("next")
    }).pipe(Effect.provide(ConnectEx.layer)), 30_000)
})

describe("layer close over a driver whose aborts complete later (as Windows' closesocket does)", () => {
  it.live("the layer's release returns only once every pending operation of a longer-lived scope's sockets has completed", () =>
    Effect.gen(function*() {
      const double = makeDouble(Simulated.network({ "192.0.2.10:80": Simulated.blackhole() }), { cancelDelay: 30 })
      const outer = yield* Scope.make()
      const layerScope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(ConnectEx.layerDriver(Effect.succeed(double.driver)), layerScope)
      const port = Iocp.Iocp
      const service = yield* Effect.provide(port, context)
      const sockets = yield* Effect.forEach([1, 2], () => Scope.extend(bound(), outer)).pipe(Effect.provide(context))
      const fibers = yield* Effect.forEach(sockets, (s) => Effect.fork(ConnectEx.connect(s, SocketAddress.ipv4("192.0.2.10", 80))))
        .pipe(Effect.provide(context))
      yield* untilPending(2).pipe(Effect.provide(context))
      yield* Scope.close(layerScope, Exit.void)
      // Nothing the driver may still complete is left when the release returns.
      expect(double.seen.lateCompletions).toBe(2)
      expect((yield* Effect.provideService(Iocp.stats, Iocp.Iocp, service)).pending).toBe(0)
      const errors = yield* Effect.forEach(fibers, (f) => Effect.flip(Fiber.join(f)))
      expect(errors.map((e) => e._tag)).toEqual(["WSA_OPERATION_ABORTED", "WSA_OPERATION_ABORTED"])
      yield* Scope.close(outer, Exit.void)
    }))
})

describe("WSAEALREADY comes from the library's own check", () => {
  it.live("a second connect while one is pending never reaches the driver (which would start a second connect)", () =>
    Effect.gen(function*() {
      const double = makeDouble(Simulated.network({ "192.0.2.10:80": Simulated.blackhole() }))
      let connects = 0
      // A driver that, unlike the kernel, starts whatever connect it is given.
      const driver: Driver = {
        ...double.driver,
        connect: (socket, address, data, done) => {
          connects++
          return double.driver.connect(socket, address, data, done)
        }
      }
      yield* Effect.gen(function*() {
        const socket = yield* bound()
        const target = SocketAddress.ipv4("192.0.2.10", 80)
        const pending = yield* Effect.fork(ConnectEx.connect(socket, target))
        yield* untilPending(1)
        const error = yield* Effect.flip(ConnectEx.connect(socket, target))
        expect(error._tag).toBe("WSAEALREADY")
        expect(error.code).toBe(10037)
        expect(connects).toBe(1)
        expect((yield* Iocp.stats).pending).toBe(1)
        yield* Fiber.interrupt(pending)
      }).pipe(Effect.scoped, Effect.provide(ConnectEx.layerDriver(Effect.succeed(driver))))
    }))
})

describe.skipIf(process.platform !== "linux")("Linux: a port-0 bind defers the port to connect (IP_BIND_ADDRESS_NO_PORT)", () => {
  it.scopedLive("127.0.0.1:0: localAddress shows port 0 after bind and the chosen port after connect", () =>
    Effect.gen(function*() {
      const peer = yield* recordingServer()
      const socket = yield* Socket.open({ family: "ipv4" })
      yield* Socket.bind(socket, SocketAddress.ipv4("127.0.0.1", 0))
      const local = yield* Socket.localAddress(socket)
      expect(local.host).toBe("127.0.0.1")
      expect(local.port).toBe(0)
      yield* ConnectEx.connect(socket, peer.address)
      const connected = yield* Socket.localAddress(socket)
      expect(connected.host).toBe("127.0.0.1")
      expect(connected.port).toBeGreaterThan(0)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("the wildcard with port 0 makes no bind syscall; a concrete address does", () =>
    Effect.gen(function*() {
      const { libc } = yield* Effect.promise(() => import("../../core/src/native/posix/libc.js"))
      const calls: Array<number> = []
      const realBind = libc.bind
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          libc.bind = ((...args: Parameters<typeof realBind>) => {
            calls.push(args[0])
            return realBind(...args)
          }) as typeof realBind
        }),
        () => Effect.sync(() => (libc.bind = realBind))
      )
      const peer = yield* recordingServer()
      const wildcard = yield* bound()
      expect(calls).toEqual([])
      expect((yield* Socket.localAddress(wildcard)).port).toBe(0)
      yield* ConnectEx.connect(wildcard, peer.address)
      expect((yield* Socket.localAddress(wildcard)).port).toBeGreaterThan(0)
      const concrete = yield* Socket.open({ family: "ipv4" })
      yield* Socket.bind(concrete, SocketAddress.ipv4("127.0.0.1", 0))
      expect(calls.length).toBe(1)
    }).pipe(Effect.provide(ConnectEx.layer)))
})
