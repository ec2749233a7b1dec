/**
 * The accepting side's semantics (DESIGN.md), on the platform's driver over loopback and on the simulated
 * network (client and listener both simulated, time from TestClock). Under Wine the same file runs against
 * the Windows driver (AcceptEx).
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Exit, Fiber, type Layer, Scope, Stream } from "effect"
import { ConnectEx, Iocp, Listener, PlatformSocket, Simulated, Socket, SocketAddress, type WsaError } from "../src/index.js"
import { Socket as PlatformSocketModule } from "@effect/platform"
import { openDescriptors } from "../../../test/support/peers.js"

interface Backend {
  readonly name: string
  readonly layer: Layer.Layer<ConnectEx.ConnectEx | Iocp.Iocp, WsaError.WsaError>
  readonly real: boolean
}

const backends: ReadonlyArray<Backend> = [
  { name: "platform driver, loopback", layer: ConnectEx.layer, real: true },
  { name: "simulated network", layer: ConnectEx.layerSimulated(Simulated.network({})), real: false }
]

const text = (s: string) => new TextEncoder().encode(s)
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const loopback = (family: SocketAddress.Family, port = 0) =>
  family === "ipv4" ? SocketAddress.ipv4("127.0.0.1", port) : SocketAddress.ipv6("::1", port)

/** Lets forked fibers run until the port has `n` operations pending (no clock involved). */
const untilPending = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < n; i++) yield* Effect.yieldNow()
    expect((yield* Iocp.stats).pending).toBe(n)
  })

/** Receives until `n` bytes arrived or the peer closed. */
const receiveAll = (socket: Socket.Socket, n: number) =>
  Effect.gen(function*() {
    const chunks: Array<Uint8Array> = []
    let total = 0
    while (total < n) {
      const chunk = yield* Socket.receive(socket, 65536)
      if (chunk.length === 0) break
      chunks.push(chunk)
      total += chunk.length
    }
    return decode(Buffer.concat(chunks))
  })

/** The echo server of the README, in a few lines. */
const echo = (listener: Listener.Listener) =>
  Listener.serve(listener, ({ socket }) =>
    Effect.gen(function*() {
      for (let chunk = yield* Socket.receive(socket, 65536); chunk.length > 0; chunk = yield* Socket.receive(socket, 65536)) {
        yield* Socket.send(socket, chunk)
      }
    }))

