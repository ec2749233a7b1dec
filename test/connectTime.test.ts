import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { ConnectEx, Socket, SocketAddress } from "../src/index.js"
import { echoServer } from "./support/peers.js"

// In a file of its own: after a `layer(..., { excludeTestServices: true })` block has run in the same
// file, TestClock.adjust in a later it.scoped found the live clock (seen with @effect/vitest 0.30).
const bound = (family: SocketAddress.Family = "ipv4") =>
  Effect.tap(Socket.open({ family }), (socket) => Socket.bind(socket, SocketAddress.wildcard(family)))

describe("with TestClock", () => {
  it.scoped("connectTime: None before, Some after, moved by TestClock; None after disconnect", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const socket = yield* bound()
      expect(yield* Socket.connectTime(socket)).toEqual(Option.none())
      yield* ConnectEx.connect(socket, peer.address)
      yield* TestClock.adjust("3 seconds")
      const time = yield* Socket.connectTime(socket)
      expect(Option.map(time, Duration.toSeconds)).toEqual(Option.some(3))
      yield* Socket.disconnect(socket, { reuse: true })
      expect(yield* Socket.connectTime(socket)).toEqual(Option.none())
    }).pipe(Effect.provide(ConnectEx.layer)))
})

