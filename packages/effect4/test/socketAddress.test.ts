/**
 * Addresses and error messages on the Effect 4 front-end, as packages/effect-connectex/test/SocketAddress.test.ts and test/errors.test.ts
 * check them on Effect 3: the core's address records are Effect 4 values as they are (`"~effect/Equal"`,
 * `"~effect/Hash"`), and a bad argument's message says which argument and why, with no generic advice.
 */
import * as Core from "@effect-connectex/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as HashSet from "effect/HashSet"
import type * as Scope from "effect/Scope"
import { ConnectEx, type Iocp, Listener, Simulated, Socket, SocketAddress, WsaError } from "../src/index.js"

describe("SocketAddress", () => {
  it("the core's records: Equal, Hash and HashSet; JSON and toEqual see the fields", () => {
    const fromCore = Core.makeIpv4("10.0.0.1", 80)
    expect(Equal.equals(fromCore, SocketAddress.ipv4("10.0.0.1", 80))).toBe(true)
    expect(Equal.equals(fromCore, SocketAddress.ipv4("10.0.0.1", 81))).toBe(false)
    expect(Hash.hash(fromCore)).toBe(Hash.hash(SocketAddress.ipv4("10.0.0.1", 80)))
    expect(Equal.equals(SocketAddress.ipv6("0::1", 1), SocketAddress.ipv6("::1", 1))).toBe(true)
    const set = HashSet.make(SocketAddress.ipv4("10.0.0.1", 80), fromCore, SocketAddress.ipv6("::1", 80), SocketAddress.ipv6("0::1", 80))
    expect(HashSet.size(set)).toBe(2)
    expect(HashSet.has(set, Core.makeIpv6("::1", 80, 0, 0))).toBe(true)
    expect(HashSet.has(set, SocketAddress.ipv6("::1", 80, { scopeId: 1 }))).toBe(false)
    expect(JSON.stringify(fromCore)).toBe('{"family":"ipv4","host":"10.0.0.1","port":80}')
    expect(fromCore).toEqual({ family: "ipv4", host: "10.0.0.1", port: 80 })
    expect(SocketAddress.equals(fromCore, { family: "ipv4", host: "10.0.0.1", port: 80 })).toBe(true)
  })

  it.effect("an address a driver returns equals the one the user built", () =>
    Effect.gen(function*() {
      const listener = yield* Listener.listen(SocketAddress.ipv4("127.0.0.1", 0))
      const bound = yield* Listener.address(listener)
      expect(Equal.equals(bound, SocketAddress.ipv4("127.0.0.1", bound.port))).toBe(true)
      expect(HashSet.has(HashSet.make(SocketAddress.ipv4("127.0.0.1", bound.port)), bound)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.effect("parse and validate: WSAEINVAL (WSAEAFNOSUPPORT for an unknown family), an argument error", () =>
    Effect.gen(function*() {
      const parsed = yield* Effect.flip(SocketAddress.parse("localhost:80"))
      expect(parsed._tag).toBe("WSAEINVAL")
      expect(parsed.message).toMatch(/^parse failed with WSAEINVAL \(an invalid argument\): Cannot parse the address text "localhost:80"/)
      expect((yield* Effect.flip(SocketAddress.validate({ family: "ipv9" }, "connect")))._tag).toBe("WSAEAFNOSUPPORT")
      expect((yield* SocketAddress.validate({ family: "ipv4", host: "127.0.0.1", port: 1 }, "bind")).port).toBe(1)
    }))
})

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
