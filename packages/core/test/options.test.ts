import { describe as group, expect, it } from "vitest"
import * as O from "../src/options.js"

group("options: setOption's arguments", () => {
  it("an unknown option is WSAENOPROTOOPT", () => {
    expect(O.checkOption("SO_BROADCAST", true)).toEqual({ name: "WSAENOPROTOOPT", detail: `unknown option "SO_BROADCAST"` })
    expect(O.checkOption("toString", true)?.name).toBe("WSAENOPROTOOPT")
    expect(O.checkOption(42, true)).toEqual({ name: "WSAENOPROTOOPT", detail: "unknown option 42" })
  })

  it("a value of the wrong kind or range is WSAEINVAL; a good one passes", () => {
    expect(O.checkOption("TCP_NODELAY", 1)).toEqual({ name: "WSAEINVAL", detail: "invalid value for TCP_NODELAY: 1" })
    expect(O.checkOption("TCP_NODELAY", true)).toBeUndefined()
    for (const good of [1, 0x7fffffff]) expect(O.checkOption("SO_SNDBUF", good)).toBeUndefined()
    for (const bad of [0, 0x80000000, 1.5, "1"]) expect(O.checkOption("SO_RCVBUF", bad)?.name).toBe("WSAEINVAL")
    for (const good of [false, 0, 0xffff]) expect(O.checkOption("SO_LINGER", good)).toBeUndefined()
    for (const bad of [true, -1, 0x10000]) expect(O.checkOption("SO_LINGER", bad)?.name).toBe("WSAEINVAL")
  })
})

group("options: receive sizes", () => {
  it("an integer from 1 to MAX_RECEIVE", () => {
    expect(O.MAX_RECEIVE).toBe(64 * 1024 * 1024)
    for (const good of [1, O.MAX_RECEIVE]) expect(O.checkReceiveSize("maxBytes", good)).toBeUndefined()
    expect(O.checkReceiveSize("chunkSize", 0)).toBe(`chunkSize must be an integer from 1 to ${O.MAX_RECEIVE}, got 0`)
    for (const bad of [O.MAX_RECEIVE + 1, 2.5, "8", Number.NaN]) expect(O.checkReceiveSize("maxBytes", bad)).toBeDefined()
  })
})
