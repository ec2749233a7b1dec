/**
 * The semantics every backend keeps (DESIGN.md), run against the platform's driver with real loopback peers
 * and against the simulated network. Under Wine the same file runs against the Windows driver.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, type Layer, Option, type Scope, TestClock } from "effect"
import { ConnectEx, Iocp, Simulated, Socket, SocketAddress, type WsaError } from "../src/index.js"
import { echoServer, pendingTarget, recordingServer, refusedPort, wine } from "../../../test/support/peers.js"
import { bound, driveRetries, text, untilPending } from "../../../test/support/fixtures.js"

interface Backend {
  readonly name: string
  readonly layer: Layer.Layer<ConnectEx.ConnectEx | Iocp.Iocp, WsaError.WsaError>
  readonly echo: (family: SocketAddress.Family) => Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  readonly refused: (family: SocketAddress.Family) => Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  readonly pending: (family: SocketAddress.Family) => Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  /** a peer that records what it receives and how its connection ended ("end" for a FIN, never a reset) */
  readonly recording: (family: SocketAddress.Family) => Effect.Effect<Recording, Error, Scope.Scope>
  /** the platform's driver (cases about Linux's own FIN wait) */
  readonly real: boolean
}

interface Recording {
  readonly address: SocketAddress.SocketAddress
  /** what the `index`th connection received, once it has ended, and how it ended */
  readonly closed: (index: number) => Effect.Effect<{ readonly received: Uint8Array; readonly ending: string | undefined }>
}

// Simulated peers live in the documentation ranges: no packet leaves the process.
const simulatedPeers = {
  ipv4: { echo: SocketAddress.ipv4("198.51.100.7", 7), refused: SocketAddress.ipv4("198.51.100.9", 9), pending: SocketAddress.ipv4("198.51.100.80", 80), recording: SocketAddress.ipv4("198.51.100.90", 90) },
  ipv6: { echo: SocketAddress.ipv6("2001:db8::7", 7), refused: SocketAddress.ipv6("2001:db8::9", 9), pending: SocketAddress.ipv6("2001:db8::80", 80), recording: SocketAddress.ipv6("2001:db8::90", 90) }
}

const network = Simulated.network(
  Object.fromEntries(
    (["ipv4", "ipv6"] as const).flatMap((family) => [
      [SocketAddress.format(simulatedPeers[family].echo), Simulated.accept({ echo: true })],
      [SocketAddress.format(simulatedPeers[family].refused), Simulated.refuse()],
      [SocketAddress.format(simulatedPeers[family].pending), Simulated.blackhole()],
      [SocketAddress.format(simulatedPeers[family].recording), Simulated.accept()]
    ])
  )
)

const backends: ReadonlyArray<Backend> = [
  {
    name: "platform driver, loopback peers",
    layer: ConnectEx.layer,
    echo: (family) => Effect.map(echoServer(family), (peer) => peer.address),
    refused: (family) => refusedPort(family),
    pending: (family) => pendingTarget(family),
    recording: (family) =>
      Effect.map(recordingServer(family), (peer) => ({
        address: peer.address,
        closed: (index) => Effect.map(peer.closed(index), (c) => ({ received: c.received(), ending: c.ending() }))
      })),
    real: true
  },
  {
    name: "simulated network",
    layer: ConnectEx.layerSimulated(network),
    echo: (family) => Effect.succeed(simulatedPeers[family].echo),
    refused: (family) => Effect.succeed(simulatedPeers[family].refused),
    pending: (family) => Effect.succeed(simulatedPeers[family].pending),
    // The network's log records what each connection sent and how it ended; "disconnected" is our FIN.
    recording: (family) =>
      Effect.succeed({
        address: simulatedPeers[family].recording,
        closed: (index) =>
          Effect.map(Effect.serviceOption(Simulated.NetworkLog), (log) => {
            const connection = Option.getOrThrow(log).connections(simulatedPeers[family].recording)[index]
            return {
              received: connection?.sent ?? new Uint8Array(0),
              ending: connection?.ended === "disconnected" ? "end" : connection?.ended
            }
          })
      }),
    real: false
  }
]




