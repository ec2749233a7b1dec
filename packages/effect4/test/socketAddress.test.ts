/**
 * Addresses and error messages on the Effect 4 front-end. The SocketAddress cases are written once for both
 * front-ends (packages/frontend/test/socketAddress.ts); the messages follow, as the repository's
 * packages/effect-connectex/test/errors.test.ts checks them on Effect 3: a bad argument's message says which
 * argument and why, with no generic advice.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { ConnectEx, type Iocp, Simulated, Socket, SocketAddress, WsaError } from "../src/index.js"
import "../../frontend/test/socketAddress.js"

describe("advice only where it applies (issue 20)", () => {
  const layer = ConnectEx.layerSimulated(Simulated.network({}))
  const messageOf = <A, E extends { readonly message: string }>(effect: Effect.Effect<A, E, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    Effect.map(Effect.flip(Effect.scoped(effect)), (error) => error.message).pipe(Effect.provide(layer))
  const tableAdvice = "open, bind, then connect"

  it.effect("a bad argument says which argument and why, and gives no generic advice", () =>
    Effect.gen(function*() {
      expect(yield* messageOf(ConnectEx.dialName("", 80))).toBe("resolve failed with WSAEINVAL (an invalid argument): The host is empty.")
      const port = yield* messageOf(ConnectEx.dialName("localhost", 70_000))
      expect(port).toBe("resolve failed with WSAEINVAL (an invalid argument): The port must be an integer from 0 to 65535, got 70000.")
      const bind = yield* messageOf(Effect.flatMap(Socket.open({ family: "ipv4" }), (s) => Socket.bind(s, { family: "ipv4", host: "1.2.3.4", port: 70_000 })))
      expect(bind).toBe("bind failed with WSAEINVAL (an invalid argument): The address is invalid: port must be an integer from 0 to 65535, got 70000.")
      for (const message of [port, bind]) expect(message).not.toContain(tableAdvice)
    }))

  it.effect("what the socket's state or the kernel reports keeps the table's meaning and advice", () =>
    Effect.gen(function*() {
      const twice = yield* messageOf(Effect.gen(function*() {
        const socket = yield* Socket.open({ family: "ipv4" })
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
      }))
      expect(twice).toMatch(/^bind \(0\.0\.0\.0:0\) failed with WSAEINVAL: An argument is invalid or the socket is in the wrong state/)
      expect(twice).toContain(tableAdvice)
      expect(WsaError.fromCode(10022, { operation: "connect" }).message).toContain(tableAdvice)
    }))
})
