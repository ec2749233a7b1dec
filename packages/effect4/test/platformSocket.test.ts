/**
 * PlatformSocket: a ConnectEx connection as effect/socket's pull-based Socket, with NodeSocket's semantics: a
 * connection per reader acquisition (host names and dial options too), the writer's release a half-close a
 * node:net peer sees as a FIN, and `upgrade` to TLS in place against an in-process node:tls peer.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import type * as NetAddress from "effect/net/NetAddress"
import * as net from "node:net"
import * as tls from "node:tls"
import { ConnectEx, Iocp, PlatformSocket, PlatformSocketServer, Socket, SocketAddress, type WsaError } from "../src/index.js"
import { echoServer, loopback, pendingTarget, refusedPort } from "./support/peers.js"
import { openssl, selfSigned } from "./support/tls.js"

/** A node:net server on 127.0.0.1 doing `onConnection` with each connection; its connections, as they come. */
const listen = (onConnection: (connection: net.Socket) => void, options: net.ServerOpts = {}) =>
  Effect.gen(function*() {
    const connections: Array<net.Socket> = []
    const server = net.createServer(options, (connection) => {
      connections.push(connection)
      connection.on("error", () => {})
      onConnection(connection)
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number, Error>((resume) => {
        server.once("error", (error) => resume(Effect.fail(error)))
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const c of connections) c.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return { address: loopback("ipv4", port), connections }
  })

/** Waits (without a clock) until `done` holds, or fails after `ms`. */
const eventually = (done: () => boolean, ms = 5_000) =>
  Effect.promise(async () => {
    const until = Date.now() + ms
    while (!done() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 2))
  }).pipe(Effect.andThen(Effect.sync(() => assert.isTrue(done()))))

/** Reads until the text has `length` characters (the peer's end before that fails). */
const readText = (reader: EffectSocket.Reader, length: number) =>
  Effect.gen(function*() {
    let text = ""
    while (text.length < length) text += decode(yield* reader.pull)
    return text
  })

const reasonOf = (error: EffectSocket.SocketError) => error.reason

const decode = (chunks: ReadonlyArray<Uint8Array | string>) =>
  chunks.map((c) => typeof c === "string" ? c : new TextDecoder().decode(c)).join("")

describe("PlatformSocket", () => {
  it.live("make: the reader dials, the writer writes, a CloseEvent half-closes, the peer's end is SocketCloseError(1000)", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      const socket = yield* PlatformSocket.make(server, { timeout: "5 seconds" })
      const reader = yield* socket.reader
      const writer = yield* socket.writer
      yield* writer.write("ping")
      let got = ""
      while (got.length < 4) got += decode(yield* reader.pull)
      assert.strictEqual(got, "ping")
      yield* writer.write(new EffectSocket.CloseEvent())
      const end = yield* Effect.flip(reader.pull)
      assert.strictEqual(end.reason._tag, "SocketCloseError")
      assert.strictEqual((end.reason as EffectSocket.SocketCloseError).code, 1000)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("a refused dial is a SocketOpenError", () =>
    Effect.gen(function*() {
      const refused = yield* refusedPort("ipv4")
      const socket = yield* PlatformSocket.make(refused)
      const error = yield* Effect.flip(Effect.scoped(socket.reader))
      assert.strictEqual(error.reason._tag, "SocketOpenError")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("closing the reader's scope fails a suspended pull with SocketCloseError(1006); nothing stays pending", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      const { socket } = yield* ConnectEx.dial(server)
      const platform = PlatformSocket.fromSocket(socket)
      const scope = yield* Scope.make()
      const reader = yield* Scope.provide(platform.reader, scope)
      const pulling = yield* Effect.forkChild(reader.pull)
      for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < 1; i++) yield* Effect.yieldNow
      assert.strictEqual((yield* Iocp.stats).pending, 1)
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(Fiber.join(pulling))
      assert.strictEqual(error.reason._tag, "SocketCloseError")
      assert.strictEqual((error.reason as EffectSocket.SocketCloseError).code, 1006)
      assert.strictEqual((yield* Iocp.stats).pending, 0)
      // the connection itself stays usable: a new reader gets the echo
      yield* Socket.send(socket, new TextEncoder().encode("again"))
      const again = yield* Effect.scoped(Effect.flatMap(platform.reader, (r) => r.pull))
      assert.isTrue(decode(again).startsWith("a"))
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("fromSocket over a dialed connection: writeAll, then pull the echo", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      const { socket } = yield* ConnectEx.dial(server)
      const platform = PlatformSocket.fromSocket(socket)
      const writer = yield* platform.writer
      yield* writer.writeAll(["a", "b"])
      const got = yield* Effect.scoped(Effect.flatMap(platform.reader, (r) => r.pull))
      assert.isTrue(decode(got).startsWith("a"))
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})

describe("PlatformSocket.make: NodeSocket.makeNet's semantics", () => {
  it.live("each reader acquisition dials a connection of its own: two acquisitions against a closing peer read twice", () =>
    Effect.gen(function*() {
      const peer = yield* listen((connection) => connection.end("bye"))
      const socket = yield* PlatformSocket.make(peer.address)
      const received: Array<string> = []
      for (const _ of [1, 2]) {
        const end = yield* Effect.scoped(Effect.gen(function*() {
          const reader = yield* socket.reader
          return yield* Effect.flip(Effect.forever(Effect.map(reader.pull, (chunks) => void received.push(decode(chunks)))))
        }))
        assert.strictEqual(reasonOf(end)._tag, "SocketCloseError")
        assert.strictEqual((reasonOf(end) as EffectSocket.SocketCloseError).code, 1000)
      }
      assert.strictEqual(received.join(""), "byebye")
      assert.strictEqual(peer.connections.length, 2)
      yield* eventually(() => peer.connections.every((c) => c.closed))
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.sockets, 0)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("a host name and port, dialed with dialName; the dial options apply to each connection (data sent with the connect)", () =>
    Effect.gen(function*() {
      const received: Array<string> = []
      const peer = yield* listen((connection) => connection.on("data", (chunk: Buffer) => void received.push(chunk.toString())))
      const socket = yield* PlatformSocket.make({ host: "localhost", port: peer.address.port }, { data: new TextEncoder().encode("hi"), timeout: "5 seconds" })
      yield* Effect.scoped(Effect.gen(function*() {
        yield* socket.reader
        const writer = yield* socket.writer
        yield* writer.write("!")
        yield* eventually(() => received.join("").length >= 3)
      }))
      assert.strictEqual(received.join(""), "hi!")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("a refused dial fails the acquisition with SocketOpenError, WSAECONNREFUSED as its cause; a timeout is kind \"Timeout\"", () =>
    Effect.gen(function*() {
      const refused = yield* refusedPort("ipv4")
      const error = yield* Effect.flip(Effect.scoped(Effect.flatMap(PlatformSocket.make(refused), (socket) => socket.reader)))
      const reason = reasonOf(error)
      assert.strictEqual(reason._tag, "SocketOpenError")
      assert.strictEqual((reason as EffectSocket.SocketOpenError).kind, "Unknown")
      assert.strictEqual(((reason as EffectSocket.SocketOpenError).cause as WsaError.WsaError)._tag, "WSAECONNREFUSED")
      const fromLayer = yield* Effect.flip(Effect.scoped(EffectSocket.Socket.use((socket) => socket.reader)).pipe(
        Effect.provide(PlatformSocket.layer(refused))
      ))
      assert.strictEqual(reasonOf(fromLayer)._tag, "SocketOpenError")
      const silent = yield* pendingTarget("ipv4")
      const timedOut = yield* Effect.flip(Effect.scoped(Effect.flatMap(
        PlatformSocket.make({ host: "127.0.0.1", port: silent.port }, { timeout: "50 millis" }),
        (socket) => socket.reader
      )))
      assert.strictEqual(reasonOf(timedOut)._tag, "SocketOpenError")
      assert.strictEqual((reasonOf(timedOut) as EffectSocket.SocketOpenError).kind, "Timeout")
      assert.strictEqual((yield* Iocp.stats).pending, 0)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("releasing the writer half-closes: a node:net peer sees the FIN after the data, and its answer still comes back", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const peer = yield* listen((connection) => {
        connection.on("data", (chunk: Buffer) => void seen.push(chunk.toString()))
        connection.on("end", () => {
          seen.push("FIN")
          connection.end("answer")
        })
      }, { allowHalfOpen: true })
      const socket = yield* PlatformSocket.make(peer.address)
      const reader = yield* socket.reader
      yield* Effect.scoped(Effect.flatMap(socket.writer, (writer) => writer.writeAll(["que", "stion"])))
      yield* eventually(() => seen.includes("FIN"))
      assert.strictEqual(seen.join(""), "questionFIN")
      assert.strictEqual(yield* readText(reader, "answer".length), "answer")
      const end = yield* Effect.flip(reader.pull)
      assert.strictEqual((reasonOf(end) as EffectSocket.SocketCloseError).code, 1000)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("a writer waits for a connection: a write made before any reader goes once one is acquired", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      const socket = yield* PlatformSocket.make(server)
      const writer = yield* socket.writer
      const writing = yield* Effect.forkChild(writer.write("early"))
      yield* Effect.sleep("20 millis")
      assert.isUndefined(writing.pollUnsafe())
      const reader = yield* socket.reader
      yield* Fiber.join(writing)
      assert.strictEqual(yield* readText(reader, 5), "early")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})

/** A peer that speaks plain text first, then TLS in place on the same connection once it reads "STARTTLS\n". */
const startTlsPeer = (key: Buffer, cert: Buffer) =>
  Effect.gen(function*() {
    const said: Array<string> = []
    const peer = yield* listen((connection) => {
      connection.once("data", (chunk: Buffer) => {
        said.push(chunk.toString())
        connection.write("GO\n", () => {
          const secure = new tls.TLSSocket(connection, { isServer: true, key, cert })
          secure.on("error", () => {})
          secure.on("data", (data: Buffer) => {
            said.push(data.toString())
            secure.write(`secure:${data.toString()}`)
          })
          secure.on("end", () => {
            said.push("close_notify+FIN")
            secure.end()
          })
        })
      })
    }, { allowHalfOpen: true })
    return { address: peer.address, said }
  })

describe.skipIf(!openssl)("PlatformSocket: upgrade to TLS in place", () => {
  it.live("plain text first, then upgrade({ ca, servername }): the same connection speaks TLS; the writer's release ends the session", () =>
    Effect.gen(function*() {
      const { cert, key } = selfSigned()
      const peer = yield* startTlsPeer(key, cert)
      const socket = yield* PlatformSocket.make(peer.address)
      const reader = yield* socket.reader
      yield* Effect.scoped(Effect.gen(function*() {
        const writer = yield* socket.writer
        yield* writer.write("STARTTLS\n")
        assert.strictEqual(yield* readText(reader, 3), "GO\n")
        yield* reader.upgrade({ ca: cert, servername: "localhost" })
        yield* writer.write("hello")
        assert.strictEqual(yield* readText(reader, "secure:hello".length), "secure:hello")
      }))
      yield* eventually(() => peer.said.includes("close_notify+FIN"))
      assert.deepStrictEqual(peer.said, ["STARTTLS\n", "hello", "close_notify+FIN"])
      const end = yield* Effect.flip(reader.pull)
      assert.strictEqual(reasonOf(end)._tag, "SocketCloseError")
      const again = yield* Effect.flip(reader.upgrade({ ca: cert }))
      assert.strictEqual(reasonOf(again)._tag, "SocketUpgradeError")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("a failing handshake (a certificate nobody vouches for): SocketUpgradeError with node:tls's error as the cause; the reader fails with it; nothing left pending", () =>
    Effect.gen(function*() {
      const { cert, key } = selfSigned()
      const server = tls.createServer({ key, cert }, (secure) => secure.on("error", () => {}))
      server.on("tlsClientError", () => {})
      const port = yield* Effect.acquireRelease(
        Effect.callback<number>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))),
        () => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const socket = yield* PlatformSocket.make(SocketAddress.ipv4("127.0.0.1", port))
      yield* Effect.scoped(Effect.gen(function*() {
        const reader = yield* socket.reader
        const error = yield* Effect.flip(reader.upgrade({ servername: "localhost" }))
        const reason = reasonOf(error)
        assert.strictEqual(reason._tag, "SocketUpgradeError")
        const cause = (reason as EffectSocket.SocketUpgradeError).cause as NodeJS.ErrnoException
        assert.instanceOf(cause, Error)
        assert.strictEqual(cause.code, "DEPTH_ZERO_SELF_SIGNED_CERT")
        const after = yield* Effect.flip(reader.pull)
        assert.strictEqual(reasonOf(after)._tag, "SocketUpgradeError")
      }))
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.sockets, 0)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("credentials must come in pairs: a key without a cert is a SocketUpgradeError, and the connection stays plain and usable", () =>
    Effect.gen(function*() {
      const { key } = selfSigned()
      const server = yield* echoServer("ipv4")
      const socket = yield* PlatformSocket.make(server)
      const reader = yield* socket.reader
      const error = yield* Effect.flip(reader.upgrade({ key: Redacted.make(key) }))
      assert.strictEqual(reasonOf(error)._tag, "SocketUpgradeError")
      const writer = yield* socket.writer
      yield* writer.write("still plain")
      assert.strictEqual(yield* readText(reader, "still plain".length), "still plain")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("the server's side: a connection PlatformSocketServer accepted upgrades with key and cert; a node:tls client talks to it", () =>
    Effect.gen(function*() {
      const { cert, key } = selfSigned()
      const server = yield* PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", 0))
      const address = server.address as NetAddress.InetAddress
      yield* Effect.forkScoped(server.run((socket) =>
        Effect.gen(function*() {
          const reader = yield* socket.reader
          yield* reader.upgrade({ key: Redacted.make(key), cert })
          const writer = yield* socket.writer
          while (true) yield* writer.writeAll(yield* reader.pull)
        }).pipe(Effect.scoped, Effect.ignore)))
      const echoed = yield* Effect.callback<string, Error>((resume) => {
        const client = tls.connect({ host: "127.0.0.1", port: address.port, ca: cert, servername: "localhost" }, () => client.write("over tls"))
        client.once("data", (chunk: Buffer) => {
          resume(Effect.succeed(chunk.toString()))
          client.destroy()
        })
        client.once("error", (error) => resume(Effect.fail(error)))
      })
      assert.strictEqual(echoed, "over tls")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})

describe("PlatformSocket: a written CloseEvent", () => {
  it.live("ends the reader with that close (code and reason) at once, and the connection gracefully: the peer sees the end", () =>
    Effect.gen(function*() {
      const ended: Array<string> = []
      const peer = yield* listen((connection) => connection.on("end", () => ended.push("end")), { allowHalfOpen: true })
      const socket = yield* PlatformSocket.make(peer.address)
      const reader = yield* socket.reader
      const pulling = yield* Effect.forkChild(reader.pull)
      for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < 1; i++) yield* Effect.yieldNow
      const writer = yield* socket.writer
      yield* writer.write(new EffectSocket.CloseEvent(4000, "done"))
      const error = yield* Effect.flip(Fiber.join(pulling))
      const reason = reasonOf(error) as EffectSocket.SocketCloseError
      assert.strictEqual(reason._tag, "SocketCloseError")
      assert.strictEqual(reason.code, 4000)
      assert.strictEqual(reason.closeReason, "done")
      yield* eventually(() => ended.length === 1)
      assert.strictEqual((yield* Iocp.stats).pending, 0)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})
