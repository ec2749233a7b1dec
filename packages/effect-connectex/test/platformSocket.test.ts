/**
 * PlatformSocket: a connected socket as an @effect/platform `Socket.Socket`. The cases follow
 * @effect/platform-node's own Socket tests (echo through `Socket.toChannel`, run + writer messages, close
 * codes are errors by default), run against a real loopback peer and against the simulated network.
 */
import * as Platform from "@effect/platform/Socket"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Deferred, Effect, Exit, Fiber, type Layer, Option, Queue, type Scope, Stream, TestClock } from "effect"
import * as net from "node:net"
import * as ConnectEx from "../src/ConnectEx.js"
import type * as WsaError from "../src/errors/WsaError.js"
import * as Iocp from "../src/Iocp.js"
import * as PlatformSocket from "../src/PlatformSocket.js"
import * as Simulated from "../src/Simulated.js"
import * as Socket from "../src/Socket.js"
import * as SocketAddress from "../src/SocketAddress.js"
import { echoServer, loopback, recordingServer, refusedPort } from "../../../test/support/peers.js"

type Env = ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope

interface Backend {
  readonly name: string
  readonly layer: Layer.Layer<ConnectEx.ConnectEx | Iocp.Iocp, WsaError.WsaError>
  readonly echo: Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  /** a peer that sends "bye" and closes gracefully (after `settle`) */
  readonly closing: Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  /** a peer that resets the connection once it received something (after `settle`) */
  readonly resetting: Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  readonly refused: Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope>
  /** lets the scripted peers act: TestClock time for the simulated network, nothing for real peers */
  readonly settle: Effect.Effect<void>
}

const listen = (onConnection: (connection: net.Socket) => void) =>
  Effect.gen(function*() {
    const connections = new Set<net.Socket>()
    const server = net.createServer((connection) => {
      connections.add(connection)
      connection.on("error", () => {})
      connection.on("close", () => connections.delete(connection))
      onConnection(connection)
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
    return loopback("ipv4", port)
  })

const simulatedPeers = {
  echo: SocketAddress.ipv4("198.51.100.7", 7),
  closing: SocketAddress.ipv4("198.51.100.8", 8),
  resetting: SocketAddress.ipv4("198.51.100.9", 9),
  refused: SocketAddress.ipv4("198.51.100.10", 10)
}

const network = Simulated.network({
  "198.51.100.7:7": Simulated.accept({ echo: true }),
  "198.51.100.8:8": Simulated.accept({ greeting: "bye", closeAfter: "1 second" }),
  "198.51.100.9:9": Simulated.accept({ echo: true, resetAfter: "1 second" }),
  "198.51.100.10:10": Simulated.refuse()
})

const backends: ReadonlyArray<Backend> = [
  {
    name: "platform driver, loopback peers",
    layer: ConnectEx.layer,
    echo: Effect.map(echoServer("ipv4"), (peer) => peer.address),
    closing: listen((connection) => connection.end("bye")),
    resetting: listen((connection) => connection.once("data", () => connection.resetAndDestroy())),
    refused: refusedPort("ipv4"),
    settle: Effect.void
  },
  {
    name: "simulated network",
    layer: ConnectEx.layerSimulated(network),
    echo: Effect.succeed(simulatedPeers.echo),
    closing: Effect.succeed(simulatedPeers.closing),
    resetting: Effect.succeed(simulatedPeers.resetting),
    refused: Effect.succeed(simulatedPeers.refused),
    settle: TestClock.adjust("1 second")
  }
]

const decoder = new TextDecoder()

/** Lets forked fibers run until the port has `n` operations pending (no clock involved). */
const untilPendingOps = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < n; i++) yield* Effect.yieldNow()
    expect((yield* Iocp.stats).pending).toBe(n)
  })

/** The platform's failure of an exit, if it failed with one. */
const socketErrorOf = (exit: Exit.Exit<unknown, unknown>): Platform.SocketError | undefined => {
  if (!Exit.isFailure(exit)) return undefined
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) && Platform.isSocketError(failure.value) ? failure.value : undefined
}