describe.each(backends)("listener: $name", (backend) => {
  const test = (name: string, body: () => Effect.Effect<void, unknown, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    it.scoped(name, () => body().pipe(Effect.provide(backend.layer)), 20_000)

  test("an echo server: serve + dial, both families; address gives the real port after port 0", () =>
    Effect.gen(function*() {
      for (const family of ["ipv4", "ipv6"] as const) {
        const listener = yield* Listener.listen(loopback(family))
        const address = yield* Listener.address(listener)
        expect(address.port).toBeGreaterThan(0)
        expect(address.host).toBe(family === "ipv4" ? "127.0.0.1" : "::1")
        yield* Effect.forkScoped(echo(listener))
        for (const message of ["hello", "world"]) {
          const { socket } = yield* ConnectEx.dial(address, { data: text(message) })
          expect(yield* receiveAll(socket, message.length)).toBe(message)
        }
      }
    }))

  test("accept gives a connected socket, the peer's address and, with receive, the first bytes", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      const accepting = yield* Effect.fork(Listener.accept(listener, { receive: 64 }))
      const { socket: client } = yield* ConnectEx.dial(address, { data: text("first") })
      const { data, peer, socket } = yield* Fiber.join(accepting)
      expect(decode(data)).toBe("first")
      const clientLocal = yield* Socket.localAddress(client)
      expect(SocketAddress.format(peer)).toBe(SocketAddress.format(clientLocal))
      expect(SocketAddress.format(yield* Socket.peerAddress(socket))).toBe(SocketAddress.format(clientLocal))
      expect((yield* Socket.localAddress(socket)).port).toBe(address.port)
      // both directions, and a graceful end seen by the client
      yield* Socket.send(socket, text("reply"))
      expect(yield* receiveAll(client, 5)).toBe("reply")
      yield* Socket.send(client, text("more"))
      expect(yield* receiveAll(socket, 4)).toBe("more")
      yield* Socket.shutdown(socket, "send")
      expect((yield* Socket.receive(client, 10)).length).toBe(0)
      // without receive: data is empty
      const second = yield* Effect.fork(Listener.accept(listener))
      yield* ConnectEx.dial(address)
      expect((yield* Fiber.join(second)).data.length).toBe(0)
    }))

  test("connect on a listening socket: WSAEINVAL; ConnectEx on an accepted socket: WSAEISCONN", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      const onListener = yield* Effect.flip(ConnectEx.connect(Listener.socket(listener), address))
      expect(onListener._tag).toBe("WSAEINVAL")
      const accepting = yield* Effect.fork(Listener.accept(listener))
      yield* ConnectEx.dial(address)
      const { socket } = yield* Fiber.join(accepting)
      const onAccepted = yield* Effect.flip(ConnectEx.connect(socket, address))
      expect(onAccepted._tag).toBe("WSAEISCONN")
    }))

  test("a second listen on an address in use: WSAEADDRINUSE (reuseAddress or not)", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      expect((yield* Effect.flip(Listener.listen(address)))._tag).toBe("WSAEADDRINUSE")
      expect((yield* Effect.flip(Listener.listen(address, { reuseAddress: false })))._tag).toBe("WSAEADDRINUSE")
    }))

  test("a listen that fails closes its socket at once, not when the caller's scope ends", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      const before = yield* Iocp.stats
      for (let i = 0; i < 3; i++) expect((yield* Effect.flip(Listener.listen(address)))._tag).toBe("WSAEADDRINUSE")
      const after = yield* Iocp.stats
      expect(after.sockets).toBe(before.sockets)
      expect(after.liveAllocations).toBe(before.liveAllocations)
    }))

  test("accept on a socket that is not listening: WSAEINVAL", () =>
    Effect.gen(function*() {
      const socket = yield* Socket.open({ family: "ipv4" })
      expect((yield* Effect.flip(Listener.accept(socket)))._tag).toBe("WSAEINVAL")
      yield* Socket.bind(socket, loopback("ipv4"))
      expect((yield* Effect.flip(Listener.accept(socket)))._tag).toBe("WSAEINVAL")
    }))

  test("closing the listener's scope with accepts pending: each WSA_OPERATION_ABORTED, nothing leaked", () =>
    Effect.gen(function*() {
      const baseline = (yield* Iocp.stats).liveAllocations
      const descriptors = openDescriptors()
      const scope = yield* Scope.make()
      const listener = yield* Scope.extend(Listener.listen(loopback("ipv4")), scope)
      const accepts = yield* Effect.forEach([0, 1, 2], () => Effect.fork(Effect.scoped(Listener.accept(listener, { receive: 16 }))))
      yield* untilPending(3)
      yield* Scope.close(scope, Exit.void)
      for (const fiber of accepts) {
        const exit = yield* Fiber.await(fiber)
        expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit).toBe("WSA_OPERATION_ABORTED")
      }
      // Windows frees each operation's block when its packet is dequeued: let the poller catch up.
      for (let i = 0; i < 200 && (yield* Iocp.stats).liveAllocations !== baseline; i++) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      expect((yield* Iocp.stats).liveAllocations).toBe(baseline)
      expect((yield* Iocp.stats).pending).toBe(0)
      if (descriptors !== undefined) expect(openDescriptors()).toBe(descriptors)
    }))

  test("interrupting an accept cancels it; a connection made later is accepted by the next accept", () =>
    Effect.gen(function*() {
      const baseline = (yield* Iocp.stats).liveAllocations
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      const afterListen = (yield* Iocp.stats).liveAllocations
      expect(afterListen).toBeGreaterThan(baseline)
      const pending = yield* Effect.fork(Effect.scoped(Listener.accept(listener, { receive: 16 })))
      yield* untilPending(1)
      yield* Fiber.interrupt(pending)
      expect((yield* Iocp.stats).pending).toBe(0)
      const next = yield* Effect.fork(Listener.accept(listener, { receive: 16 }))
      yield* ConnectEx.dial(address, { data: text("next") })
      expect(decode((yield* Fiber.join(next)).data)).toBe("next")
    }))

  test("a client that resets before its accept completes does not fail the listener", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      // The first client connects (the kernel completes the handshake) and resets at once.
      yield* Effect.scoped(Effect.gen(function*() {
        const { socket } = yield* ConnectEx.dial(address)
        yield* Socket.setOption(socket, "SO_LINGER", 0)
      }))
      yield* Effect.sleep("50 millis").pipe(Effect.when(() => backend.real), Effect.withClock(realClock))
      const second = yield* ConnectEx.dial(address, { data: text("second") })
      const { data } = yield* Listener.accept(listener, { receive: 64 })
      expect(decode(data)).toBe("second")
      yield* Socket.send(second.socket, text("!"))
    }))

  test("serve with receive: clients that connect and send nothing hold up no one; each handler gets its first bytes", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      const baseline = yield* Iocp.stats
      const handled: Array<string> = []
      const server = yield* Effect.fork(Listener.serve(listener, ({ data }) => Effect.sync(() => void handled.push(decode(data))), { receive: 16 }))
      // more silent clients than any number of accepts kept posted
      const silent = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () => ConnectEx.dial(address))
      yield* ConnectEx.dial(address, { data: text("first") })
      yield* ConnectEx.dial(address, { data: text("second") })
      for (let i = 0; i < 10_000 && handled.length < 2; i++) yield* Effect.yieldNow()
      expect([...handled].sort()).toEqual(["first", "second"])
      // a silent client that closes: its handler runs with empty data (the client's end), as AcceptEx's does
      yield* Socket.disconnect(silent[0]!.socket, { reuse: false })
      for (let i = 0; i < 10_000 && handled.length < 3; i++) yield* Effect.yieldNow()
      expect(handled.length).toBe(3)
      expect(handled[2]).toBe("")
      // stopping the serve cancels the waits for the other silent clients' first bytes and closes them
      yield* Fiber.interrupt(server)
      const after = yield* Iocp.stats
      expect(after.pending).toBe(0)
      expect(after.sockets).toBe(baseline.sockets + 8) // the eight clients' own sockets, none of the server's
    }))

  test("serve with a receive that is not an integer from 0 to MAX_RECEIVE: WSAEINVAL before anything is accepted", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      for (const receive of [-1, 1.5, Socket.MAX_RECEIVE + 1, Number.NaN]) {
        const error = yield* Effect.flip(Listener.serve(listener, () => Effect.void, { receive }))
        expect(error._tag).toBe("WSAEINVAL")
      }
      expect((yield* Iocp.stats).pending).toBe(0)
    }))

  test("serve: one scope per connection; interrupting it stops accepting and closes what is open", () =>
    Effect.gen(function*() {
      const baselineSockets = (yield* Iocp.stats).sockets
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      let handled = 0
      const server = yield* Effect.fork(Listener.serve(listener, ({ socket }) =>
        Effect.gen(function*() {
          handled++
          yield* Socket.send(socket, text("hi"))
          yield* Effect.never
        }), { concurrency: 10 }))
      const clients = yield* Effect.forEach([0, 1, 2], () => ConnectEx.dial(address))
      for (const { socket } of clients) expect(yield* receiveAll(socket, 2)).toBe("hi")
      expect(handled).toBe(3)
      yield* Fiber.interrupt(server)
      // every connection the server held is closed: each client reads its end
      for (const { socket } of clients) {
        const end = yield* Effect.either(Socket.receive(socket, 10))
        expect(end._tag === "Left" ? end.left._tag : end.right.length).toSatisfy((v) => v === 0 || v === "WSAECONNRESET")
      }
      expect((yield* Iocp.stats).pending).toBe(0)
      // what is left open is the listener and the clients: three sockets more than at the start on any driver
      expect((yield* Iocp.stats).sockets).toBe(baselineSockets + 4)
    }))

  // A bounded serve once waited for a connection under the mask of its slot wait: with one client more than
  // the limit handled and gone, neither interruption nor the scope's close could stop it.
  for (const limit of [1, 3]) {
    for (const clients of [...new Set([Math.max(0, limit - 1), limit, limit + 1, 3 * limit + 2])]) {
      for (const how of ["interrupt", "scope close"] as const) {
        test(`serve with concurrency ${limit}, ${clients} clients (handled, being handled, waiting for a slot): stops by ${how} at once`, () =>
          Effect.gen(function*() {
            const baseline = yield* Iocp.stats
            const scope = yield* Scope.make()
            const listener = yield* Scope.extend(Listener.listen(loopback("ipv4")), scope)
            const address = yield* Listener.address(listener)
            let handled = 0
            let finished = 0
            const server = yield* Effect.forkIn(
              Listener.serve(listener, ({ socket }) =>
                Effect.gen(function*() {
                  handled++
                  const bytes = yield* Socket.receive(socket, 16)
                  if (bytes.length > 0) yield* Socket.send(socket, bytes)
                  while ((yield* Socket.receive(socket, 16)).length > 0) yield* Effect.void
                }).pipe(Effect.ensuring(Effect.sync(() => void finished++))), { concurrency: limit }),
              scope
            )
            // Clients at once, served and gone: those over the limit wait for a slot first; at the end every
            // slot is free again and the serve waits for its next connection.
            yield* Effect.forEach(Array.from({ length: clients }), () =>
              Effect.scoped(Effect.gen(function*() {
                const { socket } = yield* ConnectEx.dial(address, { data: text("hi") })
                expect(yield* receiveAll(socket, 2)).toBe("hi")
              })), { concurrency: "unbounded", discard: true })
            yield* untilReal(() => finished === clients, "every handler to end")
            yield* stopsAtOnce(how === "interrupt" ? Fiber.interrupt(server) : Scope.close(scope, Exit.void), `the first serve (${how})`)
            expect(handled).toBe(clients)
            // The same again with clients that stay: `limit` of them handled, the rest waiting for a slot.
            const again = yield* Scope.make()
            const listener2 = yield* Scope.extend(Listener.listen(loopback("ipv4")), again)
            const address2 = yield* Listener.address(listener2)
            handled = 0
            const server2 = yield* Effect.forkIn(
              Listener.serve(listener2, ({ socket }) =>
                Effect.gen(function*() {
                  handled++
                  while ((yield* Socket.receive(socket, 16)).length > 0) yield* Effect.void
                }), { concurrency: limit }),
              again
            )
            const staying = yield* Scope.make()
            yield* Scope.extend(Effect.forEach(Array.from({ length: clients }), () => ConnectEx.dial(address2)), staying)
            yield* untilReal(() => handled === Math.min(clients, limit), "the handlers within the limit to start")
            yield* stopsAtOnce(how === "interrupt" ? Fiber.interrupt(server2) : Scope.close(again, Exit.void), `the second serve (${how})`)
            yield* Scope.close(staying, Exit.void)
            yield* Scope.close(scope, Exit.void)
            yield* Scope.close(again, Exit.void)
            const after = yield* Iocp.stats
            expect(after.pending).toBe(0)
            expect(after.sockets).toBe(baseline.sockets)
          }))
      }
    }
  }

  // Found by the shutdown soak: closing the listener under a serve (its scope closed, the serve forked
  // elsewhere) ended an unbounded serve at once (its pending accept failed), but a bounded one whose every slot
  // was taken had no accept pending and never learned of it: it kept serving until a slot freed, for ever with
  // idle clients. Both forms, at, one over and many over the limit: the serve fails WSA_OPERATION_ABORTED.
  for (const form of ["serve", "serveChunks"] as const) {
    for (const clients of [1, 2, 5]) {
      test(`${form} with concurrency 1 and ${clients} idle clients: closing the listener under it ends it (WSA_OPERATION_ABORTED), as without a limit`, () =>
        Effect.gen(function*() {
          const baseline = yield* Iocp.stats
          const scope = yield* Scope.make()
          const listener = yield* Scope.extend(Listener.listen(loopback("ipv4")), scope)
          const address = yield* Listener.address(listener)
          let handled = 0
          const server = yield* Effect.fork(form === "serve"
            ? Listener.serve(listener, ({ socket }) =>
              Effect.gen(function*() {
                handled++
                while ((yield* Socket.receive(socket, 16)).length > 0) yield* Effect.void
              }), { concurrency: 1 })
            : Listener.serveChunks<never, never>(listener, () => {}, { concurrency: 1 }))
          const staying = yield* Scope.make()
          yield* Scope.extend(Effect.forEach(Array.from({ length: clients }), () => ConnectEx.dial(address)), staying)
          if (form === "serve") yield* untilReal(() => handled === 1, "the handler within the limit to start")
          else yield* untilPending(1)
          yield* Scope.close(scope, Exit.void)
          const exit = yield* Effect.raceFirst(
            Fiber.await(server),
            Effect.zipRight(
              Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())),
              Effect.dieMessage(`${form} did not end within 2 s of its listener's close`)
            )
          )
          expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit).toBe("WSA_OPERATION_ABORTED")
          yield* Scope.close(staying, Exit.void)
          const after = yield* Iocp.stats
          expect(after.pending).toBe(0)
          expect(after.sockets).toBe(baseline.sockets)
        }))
    }
  }

  test("serveChunks: an echo server chunk by chunk; the client's end closes its connection; stopping closes the rest", () =>
    Effect.gen(function*() {
      const baseline = yield* Iocp.stats
      const scope = yield* Scope.make()
      const listener = yield* Scope.extend(Listener.listen(loopback("ipv4")), scope)
      const address = yield* Listener.address(listener)
      const server = yield* Effect.forkIn(Listener.serveChunks(listener, (chunk, { socket }) => Socket.send(socket, chunk)), scope)
      const clients = yield* Scope.make()
      const idle = yield* Scope.extend(Effect.forEach([1, 2, 3], () => ConnectEx.dial(address)), clients)
      for (const message of ["hello", "world"]) {
        const talking = yield* Scope.extend(ConnectEx.dial(address, { data: text(message) }), clients)
        expect(yield* receiveAll(talking.socket, message.length)).toBe(message)
        // the client's end: the server closes its side, the client reads the end
        yield* Socket.shutdown(talking.socket, "send")
        expect((yield* Socket.receive(talking.socket, 16)).length).toBe(0)
      }
      // the idle clients are still served
      yield* Socket.send(idle[0]!.socket, text("still here"))
      expect(yield* receiveAll(idle[0]!.socket, 10)).toBe("still here")
      yield* stopsAtOnce(Fiber.interrupt(server), "serveChunks")
      for (const { socket } of idle) {
        const end = yield* Effect.either(Socket.receive(socket, 16))
        expect(end._tag === "Left" ? end.left._tag : end.right.length).toSatisfy((v) => v === 0 || v === "WSAECONNRESET")
      }
      yield* Scope.close(clients, Exit.void)
      yield* Scope.close(scope, Exit.void)
      const after = yield* Iocp.stats
      expect(after.pending).toBe(0)
      expect(after.sockets).toBe(baseline.sockets)
    }))

  test("serveChunks: a handler's Effect holds that connection's reading until it ends; a failing one closes only its connection", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      const seen: Array<string> = []
      yield* Effect.forkScoped(Listener.serveChunks(listener, (chunk, { socket }): Effect.Effect<unknown, unknown> => {
        const message = decode(chunk)
        seen.push(message)
        if (message === "fail") return Effect.fail("the handler failed")
        // an Effect that takes its time: the next chunk is not read before it ends
        return Effect.zipRight(Effect.yieldNow(), Socket.send(socket, text(`<${message}>`)))
      }))
      const failing = yield* ConnectEx.dial(address, { data: text("fail") })
      const end = yield* Effect.either(Socket.receive(failing.socket, 16))
      expect(end._tag === "Left" ? end.left._tag : end.right.length).toSatisfy((v) => v === 0 || v === "WSAECONNRESET")
      const { socket } = yield* ConnectEx.dial(address, { data: text("a") })
      expect(yield* receiveAll(socket, 3)).toBe("<a>")
      yield* Socket.send(socket, text("b"))
      expect(yield* receiveAll(socket, 3)).toBe("<b>")
      expect(seen).toEqual(["fail", "a", "b"])
    }))

  test("serveChunks with receive: the first bytes are the first chunk; with concurrency, the rest wait for a slot", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      yield* Effect.forkScoped(Listener.serveChunks(listener, (chunk, { socket }) => Socket.send(socket, chunk), { receive: 16, concurrency: 1 }))
      const first = yield* ConnectEx.dial(address, { data: text("one") })
      expect(yield* receiveAll(first.socket, 3)).toBe("one")
      const second = yield* ConnectEx.dial(address, { data: text("two") })
      // the slot is the first connection's until it ends
      yield* Socket.shutdown(first.socket, "send")
      expect((yield* Socket.receive(first.socket, 16)).length).toBe(0)
      expect(yield* receiveAll(second.socket, 3)).toBe("two")
    }))

  test("the accepted socket works with PlatformSocket", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4"))
      const address = yield* Listener.address(listener)
      yield* Effect.forkScoped(Listener.serve(listener, ({ socket }) =>
        Effect.gen(function*() {
          const platform = yield* PlatformSocket.fromSocket(socket)
          const write = yield* platform.writer
          yield* platform.run((chunk) => write(chunk))
        })))
      const { socket } = yield* ConnectEx.dial(address)
      const platform = yield* PlatformSocket.fromSocket(socket)
      const echoed = yield* Stream.make("ping").pipe(
        Stream.encodeText,
        Stream.pipeThroughChannel(PlatformSocketModule.toChannel(platform)),
        Stream.decodeText(),
        Stream.take(1),
        Stream.runCollect
      )
      expect(Chunk.toReadonlyArray(echoed).join("")).toBe("ping")
    }))
})

/** The real clock, for the few waits that must let the kernel act (the TestClock would never move). */
const realClock = Clock.make()

/**
 * Runs a stop (an interruption, a scope's close) and fails the test when it has not returned within two
 * seconds of real time (the simulated backend runs on the TestClock, so Effect.timeout would never fire).
 */
const stopsAtOnce = (stop: Effect.Effect<unknown>, what: string) =>
  Effect.raceFirst(
    Effect.asVoid(stop),
    Effect.zipRight(
      Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())),
      Effect.dieMessage(`${what} did not stop within 2 s`)
    )
  )

/** Turns the event loop (and the fibers) until `condition` holds; dies after 5 s of real time. */
const untilReal = (condition: () => boolean, what: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5_000
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.yieldNow()
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })
