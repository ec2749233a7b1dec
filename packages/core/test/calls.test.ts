// The synchronous calls, each checked first in the same order for both front-ends; the socket value and its
// checks; failures and Node-shaped errors.
import { describe, expect, it } from "vitest"
import { makeIpv4, makeIpv6, wildcard } from "../src/address.js"
import * as Calls from "../src/calls.js"
import { wsa } from "../src/errors/codes.js"
import { failure, type Failure, isFailure, nameOf, statusFailure } from "../src/failure.js"
import { fail, ok } from "../src/native/Driver.js"
import { errnoOf, nodeCodeOf, nodeError } from "../src/nodeErrors.js"
import { makePort } from "../src/port.js"
import * as Sockets from "../src/sockets.js"
import { makeManual } from "./support/manual.js"

const failureOf = (u: unknown): Failure => {
  if (!isFailure(u)) throw new Error(`expected a failure, got ${String(u)}`)
  return u
}

const portWith = (overrides: Parameters<typeof makeManual>[0] = {}, driver: Partial<ReturnType<typeof makeManual>["driver"]> = {}) => {
  const manual = makeManual(overrides)
  const port = makePort({ ...manual.driver, ...driver })
  return { manual, port }
}

describe("open", () => {
  it("a family of ipv4 or ipv6, through a live port; the socket tracked, open, unbound", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv6" }) as Sockets.Socket
    expect(Sockets.isSocket(socket)).toBe(true)
    expect(socket).toMatchObject({ family: "ipv6", state: "open", bound: false, connectedAt: undefined, sendShut: false, spentBy: undefined })
    expect(socket.native).toEqual({ family: "ipv6" })
    expect(socket.port).toBe(port)
    expect(port.stats().sockets).toBe(1)
    expect(socket[Sockets.TypeId]).toBe(Sockets.TypeId)
    for (const options of [undefined, null, {}, { family: "ipx" }]) {
      expect(failureOf(Calls.open(port, options))).toEqual({
        _tag: "Failure",
        code: wsa.WSAEAFNOSUPPORT,
        operation: "socket",
        address: undefined,
        detail: `family must be "ipv4" or "ipv6", got ${options === null || options === undefined ? "undefined" : (options as { family?: string }).family === undefined ? "undefined" : '"ipx"'}`
      })
    }
  })

  it("a driver's failure, and a port shut down", () => {
    const { port } = portWith({}, { open: () => fail(wsa.WSAEMFILE) })
    expect(Calls.open(port, { family: "ipv4" })).toMatchObject({ code: wsa.WSAEMFILE, operation: "socket" })
    expect(port.stats().sockets).toBe(0)
    const live = portWith().port
    live.shutdown(() => {})
    expect(Calls.open(live, { family: "ipv4" })).toMatchObject({ code: wsa.WSANOTINITIALISED, operation: "socket" })
  })

  it("the queues are made on first use, one of each per socket", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    const send = socket.sendQueue
    expect(socket.receiveQueue).not.toBe(send)
    expect(socket.sendQueue).toBe(send)
    const other = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    const receive = other.receiveQueue
    expect(other.receiveQueue).toBe(receive)
    expect(other.sendQueue).not.toBe(receive)
  })
})

describe("the checks every call makes first", () => {
  it("usable: a socket of ours, a live port, not closed", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(Sockets.usable(socket, "bind")).toBe(socket)
    expect(Sockets.usable({ state: "open" }, "bind")).toEqual({
      _tag: "Failure",
      code: wsa.WSAENOTSOCK,
      operation: "bind",
      address: undefined,
      detail: "the value is not a socket opened by Socket.open"
    })
    Sockets.close(socket)
    expect(Sockets.usable(socket, "bind")).toEqual({ _tag: "Failure", code: wsa.WSAENOTSOCK, operation: "bind", address: undefined, detail: "the socket was closed" })
    const dead = portWith().port
    const orphan = Calls.open(dead, { family: "ipv4" }) as Sockets.Socket
    dead.shutdown(() => {})
    expect(Sockets.usable(orphan, "send")).toMatchObject({ code: wsa.WSANOTINITIALISED, operation: "send" })
  })

  it("checked: usable, then the state machine's check for the call", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(Sockets.checked(socket, "send", () => undefined)).toBe(socket)
    expect(Sockets.checked(socket, "send", () => ({ refused: "WSAENOTCONN", detail: "d" }))).toEqual({
      _tag: "Failure",
      code: wsa.WSAENOTCONN,
      operation: "send",
      address: undefined,
      detail: "d"
    })
    expect(Sockets.checked(1, "send", () => expect.unreachable())).toMatchObject({ code: wsa.WSAENOTSOCK })
    const address = makeIpv4("10.0.0.1", 1)
    expect(Sockets.refused({ refused: "WSAEISCONN" }, "connect", address)).toEqual({ _tag: "Failure", code: wsa.WSAEISCONN, operation: "connect", address, detail: undefined })
  })

  it("close: through the port once; the socket answers WSAENOTSOCK after", () => {
    const { manual, port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    Sockets.close(socket)
    Sockets.close(socket)
    expect(manual.calls.filter((c) => c === "close")).toHaveLength(1)
    expect(socket.state).toBe("closed")
    expect(port.stats().sockets).toBe(0)
  })
})