describe.each(backends)("PlatformSocket: $name", (backend) => {
  const test = (name: string, body: () => Effect.Effect<void, unknown, Env>) =>
    it.scoped(name, () => body().pipe(Effect.provide(backend.layer)))

  test("echo through Socket.toChannel (the platform's \"open\" test)", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.echo)
      expect(Platform.isSocket(socket)).toBe(true)
      const output = yield* Stream.make("Hello", "World").pipe(
        Stream.encodeText,
        Stream.pipeThroughChannel(Platform.toChannel(socket)),
        Stream.decodeText(),
        Stream.scan("", (all, text) => all + text),
        Stream.takeUntil((all) => all.length >= "HelloWorld".length),
        Stream.runLast
      )
      expect(output).toEqual(Option.some("HelloWorld"))
    }))

  test("toChannel completes by itself: the input's end releases the writer, a FIN, and the echo peer closes", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.echo)
      const output = yield* Stream.make("Hello", "World").pipe(
        Stream.encodeText,
        Stream.pipeThroughChannel(Platform.toChannel(socket)),
        Stream.decodeText(),
        Stream.mkString,
        Effect.timeout("5 seconds")
      )
      expect(output).toBe("HelloWorld")
    }))

  test("run + writer: messages both ways; a CloseEvent 1000 ends the run cleanly (the platform's \"messages\" test)", () =>
    Effect.gen(function*() {
      const { socket: connected } = yield* ConnectEx.dial(yield* backend.echo)
      const socket = yield* PlatformSocket.fromSocket(connected)
      const messages = yield* Queue.unbounded<Uint8Array>()
      const fiber = yield* Effect.fork(socket.run((bytes) => Queue.offer(messages, bytes)))
      const write = yield* socket.writer
      yield* write(new TextEncoder().encode("Hello"))
      yield* write("World")
      let received = ""
      while (received.length < "HelloWorld".length) received += decoder.decode(yield* Queue.take(messages))
      expect(received).toBe("HelloWorld")
      yield* write(new Platform.CloseEvent(1000))
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect((yield* Iocp.stats).pending).toBe(0)
      // the close event disconnected the socket (as DisconnectEx without reuse: sending is over)
      expect((yield* Effect.flip(Socket.send(connected, new Uint8Array(1))))._tag).toBe("WSAESHUTDOWN")
      expect(Option.isNone(yield* Socket.connectTime(connected))).toBe(true)
    }))

  test("a CloseEvent ends the connection gracefully: the peer receives every byte written, then a normal end", () =>
    Effect.gen(function*() {
      // simulated: implemented on branch simsplit (a recording peer on the simulated network)
      if ((yield* ConnectEx.driverName) === "simulated") return
      const peer = yield* recordingServer("ipv4")
      const socket = yield* PlatformSocket.make(peer.address)
      const fiber = yield* Effect.fork(socket.run(() => {}))
      const write = yield* socket.writer
      const bulk = new Uint8Array(1024 * 1024).map((_, i) => i % 253)
      yield* write("first;")
      yield* write(bulk)
      yield* write(new Platform.CloseEvent(1000))
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      yield* peer.closed(0)
      expect(Buffer.compare(peer.connections[0]!.received(), Buffer.concat([Buffer.from("first;"), bulk]))).toBe(0)
      expect(peer.connections[0]!.ending()).toBe("end")
    }))

  test("close codes are errors by default: CloseEvent(4000, \"done\") fails the run with SocketCloseError", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo
      const socket = yield* PlatformSocket.make(target)
      const fiber = yield* Effect.fork(socket.run(() => {}))
      const write = yield* socket.writer
      yield* write(new Platform.CloseEvent(4000, "done"))
      const error = socketErrorOf(yield* Fiber.await(fiber))
      expect(Platform.SocketCloseError.is(error)).toBe(true)
      if (Platform.SocketCloseError.is(error)) {
        expect(error.code).toBe(4000)
        expect(error.closeReason).toBe("done")
      }
      // closeCodeIsError: () => false makes every code clean
      const lenient = yield* PlatformSocket.make(target, { closeCodeIsError: () => false })
      const lenientRun = yield* Effect.fork(lenient.run(() => {}))
      yield* Effect.flatMap(lenient.writer, (w) => w(new Platform.CloseEvent(4000, "done")))
      expect(Exit.isSuccess(yield* Fiber.await(lenientRun))).toBe(true)
    }))

  test("the peer closes gracefully: the run receives what was sent and then succeeds", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.closing)
      const received: Array<string> = []
      const fiber = yield* Effect.fork(socket.run((bytes) => {
        received.push(decoder.decode(bytes))
      }))
      yield* backend.settle
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect(received.join("")).toBe("bye")
    }))

  test("a peer that resets: SocketGenericError \"Read\" with WSAECONNRESET as its cause", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.resetting)
      const fiber = yield* Effect.fork(socket.run(() => {}))
      yield* Effect.flatMap(socket.writer, (write) => write("x"))
      yield* backend.settle
      const error = socketErrorOf(yield* Fiber.await(fiber))
      expect(error?._tag).toBe("SocketError")
      expect(error?.reason).toBe("Read")
      expect(error !== undefined && error.reason !== "Close" ? (error.cause as WsaError.WsaError)._tag : undefined)
        .toBe("WSAECONNRESET")
    }))

  test("PlatformSocket.layer provides the platform's Socket tag: Socket.makeChannel works unchanged", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo
      const layer = PlatformSocket.layer(target)
      const output = yield* Stream.make("ping").pipe(
        Stream.encodeText,
        Stream.pipeThroughChannel(Platform.makeChannel()),
        Stream.decodeText(),
        Stream.take(1),
        Stream.runCollect,
        Effect.provide(layer)
      )
      expect(Chunk.join(output, "")).toBe("ping")
      expect(PlatformSocket.Tag).toBe(Platform.Socket)
    }))

  test("make: a connect failure fails the run with \"Open\" and the library's typed error as the cause", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.refused)
      const error = socketErrorOf(yield* Effect.exit(socket.run(() => {})))
      expect(error?.reason).toBe("Open")
      expect(error !== undefined && error.reason !== "Close" ? (error.cause as WsaError.WsaError)._tag : undefined)
        .toBe("WSAECONNREFUSED")
      const fromLayer = yield* Effect.exit(
        Effect.flatMap(Platform.Socket, (platform) => platform.run(() => {})).pipe(
          Effect.provide(PlatformSocket.layer(yield* backend.refused))
        )
      )
      expect(socketErrorOf(fromLayer)?.reason).toBe("Open")
      expect((yield* Iocp.stats).pending).toBe(0)
    }))

  test("make: each run dials a connection of its own, as NodeSocket.makeNet does: two runs against a closing peer read twice", () =>
    Effect.gen(function*() {
      const target = yield* backend.closing
      const socket = yield* PlatformSocket.make(target)
      const received: Array<string> = []
      for (const _ of [1, 2]) {
        const run = yield* Effect.fork(socket.run((bytes) => void received.push(decoder.decode(bytes))))
        yield* backend.settle
        expect(Exit.isSuccess(yield* Fiber.await(run))).toBe(true)
      }
      expect(received.join("")).toBe("byebye")
      expect((yield* Iocp.stats).pending).toBe(0)
    }))

  test("make with a host name and port: dialed with dialName; the dial options apply to each connection", () =>
    Effect.gen(function*() {
      const recording = backend.name.startsWith("platform") ? yield* recordingServer("ipv4") : undefined
      if (recording === undefined) return
      const socket = yield* PlatformSocket.make({ host: "localhost", port: recording.address.port }, { data: new TextEncoder().encode("hi") })
      const run = yield* Effect.fork(socket.run(() => {}))
      const write = yield* socket.writer
      yield* write("!")
      const first = yield* Effect.promise(async () => {
        while (recording.connections[0] === undefined || recording.connections[0].received().length < 3) await new Promise((r) => setTimeout(r, 2))
        return recording.connections[0].received().toString()
      })
      expect(first).toBe("hi!")
      yield* Fiber.interrupt(run)
    }))

  test("run on a socket that is not connected: SocketGenericError \"Open\" with WSAENOTCONN", () =>
    Effect.gen(function*() {
      const socket = yield* Socket.open({ family: "ipv4" })
      const platform = yield* PlatformSocket.fromSocket(socket)
      const error = socketErrorOf(yield* Effect.exit(platform.run(() => {})))
      expect(error?.reason).toBe("Open")
      expect(error !== undefined && error.reason !== "Close" ? (error.cause as WsaError.WsaError)._tag : undefined)
        .toBe("WSAENOTCONN")
    }))

  test("a handler that throws ends the run with that defect; nothing stays pending", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.echo)
      const fiber = yield* Effect.fork(socket.run(() => {
        throw new Error("handler broke")
      }))
      const write = yield* socket.writer
      yield* write("boom")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "").toContain("handler broke")
      expect((yield* Iocp.stats).pending).toBe(0)
    }))

  test("every byte of 4 MiB echoed arrives at a plain handler, in order (many chunks, batches that yield)", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(yield* backend.echo)
      const bulk = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) % 251)
      const chunks: Array<Uint8Array> = []
      let got = 0
      const all = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(socket.run((bytes) => {
        chunks.push(bytes.slice())
        got += bytes.byteLength
        if (got >= bulk.byteLength) Deferred.unsafeDone(all, Exit.void)
      }))
      const write = yield* socket.writer
      yield* write(bulk)
      yield* Deferred.await(all)
      expect(chunks.length).toBeGreaterThan(1)
      expect(Buffer.compare(Buffer.concat(chunks), bulk)).toBe(0)
      yield* Fiber.interrupt(fiber)
    }))

  test("while a run reads, Socket.receive waits behind it, and gets the bytes sent once the run is over", () =>
    Effect.gen(function*() {
      const { socket: connected } = yield* ConnectEx.dial(yield* backend.echo)
      const socket = yield* PlatformSocket.fromSocket(connected)
      const seen = yield* Queue.unbounded<string>()
      const run = yield* Effect.fork(socket.run((bytes) => Queue.offer(seen, decoder.decode(bytes))))
      const write = yield* socket.writer
      yield* write("to the run")
      expect(yield* Queue.take(seen)).toBe("to the run")
      const receive = yield* Effect.fork(Socket.receive(connected, 100))
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      expect(receive.unsafePoll()).toBe(null)
      yield* Fiber.interrupt(run)
      yield* Socket.send(connected, new TextEncoder().encode("to the receive"))
      expect(decoder.decode(yield* Fiber.join(receive))).toBe("to the receive")
    }))

  test("a run waiting for the receive queue (a Socket.receive holds it) can be interrupted; the receive goes on", () =>
    Effect.gen(function*() {
      const { socket: connected } = yield* ConnectEx.dial(yield* backend.echo)
      const socket = yield* PlatformSocket.fromSocket(connected)
      const receiving = yield* Effect.fork(Socket.receive(connected, 100))
      yield* untilPendingOps(1)
      const run = yield* Effect.fork(socket.run(() => {}))
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      // (before the fix the run waited for the queue uninterruptibly: this never returned)
      yield* Fiber.interrupt(run)
      yield* Socket.send(connected, new TextEncoder().encode("still here"))
      yield* backend.settle
      expect(decoder.decode(yield* Fiber.join(receiving))).toBe("still here")
    }))

  test("closing the socket's scope ends a run with \"Read\" and WSA_OPERATION_ABORTED; nothing stays pending", () =>
    Effect.gen(function*() {
      const target = yield* backend.echo
      const { fiber, stats } = yield* Effect.scoped(Effect.gen(function*() {
        const { socket: connection } = yield* ConnectEx.dial(target)
        const socket = yield* PlatformSocket.fromSocket(connection)
        const fiber = yield* Effect.fork(socket.run(() => {}))
        for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < 1; i++) yield* Effect.yieldNow()
        return { fiber, stats: yield* Iocp.stats }
      }))
      expect(stats.pending).toBe(1)
      const error = socketErrorOf(yield* Fiber.await(fiber))
      expect(error?.reason).toBe("Read")
      expect(error !== undefined && error.reason !== "Close" ? (error.cause as WsaError.WsaError)._tag : undefined)
        .toBe("WSA_OPERATION_ABORTED")
      expect((yield* Iocp.stats).pending).toBe(0)
    }))
})

