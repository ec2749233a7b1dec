/**
 * SocketAddress: parsing, validation, constructors, bytes, and the core's address records as Effect values
 * (Equal, Hash, HashSet) with nothing installed at import. Written once for both front-ends: each one's
 * test/socketAddress.test.ts imports it, where `../src/` is that front-end and `effect` and `@effect/vitest` its
 * own.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as HashSet from "effect/HashSet"
import { ConnectEx, Listener, SocketAddress } from "../src/index.js"

describe("SocketAddress", () => {
  it.effect("parses IPv4, IPv6 and scoped IPv6 text", () =>
    Effect.gen(function*() {
      expect(yield* SocketAddress.parse("127.0.0.1:80")).toEqual(SocketAddress.ipv4("127.0.0.1", 80))
      expect(yield* SocketAddress.parse("[::1]:80")).toEqual(SocketAddress.ipv6("::1", 80))
      const scoped = yield* SocketAddress.parse("[fe80::1%2]:443")
      expect(scoped).toEqual(SocketAddress.ipv6("fe80::1", 443, { scopeId: 2 }))
      expect(SocketAddress.format(scoped)).toBe("[fe80::1%2]:443")
      expect(SocketAddress.format(yield* SocketAddress.parse("[0:0:0:0:0:0:0:1]:65535"))).toBe("[::1]:65535")
    }))

  const malformed = [
    "", "127.0.0.1", "127.0.0.1:", ":80", "256.0.0.1:80", "1.2.3:80", "01.2.3.4:80", "127.0.0.1:65536", "127.0.0.1:-1",
    "127.0.0.1:8.5", "127.0.0.1:0x50", "::1:80", "[::1]", "[::1]80", "[::1:80", "::1]:80", "[fe80::1%eth0]:80",
    "[fe80::1%99999999999]:80", "[127.0.0.1]:80", "localhost:80", "[::1]:80:80", " 127.0.0.1:80", "1.2.3.4:80 "
  ]
  it.effect.each(malformed)("rejects %j with WSAEINVAL", (text) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(SocketAddress.parse(text))
      expect(error._tag).toBe("WSAEINVAL")
      expect(error.code).toBe(10022)
    }))

  it("constructors throw on invalid literals (programmer errors)", () => {
    expect(() => SocketAddress.ipv4("1.2.3.256", 1)).toThrow(TypeError)
    expect(() => SocketAddress.ipv4("1.2.3.4", 70000)).toThrow(TypeError)
    expect(() => SocketAddress.ipv4("1.2.3.4", 1.5)).toThrow(TypeError)
    expect(() => SocketAddress.ipv6("::1", 80, { scopeId: -1 })).toThrow(TypeError)
    expect(() => SocketAddress.ipv6("::1%2", 80)).toThrow(TypeError)
    expect(() => SocketAddress.ipv6("1.2.3.4", 80)).toThrow(TypeError)
  })

  it("equality is structural, and IPv6 text is canonical", () => {
    expect(Equal.equals(SocketAddress.ipv6("0::1", 1), SocketAddress.ipv6("::1", 1))).toBe(true)
    expect(SocketAddress.equals(SocketAddress.ipv4("10.0.0.1", 1), SocketAddress.ipv4("10.0.0.1", 2))).toBe(false)
    expect(SocketAddress.ipv6("2001:DB8::1", 1).host).toBe("2001:db8::1")
  })

  it("bytes round-trip; unspecified and wildcard", () => {
    const a = SocketAddress.ipv6("fe80::1", 80, { scopeId: 3, flowInfo: 7 })
    expect(SocketAddress.fromBytes(SocketAddress.toBytes(a), 80, { scopeId: 3, flowInfo: 7 })).toEqual(a)
    expect(SocketAddress.isUnspecified(SocketAddress.ipv4("0.0.0.0", 1))).toBe(true)
    expect(SocketAddress.isUnspecified(SocketAddress.wildcard("ipv6"))).toBe(true)
    expect(SocketAddress.isUnspecified(SocketAddress.ipv4("127.0.0.1", 1))).toBe(false)
  })

  it.effect("validate rejects objects that are not addresses", () =>
    Effect.gen(function*() {
      for (const bad of [null, 1, "x", { family: "ipv4", host: "1.2.3.4", port: -1 }, { family: "ipv6", host: "::1", port: 1, scopeId: 1.5 }]) {
        expect((yield* Effect.flip(SocketAddress.validate(bad, "connect")))._tag).toBe("WSAEINVAL")
      }
      // an unknown family is what Windows says of a bad sa_family
      for (const bad of [{}, { family: "ipv9" }]) {
        expect((yield* Effect.flip(SocketAddress.validate(bad, "connect")))._tag).toBe("WSAEAFNOSUPPORT")
      }
    }))

  it("the core's records are Effect values as they are: Equal, Hash and HashSet, with no constructor installed", () => {
    // made by the core, as the drivers make the addresses they return
    const fromCore = Core.makeIpv4("10.0.0.1", 80)
    expect(Equal.equals(fromCore, SocketAddress.ipv4("10.0.0.1", 80))).toBe(true)
    expect(Hash.hash(fromCore)).toBe(Hash.hash(SocketAddress.ipv4("10.0.0.1", 80)))
    const set = HashSet.make(SocketAddress.ipv4("10.0.0.1", 80), fromCore, SocketAddress.ipv6("::1", 80), SocketAddress.ipv6("0::1", 80))
    expect(HashSet.size(set)).toBe(2)
    expect(HashSet.has(set, Core.makeIpv6("::1", 80, 0, 0))).toBe(true)
    expect(HashSet.has(set, SocketAddress.ipv6("::1", 80, { scopeId: 1 }))).toBe(false)
    // the data is the fields: JSON and toEqual see only them
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

  it.effect("parse and validate: an argument error that says what it could not parse; a valid record is returned", () =>
    Effect.gen(function*() {
      const parsed = yield* Effect.flip(SocketAddress.parse("localhost:80"))
      expect(parsed.message).toMatch(/^parse failed with WSAEINVAL \(an invalid argument\): Cannot parse the address text "localhost:80"/)
      expect((yield* SocketAddress.validate({ family: "ipv4", host: "127.0.0.1", port: 1 }, "bind")).port).toBe(1)
    }))
})
