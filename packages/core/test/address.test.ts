import { describe as group, expect, it } from "vitest"
import * as A from "../src/address.js"

const invalid = (u: A.SocketAddress | A.Invalid): string => {
  if (!A.isInvalid(u)) throw new Error(`expected invalid, got ${JSON.stringify(u)}`)
  return u.invalid
}
const valid = <T extends A.SocketAddress | A.Invalid>(u: T): Exclude<T, A.Invalid> => {
  if (A.isInvalid(u)) throw new Error(`expected an address: ${u.invalid}`)
  return u as Exclude<T, A.Invalid>
}

group("address: parse", () => {
  it("IPv4, IPv6 and IPv6 with a numeric zone", () => {
    expect(valid(A.parse("127.0.0.1:80"))).toEqual({ family: "ipv4", host: "127.0.0.1", port: 80 })
    expect(valid(A.parse("[::1]:65535"))).toEqual({ family: "ipv6", host: "::1", port: 65535, flowInfo: 0, scopeId: 0 })
    expect(valid(A.parse("[fe80:0:0::1%2]:0"))).toEqual({
      family: "ipv6",
      host: "fe80::1",
      port: 0,
      flowInfo: 0,
      scopeId: 2
    })
    expect(A.isCanonical(A.parse("10.0.0.1:1"))).toBe(true)
  })

  it("bad ports, bad zones, bad hosts and non-strings, each with its reason", () => {
    expect(invalid(A.parse("127.0.0.1:65536"))).toBe('cannot parse the address text "127.0.0.1:65536": the port must be 0-65535')
    expect(invalid(A.parse("127.0.0.1:"))).toContain("the port must be 0-65535")
    expect(invalid(A.parse("127.0.0.1:123456"))).toContain("the port must be 0-65535")
    expect(invalid(A.parse("[::1]:99999"))).toContain("the port must be 0-65535")
    expect(invalid(A.parse("[::1]:x"))).toContain("the port must be 0-65535")
    expect(invalid(A.parse("[fe80::1%eth0]:80"))).toContain("the scope id must be a number (an interface index)")
    expect(invalid(A.parse("[fe80::1%4294967296]:80"))).toContain("the scope id is out of range")
    expect(invalid(A.parse("[fe80::1%1%2]:80"))).toContain("not an IPv6 address")
    expect(invalid(A.parse("[1.2.3.4]:80"))).toContain("not an IPv6 address")
    expect(invalid(A.parse("1.2.3.256:80"))).toContain(": not an IPv4 address")
    expect(invalid(A.parse("::1:80"))).toContain("expected host:port or [ipv6]:port")
    expect(invalid(A.parse(""))).toBe('cannot parse the address text "": expected host:port or [ipv6]:port')
    expect(invalid(A.parse("1".repeat(129)))).toContain("expected host:port")
    expect(A.isInvalid(A.parse("1.1.1.1:" + "1".repeat(119)))).toBe(true)
    expect(invalid(A.parse(80))).toBe("cannot parse the address text 80: expected host:port or [ipv6]:port")
  })

  it("a host name is not parsed: the reason says to use dialName", () => {
    expect(invalid(A.parse("example.com:80"))).toBe(
      'cannot parse the address text "example.com:80": the host is a name, not an IP address literal; use ConnectEx.dialName to resolve it'
    )
    expect(invalid(A.parse("localhost:80"))).toContain("dialName")
  })

  it("parseZone: none, numeric, out of range, not a number", () => {
    expect(A.parseZone(undefined)).toBe(0)
    expect(A.parseZone("4294967295")).toBe(4294967295)
    expect(A.parseZone("4294967296")).toEqual({ invalid: "the scope id is out of range" })
    expect(A.parseZone("12345678901")).toEqual({ invalid: "the scope id must be a number (an interface index)" })
    expect(A.parseZone("")).toEqual({ invalid: "the scope id must be a number (an interface index)" })
    expect(A.parseZone("1a")).toEqual({ invalid: "the scope id must be a number (an interface index)" })
  })
})

