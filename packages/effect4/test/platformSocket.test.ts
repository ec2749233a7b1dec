/**
 * PlatformSocket: a ConnectEx connection as effect/socket's pull-based Socket.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as EffectSocket from "effect/socket/Socket"
import { ConnectEx, PlatformSocket } from "../src/index.js"
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