describe("bind", () => {
  it("checks the socket, the address, the state; a port-0 bind defers the port", () => {
    const binds: Array<string> = []
    const { port } = portWith({}, { bind: (_s, address, deferPort) => (binds.push(`${address.port} ${deferPort}`), 0) })
    expect(failureOf(Calls.bind("x", wildcard("ipv4")))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "bind" })
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(failureOf(Calls.bind(socket, { family: "ipv4", host: "1.2.3", port: 1 }))).toMatchObject({ code: wsa.WSAEINVAL, operation: "bind" })
    expect(failureOf(Calls.bind(socket, makeIpv6("::", 0, 0, 0)))).toMatchObject({ code: wsa.WSAEAFNOSUPPORT, operation: "bind", address: makeIpv6("::", 0, 0, 0) })
    expect(Calls.bind(socket, wildcard("ipv4"))).toBeUndefined()
    expect(socket.bound).toBe(true)
    expect(failureOf(Calls.bind(socket, wildcard("ipv4")))).toMatchObject({ code: wsa.WSAEINVAL, operation: "bind" })
    const other = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(Calls.bind(other, makeIpv4("127.0.0.1", 80))).toBeUndefined()
    expect(binds).toEqual(["0 true", "80 false"])
  })

  it("the driver's failure leaves the socket unbound", () => {
    const { port } = portWith({}, { bind: () => wsa.WSAEADDRINUSE })
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    const address = makeIpv4("127.0.0.1", 80)
    expect(Calls.bind(socket, address)).toEqual({ _tag: "Failure", code: wsa.WSAEADDRINUSE, operation: "bind", address, detail: undefined })
    expect(socket.bound).toBe(false)
  })
})

describe("addresses and connect time", () => {
  it("localAddress after bind; the driver's failure", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(failureOf(Calls.localAddress(socket))).toMatchObject({ code: wsa.WSAEINVAL, operation: "localAddress" })
    Calls.bind(socket, wildcard("ipv4"))
    expect(Calls.localAddress(socket)).toEqual(makeIpv4("10.0.0.1", 5000))
    const broken = portWith({}, { localAddress: () => fail(wsa.WSAENOTSOCK), peerAddress: () => fail(wsa.WSAENOTCONN) }).port
    const b = Calls.open(broken, { family: "ipv4" }) as Sockets.Socket
    Calls.bind(b, wildcard("ipv4"))
    expect(Calls.localAddress(b)).toEqual({ _tag: "Failure", code: wsa.WSAENOTSOCK, operation: "localAddress", address: undefined, detail: undefined })
    b.state = "connected"
    expect(Calls.peerAddress(b)).toEqual({ _tag: "Failure", code: wsa.WSAENOTCONN, operation: "peerAddress", address: undefined, detail: undefined })
  })

  it("peerAddress when connected or draining", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(failureOf(Calls.peerAddress(socket))).toMatchObject({ code: wsa.WSAENOTCONN, operation: "peerAddress" })
    socket.state = "disconnected"
    expect(Calls.peerAddress(socket)).toEqual(makeIpv4("10.0.0.2", 4000))
  })

  it("connectTime: undefined unless connected; the front-end's clock, never negative; the kernel's where it counts", () => {
    const { port } = portWith()
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(failureOf(Calls.connectTime({}, 0))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "connectTime" })
    expect(Calls.connectTime(socket, 100)).toBeUndefined()
    socket.state = "connected"
    socket.connectedAt = 40
    expect(Calls.connectTime(socket, 100)).toBe(60)
    expect(Calls.connectTime(socket, 10)).toBe(0)
    socket.connectedAt = undefined
    expect(Calls.connectTime(socket, 100)).toBe(0)
    let kernel: ReturnType<NonNullable<ReturnType<typeof makeManual>["driver"]["connectTime"]>> = ok(3)
    const counted = portWith({}, { connectTime: () => kernel }).port
    const k = Calls.open(counted, { family: "ipv4" }) as Sockets.Socket
    k.state = "connected"
    expect(Calls.connectTime(k, 0)).toBe(3000)
    kernel = ok(undefined)
    expect(Calls.connectTime(k, 0)).toBeUndefined()
    kernel = fail(wsa.WSAENOTSOCK)
    expect(Calls.connectTime(k, 0)).toEqual({ _tag: "Failure", code: wsa.WSAENOTSOCK, operation: "connectTime", address: undefined, detail: undefined })
  })
})

