import { describe, expect, it } from "vitest"
import { makeIpv4, makeIpv6, wildcard } from "../src/address.js"
import * as S from "../src/socket.js"

const refused = 10061
const unreachableHost = 10065
const aborted = 995

const target = makeIpv4("192.0.2.1", 80)
const target6 = makeIpv6("2001:db8::1", 80, 0, 0)

const fresh = (family: "ipv4" | "ipv6" = "ipv4") => S.makeSocketState(family, { family })
const bound = () => {
  const s = fresh()
  S.bound(s)
  return s
}
const connectingSocket = () => {
  const s = bound()
  expect(S.checkConnect(s, target)).toBeUndefined()
  S.connecting(s)
  return s
}
const connected = () => {
  const s = connectingSocket()
  S.settleConnect(s, 0, 1234, () => "x", () => 0)
  return s
}
const disconnected = () => {
  const s = connected()
  S.settleDisconnect(s, 0, false)
  return s
}
const spent = () => {
  const s = connectingSocket()
  S.settleConnect(s, unreachableHost, 0, () => "WSAEHOSTUNREACH", () => 0)
  return s
}
const closed = () => {
  const s = bound()
  S.close(s)
  return s
}

describe("SocketState", () => {
  it("starts open, unbound, with nothing set", () => {
    const s = fresh("ipv6")
    expect(s).toMatchObject({ family: "ipv6", state: "open", bound: false, connectedAt: undefined, sendShut: false, spentBy: undefined })
    expect(S.checkOpen(s)).toBeUndefined()
    expect(S.isConnected(s)).toBe(false)
    expect(S.canConnectAgain(s)).toBe(true)
    expect(S.checkLocalAddress(s)).toEqual({ refused: "WSAEINVAL", detail: "the socket is not bound" })
  })

  it("bind: once; a second bind, a bind after connect and a family mismatch are refused", () => {
    const s = fresh()
    expect(S.checkBind(s, wildcard("ipv6"))).toEqual({
      refused: "WSAEAFNOSUPPORT",
      detail: "an ipv6 address on an ipv4 socket"
    })
    expect(S.checkBind(s, wildcard("ipv4"))).toBeUndefined()
    S.bound(s)
    expect(s.bound).toBe(true)
    expect(S.checkLocalAddress(s)).toBeUndefined()
    expect(S.checkBind(s, wildcard("ipv4"))).toEqual({ refused: "WSAEINVAL", detail: "the socket is already bound" })
    // not bound but no longer open (a state reached only through a bug elsewhere) is refused too
    const odd = fresh()
    odd.state = "connected"
    expect(S.checkBind(odd, wildcard("ipv4"))?.refused).toBe("WSAEINVAL")
  })

  it("connect: refused when unbound, connecting, connected, disconnected, spent or closed", () => {
    expect(S.checkConnect(fresh(), target)).toEqual({
      refused: "WSAEINVAL",
      detail: "the socket is not bound: call Socket.bind first"
    })
    expect(S.checkConnect(connectingSocket(), target)).toEqual({
      refused: "WSAEALREADY",
      detail: "a connect is already pending on this socket"
    })
    expect(S.checkConnect(connected(), target)?.refused).toBe("WSAEISCONN")
    expect(S.checkConnect(disconnected(), target)?.refused).toBe("WSAEISCONN")
    expect(S.checkConnect(spent(), target)).toEqual({
      refused: "WSAEINVAL",
      detail: "the socket is unusable after WSAEHOSTUNREACH; open a new one"
    })
    const spentNoReason = bound()
    spentNoReason.state = "spent"
    expect(S.checkConnect(spentNoReason, target)?.detail).toContain("an earlier failure")
    expect(S.checkConnect(closed(), target)).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
  })

  it("connect: the unspecified address, port 0 and the other family are refused", () => {
    const s = bound()
    expect(S.checkConnect(s, makeIpv4("0.0.0.0", 80))).toEqual({
      refused: "WSAEADDRNOTAVAIL",
      detail: "the destination must be a concrete address and port"
    })
    expect(S.checkConnect(s, makeIpv4("192.0.2.1", 0))?.refused).toBe("WSAEADDRNOTAVAIL")
    expect(S.checkConnect(s, target6)).toEqual({
      refused: "WSAEAFNOSUPPORT",
      detail: "an ipv6 destination on an ipv4 socket"
    })
    const s6 = S.makeSocketState("ipv6", { family: "ipv6" })
    S.bound(s6)
    expect(S.checkConnect(s6, makeIpv6("::", 80, 0, 0))?.refused).toBe("WSAEADDRNOTAVAIL")
    expect(S.checkConnect(s6, target6)).toBeUndefined()
    expect(s.state).toBe("open")
  })

  it("settleConnect 0: connected, connectedAt set, send open again", () => {
    const s = connectingSocket()
    s.sendShut = true
    S.settleConnect(s, 0, 1234, () => "never", () => 99)
    expect(s).toMatchObject({ state: "connected", connectedAt: 1234, sendShut: false, spentBy: undefined })
    expect(S.isConnected(s)).toBe(true)
  })

  it("settleConnect retryable with a reset that works: open again, reset asked once", () => {
    for (const code of [10061, 10051, 10060]) {
      const s = connectingSocket()
      let resets = 0
      S.settleConnect(s, code, 5, () => "why", () => (resets++, 0))
      expect(resets).toBe(1)
      expect(s.state).toBe("open")
      expect(s.spentBy).toBeUndefined()
      expect(S.canConnectAgain(s)).toBe(true)
      expect(S.checkConnect(s, target)).toBeUndefined()
    }
  })

  it("settleConnect retryable with a reset that fails: spent, with its reason", () => {
    const s = connectingSocket()
    S.settleConnect(s, refused, 5, () => "WSAECONNREFUSED", () => 10022)
    expect(s.state).toBe("spent")
    expect(s.spentBy).toBe("WSAECONNREFUSED")
    expect(S.canConnectAgain(s)).toBe(false)
  })

  it("settleConnect cancelled (995) or not retryable: spent without asking for a reset", () => {
    for (const code of [aborted, unreachableHost, 10054]) {
      const s = connectingSocket()
      let resets = 0
      S.settleConnect(s, code, 5, () => `code ${code}`, () => (resets++, 0))
      expect(resets).toBe(0)
      expect(s.state).toBe("spent")
      expect(s.spentBy).toBe(`code ${code}`)
      expect(s.connectedAt).toBeUndefined()
    }
  })

  it("settleConnect does nothing unless connecting (a completion after close)", () => {
    const s = connectingSocket()
    S.close(s)
    S.settleConnect(s, 0, 5, () => "x", () => 0)
    expect(s.state).toBe("closed")
    expect(s.connectedAt).toBeUndefined()
  })

  it("send: connected only; shut down or disconnected is WSAESHUTDOWN; closed is WSAENOTSOCK", () => {
    expect(S.checkSend(connected())).toBeUndefined()
    const shut = connected()
    S.shutDown(shut)
    expect(shut.sendShut).toBe(true)
    expect(S.checkSend(shut)).toEqual({ refused: "WSAESHUTDOWN", detail: "the sending direction was shut down" })
    expect(S.checkSend(disconnected())?.refused).toBe("WSAESHUTDOWN")
    expect(S.checkSend(bound())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkSend(connectingSocket())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkSend(spent())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkSend(closed())).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
  })

  it("receive: connected or disconnected (drains); otherwise not connected or not a socket", () => {
    expect(S.checkReceive(connected())).toBeUndefined()
    expect(S.checkReceive(disconnected())).toBeUndefined()
    expect(S.checkReceive(bound())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkReceive(connectingSocket())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkReceive(spent())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkReceive(closed())?.refused).toBe("WSAENOTSOCK")
  })

  it("shutdown: connected proceeds, then done; disconnected is done; others refused", () => {
    const s = connected()
    expect(S.checkShutdown(s)).toBeUndefined()
    S.shutDown(s)
    expect(S.checkShutdown(s)).toBe("done")
    expect(S.checkShutdown(disconnected())).toBe("done")
    expect(S.checkShutdown(bound())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkShutdown(spent())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkShutdown(closed())).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
  })

  it("disconnect: connected only", () => {
    expect(S.checkDisconnect(connected())).toBeUndefined()
    expect(S.checkDisconnect(disconnected())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkDisconnect(bound())).toEqual({ refused: "WSAENOTCONN" })
    expect(S.checkDisconnect(closed())?.refused).toBe("WSAENOTSOCK")
  })

  it("settleDisconnect with reuse: open again, may connect, send no longer shut", () => {
    const s = connected()
    S.shutDown(s)
    S.settleDisconnect(s, 0, true)
    expect(s).toMatchObject({ state: "open", connectedAt: undefined, sendShut: false })
    expect(S.checkConnect(s, target)).toBeUndefined()
  })

  it("settleDisconnect without reuse: disconnected, send shut, receive drains, no reconnect", () => {
    const s = connected()
    S.settleDisconnect(s, 0, false)
    expect(s).toMatchObject({ state: "disconnected", connectedAt: undefined, sendShut: true })
    expect(S.isConnected(s)).toBe(false)
    expect(S.canConnectAgain(s)).toBe(false)
  })

  it("settleDisconnect failing: spent by a failed disconnect, whatever reuse says", () => {
    for (const reuse of [true, false]) {
      const s = connected()
      S.settleDisconnect(s, 10054, reuse)
      expect(s).toMatchObject({ state: "spent", spentBy: "a failed disconnect", connectedAt: undefined })
    }
  })

  it("settleDisconnect does nothing unless connected", () => {
    const s = closed()
    S.settleDisconnect(s, 0, true)
    expect(s.state).toBe("closed")
    const o = bound()
    S.settleDisconnect(o, 10054, false)
    expect(o.state).toBe("open")
    expect(o.spentBy).toBeUndefined()
  })

  it("close: from any state, once; idempotent; every later call is WSAENOTSOCK", () => {
    for (const make of [fresh, bound, connectingSocket, connected, disconnected, spent]) {
      const s = make()
      expect(S.close(s)).toBe(true)
      expect(s.state).toBe("closed")
      expect(s.connectedAt).toBeUndefined()
      expect(S.close(s)).toBe(false)
      expect(S.checkOpen(s)).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
      expect(S.canConnectAgain(s)).toBe(false)
    }
  })
})

