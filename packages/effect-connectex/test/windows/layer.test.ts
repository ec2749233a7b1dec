/**
 * The Effect stack (Iocp, Socket, ConnectEx) over the real Windows driver. Windows only: run on Linux with
 * `npm run test:windows` (Wine).
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Schedule } from "effect"
import * as net from "node:net"
import { ConnectEx, Iocp, Socket, SocketAddress } from "../../src/index.js"
import { bound, text } from "../../../../test/support/fixtures.js"
import { pendingTarget, wine } from "../../../../test/support/peers.js"

const isWindows = process.platform === "win32"

const windowsLayer = ConnectEx.layerDriver(
  Effect.promise(() => import("../../../core/src/native/windows/driver.js").then((m) => m.makeWindowsDriver()))
)


const echoServer = Effect.acquireRelease(
  Effect.async<{ readonly server: net.Server; readonly address: SocketAddress.SocketAddress; readonly connections: Set<net.Socket> }>(
    (resume) => {
      const connections = new Set<net.Socket>()
      const server = net.createServer((connection) => {
        connections.add(connection)
        connection.on("close", () => connections.delete(connection))
        connection.on("error", () => {})
        connection.on("data", (chunk) => connection.write(chunk))
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, connections, address: SocketAddress.ipv4("127.0.0.1", (server.address() as net.AddressInfo).port) })))
    }
  ),
  ({ connections, server }) =>
    Effect.async<void>((resume) => {
      for (const c of connections) c.destroy()
      server.close(() => resume(Effect.void))
    })
)

const refusedPort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe.skipIf(!isWindows)("ConnectEx.layer on win32 (win32 only)", () => {
  it.live("picks the windows driver", () =>
    Effect.gen(function*() {
      expect(yield* ConnectEx.driverName).toBe("windows")
    }).pipe(Effect.provide(ConnectEx.layer)))
})

describe.skipIf(!isWindows)("the cancellation tests' pending target (win32 only)", () => {
  // Windows refuses a SYN to a full accept queue and does not retry loopback SYNs: the backlog-0 listener
  // stays pending under Wine only. The Wine lane makes a host that drops SYNs (scripts/test-windows.sh), and
  // every test that cancels a pending connect (support/peers.ts `pendingTarget`) connects there.
  it.scoped("is the lane's host that drops SYNs; the loopback listener only under Wine without one", () =>
    Effect.gen(function*() {
      const target = yield* pendingTarget()
      const ipv6 = yield* pendingTarget("ipv6")
      const lab = process.env.CONNECTEX_PENDING_IPV4
      if (lab === undefined) expect(wine).toBeDefined()
      else expect(target.host).toBe(lab)
      const lab6 = process.env.CONNECTEX_PENDING_IPV6
      if (lab6 === undefined) expect(wine).toBeDefined()
      else expect(SocketAddress.format(ipv6)).toBe(`[${lab6}]:9`)
    }))
})

describe.skipIf(!isWindows)("the Effect stack over the Windows driver (win32 only)", () => {
  layer(windowsLayer, { excludeTestServices: true })("layerDriver(makeWindowsDriver)", (it) => {
    it.scoped("connect with data, receive the echo, connect time is Some", () =>
      Effect.gen(function*() {
        const peer = yield* echoServer
        const socket = yield* bound()
        expect(Option.isNone(yield* Socket.connectTime(socket))).toBe(true)
        const { bytesSent } = yield* ConnectEx.connect(socket, peer.address, { data: text("hello") })
        expect(bytesSent).toBe(5)
        expect(new TextDecoder().decode(yield* Socket.receive(socket, 100))).toBe("hello")
        expect(Option.isSome(yield* Socket.connectTime(socket))).toBe(true)
        expect(SocketAddress.equals(yield* Socket.peerAddress(socket), peer.address)).toBe(true)
      }))

    it.scoped("refused is WSAECONNREFUSED, and the same socket connects afterwards", () =>
      Effect.gen(function*() {
        const port = yield* refusedPort
        const peer = yield* echoServer
        const socket = yield* bound()
        const error = yield* Effect.flip(ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", port)))
        expect(error._tag).toBe("WSAECONNREFUSED")
        yield* ConnectEx.connect(socket, peer.address)
        expect(SocketAddress.equals(yield* Socket.peerAddress(socket), peer.address)).toBe(true)
      }))

    it.scoped("dial retries a refused port until it listens", () =>
      Effect.gen(function*() {
        const port = yield* refusedPort
        const later = net.createServer((c) => c.on("error", () => {}).end())
        yield* Effect.addFinalizer(() => Effect.async<void>((resume) => void later.close(() => resume(Effect.void))))
        yield* Effect.fork(Effect.delay(Effect.sync(() => later.listen(port, "127.0.0.1")), "150 millis"))
        const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", port), {
          retry: Schedule.spaced("50 millis").pipe(Schedule.intersect(Schedule.recurs(40))),
          timeout: "10 seconds"
        })
        expect((yield* Socket.peerAddress(socket)).port).toBe(port)
      }))

    it.scoped("a timed-out dial cancels the pending ConnectEx and frees everything", () =>
      Effect.gen(function*() {
        const target = yield* pendingTarget()
        const before = yield* Iocp.stats
        const exit = yield* Effect.exit(Effect.scoped(ConnectEx.dial(target, { timeout: "200 millis" })))
        expect(Exit.isFailure(exit)).toBe(true)
        const after = yield* Iocp.stats
        expect(after.pending).toBe(0)
        expect(after.duplicates).toBe(0)
        expect(after.liveAllocations).toBe(before.liveAllocations)
      }))

    it.scoped("interrupting a pending connect gives back its memory; closing the scope closes the socket", () =>
      Effect.gen(function*() {
        const target = yield* pendingTarget()
        const before = yield* Iocp.stats
        const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(bound(), (socket) => ConnectEx.connect(socket, target))))
        yield* Effect.repeat(Iocp.stats, { until: (s) => s.pending >= 1, schedule: Schedule.spaced("1 millis") })
        yield* Fiber.interrupt(fiber)
        const after = yield* Iocp.stats
        expect(after.pending).toBe(0)
        expect(after.liveAllocations).toBe(before.liveAllocations)
      }))

    it.scoped("send and receive through the port", () =>
      Effect.gen(function*() {
        const peer = yield* echoServer
        const socket = yield* bound()
        yield* ConnectEx.connect(socket, peer.address)
        expect(yield* Socket.send(socket, text("ping"))).toBe(4)
        expect(new TextDecoder().decode(yield* Socket.receive(socket, 100))).toBe("ping")
      }))
  })

  it.live("after the layer is released nothing is left allocated", () =>
    Effect.gen(function*() {
      const driver = yield* Effect.scoped(
        Effect.gen(function*() {
          const context = yield* Layer.build(windowsLayer)
          return yield* Effect.gen(function*() {
            const peer = yield* echoServer
            const socket = yield* bound()
            yield* ConnectEx.connect(socket, peer.address)
            // a receive left pending when the layer goes away: aborted, waited for, freed
            yield* Effect.fork(Socket.receive(socket, 100))
            yield* Effect.repeat(Iocp.stats, { until: (s) => s.pending >= 1, schedule: Schedule.spaced("1 millis") })
            expect((yield* Iocp.stats).liveAllocations).toBe(2)
            return Iocp.portOf(yield* Iocp.Iocp).driver
          }).pipe(Effect.scoped, Effect.provide(context))
        })
      )
      expect(driver.liveAllocations()).toBe(0)
    }))
})