describe.each(backends)("shared behaviour: $name", (backend) => {
  const test = (name: string, body: () => Effect.Effect<void, unknown, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    it.scoped(name, () => body().pipe(Effect.provide(backend.layer)))
  const realOnly = (name: string, body: () => Effect.Effect<void, unknown, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    it.scoped.runIf(backend.real)(name, () => body().pipe(Effect.provide(backend.layer)))

  test("connect sends the data once connected; bytesSent says how much; the peer echoes it", () =>
    Effect.gen(function*() {
      for (const family of ["ipv4", "ipv6"] as const) {
        const target = yield* backend.echo(family)
        const socket = yield* bound(family)
        expect((yield* ConnectEx.connect(socket, target, { data: text("hello") })).bytesSent).toBe(5)
        expect(new TextDecoder().decode(yield* Socket.receive(socket, 100))).toBe("hello")
        expect(SocketAddress.equals(yield* Socket.peerAddress(socket), target)).toBe(true)
        expect((yield* Socket.localAddress(socket)).family).toBe(family)
      }
    }))

  test("shutdown(send): the peer reads to the end and closes; this side still receives; later sends are WSAESHUTDOWN", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo("ipv4")
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, target, { data: text("last words") })
      yield* Socket.shutdown(socket, "send")
      let echoed = ""
      while (true) {
        const chunk = yield* Socket.receive(socket, 100)
        if (chunk.length === 0) break
        echoed += new TextDecoder().decode(chunk)
      }
      expect(echoed).toBe("last words")
      expect((yield* Effect.flip(Socket.send(socket, text("more"))))._tag).toBe("WSAESHUTDOWN")
      yield* Socket.shutdown(socket, "send")
    }))

  test("unbound -> WSAEINVAL; connected -> WSAEISCONN", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo("ipv4")
      const unbound = yield* Socket.open({ family: "ipv4" })
      expect((yield* Effect.flip(ConnectEx.connect(unbound, target)))._tag).toBe("WSAEINVAL")
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, target)
      expect((yield* Effect.flip(ConnectEx.connect(socket, target)))._tag).toBe("WSAEISCONN")
    }))

  test("pending -> WSAEALREADY; interruption cancels and waits; the cancelled socket is spent", () =>
    Effect.gen(function*() {
      const pending = yield* backend.pending("ipv4")
      const target = yield* backend.echo("ipv4")
      const socket = yield* bound()
      const fiber = yield* Effect.fork(ConnectEx.connect(socket, pending))
      yield* untilPending(1)
      expect((yield* Effect.flip(ConnectEx.connect(socket, pending)))._tag).toBe("WSAEALREADY")
      yield* Fiber.interrupt(fiber)
      const stats = yield* Iocp.stats
      expect(stats.pending).toBe(0)
      expect(stats.duplicates).toBe(0)
      // Windows leaves a socket whose ConnectEx was cancelled unusable: every backend says so.
      const spent = yield* Effect.flip(ConnectEx.connect(socket, target))
      expect(spent._tag).toBe("WSAEINVAL")
      expect(spent.message).toContain("WSA_OPERATION_ABORTED")
    }))

  test("all-zero destination -> WSAEADDRNOTAVAIL; closed -> WSAENOTSOCK; family mismatch -> WSAEAFNOSUPPORT", () =>
    Effect.gen(function*() {
      const socket = yield* bound()
      expect((yield* Effect.flip(ConnectEx.connect(socket, SocketAddress.ipv4("0.0.0.0", 80))))._tag).toBe("WSAEADDRNOTAVAIL")
      expect((yield* Effect.flip(ConnectEx.connect(socket, SocketAddress.ipv6("::1", 80))))._tag).toBe("WSAEAFNOSUPPORT")
      const closed = yield* Effect.scoped(bound())
      expect((yield* Effect.flip(ConnectEx.connect(closed, yield* backend.echo("ipv4"))))._tag).toBe("WSAENOTSOCK")
    }))

  test("second bind -> WSAEINVAL", () =>
    Effect.gen(function*() {
      const socket = yield* bound()
      expect((yield* Effect.flip(Socket.bind(socket, SocketAddress.wildcard("ipv4"))))._tag).toBe("WSAEINVAL")
    }))

  test("refused -> WSAECONNREFUSED (retryable), then the same socket connects", () =>
    Effect.gen(function*() {
      const refused = yield* backend.refused("ipv4")
      const target = yield* backend.echo("ipv4")
      const socket = yield* bound()
      const error = yield* Effect.flip(ConnectEx.connect(socket, refused))
      expect(error._tag).toBe("WSAECONNREFUSED")
      expect(error.code).toBe(10061)
      expect((yield* ConnectEx.connect(socket, target, { data: text("again") })).bytesSent).toBe(5)
    }))

  test("connectTime: None before, Some while connected, None after disconnect; Clock-counted drivers follow TestClock", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo("ipv4")
      const socket = yield* bound()
      expect(yield* Socket.connectTime(socket)).toEqual(Option.none())
      yield* ConnectEx.connect(socket, target)
      yield* TestClock.adjust("2 seconds")
      const time = Option.map(yield* Socket.connectTime(socket), Duration.toSeconds)
      // Windows reads the kernel's SO_CONNECT_TIME (whole seconds of real time), which TestClock cannot move.
      if ((yield* ConnectEx.driverName) === "windows") expect(Option.getOrThrow(time)).toBeLessThan(2)
      else expect(time).toEqual(Option.some(2))
      // Wine cannot reuse a socket after DisconnectEx (real Windows can): there it ends without reuse.
      yield* Socket.disconnect(socket, { reuse: wine === undefined })
      expect(yield* Socket.connectTime(socket)).toEqual(Option.none())
      if (wine === undefined) yield* ConnectEx.connect(socket, target)
    }))

  // Wine cannot reuse a socket after DisconnectEx (real Windows can): there only reuse: false runs.
  for (const reuse of wine === undefined ? [false, true] : [false]) {
    test(`disconnect({ reuse: ${reuse} }) is graceful: the peer receives every byte sent before it, then a normal end`, () =>
      Effect.gen(function*() {
        for (const family of ["ipv4", "ipv6"] as const) {
          const peer = yield* backend.recording(family)
          const socket = yield* bound(family)
          const first = text("connect data;")
          yield* ConnectEx.connect(socket, peer.address, { data: first })
          // Enough that some of it is still queued in the kernel when the disconnect starts.
          const bulk = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251)
          const sending = yield* Effect.fork(Socket.send(socket, bulk))
          // Let the send start: the disconnect then queues behind it.
          for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
          yield* Socket.disconnect(socket, { reuse })
          expect(yield* Fiber.join(sending)).toBe(bulk.length)
          const { ending, received } = yield* peer.closed(0)
          expect(received.length).toBe(first.length + bulk.length)
          expect(Buffer.compare(received, Buffer.concat([first, bulk]))).toBe(0)
          expect(ending).toBe("end")
        }
      }))
  }

  test("after disconnect without reuse: send WSAESHUTDOWN, connect WSAEISCONN", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo("ipv4")
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, target, { data: text("echo me") })
      yield* Socket.disconnect(socket, { reuse: false })
      expect((yield* Effect.flip(Socket.send(socket, text("more"))))._tag).toBe("WSAESHUTDOWN")
      expect((yield* Effect.flip(ConnectEx.connect(socket, target)))._tag).toBe("WSAEISCONN")
    }))

  test("after disconnect without reuse: receive drains to the peer's end, peerAddress still answers", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo("ipv4")
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, target, { data: text("echo me") })
      yield* Socket.disconnect(socket, { reuse: false })
      expect(SocketAddress.equals(yield* Socket.peerAddress(socket), target)).toBe(true)
      let echoed = ""
      while (true) {
        const chunk = yield* Socket.receive(socket, 100)
        if (chunk.length === 0) break
        echoed += new TextDecoder().decode(chunk)
      }
      expect(echoed).toBe("echo me")
      expect(SocketAddress.equals(yield* Socket.peerAddress(socket), target)).toBe(true)
    }))

  realOnly("after disconnect without reuse the peer's answer to our end still arrives", () =>
    Effect.gen(function*() {
      const peer = yield* recordingServer("ipv4", { farewell: "goodbye" })
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, peer.address, { data: text("hello") })
      yield* Socket.disconnect(socket, { reuse: false })
      const chunks: Array<Uint8Array> = []
      while (true) {
        const chunk = yield* Socket.receive(socket, 100)
        if (chunk.length === 0) break
        chunks.push(chunk)
      }
      expect(Buffer.concat(chunks).toString()).toBe("goodbye")
      expect(SocketAddress.equals(yield* Socket.peerAddress(socket), peer.address)).toBe(true)
      yield* peer.closed(0)
      expect(peer.connections[0]!.ending()).toBe("end")
    }))

  // Wine cannot reuse a socket after DisconnectEx (real Windows can).
  test("after disconnect with reuse the same socket connects again; each peer saw a normal end", () =>
    Effect.gen(function*() {
      if (wine !== undefined) return
      const peer = yield* backend.recording("ipv4")
      const socket = yield* bound()
      for (const round of [1, 2, 3]) {
        yield* ConnectEx.connect(socket, peer.address, { data: text(`round ${round}`) })
        yield* Socket.send(socket, text(" and more"))
        yield* Socket.disconnect(socket, { reuse: true })
        expect((yield* Effect.flip(Socket.send(socket, text("x"))))._tag).toBe("WSAENOTCONN")
      }
      const connections = yield* Effect.forEach([0, 1, 2], peer.closed)
      expect(connections.map((c) => [new TextDecoder().decode(c.received), c.ending])).toEqual(
        [1, 2, 3].map((round) => [`round ${round} and more`, "end"])
      )
    }))

  realOnly("Linux: disconnect with reuse waits at most 2 s for a peer that never closes, then aborts; the socket connects again", () =>
    Effect.gen(function*() {
      if ((yield* ConnectEx.driverName) !== "posix") return
      const holding = yield* recordingServer("ipv4", { onEnd: "hold" })
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, holding.address, { data: text("all of it") })
      const started = Date.now()
      yield* Socket.disconnect(socket, { reuse: true })
      const waited = Date.now() - started
      expect(waited).toBeGreaterThanOrEqual(1900)
      expect(waited).toBeLessThan(5000)
      // Everything arrived and then the FIN; the abort at the bound comes after it (a node peer that is no
      // longer reading or writing does not even notice the RST).
      expect(holding.connections[0]!.received().toString()).toBe("all of it")
      expect(holding.connections[0]!.ending()).toMatch(/^end/)
      const target = yield* backend.echo("ipv4")
      yield* ConnectEx.connect(socket, target, { data: text("again") })
      expect(new TextDecoder().decode(yield* Socket.receive(socket, 100))).toBe("again")
    }))

  realOnly("Linux: interrupting a disconnect that waits for the peer's FIN completes at once and spends the socket", () =>
    Effect.gen(function*() {
      if ((yield* ConnectEx.driverName) !== "posix") return
      const holding = yield* recordingServer("ipv4", { onEnd: "hold" })
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, holding.address)
      const fiber = yield* Effect.fork(Socket.disconnect(socket, { reuse: true }))
      yield* untilPending(1)
      yield* Fiber.interrupt(fiber)
      expect((yield* Iocp.stats).pending).toBe(0)
      expect((yield* Effect.flip(ConnectEx.connect(socket, holding.address)))._tag).toBe("WSAEINVAL")
    }))

  test("closing the socket's scope aborts a pending connect with WSA_OPERATION_ABORTED", () =>
    Effect.gen(function*() {
      const pending = yield* backend.pending("ipv4")
      const fiber = yield* Effect.scoped(
        Effect.gen(function*() {
          const socket = yield* bound()
          const fiber = yield* Effect.fork(ConnectEx.connect(socket, pending))
          yield* untilPending(1)
          return fiber
        })
      )
      expect((yield* Effect.flip(Fiber.join(fiber)))._tag).toBe("WSA_OPERATION_ABORTED")
      expect((yield* Iocp.stats).pending).toBe(0)
    }))

  test("dial retries refusals only while the schedule allows, on the retryable codes", () =>
    Effect.gen(function*() {
      const refused = yield* backend.refused("ipv4")
      const fiber = yield* Effect.fork(Effect.flip(ConnectEx.dial(refused, { retry: ConnectEx.retryPolicy(2) })))
      yield* driveRetries(fiber, "1 second")
      expect((yield* Fiber.join(fiber))._tag).toBe("WSAECONNREFUSED")
    }))
})