describe("setOption", () => {
  it("an unknown option, a bad value, the driver's answer", () => {
    let status = 0
    const set: Array<string> = []
    const { port } = portWith({}, { setOption: (_s, option, value) => (set.push(`${option}=${String(value)}`), status) })
    const socket = Calls.open(port, { family: "ipv4" }) as Sockets.Socket
    expect(failureOf(Calls.setOption(1, "TCP_NODELAY", true))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "setsockopt" })
    expect(Calls.setOption(socket, "NOPE" as "TCP_NODELAY", true)).toEqual({
      _tag: "Failure",
      code: wsa.WSAENOPROTOOPT,
      operation: "setsockopt",
      address: undefined,
      detail: 'unknown option "NOPE"'
    })
    expect(Calls.setOption(socket, "TCP_NODELAY", 1 as unknown as boolean)).toMatchObject({ code: wsa.WSAEINVAL, detail: "invalid value for TCP_NODELAY: 1" })
    expect(Calls.setOption(socket, "TCP_NODELAY", true)).toBeUndefined()
    status = wsa.WSAEINVAL
    expect(Calls.setOption(socket, "SO_LINGER", 0)).toEqual({ _tag: "Failure", code: wsa.WSAEINVAL, operation: "setsockopt", address: undefined, detail: undefined })
    expect(set).toEqual(["TCP_NODELAY=true", "SO_LINGER=0"])
  })
})

describe("failures", () => {
  it("isFailure, by name, by number; nameOf", () => {
    expect(isFailure(failure("WSAEINVAL", "bind"))).toBe(true)
    for (const u of [null, undefined, 1, "Failure", {}, { _tag: "Other" }]) expect(isFailure(u)).toBe(false)
    const address = makeIpv4("10.0.0.1", 1)
    expect(failure("WSAECONNREFUSED", "connect", address, "why")).toEqual({ _tag: "Failure", code: wsa.WSAECONNREFUSED, operation: "connect", address, detail: "why" })
    expect(statusFailure(12345, "send", address, "x")).toEqual({ _tag: "Failure", code: 12345, operation: "send", address, detail: "x" })
    expect(nameOf(statusFailure(wsa.WSAECONNRESET, "send"))).toBe("WSAECONNRESET")
    expect(nameOf(statusFailure(12345, "send"))).toBeUndefined()
  })
})

describe("Node-shaped errors", () => {
  it("node:net's code for a WSA code, UNKNOWN outside the table", () => {
    expect(nodeCodeOf(wsa.WSAECONNRESET)).toBe("ECONNRESET")
    expect(nodeCodeOf(wsa.WSAESHUTDOWN)).toBe("EPIPE")
    expect(nodeCodeOf(wsa.WSA_OPERATION_ABORTED)).toBe("ECANCELED")
    expect(nodeCodeOf(wsa.WSAEDISCON)).toBe("UNKNOWN")
    expect(nodeCodeOf(12345)).toBe("UNKNOWN")
  })

  it("the platform's negative errno for a code, undefined for one it does not have", () => {
    expect(errnoOf("ECONNRESET")).toBe(-104)
    expect(errnoOf("EAGAIN")).toBe(-11)
    expect(errnoOf("ENOTFOUND")).toBeUndefined()
    expect(errnoOf("UNKNOWN")).toBe(-4094)
  })

  it("an Error with code, errno, syscall, the peer for a connect, and the typed error as cause", () => {
    const cause = new Error("typed")
    const e = nodeError(wsa.WSAECONNREFUSED, "connect", cause, { host: "127.0.0.1", port: 80 })
    expect(e).toBeInstanceOf(Error)
    expect([e.message, e.code, e.errno, e.syscall, e.address, e.port, e.cause]).toEqual([
      "connect ECONNREFUSED 127.0.0.1:80",
      "ECONNREFUSED",
      -111,
      "connect",
      "127.0.0.1",
      80,
      cause
    ])
    const plain = nodeError("ENOTFOUND", "getaddrinfo", undefined)
    expect([plain.message, plain.code, plain.errno, plain.syscall]).toEqual(["getaddrinfo ENOTFOUND", "ENOTFOUND", undefined, "getaddrinfo"])
    expect("address" in plain || "port" in plain).toBe(false)
  })
})