describe("PlatformSocket back-pressure (simulated network)", () => {
  it.scoped("one receive at a time: no receive is issued while a handler's Effect runs", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(simulatedPeers.echo)
      const gate = yield* Deferred.make<void>()
      const seen: Array<string> = []
      const fiber = yield* Effect.fork(socket.run((bytes) =>
        Effect.zipRight(Effect.sync(() => seen.push(decoder.decode(bytes))), Deferred.await(gate))
      ))
      const write = yield* socket.writer
      yield* write("one")
      for (let i = 0; i < 1000 && seen.length < 1; i++) yield* Effect.yieldNow()
      expect(seen).toEqual(["one"])
      yield* write("two")
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      // the handler is still running: the echoed "two" waits in the peer, no receive is pending
      expect(seen).toEqual(["one"])
      expect((yield* Iocp.stats).pending).toBe(0)
      yield* Deferred.succeed(gate, void 0)
      for (let i = 0; i < 1000 && seen.length < 2; i++) yield* Effect.yieldNow()
      expect(seen).toEqual(["one", "two"])
      yield* write(new Platform.CloseEvent())
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
    }).pipe(Effect.provide(ConnectEx.layerSimulated(network))))

  it.scoped("a write completes when Socket.send has completed (the peer has the bytes)", () =>
    Effect.gen(function*() {
      const socket = yield* PlatformSocket.make(simulatedPeers.echo)
      const fiber = yield* Effect.fork(socket.run(() => {}))
      const write = yield* socket.writer
      yield* write("abc")
      expect(decoder.decode(yield* Simulated.sent(simulatedPeers.echo))).toBe("abc")
      yield* write(new Platform.CloseEvent())
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(ConnectEx.layerSimulated(network))))
})
