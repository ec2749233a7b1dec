import { describe as group, expect, it } from "vitest"
import * as A from "../src/address.js"
import * as H from "../src/happyEyeballs.js"

const v4 = (host: string, port = 80) => A.makeIpv4(host, port)
const v6 = (host: string, port = 80, scopeId = 0) => A.makeIpv6(host, port, 0, scopeId)

group("happyEyeballs: interleave (RFC 8305 section 4)", () => {
  it("IPv6 first, then the families alternate, each keeping its order", () => {
    const [a, b, c] = [v4("192.0.2.1"), v4("192.0.2.2"), v4("192.0.2.3")]
    const [x, y] = [v6("2001:db8::1"), v6("2001:db8::2")]
    expect(H.interleave([a, b, c, x, y])).toEqual([x, a, y, b, c])
    expect(H.interleave([a, b])).toEqual([a, b])
    expect(H.interleave([x, y])).toEqual([x, y])
    expect(H.interleave([])).toEqual([])
  })

  it("drops duplicates, keeping the first", () => {
    const a = v4("192.0.2.1")
    const x = v6("2001:db8::1")
    expect(H.interleave([a, v4("192.0.2.1"), x, v6("2001:db8:0::1")])).toEqual([x, a])
    expect(H.interleave([x, v6("2001:db8::1", 81)])).toHaveLength(2)
  })
})

group("happyEyeballs: literals from a resolver", () => {
  it("IPv4 and IPv6, a numeric zone as the scope id", () => {
    expect(H.fromLiteral("192.0.2.1", 443)).toEqual(v4("192.0.2.1", 443))
    expect(H.fromLiteral("2001:db8::1", 443)).toEqual(v6("2001:db8::1", 443))
    expect(H.fromLiteral("fe80::1%3", 443)).toEqual(v6("fe80::1", 443, 3))
    expect(H.fromLiteral("fe80::1%4294967295", 1)).toEqual(v6("fe80::1", 1, 0xffffffff))
  })

  it("a named or out-of-range zone is an unusable literal naming the address", () => {
    expect(H.fromLiteral("fe80::1%eth0", 443)).toEqual({
      address: v6("fe80::1", 443),
      detail: `the zone of "fe80::1%eth0" is not a numeric scope id`
    })
    expect(H.fromLiteral("fe80::1%4294967296", 443)).toHaveProperty("detail")
    expect(H.fromLiteral("fe80::1%", 443)).toHaveProperty("detail")
  })

  it("a literal that is not an address throws, as the constructors do", () => {
    expect(() => H.fromLiteral("not-an-address", 80)).toThrow(/^SocketAddress\.ipv6: /)
    expect(() => H.fromLiteral("192.0.2.1", 70000)).toThrow(/^SocketAddress\.ipv4: /)
  })

  it("fromLiterals splits usable from unusable, each in order", () => {
    const { unusable, usable } = H.fromLiterals(["fe80::1%eth0", "192.0.2.1", "fe80::2%lo", "::1"], 7)
    expect(usable).toEqual([v4("192.0.2.1", 7), v6("::1", 7)])
    expect(unusable.map((u) => A.format(u.address))).toEqual(["[fe80::1]:7", "[fe80::2]:7"])
  })

  it("hostLiteral: an IP literal (brackets off, zone kept) or undefined for a name", () => {
    expect(H.hostLiteral("127.0.0.1")).toBe("127.0.0.1")
    expect(H.hostLiteral("[::1]")).toBe("::1")
    expect(H.hostLiteral("fe80::1%eth0")).toBe("fe80::1%eth0")
    expect(H.hostLiteral("[fe80::1%2]")).toBe("fe80::1%2")
    expect(H.hostLiteral("localhost")).toBeUndefined()
    expect(H.hostLiteral("[localhost]")).toBeUndefined()
    expect(H.hostLiteral("")).toBeUndefined()
  })
})

group("happyEyeballs: describeAttempts", () => {
  it("lists each address and tag, or says there was none", () => {
    expect(H.describeAttempts([])).toBe("there was no address to try")
    expect(H.describeAttempts([
      { address: v6("::1", 80), error: { _tag: "WSAECONNREFUSED" } },
      { address: v4("127.0.0.1", 80), error: { _tag: "WSAETIMEDOUT" } }
    ])).toBe("[::1]:80 WSAECONNREFUSED, 127.0.0.1:80 WSAETIMEDOUT")
  })

  it("keyOf never throws on a value format cannot print", () => {
    expect(H.keyOf(null as unknown as A.SocketAddress)).toBe("invalid null")
  })
})