group("address: constructors and validate", () => {
  it("ipv4 and ipv6 give records or reasons", () => {
    expect(valid(A.ipv4("10.1.2.3", 0))).toEqual({ family: "ipv4", host: "10.1.2.3", port: 0 })
    expect(invalid(A.ipv4("10.1.2", 1))).toBe('not an IPv4 address: "10.1.2"')
    expect(invalid(A.ipv4("10.1.2.3", 65536))).toBe("port must be an integer from 0 to 65535, got 65536")
    expect(invalid(A.ipv4("10.1.2.3", -1))).toContain("got -1")
    expect(invalid(A.ipv4("10.1.2.3", 1.5))).toContain("got 1.5")
    expect(valid(A.ipv6("2001:DB8:0::1", 443, { flowInfo: 7, scopeId: 3 }))).toEqual({
      family: "ipv6",
      host: "2001:db8::1",
      port: 443,
      flowInfo: 7,
      scopeId: 3
    })
    expect(valid(A.ipv6("::", 1))).toMatchObject({ flowInfo: 0, scopeId: 0 })
    expect(invalid(A.ipv6("fe80::1%2", 80))).toBe('not an IPv6 address: "fe80::1%2"')
    expect(invalid(A.ipv6("1.2.3.4", 80))).toContain("not an IPv6 address")
    expect(invalid(A.ipv6("::1", 70000))).toContain("port must be an integer from 0 to 65535")
    expect(invalid(A.ipv6("::1", 1, { flowInfo: -1 }))).toBe("flowInfo must be an unsigned 32-bit integer, got -1")
    expect(invalid(A.ipv6("::1", 1, { scopeId: 2 ** 32 }))).toBe("scopeId must be an unsigned 32-bit integer, got 4294967296")
    expect(valid(A.ipv6("::1", 1, { scopeId: 2 ** 32 - 1 })).scopeId).toBe(4294967295)
  })

  it("isPort and isUint32 bounds", () => {
    expect([0, 65535].map(A.isPort)).toEqual([true, true])
    expect([-1, 65536, 1.5, "1", NaN].map(A.isPort)).toEqual([false, false, false, false, false])
    expect([0, 0xffffffff].map(A.isUint32)).toEqual([true, true])
    expect([-1, 2 ** 32, 0.5, "0"].map(A.isUint32)).toEqual([false, false, false, false])
  })

  it("validate: canonical values pass through, plain objects are checked and adopted", () => {
    const a = valid(A.parse("127.0.0.1:80"))
    expect(A.validate(a)).toBe(a)
    const plain = valid(A.validate({ family: "ipv4", host: "127.0.0.1", port: 80 }))
    expect(plain).toEqual(a)
    expect(A.isCanonical(plain)).toBe(true)
    expect(A.isCanonical({ family: "ipv4", host: "127.0.0.1", port: 80 })).toBe(false)
    expect(A.isCanonical(null)).toBe(false)
    expect(A.isCanonical("x")).toBe(false)
    expect(valid(A.validate({ family: "ipv6", host: "0:0::1", port: 1 }))).toEqual({
      family: "ipv6",
      host: "::1",
      port: 1,
      flowInfo: 0,
      scopeId: 0
    })
    expect(valid(A.validate({ family: "ipv6", host: "::1", port: 1, flowInfo: 5, scopeId: 9 }))).toMatchObject({
      flowInfo: 5,
      scopeId: 9
    })
  })

  it("validate: not an object, an unknown family (flagged) and bad fields", () => {
    expect(A.validate(null)).toEqual({ invalid: "the address is not a SocketAddress" })
    expect(A.validate("127.0.0.1:80")).toEqual({ invalid: "the address is not a SocketAddress" })
    expect(A.validate({ family: "unix", host: "/tmp/x", port: 0 })).toEqual({
      invalid: 'unknown address family "unix"',
      unknownFamily: true
    })
    expect(A.validate({ family: "ipv4", host: "::1", port: 1 })).toEqual({ invalid: 'not an IPv4 address: "::1"' })
    expect(A.validate({ family: "ipv4", host: "1.2.3.4", port: 1 }).hasOwnProperty("unknownFamily")).toBe(false)
    expect(A.validate({ family: "ipv6", host: "::1", port: 1, scopeId: -1 })).toEqual({
      invalid: "scopeId must be an unsigned 32-bit integer, got -1"
    })
  })
})

