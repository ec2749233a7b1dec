/**
 * `PlatformSocketServer` as Effect 4's `SocketServer` (`effect/socket/SocketServer`). Effect 4.1's npm package
 * ships no tests for it; the case below is the one of `@effect/platform-node`'s NodeSocketServer test ("open":
 * an echo server, a client streams "Hello", "World" and reads "HelloWorld"), as the Effect 3 suite adapts it,
 * with a plain node:net client (standing in for the platform's node client, which this package does not
 * install) and with our own client (`PlatformSocket`), plus the adapter's open errors and release.
 */
import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as Stream from "effect/Stream"
import { ConnectEx, Iocp, PlatformSocket, PlatformSocketServer, Simulated, SocketAddress } from "../src/index.js"

/** Each connection's bytes are written back until the peer's end (a clean close, code 1000). */
const echoHandler = (socket: EffectSocket.Socket) =>
  Effect.gen(function*() {
    const reader = yield* socket.reader
    const writer = yield* socket.writer
    while (true) yield* writer.writeAll(yield* reader.pull)
  }).pipe(
    Effect.scoped,
    Effect.catchReason("SocketError", "SocketCloseError", () => Effect.void)
  )

/** The server of the platform's test, running in the test's scope. */
const makeServer = (address: SocketAddress.SocketAddress) =>
  Effect.gen(function*() {
    const server = yield* PlatformSocketServer.make(address)
    yield* Effect.forkScoped(server.run(echoHandler))
    return server
  })

const inet = (server: SocketServer.SocketServer["Service"]): NetAddress.InetAddress => {
  assert.isTrue(NetAddress.isInetAddress(server.address))
  return server.address as NetAddress.InetAddress
}

/** A node:net client: writes "Hello", "World" and reads until it has ten characters. */
const nodeClient = (port: number, host: string) =>
  Effect.callback<string, Error>((resume) => {
    let received = ""
    const client = net.connect({ port, host }, () => {
      client.write("Hello")
      client.write("World")
    })
    client.on("data", (chunk) => {
      received += chunk.toString("utf8")
      if (received.length >= 10) {
        client.end()
        resume(Effect.succeed(received))
      }
    })
    client.on("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => client.destroy())
  })

/** Our client, as the platform's test writes it: a stream piped through the socket's channel. */
const helloWorld = (socket: EffectSocket.Socket) =>
  Stream.make("Hello", "World").pipe(
    Stream.encodeText,
    Stream.pipeThroughChannel(EffectSocket.toChannel(socket)),
    Stream.decodeText(),
    Stream.scan(() => "", (all: string, piece: string) => all + piece),
    Stream.takeUntil((all) => all.length >= 10),
    Stream.runLast
  )

describe("PlatformSocketServer (platform driver)", () => {
  it.live("open: a node:net client against our server; address is an InetAddressV4 with the real port", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(SocketAddress.ipv4("127.0.0.1", 0))
      const address = inet(server)
      assert.strictEqual(address._tag, "InetAddressV4")
      assert.strictEqual(NetAddress.formatInet(address).split(":")[0], "127.0.0.1")
      assert.isAbove(address.port, 0)
      assert.strictEqual(yield* nodeClient(address.port, "127.0.0.1"), "HelloWorld")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("open: our client (PlatformSocket) against our server, ipv6", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(SocketAddress.ipv6("::1", 0))
      const address = inet(server)
      assert.strictEqual(address._tag, "InetAddressV6")
      const socket = yield* PlatformSocket.make(SocketAddress.ipv6("::1", address.port))
      assert.deepStrictEqual(yield* helloWorld(socket), Option.some("HelloWorld"))
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("an address in use: SocketServerError with SocketServerOpenError, the typed WSA error as cause", () =>
    Effect.gen(function*() {
      const server = yield* PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", 0))
      const error = yield* Effect.flip(PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", inet(server).port)))
      assert.strictEqual(error._tag, "SocketServerError")
      assert.strictEqual(error.reason._tag, "SocketServerOpenError")
      assert.strictEqual((error.reason.cause as { _tag: string })._tag, "WSAEADDRINUSE")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("the layer: code written for SocketServer runs unchanged; interrupting run closes connections; releasing the layer closes the listener", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        PlatformSocketServer.layer(SocketAddress.ipv4("127.0.0.1", 0)).pipe(Layer.provideMerge(ConnectEx.layer)),
        scope
      )
      const program = Effect.gen(function*() {
        const server = yield* SocketServer.SocketServer
        const running = yield* Effect.forkChild(server.run(echoHandler))
        assert.strictEqual(yield* nodeClient(inet(server).port, "127.0.0.1"), "HelloWorld")
        yield* Fiber.interrupt(running)
        return yield* Iocp.stats
      })
      const stats = yield* Effect.provide(program, context)
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.sockets, 1) // the listener, until the layer goes
      yield* Scope.close(scope, Exit.void)
      const after = yield* Effect.provide(Iocp.stats, context)
      assert.strictEqual(after.sockets, 0)
    }))
})

describe("PlatformSocketServer (simulated network)", () => {
  it.live("open: client and server on the simulated network, deterministic", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(SocketAddress.ipv4("127.0.0.1", 7007))
      assert.strictEqual(inet(server).port, 7007)
      const socket = yield* PlatformSocket.make(SocketAddress.ipv4("127.0.0.1", 7007))
      assert.deepStrictEqual(yield* helloWorld(socket), Option.some("HelloWorld"))
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(Simulated.network({})))))
})
