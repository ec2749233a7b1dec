/**
 * `PlatformSocketServer` as `@effect/platform`'s `SocketServer`: `@effect/platform-node`'s own NodeSocketServer
 * test ("open": an echo server, a client streams "Hello", "World" and reads "HelloWorld") adapted to it, with
 * the platform's node client and with our own client, plus the adapter's open errors and release.
 */
import { NodeSocket } from "@effect/platform-node"
import { SocketServer } from "@effect/platform"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import { Socket as PlatformSocketModule } from "@effect/platform"
import { ConnectEx, Iocp, PlatformSocket, PlatformSocketServer, Simulated, SocketAddress } from "../src/index.js"

/** The server of the platform's test: each connection's bytes are written back. */
const makeServer = (address: SocketAddress.SocketAddress) =>
  Effect.gen(function*() {
    const server = yield* PlatformSocketServer.make(address)
    yield* server.run((socket) =>
      Effect.gen(function*() {
        const write = yield* socket.writer
        yield* socket.run(write)
      }).pipe(Effect.scoped)
    ).pipe(Effect.forkScoped)
    return server
  })

const helloWorld = (channel: ReturnType<typeof NodeSocket.makeNetChannel>) =>
  Stream.make("Hello", "World").pipe(
    Stream.encodeText,
    Stream.pipeThroughChannel(channel),
    Stream.decodeText(),
    Stream.mkString
  )

describe("PlatformSocketServer (platform driver)", () => {
  it.scoped("open: the platform's node client against our server", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(SocketAddress.ipv4("127.0.0.1", 0))
      const address = server.address as SocketServer.TcpAddress
      expect(address._tag).toBe("TcpAddress")
      expect(address.hostname).toBe("127.0.0.1")
      expect(address.port).toBeGreaterThan(0)
      const output = yield* helloWorld(NodeSocket.makeNetChannel({ port: address.port, host: "127.0.0.1" }))
      assert.strictEqual(output, "HelloWorld")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("open: our client (PlatformSocket) against our server, ipv6", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(SocketAddress.ipv6("::1", 0))
      const { port } = server.address as SocketServer.TcpAddress
      const socket = yield* PlatformSocket.make(SocketAddress.ipv6("::1", port))
      const output = yield* Stream.make("Hello", "World").pipe(
        Stream.encodeText,
        Stream.pipeThroughChannel(PlatformSocketModule.toChannel(socket)),
        Stream.decodeText(),
        Stream.scan("", (all, piece) => all + piece),
        Stream.takeUntil((all) => all.length >= 10),
        Stream.runLast
      )
      assert.deepStrictEqual(output, Option.some("HelloWorld"))
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("an address in use: SocketServerError Open, the typed WSA error as cause", () =>
    Effect.gen(function*() {
      const server = yield* PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", 0))
      const { port } = server.address as SocketServer.TcpAddress
      const error = yield* Effect.flip(PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", port)))
      expect(error._tag).toBe("SocketServerError")
      expect(error.reason).toBe("Open")
      expect((error.cause as { _tag: string })._tag).toBe("WSAEADDRINUSE")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.effect("the layer: code written for SocketServer runs unchanged; releasing it closes the listener", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        PlatformSocketServer.layer(SocketAddress.ipv4("127.0.0.1", 0)).pipe(Layer.provideMerge(ConnectEx.layer)),
        scope
      )
      const program = Effect.gen(function*() {
        const server = yield* SocketServer.SocketServer
        const running = yield* Effect.fork(server.run((socket) =>
          Effect.flatMap(socket.writer, (write) => socket.run(write)).pipe(Effect.scoped)
        ))
        const { port } = server.address as SocketServer.TcpAddress
        const output = yield* helloWorld(NodeSocket.makeNetChannel({ port, host: "127.0.0.1" }))
        assert.strictEqual(output, "HelloWorld")
        yield* Fiber.interrupt(running)
        return yield* Iocp.stats
      })
      const stats = yield* Effect.provide(program, context)
      expect(stats.pending).toBe(0)
      expect(stats.sockets).toBe(1) // the listener, until the layer goes
      yield* Scope.close(scope, Exit.void)
    }))
})

describe("PlatformSocketServer (simulated network)", () => {
  it.scoped("open: client and server on the simulated network, deterministic", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(SocketAddress.ipv4("127.0.0.1", 7007))
      expect((server.address as SocketServer.TcpAddress).port).toBe(7007)
      const socket = yield* PlatformSocket.make(SocketAddress.ipv4("127.0.0.1", 7007))
      const output = yield* Stream.make("Hello", "World").pipe(
        Stream.encodeText,
        Stream.pipeThroughChannel(PlatformSocketModule.toChannel(socket)),
        Stream.decodeText(),
        Stream.scan("", (all, piece) => all + piece),
        Stream.takeUntil((all) => all.length >= 10),
        Stream.runLast
      )
      assert.deepStrictEqual(output, Option.some("HelloWorld"))
    }).pipe(Effect.provide(ConnectEx.layerSimulated(Simulated.network({})))))
})