group("address: format and predicates", () => {
  it("format keeps the scope id; describeAddress never throws", () => {
    expect(A.format(A.makeIpv4("1.2.3.4", 5))).toBe("1.2.3.4:5")
    expect(A.format(A.makeIpv6("fe80::1", 80, 0, 3))).toBe("[fe80::1%3]:80")
    expect(A.format(A.makeIpv6("::1", 80, 0, 0))).toBe("[::1]:80")
    expect(A.describeAddress({ family: "ipv6", host: "::1", port: 8, scopeId: 2 })).toBe("[::1%2]:8")
    expect(A.describeAddress({ nope: true })).toBe("[object Object]")
    expect(A.describeAddress("x")).toBe('"x"')
  })

  it("format(parse(text)) round-trips", () => {
    for (const text of ["0.0.0.0:0", "255.255.255.255:65535", "[::]:1", "[fe80::1%42]:443", "[2001:db8::1]:80"]) {
      expect(A.format(valid(A.parse(text)))).toBe(text)
    }
  })

  it("isLoopback: 127/8 and ::1 only", () => {
    expect(A.isLoopback(A.makeIpv4("127.0.0.1", 1))).toBe(true)
    expect(A.isLoopback(A.makeIpv4("127.255.0.9", 1))).toBe(true)
    expect(A.isLoopback(A.makeIpv4("128.0.0.1", 1))).toBe(false)
    expect(A.isLoopback(A.makeIpv4("10.127.0.1", 1))).toBe(false)
    expect(A.isLoopback(A.makeIpv6("::1", 1, 0, 0))).toBe(true)
    expect(A.isLoopback(A.makeIpv6("::2", 1, 0, 0))).toBe(false)
  })

  it("isUnspecified: canonical and plain records of both families", () => {
    expect(A.isUnspecified(A.makeIpv4("0.0.0.0", 1))).toBe(true)
    expect(A.isUnspecified(A.makeIpv4("0.0.0.1", 1))).toBe(false)
    expect(A.isUnspecified(A.makeIpv6("::", 1, 0, 0))).toBe(true)
    expect(A.isUnspecified(A.makeIpv6("::1", 1, 0, 0))).toBe(false)
    // records not made here are checked by their bytes
    expect(A.isUnspecified({ family: "ipv6", host: "0:0:0:0:0:0:0:0", port: 1, flowInfo: 0, scopeId: 0 })).toBe(true)
    expect(A.isUnspecified({ family: "ipv6", host: "0:0:0:0:0:0:0:1", port: 1, flowInfo: 0, scopeId: 0 })).toBe(false)
    expect(A.isUnspecified({ family: "ipv4", host: "0.0.0.0", port: 1 })).toBe(true)
  })

  it("wildcard and withPort", () => {
    expect(A.wildcard("ipv4")).toEqual({ family: "ipv4", host: "0.0.0.0", port: 0 })
    expect(A.wildcard("ipv6")).toEqual({ family: "ipv6", host: "::", port: 0, flowInfo: 0, scopeId: 0 })
    expect(A.withPort(A.makeIpv4("1.2.3.4", 5), 6)).toEqual({ family: "ipv4", host: "1.2.3.4", port: 6 })
    const six = A.withPort(A.makeIpv6("fe80::1", 5, 7, 3), 9)
    expect(six).toEqual({ family: "ipv6", host: "fe80::1", port: 9, flowInfo: 7, scopeId: 3 })
    expect(A.isCanonical(six)).toBe(true)
  })

  it("fromBytes gives IPv4 the same canonical text as the parser, for edge and random bytes", () => {
    const samples = [[0, 0, 0, 0], [255, 255, 255, 255], [127, 0, 0, 1], [10, 0, 100, 9], [1, 2, 3, 4]]
    for (let i = 0; i < 200; i++) samples.push([0, 1, 2, 3].map(() => Math.floor(Math.random() * 256)))
    for (const bytes of samples) {
      const decoded = A.fromBytes(Uint8Array.from(bytes), 7)
      expect(decoded.host).toBe(bytes.join("."))
      expect(A.isCanonical(decoded)).toBe(true)
      expect(valid(A.parse(`${decoded.host}:7`))).toEqual(decoded)
    }
  })

  it("toBytes / fromBytes round-trip; toBytes hands out copies", () => {
    const v4 = A.makeIpv4("192.0.2.33", 80)
    const bytes = A.toBytes(v4)
    expect(Array.from(bytes)).toEqual([192, 0, 2, 33])
    bytes[0] = 1
    expect(Array.from(A.toBytes(v4))).toEqual([192, 0, 2, 33])
    A.toBytes(v4)[1] = 9
    expect(Array.from(A.toBytes(v4))).toEqual([192, 0, 2, 33])
    expect(A.fromBytes(A.toBytes(v4), 80)).toEqual(v4)
    const v6 = A.makeIpv6("fe80::1", 443, 5, 4)
    expect(A.toBytes(v6).length).toBe(16)
    expect(A.fromBytes(A.toBytes(v6), 443, { flowInfo: 5, scopeId: 4 })).toEqual(v6)
    expect(A.fromBytes(A.toBytes(v6), 1)).toEqual(A.makeIpv6("fe80::1", 1, 0, 0))
    const plain: A.SocketAddress = { family: "ipv4", host: "10.0.0.1", port: 1 }
    expect(Array.from(A.toBytes(plain))).toEqual([10, 0, 0, 1])
  })

  it("records are frozen, made only here, and speak both Effects' equality protocols (no effect import)", () => {
    const a = A.makeIpv4("1.1.1.1", 1)
    const b = valid(A.parse("1.1.1.1:1"))
    expect(Object.isFrozen(a)).toBe(true)
    expect(A.isCanonical(a)).toBe(true)
    expect(JSON.stringify(a)).toBe('{"family":"ipv4","host":"1.1.1.1","port":1}')
    expect(Object.keys(a)).toEqual(["family", "host", "port"])
    for (const [equal, hash] of [[Symbol.for("effect/Equal"), Symbol.for("effect/Hash")], ["~effect/Equal", "~effect/Hash"]] as const) {
      const eq = (x: object, y: unknown) => (x as Record<PropertyKey, (that: unknown) => boolean>)[equal]!(y)
      const hashOf = (x: object) => (x as Record<PropertyKey, () => number>)[hash]!()
      expect(eq(a, b)).toBe(true)
      expect(hashOf(a)).toBe(hashOf(b))
      expect(Number.isInteger(hashOf(a))).toBe(true)
      expect(eq(a, A.makeIpv4("1.1.1.1", 2))).toBe(false)
      const six = A.makeIpv6("::1", 1, 0, 0)
      expect(eq(six, A.makeIpv6("0::1", 1, 0, 0))).toBe(true)
      expect(eq(six, A.makeIpv6("::1", 1, 0, 2))).toBe(false)
      expect(hashOf(six)).not.toBe(hashOf(A.makeIpv6("::1", 1, 0, 2)))
      // the protocol hands any value: only an address of the same family and fields is equal
      for (const other of [null, undefined, 1, "1.1.1.1:1"]) expect(eq(a, other)).toBe(false)
      expect(eq(a, { family: "ipv6", host: "1.1.1.1", port: 1, flowInfo: 0, scopeId: 0 })).toBe(false)
      expect(eq(six, { family: "ipv6", host: "::1", port: 1, flowInfo: 7, scopeId: 0 })).toBe(false)
      expect(eq(six, { family: "ipv6", host: "::1", port: 1, flowInfo: 0, scopeId: 0 })).toBe(true)
      expect(hashOf(a)).not.toBe(hashOf(A.makeIpv4("1.1.1.2", 1)))
      expect(hashOf(a)).not.toBe(hashOf(A.makeIpv4("1.1.1.1", 2)))
    }
    for (const value of [undefined, null, 5, "1.1.1.1:1", { family: "ipv4", host: "1.1.1.1", port: 1 }]) expect(A.isCanonical(value)).toBe(false)
    expect(A.equals(a, { family: "ipv4", host: "1.1.1.1", port: 1 })).toBe(true)
    expect(A.equals(a, { family: "ipv4", host: "1.1.1.2", port: 1 })).toBe(false)
    expect(A.equals(a, "1.1.1.1:1")).toBe(false)
  })
})

