/**
 * PlatformSocket: a ConnectEx connection as effect/socket's pull-based Socket.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import { ConnectEx, Iocp, PlatformSocket, Socket } from "../src/index.js"
import { echoServer, refusedPort } from "./support/peers.js"

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
