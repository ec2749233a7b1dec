/**
 * The accepting side (Listener) and the data path (FIFO queues, trySend/tryReceive, Socket.stream/sink) on the
 * Effect 4 front-end, on the two backends of behaviour.test.ts: the platform driver over loopback, and the
 * simulated network (client and listener both simulated). Adapted from the repository's packages/effect-connectex/test/listener.test.ts
 * and packages/effect-connectex/test/stream.test.ts (Effect 3).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ConnectEx, Iocp, Listener, Simulated, Socket, SocketAddress, type WsaError } from "../src/index.js"
import { loopback } from "./support/peers.js"

interface Backend {
  readonly name: string
  readonly layer: Layer.Layer<ConnectEx.ConnectEx | Iocp.Iocp, WsaError.WsaError>
}

const backends: ReadonlyArray<Backend> = [
  { name: "platform driver, loopback", layer: ConnectEx.layer },
  { name: "simulated network", layer: ConnectEx.layerSimulated(Simulated.network({})) }
]

const text = (s: string) => new TextEncoder().encode(s)
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

/** Lets forked fibers run until the port has `n` operations pending (no clock involved). */
const untilPending = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < n; i++) yield* Effect.yieldNow
    assert.strictEqual((yield* Iocp.stats).pending, n)
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

/** The echo server of the module's documentation. */
const echo = (listener: Listener.Listener) =>
  Listener.serve(listener, ({ socket }) =>
    Effect.gen(function*() {
      for (let chunk = yield* Socket.receive(socket, 65536); chunk.length > 0; chunk = yield* Socket.receive(socket, 65536)) {
        yield* Socket.send(socket, chunk)
      }
    }))

/** An echo server written with the streaming API: the connection's stream run into its own sink. */
const streamingEcho = (listener: Listener.Listener) =>
  Listener.serve(listener, ({ socket }) => Socket.stream(socket).pipe(Stream.run(Socket.sink(socket, { shutdown: true }))))

const pattern = (size: number, seed = 0): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 12) + seed * 31) & 0xff
  return bytes
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b))