group("address: parse takes the whole text, nothing around it", () => {
  it("a port is decimal digits only: no sign, space, exponent or hex, which Number() would take", () => {
    for (const port of [" 80", "80 ", "+80", "1e3", "0x50", "80a", "a80"]) {
      expect(invalid(A.parse(`127.0.0.1:${port}`))).toContain("the port must be 0-65535")
      expect(invalid(A.parse(`[::1]:${port}`))).toContain("the port must be 0-65535")
    }
  })

  it("the length bound is 128 characters: at 128 the text is parsed, at 129 it is refused before", () => {
    const at128 = "127.0.0.1:" + "1".repeat(118)
    expect(at128.length).toBe(128)
    expect(invalid(A.parse(at128))).toContain("the port must be 0-65535")
    expect(invalid(A.parse(at128 + "1"))).toContain("expected host:port or [ipv6]:port")
  })

  it("nothing before a bracket or after the port", () => {
    expect(invalid(A.parse("x[::1]:80"))).toContain("expected host:port or [ipv6]:port")
    expect(invalid(A.parse("[::1]:80:1"))).toContain("expected host:port or [ipv6]:port")
    expect(invalid(A.parse("1.2.3.4:80:1"))).toContain("expected host:port or [ipv6]:port")
  })

  it("a host that only starts or ends like an IPv4 literal is a name", () => {
    expect(invalid(A.parse("host1.2:80"))).toContain("dialName")
    expect(invalid(A.parse("1.2.example:80"))).toContain("dialName")
    expect(invalid(A.parse("1.2.3:80"))).toContain(": not an IPv4 address")
  })

  it("toBytes remembers the bytes of its own records only: a plain record is read each time", () => {
    const plain = { family: "ipv4", host: "10.0.0.1", port: 1 } as { family: "ipv4"; host: string; port: number }
    expect(Array.from(A.toBytes(plain))).toEqual([10, 0, 0, 1])
    plain.host = "10.0.0.2"
    expect(Array.from(A.toBytes(plain))).toEqual([10, 0, 0, 2])
  })
})