describe("the accepting side", () => {
  const listeningSocket = () => {
    const s = bound()
    expect(S.checkListen(s)).toBeUndefined()
    S.listening(s)
    return s
  }

  it("listen: bound and open, or already listening; every other state refused with its reason", () => {
    expect(S.checkListen(fresh())).toEqual({ refused: "WSAEINVAL", detail: "the socket is not bound: bind it before listening" })
    expect(S.checkListen(bound())).toBeUndefined()
    expect(S.checkListen(listeningSocket())).toBeUndefined()
    expect(S.checkListen(connectingSocket())).toEqual({ refused: "WSAEALREADY", detail: "a connect is pending on this socket" })
    for (const s of [connected(), disconnected()]) {
      expect(S.checkListen(s)).toEqual({ refused: "WSAEISCONN", detail: "the socket is (or was) connected; listen on a fresh socket" })
    }
    expect(S.checkListen(spent())).toEqual({ refused: "WSAEINVAL", detail: "the socket is unusable after WSAEHOSTUNREACH; open a new one" })
    const unnamed = spent()
    unnamed.spentBy = undefined
    expect(S.checkListen(unnamed)?.detail).toBe("the socket is unusable after an earlier failure; open a new one")
    expect(S.checkListen(closed())).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
  })

  it("connect on a listening socket is WSAEINVAL (it accepts, it cannot connect)", () => {
    expect(S.checkConnect(listeningSocket(), target)).toEqual({
      refused: "WSAEINVAL",
      detail: "the socket is listening: it accepts connections, it cannot make one"
    })
  })

  it("accept: only on a listening socket; closed is WSAENOTSOCK, anything else WSAEINVAL", () => {
    expect(S.checkAccept(listeningSocket())).toBeUndefined()
    expect(S.checkAccept(closed())).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
    for (const s of [fresh(), bound(), connectingSocket(), connected(), disconnected(), spent()]) {
      expect(S.checkAccept(s)).toEqual({ refused: "WSAEINVAL", detail: "the socket is not listening: call listen first" })
    }
  })

  it("an accepted socket starts bound and connected since `now`: connect is WSAEISCONN, send and receive go", () => {
    const accepted = S.makeAcceptedState("ipv6", { family: "ipv6" }, 42)
    expect(accepted).toMatchObject({ family: "ipv6", state: "connected", bound: true, connectedAt: 42, sendShut: false })
    expect(S.checkConnect(accepted, target6)?.refused).toBe("WSAEISCONN")
    expect(S.checkSend(accepted)).toBeUndefined()
    expect(S.checkReceive(accepted)).toBeUndefined()
    const record = fresh()
    S.acceptedInto(record, 7)
    expect(record).toMatchObject({ state: "connected", bound: true, connectedAt: 7 })
  })
})

describe("SocketState: a shut-down direction outlives the connection only as WSAESHUTDOWN after a disconnect", () => {
  it("shut down, then a failed disconnect (spent) or a close: send and shutdown say why it is not connected", () => {
    const failed = connected()
    S.shutDown(failed)
    S.settleDisconnect(failed, 10054, false)
    expect(failed.state).toBe("spent")
    expect(S.checkSend(failed)?.refused).toBe("WSAENOTCONN")
    expect(S.checkShutdown(failed)).toMatchObject({ refused: "WSAENOTCONN" })

    const shutThenClosed = connected()
    S.shutDown(shutThenClosed)
    S.close(shutThenClosed)
    expect(S.checkSend(shutThenClosed)).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
    expect(S.checkShutdown(shutThenClosed)).toEqual({ refused: "WSAENOTSOCK", detail: "the socket was closed" })
  })

  it("connect on a connected or disconnected socket says what to do instead", () => {
    const detail = "the socket is (or was) connected; open a new socket, or disconnect with reuse"
    expect(S.checkConnect(connected(), target)).toEqual({ refused: "WSAEISCONN", detail })
    expect(S.checkConnect(disconnected(), target)).toEqual({ refused: "WSAEISCONN", detail })
  })
})