describe.each(backends)("Listener: $name", (backend) => {
  const test = (name: string, body: () => Effect.Effect<void, unknown, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    it.live(name, () => body().pipe(Effect.scoped, Effect.provide(backend.layer)), 30_000)

  test("an echo server: serve + dial, both families; address gives the real port after port 0", () =>
    Effect.gen(function*() {
      for (const family of ["ipv4", "ipv6"] as const) {
        const listener = yield* Listener.listen(loopback(family, 0))
        assert.isTrue(Listener.isListener(listener))
        assert.strictEqual(listener.family, family)
        const address = yield* Listener.address(listener)
        assert.isAbove(address.port, 0)
        assert.strictEqual(address.host, family === "ipv4" ? "127.0.0.1" : "::1")
        yield* Effect.forkScoped(echo(listener))
        for (const message of ["hello", "world"]) {
          const { socket } = yield* ConnectEx.dial(address, { data: text(message) })
          assert.strictEqual(yield* receiveAll(socket, message.length), message)
        }
      }
    }))

  test("accept gives a connected socket, the peer's address and, with receive, the first bytes", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const accepting = yield* Effect.forkChild(Listener.accept(listener, { receive: 64 }))
      const { socket: client } = yield* ConnectEx.dial(address, { data: text("first") })
      const { data, peer, socket } = yield* Fiber.join(accepting)
      assert.strictEqual(decode(data), "first")
      const clientLocal = yield* Socket.localAddress(client)
      assert.strictEqual(SocketAddress.format(peer), SocketAddress.format(clientLocal))
      assert.strictEqual(SocketAddress.format(yield* Socket.peerAddress(socket)), SocketAddress.format(clientLocal))
      assert.strictEqual((yield* Socket.localAddress(socket)).port, address.port)
      yield* Socket.send(socket, text("reply"))
      assert.strictEqual(yield* receiveAll(client, 5), "reply")
      yield* Socket.send(client, text("more"))
      assert.strictEqual(yield* receiveAll(socket, 4), "more")
      yield* Socket.shutdown(socket, "send")
      assert.strictEqual((yield* Socket.receive(client, 10)).length, 0)
      // without receive: data is empty
      const second = yield* Effect.forkChild(Listener.accept(listener))
      yield* ConnectEx.dial(address)
      assert.strictEqual((yield* Fiber.join(second)).data.length, 0)
    }))

  test("connect on a listening socket: WSAEINVAL; ConnectEx on an accepted socket: WSAEISCONN", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const onListener = yield* Effect.flip(ConnectEx.connect(Listener.socket(listener), address))
      assert.strictEqual(onListener._tag, "WSAEINVAL")
      const accepting = yield* Effect.forkChild(Listener.accept(listener))
      yield* ConnectEx.dial(address)
      const { socket } = yield* Fiber.join(accepting)
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(socket, address)))._tag, "WSAEISCONN")
    }))

  test("a second listen on an address in use: WSAEADDRINUSE (reuseAddress or not)", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const first = yield* Effect.flip(Listener.listen(address))
      assert.strictEqual(first._tag, "WSAEADDRINUSE")
      assert.strictEqual(first.code, 10048)
      assert.strictEqual((yield* Effect.flip(Listener.listen(address, { reuseAddress: false })))._tag, "WSAEADDRINUSE")
      // the failed listens left nothing open: the listener is the only socket
      assert.strictEqual((yield* Iocp.stats).sockets, 1)
    }))

  test("accept on a socket that is not listening: WSAEINVAL; a bad backlog: WSAEINVAL", () =>
    Effect.gen(function*() {
      const socket = yield* Socket.open({ family: "ipv4" })
      assert.strictEqual((yield* Effect.flip(Listener.accept(socket)))._tag, "WSAEINVAL")
      yield* Socket.bind(socket, loopback("ipv4", 0))
      assert.strictEqual((yield* Effect.flip(Listener.accept(socket)))._tag, "WSAEINVAL")
      assert.strictEqual((yield* Effect.flip(Listener.listen(loopback("ipv4", 0), { backlog: -1 })))._tag, "WSAEINVAL")
    }))

  test("closing the listener's scope with accepts pending: each WSA_OPERATION_ABORTED, liveAllocations back to baseline", () =>
    Effect.gen(function*() {
      const baseline = (yield* Iocp.stats).liveAllocations
      const scope = yield* Scope.make()
      const listener = yield* Scope.provide(scope)(Listener.listen(loopback("ipv4", 0)))
      const accepts = yield* Effect.forEach([0, 1, 2], () => Effect.forkChild(Effect.scoped(Listener.accept(listener, { receive: 16 }))))
      yield* untilPending(3)
      yield* Scope.close(scope, Exit.void)
      for (const fiber of accepts) {
        const error = failureOf(yield* Fiber.await(fiber))
        assert.strictEqual(error?._tag, "WSA_OPERATION_ABORTED")
        assert.strictEqual(error?.code, 995)
      }
      for (let i = 0; i < 200 && (yield* Iocp.stats).liveAllocations !== baseline; i++) yield* Effect.sleep("5 millis")
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.liveAllocations, baseline)
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.sockets, 0)
      assert.strictEqual(stats.duplicates, 0)
      // the closed listener answers WSAENOTSOCK
      assert.strictEqual((yield* Effect.flip(Effect.scoped(Listener.accept(listener))))._tag, "WSAENOTSOCK")
    }))

  test("interrupting an accept cancels it; a connection made later is accepted by the next accept", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const pending = yield* Effect.forkChild(Effect.scoped(Listener.accept(listener, { receive: 16 })))
      yield* untilPending(1)
      yield* Fiber.interrupt(pending)
      assert.strictEqual((yield* Iocp.stats).pending, 0)
      const next = yield* Effect.forkChild(Listener.accept(listener, { receive: 16 }))
      yield* ConnectEx.dial(address, { data: text("next") })
      assert.strictEqual(decode((yield* Fiber.join(next)).data), "next")
    }))

  test("serve with receive: clients that connect and send nothing hold up no one; each handler gets its first bytes", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const baseline = yield* Iocp.stats
      const handled: Array<string> = []
      const server = yield* Effect.forkChild(Listener.serve(listener, ({ data }) => Effect.sync(() => void handled.push(decode(data))), { receive: 16 }))
      // more silent clients than any number of accepts kept posted
      const silent = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () => ConnectEx.dial(address))
      yield* ConnectEx.dial(address, { data: text("first") })
      yield* ConnectEx.dial(address, { data: text("second") })
      for (let i = 0; i < 10_000 && handled.length < 2; i++) yield* Effect.yieldNow
      assert.deepStrictEqual([...handled].sort(), ["first", "second"])
      // a silent client that closes: its handler runs with empty data (the client's end)
      yield* Socket.disconnect(silent[0]!.socket, { reuse: false })
      for (let i = 0; i < 10_000 && handled.length < 3; i++) yield* Effect.yieldNow
      assert.deepStrictEqual(handled.length, 3)
      assert.strictEqual(handled[2], "")
      // stopping the serve ends the waits for the other silent clients' first bytes and closes them
      yield* Fiber.interrupt(server)
      const after = yield* Iocp.stats
      assert.strictEqual(after.pending, 0)
      assert.strictEqual(after.sockets, baseline.sockets + 8) // the eight clients' own sockets, none of the server's
    }))

  test("serve with a receive that is not an integer from 0 to MAX_RECEIVE: WSAEINVAL before anything is accepted", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      for (const receive of [-1, 1.5, Socket.MAX_RECEIVE + 1, Number.NaN]) {
        const error = yield* Effect.flip(Listener.serve(listener, () => Effect.void, { receive }))
        assert.strictEqual(error._tag, "WSAEINVAL")
      }
      assert.strictEqual((yield* Iocp.stats).pending, 0)
    }))

  test("serve: one scope per connection; interrupting it stops accepting and closes what is open", () =>
    Effect.gen(function*() {
      const baselineSockets = (yield* Iocp.stats).sockets
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      let handled = 0
      const server = yield* Effect.forkChild(Listener.serve(listener, ({ socket }) =>
        Effect.gen(function*() {
          handled++
          yield* Socket.send(socket, text("hi"))
          yield* Effect.never
        }), { concurrency: 10 }))
      const clients = yield* Effect.forEach([0, 1, 2], () => ConnectEx.dial(address))
      for (const { socket } of clients) assert.strictEqual(yield* receiveAll(socket, 2), "hi")
      assert.strictEqual(handled, 3)
      yield* Fiber.interrupt(server)
      // every connection the server held is closed: each client reads its end (or a reset)
      for (const { socket } of clients) {
        const end = yield* Effect.exit(Socket.receive(socket, 10))
        const seen = Exit.isSuccess(end) ? end.value.length : failureOf(end)?._tag
        assert.isTrue(seen === 0 || seen === "WSAECONNRESET", `got ${String(seen)}`)
      }
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.pending, 0)
      // the listener and the three clients remain
      assert.strictEqual(stats.sockets, baselineSockets + 4)
    }))

  // The Effect 3 front-end once waited for a connection under the mask of its slot wait, so that a bounded serve
  // with every slot freed could not be stopped; the same cases here, at every N relative to the limit.
  for (const limit of [1, 3]) {
    for (const clients of [...new Set([Math.max(0, limit - 1), limit, limit + 1, 3 * limit + 2])]) {
      for (const how of ["interrupt", "scope close"] as const) {
        test(`serve with concurrency ${limit}, ${clients} clients (handled, being handled, waiting for a slot): stops by ${how} at once`, () =>
          Effect.gen(function*() {
            const baseline = yield* Iocp.stats
            const stop = (fiber: Fiber.Fiber<unknown, unknown>, scope: Scope.Closeable) =>
              how === "interrupt" ? Fiber.interrupt(fiber) : Scope.close(scope, Exit.void)
            const scope = yield* Scope.make()
            const listener = yield* Listener.listen(loopback("ipv4", 0)).pipe(Scope.provide(scope))
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
            // Clients at once, served and gone: those over the limit wait for a slot first.
            yield* Effect.forEach(Array.from({ length: clients }), () =>
              Effect.scoped(Effect.gen(function*() {
                const { socket } = yield* ConnectEx.dial(address, { data: text("hi") })
                assert.strictEqual(yield* receiveAll(socket, 2), "hi")
              })), { concurrency: "unbounded", discard: true })
            yield* untilTrue(() => finished === clients, "every handler to end")
            yield* stopsAtOnce(stop(server, scope), `the first serve (${how})`)
            assert.strictEqual(handled, clients)
            // The same again with clients that stay: `limit` of them handled, the rest waiting for a slot.
            const again = yield* Scope.make()
            const listener2 = yield* Listener.listen(loopback("ipv4", 0)).pipe(Scope.provide(again))
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
            yield* Effect.forEach(Array.from({ length: clients }), () => ConnectEx.dial(address2)).pipe(Scope.provide(staying))
            yield* untilTrue(() => handled === Math.min(clients, limit), "the handlers within the limit to start")
            yield* stopsAtOnce(stop(server2, again), `the second serve (${how})`)
            yield* Scope.close(staying, Exit.void)
            yield* Scope.close(scope, Exit.void)
            yield* Scope.close(again, Exit.void)
            const after = yield* Iocp.stats
            assert.strictEqual(after.pending, 0)
            assert.strictEqual(after.sockets, baseline.sockets)
          }))
      }
    }
  }

  test("a failing handler ends only its connection; the server goes on", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      let n = 0
      const handler = ({ socket }: Listener.Accepted): Effect.Effect<void, WsaError.WsaError | string> =>
        ++n === 1 ? Effect.fail("boom") : Effect.asVoid(Socket.send(socket, text("ok")))
      yield* Effect.forkScoped(Listener.serve(listener, handler))
      const first = yield* ConnectEx.dial(address)
      assert.strictEqual(yield* receiveAll(first.socket, 2), "")
      const second = yield* ConnectEx.dial(address)
      assert.strictEqual(yield* receiveAll(second.socket, 2), "ok")
    }))

  test("Socket.stream / Socket.sink round trip through a streaming echo server (3 MiB)", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      yield* Effect.forkScoped(streamingEcho(listener))
      const { socket } = yield* ConnectEx.dial(yield* Listener.address(listener))
      const data = pattern(3 * 1024 * 1024 + 17)
      const pieces = Array.from({ length: Math.ceil(data.length / 50_000) }, (_, i) => data.subarray(i * 50_000, (i + 1) * 50_000))
      const reading = yield* Effect.forkChild(Stream.runCollect(Socket.stream(socket)))
      yield* Stream.fromIterable(pieces).pipe(Stream.run(Socket.sink(socket, { shutdown: true })))
      const echoed = Buffer.concat(yield* Fiber.join(reading))
      assert.isTrue(sameBytes(echoed, data), `echoed ${echoed.length} of ${data.length} bytes`)
    }))

  test("Socket.stream: chunks at most chunkSize; a receive after the end sees the end; bad chunkSize is WSAEINVAL", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      yield* Effect.forkScoped(echo(listener))
      const { socket } = yield* ConnectEx.dial(yield* Listener.address(listener))
      yield* Stream.make(pattern(10_000)).pipe(Stream.run(Socket.sink(socket, { shutdown: true })))
      const chunks = yield* Stream.runCollect(Socket.stream(socket, { chunkSize: 1000 }))
      assert.isTrue(chunks.every((c) => c.length >= 1 && c.length <= 1000))
      assert.strictEqual(Buffer.concat(chunks).length, 10_000)
      assert.strictEqual((yield* Socket.receive(socket, 10)).length, 0)
      const bad = yield* Effect.flip(Stream.runDrain(Socket.stream(socket, { chunkSize: 0 })))
      assert.strictEqual(bad._tag, "WSAEINVAL")
      const unconnected = yield* Socket.open({ family: "ipv4" })
      assert.strictEqual((yield* Effect.flip(Stream.runDrain(Socket.stream(unconnected))))._tag, "WSAENOTCONN")
      assert.strictEqual((yield* Effect.flip(Stream.make(new Uint8Array(3)).pipe(Stream.run(Socket.sink(unconnected)))))._tag, "WSAENOTCONN")
    }))

  test("serveChunks: an echo server chunk by chunk; the client's end closes its connection; stopping closes the rest", () =>
    Effect.gen(function*() {
      const baseline = yield* Iocp.stats
      const scope = yield* Scope.make()
      const listener = yield* Scope.provide(scope)(Listener.listen(loopback("ipv4", 0)))
      const address = yield* Listener.address(listener)
      const server = yield* Effect.forkIn(Listener.serveChunks(listener, (chunk, { socket }) => Socket.send(socket, chunk)), scope)
      const clients = yield* Scope.make()
      const idle = yield* Scope.provide(clients)(Effect.forEach([1, 2, 3], () => ConnectEx.dial(address)))
      for (const message of ["hello", "world"]) {
        const talking = yield* Scope.provide(clients)(ConnectEx.dial(address, { data: text(message) }))
        assert.strictEqual(yield* receiveAll(talking.socket, message.length), message)
        // the client's end: the server closes its side, the client reads the end
        yield* Socket.shutdown(talking.socket, "send")
        assert.strictEqual((yield* Socket.receive(talking.socket, 16)).length, 0)
      }
      // the idle clients are still served
      yield* Socket.send(idle[0]!.socket, text("still here"))
      assert.strictEqual(yield* receiveAll(idle[0]!.socket, 10), "still here")
      yield* stopsAtOnce(Fiber.interrupt(server), "serveChunks")
      for (const { socket } of idle) {
        const end = yield* Effect.exit(Socket.receive(socket, 16))
        assert.include([0, "WSAECONNRESET"], Exit.isSuccess(end) ? end.value.length : failureOf(end)?._tag)
      }
      yield* Scope.close(clients, Exit.void)
      yield* Scope.close(scope, Exit.void)
      const after = yield* Iocp.stats
      assert.strictEqual(after.pending, 0)
      assert.strictEqual(after.sockets, baseline.sockets)
    }))

  test("serveChunks: a handler's Effect holds that connection's reading until it ends; a failing one closes only its connection", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const seen: Array<string> = []
      yield* Effect.forkScoped(Listener.serveChunks(listener, (chunk, { socket }): Effect.Effect<unknown, unknown> => {
        const message = decode(chunk)
        seen.push(message)
        if (message === "fail") return Effect.fail("the handler failed")
        // an Effect that takes its time: the next chunk is not read before it ends
        return Effect.andThen(Effect.yieldNow, Socket.send(socket, text(`<${message}>`)))
      }))
      const failing = yield* ConnectEx.dial(address, { data: text("fail") })
      const end = yield* Effect.exit(Socket.receive(failing.socket, 16))
      assert.include([0, "WSAECONNRESET"], Exit.isSuccess(end) ? end.value.length : failureOf(end)?._tag)
      const { socket } = yield* ConnectEx.dial(address, { data: text("a") })
      assert.strictEqual(yield* receiveAll(socket, 3), "<a>")
      yield* Socket.send(socket, text("b"))
      assert.strictEqual(yield* receiveAll(socket, 3), "<b>")
      assert.deepStrictEqual(seen, ["fail", "a", "b"])
    }))

  test("serveChunks with receive: the first bytes are the first chunk; with concurrency, the rest wait for a slot", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      yield* Effect.forkScoped(Listener.serveChunks(listener, (chunk, { socket }) => Socket.send(socket, chunk), { receive: 16, concurrency: 1 }))
      const first = yield* ConnectEx.dial(address, { data: text("one") })
      assert.strictEqual(yield* receiveAll(first.socket, 3), "one")
      const second = yield* ConnectEx.dial(address, { data: text("two") })
      // the slot is the first connection's until it ends
      yield* Socket.shutdown(first.socket, "send")
      assert.strictEqual((yield* Socket.receive(first.socket, 16)).length, 0)
      assert.strictEqual(yield* receiveAll(second.socket, 3), "two")
    }))

  test("serveChunks: a connection can close itself; a bad readSize is WSAEINVAL before anything is accepted", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const invalid = yield* Effect.flip(Listener.serveChunks(listener, () => {}, { readSize: 0 }))
      assert.strictEqual(invalid._tag, "WSAEINVAL")
      assert.match(invalid.message, /readSize must be an integer from 1/)
      yield* Effect.forkScoped(Listener.serveChunks(listener, (chunk, connection): Effect.Effect<unknown, WsaError.SendError> =>
        decode(chunk) === "bye" ? connection.close : Socket.send(connection.socket, chunk)))
      const { socket } = yield* ConnectEx.dial(address, { data: text("hi") })
      assert.strictEqual(yield* receiveAll(socket, 2), "hi")
      yield* Socket.send(socket, text("bye"))
      const end = yield* Effect.exit(Socket.receive(socket, 16))
      assert.include([0, "WSAECONNRESET"], Exit.isSuccess(end) ? end.value.length : failureOf(end)?._tag)
    }))

  test("concurrent sends on one socket arrive whole and in the order they were issued", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(loopback("ipv4", 0))
      const address = yield* Listener.address(listener)
      const accepting = yield* Effect.forkChild(Listener.accept(listener))
      const { socket: client } = yield* ConnectEx.dial(address)
      const { socket: server } = yield* Fiber.join(accepting)
      // 16 MiB in all, more than the kernel buffers take at once: one send goes partial and the later ones queue
      // behind it on the FIFO (checked by instrumenting sendQueued: 12 of 16 queued on both backends).
      const payloads = Array.from({ length: 16 }, (_, i) => pattern(1024 * 1024 + i, i + 1))
      const total = payloads.reduce((n, p) => n + p.length, 0)
      const reading = yield* Effect.forkChild(
        Stream.runCollect(Socket.stream(server).pipe(Stream.takeUntil(() => false))).pipe(Effect.map((chunks) => Buffer.concat(chunks)))
      )
      const sent = yield* Effect.forEach(payloads, (p) => Socket.send(client, p), { concurrency: "unbounded" })
      assert.deepStrictEqual(sent, payloads.map((p) => p.length))
      yield* Socket.shutdown(client, "send")
      const received = yield* Fiber.join(reading)
      assert.strictEqual(received.length, total)
      assert.isTrue(sameBytes(received, Buffer.concat(payloads)))
      // the caller's buffers were not changed by the queued sends (they send copies)
      assert.isTrue(sameBytes(payloads[3]!, pattern(1024 * 1024 + 3, 4)))
    }))
})

/** Runs a stop (an interruption, a scope's close) and fails the test when it has not returned within 2 s. */
const stopsAtOnce = (stop: Effect.Effect<unknown>, what: string): Effect.Effect<void> =>
  Effect.timeoutOrElse(Effect.asVoid(stop), { duration: "2 seconds", orElse: () => Effect.die(new Error(`${what} did not stop within 2 s`)) })

/** Turns the event loop (and the fibers) until `condition` holds; dies after 5 s. */
const untilTrue = (condition: () => boolean, what: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5_000
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.yieldNow
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })
