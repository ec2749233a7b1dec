/**
 * The long operations as machines: each check in its order, and the queue that orders them per direction.
 * What they promise: exactly one completion per operation whatever cancel or close does, the queue always
 * handed on (never stranded, never given to a caller who left), nothing started on a closed socket.
 */
import { describe, expect, it } from "vitest"
import { makeIpv4, makeIpv6, wildcard } from "../src/address.js"
import { finished } from "../src/completion.js"
import { wsa } from "../src/errors/codes.js"
import type { Failure } from "../src/failure.js"
import * as Io from "../src/io.js"
import type { Completion, Driver } from "../src/native/Driver.js"
import { isNow, isThrown, makePort, type Pending, type Started } from "../src/port.js"
import * as Calls from "../src/calls.js"
import { close, type Socket } from "../src/sockets.js"
import { aborted, bytes, data, Defect, makeManual, manualPort } from "./support/manual.js"

const target = makeIpv4("10.0.0.2", 80)

const pending = (started: Started): Pending => {
  if (isNow(started) || isThrown(started)) throw new Error(`expected an operation in flight, got ${JSON.stringify(started)}`)
  return started
}

const failureOf = (u: unknown): Failure => {
  if (!Io.isFailure(u)) throw new Error(`expected a failure, got ${String(u)}`)
  return u
}

const recorder = () => {
  const seen: Array<Completion> = []
  return { seen, done: (c: Completion) => void seen.push(c) }
}

describe("inQueue: the queue handed on", () => {
  it("a receive on an idle queue starts at once; its completion releases the queue, then reaches onLater", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const order: Array<string> = []
    const started = pending(Io.receiveLater(socket, 10, (c) => order.push(`done ${c.bytes} idle=${socket.receiveQueue.idle}`)))
    expect(socket.receiveQueue.idle).toBe(false)
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([10])
    manual.ops[0]!.complete(data("abc"))
    expect(order).toEqual(["done 3 idle=true"])
    let woken = 0
    started.whenCompleted(() => woken++)
    expect(woken).toBe(1)
  })

  it("a second receive waits in line: nothing reaches the driver until the first completes", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const first = recorder()
    const second = recorder()
    pending(Io.receiveLater(socket, 1, first.done))
    const later = pending(Io.receiveLater(socket, 2, second.done))
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([1])
    let woken = 0
    later.whenCompleted(() => woken++)
    manual.ops[0]!.complete(data("a"))
    // handed over: the second's receive is in flight now, the queue still held
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([2])
    expect(socket.receiveQueue.idle).toBe(false)
    expect(first.seen).toHaveLength(1)
    expect(second.seen).toEqual([])
    expect(woken).toBe(0)
    manual.ops[1]!.complete(data("bb"))
    expect(second.seen.map((c) => c.bytes)).toEqual([2])
    expect(woken).toBe(1)
    expect(socket.receiveQueue.idle).toBe(true)
    // after the completion: whenCompleted at once, cancel does nothing (above all, it does not give away the
    // queue another operation holds now)
    later.whenCompleted(() => woken++)
    expect(woken).toBe(2)
    pending(Io.receiveLater(socket, 3, () => {}))
    later.cancel()
    expect(second.seen).toHaveLength(1)
    expect(socket.receiveQueue.idle).toBe(false)
    pending(Io.receiveLater(socket, 4, () => {}))
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([3])
  })

  it("cancelled while in line: one 995, never reaches the driver, and the queue skips it", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const second = recorder()
    const third = recorder()
    pending(Io.receiveLater(socket, 1, () => {}))
    const waiting = pending(Io.receiveLater(socket, 2, second.done))
    pending(Io.receiveLater(socket, 3, third.done))
    let woken = 0
    waiting.whenCompleted(() => woken++)
    waiting.cancel()
    waiting.cancel()
    expect(second.seen).toEqual([aborted])
    expect(woken).toBe(1)
    manual.ops[0]!.complete(data("a"))
    expect(manual.ops.map((op) => op.arg)).toEqual([1, 3])
    manual.ops[1]!.complete(data("c"))
    expect(third.seen).toHaveLength(1)
    expect(second.seen).toHaveLength(1)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("the only waiter cancelled: the queue is freed when the holder completes", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.receiveLater(socket, 1, () => {}))
    pending(Io.receiveLater(socket, 2, () => {})).cancel()
    manual.ops[0]!.complete(data("a"))
    expect(manual.ops).toHaveLength(1)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("cancelled once handed over: the driver's operation is cancelled; a late completion is the one completion", () => {
    const { connected, manual } = manualPort({ cancel: "hold" })
    const socket = connected()
    const second = recorder()
    pending(Io.receiveLater(socket, 1, () => {}))
    const waiting = pending(Io.receiveLater(socket, 2, second.done))
    manual.ops[0]!.complete(data("a"))
    let woken = 0
    waiting.whenCompleted(() => woken++)
    waiting.cancel()
    expect(manual.ops[1]!.cancels).toBe(1)
    // the cancel's completion has not come: the caller still waits and the queue is still held
    expect(second.seen).toEqual([])
    expect(woken).toBe(0)
    expect(socket.receiveQueue.idle).toBe(false)
    const third = recorder()
    pending(Io.receiveLater(socket, 3, third.done))
    // the real result won the race with the cancel: it is the completion
    manual.ops[1]!.complete(data("bb"))
    expect(second.seen.map((c) => c.status)).toEqual([0])
    expect(woken).toBe(1)
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([3])
  })

  it("a socket closed while an operation waited: it completes with 995 without reaching the driver", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const first = recorder()
    const second = recorder()
    pending(Io.receiveLater(socket, 1, first.done))
    pending(Io.receiveLater(socket, 2, second.done))
    close(socket)
    expect(first.seen).toEqual([aborted])
    expect(second.seen).toEqual([aborted])
    expect(manual.ops).toHaveLength(1)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("on a closed socket with an idle queue: 995 at once, the queue left free", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    close(socket)
    expect(Io.receiveLater(socket, 1, () => expect.unreachable())).toEqual({ now: aborted })
    expect(manual.ops).toHaveLength(0)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("a driver that throws on an idle queue: Thrown, the queue released", () => {
    const { connected, manual } = manualPort({ throwOn: "receive" })
    const socket = connected()
    const started = Io.receiveLater(socket, 1, () => expect.unreachable())
    expect(isThrown(started) && started.thrown instanceof Defect).toBe(true)
    expect(socket.receiveQueue.idle).toBe(true)
    manual.throwOn = undefined
    pending(Io.receiveLater(socket, 1, () => {}))
  })

  it("a driver that throws once the queue was handed over: a defect completion (995), the queue handed on", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const second = recorder()
    const third = recorder()
    pending(Io.receiveLater(socket, 1, () => {}))
    pending(Io.receiveLater(socket, 2, second.done))
    pending(Io.receiveLater(socket, 3, third.done))
    manual.throwOn = "receive"
    manual.ops[0]!.complete(data("a"))
    expect(second.seen).toHaveLength(1)
    const defect = second.seen[0]!
    expect(Io.isDefect(defect)).toBe(true)
    expect(defect).toMatchObject({ status: wsa.WSA_OPERATION_ABORTED, bytes: 0 })
    expect((defect as Io.DefectCompletion).defect).toBeInstanceOf(Defect)
    expect(third.seen).toHaveLength(1)
    expect(Io.isDefect(third.seen[0]!)).toBe(true)
    expect(socket.receiveQueue.idle).toBe(true)
    expect(Io.isDefect({ status: 0, bytes: 0 })).toBe(false)
  })

  it("an operation handed the queue that completes at once hands it on and completes once", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.send(socket, bytes(1), () => {}))
    const shut = recorder()
    const waiting = pending(Io.shutdown(socket, shut.done))
    expect(manual.calls).not.toContain("shutdownSend")
    let woken = 0
    waiting.whenCompleted(() => woken++)
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    expect(shut.seen).toEqual([{ status: 0, bytes: 0 }])
    expect(woken).toBe(1)
    expect(socket.sendQueue.idle).toBe(true)
    expect(socket.sendShut).toBe(true)
  })
})

describe("connect", () => {
  it("checks the socket, then the address, then the data, then the state", () => {
    const { manual, port } = manualPort()
    expect(failureOf(Io.checkConnect({}, target, undefined))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "connect" })
    const socket = Calls.open(port, { family: "ipv4" }) as Socket
    expect(failureOf(Io.checkConnect(socket, { family: "ipv4", host: "nope", port: 1 }, undefined))).toMatchObject({
      code: wsa.WSAEINVAL,
      operation: "connect"
    })
    expect(failureOf(Io.checkConnect(socket, { family: "ipx", host: "x", port: 1 }, undefined))).toMatchObject({
      code: wsa.WSAEAFNOSUPPORT,
      detail: 'the address is invalid: unknown address family "ipx"'
    })
    expect(failureOf(Io.checkConnect(socket, target, { data: "hi" }))).toEqual({
      _tag: "Failure",
      code: wsa.WSAEFAULT,
      operation: "connect",
      address: target,
      detail: "data must be a Uint8Array",
      argument: true
    })
    expect(failureOf(Io.checkConnect(socket, target, undefined))).toMatchObject({
      code: wsa.WSAEINVAL,
      operation: "connect",
      address: target,
      detail: "the socket is not bound: call Socket.bind first"
    })
    expect(Calls.bind(socket, wildcard("ipv4"))).toBeUndefined()
    expect(Io.checkConnect(socket, target, {})).toEqual({ socket, target, data: undefined })
    const payload = bytes(1, 2)
    expect(Io.checkConnect(socket, target, { data: payload })).toEqual({ socket, target, data: payload })
    close(socket)
    expect(failureOf(Io.checkConnect(socket, target, undefined)).code).toBe(wsa.WSAENOTSOCK)
    expect(manual.ops).toHaveLength(0)
  })

  it("settles the socket in the completion: connected at the clock's time, observed, then done", () => {
    const { manual, port } = manualPort()
    const socket = Calls.open(port, { family: "ipv4" }) as Socket
    Calls.bind(socket, wildcard("ipv4"))
    const checked = Io.checkConnect(socket, target, { data: bytes(7) })
    if (Io.isFailure(checked)) throw new Error("checked")
    const order: Array<string> = []
    pending(Io.connect(checked, () => 1234, (c) => order.push(`done ${c.status} ${socket.state}`), (c) => order.push(`observe ${c.status} ${socket.state}`)))
    expect(socket.state).toBe("connecting")
    expect(manual.ops[0]).toMatchObject({ kind: "connect", arg: bytes(7) })
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    expect(order).toEqual(["observe 0 connected", "done 0 connected"])
    expect(socket.connectedAt).toBe(1234)
  })

  it("a refusal leaves it able to connect again; any other failure spends it, named", () => {
    const { manual, port } = manualPort()
    const open = () => {
      const socket = Calls.open(port, { family: "ipv4" }) as Socket
      Calls.bind(socket, wildcard("ipv4"))
      const checked = Io.checkConnect(socket, target, undefined)
      if (Io.isFailure(checked)) throw new Error("checked")
      return { socket, checked }
    }
    const a = open()
    pending(Io.connect(a.checked, () => 0, () => {}))
    manual.ops[0]!.complete({ status: wsa.WSAECONNREFUSED, bytes: 0 })
    expect(a.socket.state).toBe("open")
    const b = open()
    pending(Io.connect(b.checked, () => 0, () => {}))
    manual.ops[1]!.complete({ status: wsa.WSAEHOSTUNREACH, bytes: 0 })
    expect(b.socket).toMatchObject({ state: "spent", spentBy: "WSAEHOSTUNREACH" })
    const c = open()
    pending(Io.connect(c.checked, () => 0, () => {}))
    manual.ops[2]!.complete({ status: 12345, bytes: 0 })
    expect(c.socket).toMatchObject({ state: "spent", spentBy: "Unknown" })
  })

  it("a refusal whose reset fails spends the socket", () => {
    const manual = makeManual()
    const port = makePort({ ...manual.driver, resetConnect: () => wsa.WSAEINVAL })
    const socket = Calls.open(port, { family: "ipv4" }) as Socket
    Calls.bind(socket, wildcard("ipv4"))
    const checked = Io.checkConnect(socket, target, undefined)
    if (Io.isFailure(checked)) throw new Error("checked")
    pending(Io.connect(checked, () => 0, () => {}))
    manual.ops[0]!.complete({ status: wsa.WSAECONNREFUSED, bytes: 0 })
    expect(socket.state).toBe("spent")
  })
})

describe("send", () => {
  it("checks the socket, its state, then the bytes", () => {
    const { connected, port } = manualPort()
    expect(failureOf(Io.checkSend(1, bytes(1)))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "send" })
    // the socket is checked before the bytes
    expect(failureOf(Io.checkSend(1, "x"))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "send" })
    const fresh = Calls.open(port, { family: "ipv4" }) as Socket
    expect(failureOf(Io.checkSend(fresh, bytes(1)))).toMatchObject({ code: wsa.WSAENOTCONN, operation: "send" })
    const socket = connected()
    expect(failureOf(Io.checkSend(socket, "x"))).toEqual({
      _tag: "Failure",
      code: wsa.WSAEFAULT,
      operation: "send",
      address: undefined,
      detail: "bytes must be a Uint8Array",
      argument: true
    })
    expect(Io.checkSend(socket, bytes(1))).toBe(socket)
  })

  it("nothing to send completes at once without the driver", () => {
    const { connected, manual } = manualPort()
    expect(Io.send(connected(), bytes(), () => {})).toEqual({ now: { status: 0, bytes: 0 } })
    expect(manual.calls).toEqual([])
  })

  it("without trySend: the caller's bytes go to the driver through the queue", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const payload = bytes(1, 2, 3)
    const done = recorder()
    pending(Io.send(socket, payload, done.done))
    expect(manual.ops[0]).toMatchObject({ kind: "send", owned: false })
    expect(manual.ops[0]!.arg).toBe(payload)
    expect(socket.sendQueue.idle).toBe(false)
    manual.ops[0]!.complete({ status: 0, bytes: 3 })
    expect(done.seen).toEqual([{ status: 0, bytes: 3 }])
    expect(socket.sendQueue.idle).toBe(true)
  })

  it("behind a send in flight: a copy waits in line, in order, owned by its operation", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, { sent: 1, rest: bytes(2) })
    pending(Io.send(socket, bytes(1, 2), () => {}))
    const payload = bytes(9, 9)
    const second = recorder()
    pending(Io.send(socket, payload, second.done))
    payload[0] = 0
    expect(manual.ops).toHaveLength(1)
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    expect(manual.ops[1]).toMatchObject({ kind: "send", owned: true, arg: bytes(9, 9) })
    manual.ops[1]!.complete({ status: 0, bytes: 2 })
    expect(second.seen).toEqual([{ status: 0, bytes: 2 }])
  })

  it("trySend takes it all: done at once, the queue never held", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, { status: 0, bytes: 2 })
    expect(Io.send(socket, bytes(1, 2), () => expect.unreachable())).toEqual({ now: { status: 0, bytes: 2 } })
    expect(manual.ops).toHaveLength(0)
    expect(socket.sendQueue.idle).toBe(true)
    manual.ready(socket.native, { status: wsa.WSAECONNRESET, bytes: 0 })
    expect(Io.send(socket, bytes(1), () => {})).toEqual({ now: { status: wsa.WSAECONNRESET, bytes: 0 } })
  })

  it("trySend takes part: the rest through the port; the completion counts both parts; a failure stays as it is", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, { sent: 2, rest: bytes(3, 4, 5) })
    const done = recorder()
    pending(Io.send(socket, bytes(1, 2, 3, 4, 5), done.done))
    expect(manual.ops[0]).toMatchObject({ kind: "send", owned: true, arg: bytes(3, 4, 5) })
    manual.ops[0]!.complete({ status: 0, bytes: 3 })
    expect(done.seen).toEqual([{ status: 0, bytes: 5 }])
    manual.ready(socket.native, { sent: 1, rest: bytes(2) })
    const failed = recorder()
    pending(Io.send(socket, bytes(1, 2), failed.done))
    manual.ops[1]!.complete({ status: wsa.WSAECONNRESET, bytes: 0 })
    expect(failed.seen).toEqual([{ status: wsa.WSAECONNRESET, bytes: 0 }])
  })

  it("trySend takes part and the rest completes at once: one `now` with the total", () => {
    const manual = makeManual({ fast: true })
    const driver: Driver = { ...manual.driver, send: (_s, d, done) => (done({ status: 0, bytes: d.length }), finished) }
    const { connected } = portOver(driver)
    const socket = connected()
    manual.ready(socket.native, { sent: 2, rest: bytes(3) })
    expect(Io.send(socket, bytes(1, 2, 3), () => expect.unreachable())).toEqual({ now: { status: 0, bytes: 3 } })
    expect(socket.sendQueue.idle).toBe(true)
  })
})

/** A port over any driver, with connected sockets (the driver's own `open` is not used). */
const portOver = (driver: Driver) => {
  const port = makePort(driver)
  return {
    port,
    connected: (): Socket => {
      const socket = Calls.open(port, { family: "ipv4" }) as Socket
      socket.state = "connected"
      socket.bound = true
      return socket
    }
  }
}

describe("receive", () => {
  it("checks the socket, its state, then maxBytes (named as the caller says)", () => {
    const { connected, port } = manualPort()
    expect(failureOf(Io.checkReceive(undefined, 1))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "receive" })
    // the socket first: a bad socket with a bad size is the socket's error
    expect(failureOf(Io.checkReceive(undefined, 0)).code).toBe(wsa.WSAENOTSOCK)
    expect(failureOf(Io.checkReceive(Calls.open(port, { family: "ipv4" }), 1)).code).toBe(wsa.WSAENOTCONN)
    const socket = connected()
    expect(failureOf(Io.checkReceive(socket, 0))).toMatchObject({
      code: wsa.WSAEINVAL,
      operation: "receive",
      detail: "maxBytes must be an integer from 1 to 67108864, got 0"
    })
    expect(failureOf(Io.checkReceive(socket, 1.5, "chunkSize")).detail).toBe("chunkSize must be an integer from 1 to 67108864, got 1.5")
    expect(Io.checkReceive(socket, 1)).toBe(socket)
  })

  it("data already there completes at once without arming anything", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, data("hi"))
    expect(Io.tryReceive(socket, 5)).toEqual(data("hi"))
    manual.ready(socket.native, data("yo"))
    expect(Io.receive(socket, 5, () => expect.unreachable())).toEqual({ now: data("yo") })
    expect(manual.ops).toHaveLength(0)
  })

  it("nothing there: a receive through the port", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    const done = recorder()
    pending(Io.receive(socket, 5, done.done))
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([5])
    manual.ops[0]!.complete(data("late"))
    expect(done.seen).toEqual([data("late")])
  })

  it("behind a receive in flight, tryReceive is not asked: the bytes would overtake it", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    pending(Io.receive(socket, 5, () => {}))
    manual.ready(socket.native, data("x"))
    expect(Io.tryReceive(socket, 5)).toBeUndefined()
    pending(Io.receive(socket, 5, () => {}))
    expect(manual.ops).toHaveLength(1)
  })

  it("a driver without tryReceive: tryReceive gives nothing", () => {
    const { connected } = manualPort()
    expect(Io.tryReceive(connected(), 5)).toBeUndefined()
  })
})

describe("shutdown", () => {
  it("checks the socket, the direction, then the state; 'done' when already shut down", () => {
    const { connected, port } = manualPort()
    expect(failureOf(Io.checkShutdown({}, "send"))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "send" })
    const socket = connected()
    expect(failureOf(Io.checkShutdown(socket, "receive"))).toMatchObject({
      code: wsa.WSAEINVAL,
      operation: "send",
      detail: 'only the "send" direction can be shut down, got "receive"'
    })
    expect(failureOf(Io.checkShutdown(Calls.open(port, { family: "ipv4" }), "send"))).toMatchObject({ code: wsa.WSAENOTCONN, operation: "send" })
    expect(Io.checkShutdown(socket, "send")).toBe(socket)
    socket.sendShut = true
    expect(Io.checkShutdown(socket, "send")).toBe("done")
  })

  it("shuts the sending direction once; a second is done without the driver; a failure leaves it open", () => {
    const manual = makeManual()
    let status: number = wsa.WSAENOTCONN
    let calls = 0
    const { connected } = portOver({ ...manual.driver, shutdownSend: () => (calls++, status) })
    const socket = connected()
    expect(Io.shutdown(socket, () => {})).toEqual({ now: { status: wsa.WSAENOTCONN, bytes: 0 } })
    expect(socket.sendShut).toBe(false)
    status = 0
    expect(Io.shutdown(socket, () => {})).toEqual({ now: { status: 0, bytes: 0 } })
    expect(socket.sendShut).toBe(true)
    expect(Io.shutdown(socket, () => {})).toEqual({ now: { status: 0, bytes: 0 } })
    expect(calls).toBe(2)
    expect(socket.sendQueue.idle).toBe(true)
  })

  it("a shutdown queued twice behind a send shuts once", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.send(socket, bytes(1), () => {}))
    const a = recorder()
    const b = recorder()
    pending(Io.shutdown(socket, a.done))
    pending(Io.shutdown(socket, b.done))
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    expect([a.seen, b.seen]).toEqual([[{ status: 0, bytes: 0 }], [{ status: 0, bytes: 0 }]])
    expect(manual.calls.filter((c) => c === "shutdownSend")).toHaveLength(1)
  })
})

describe("disconnect", () => {
  it("checks a connected socket", () => {
    const { connected, port } = manualPort()
    expect(failureOf(Io.checkDisconnect(Calls.open(port, { family: "ipv4" })))).toMatchObject({ code: wsa.WSAENOTCONN, operation: "disconnect" })
    const socket = connected()
    expect(Io.checkDisconnect(socket)).toBe(socket)
  })

  it("settles the socket in the completion: with reuse it may connect again, without it drains", () => {
    const { connected, manual } = manualPort()
    const reusing = connected()
    const done = recorder()
    pending(Io.disconnect(reusing, true, done.done))
    expect(manual.ops[0]).toMatchObject({ kind: "disconnect", arg: true })
    expect(reusing.state).toBe("connected")
    manual.ops[0]!.complete({ status: 0, bytes: 0 })
    expect(reusing.state).toBe("open")
    expect(done.seen).toEqual([{ status: 0, bytes: 0 }])
    const draining = connected()
    pending(Io.disconnect(draining, false, () => {}))
    expect(manual.ops[1]).toMatchObject({ kind: "disconnect", arg: false })
    manual.ops[1]!.complete({ status: 0, bytes: 0 })
    expect(draining.state).toBe("disconnected")
  })

  it("behind the sends in progress; a second disconnect queued behind the first is refused at its turn", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.send(socket, bytes(1), () => {}))
    const first = recorder()
    const second = recorder()
    pending(Io.disconnect(socket, false, first.done))
    pending(Io.disconnect(socket, false, second.done))
    expect(manual.ops.map((op) => op.kind)).toEqual(["send"])
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    expect(manual.ops.map((op) => op.kind)).toEqual(["send", "disconnect"])
    manual.ops[1]!.complete({ status: 0, bytes: 0 })
    expect(first.seen).toEqual([{ status: 0, bytes: 0 }])
    expect(second.seen).toEqual([{ status: wsa.WSAENOTCONN, bytes: 0 }])
    expect(socket.sendQueue.idle).toBe(true)
  })
})

describe("validAddress", () => {
  it("gives the canonical record, or the failure of the operation", () => {
    expect(Io.validAddress({ family: "ipv6", host: "0:0::1", port: 1 }, "bind")).toEqual(makeIpv6("::1", 1, 0, 0))
    expect(failureOf(Io.validAddress(null, "bind"))).toEqual({
      _tag: "Failure",
      code: wsa.WSAEINVAL,
      operation: "bind",
      address: undefined,
      detail: "the address is invalid: the address is not a SocketAddress",
      argument: true
    })
  })
})

describe("address checks", () => {
  it("checkAddress: the canonical record of a valid value; WSAEAFNOSUPPORT for an unknown family, else WSAEINVAL", () => {
    const address = Io.checkAddress({ family: "ipv4", host: "127.0.0.1", port: 80 }, "bind")
    expect(Io.isRejected(address)).toBe(false)
    expect(address).toEqual(makeIpv4("127.0.0.1", 80))
    expect(Io.checkAddress({ family: "ipx", host: "127.0.0.1", port: 80 }, "bind")).toEqual({
      _tag: "Rejected",
      name: "WSAEAFNOSUPPORT",
      context: { operation: "bind", detail: "unknown address family \"ipx\"", argument: true }
    })
    const bad = Io.checkAddress({ family: "ipv4", host: "nope", port: 80 }, "connect")
    expect(Io.isRejected(bad) && [bad.name, bad.context.operation, bad.context.argument]).toEqual(["WSAEINVAL", "connect", true])
  })

  it("parseAddress: the record of the text, or WSAEINVAL of operation parse", () => {
    expect(Io.parseAddress("[::1]:443")).toEqual(makeIpv6("::1", 443, 0, 0))
    const bad = Io.parseAddress("nope")
    expect(Io.isRejected(bad) && [bad.name, bad.context.operation, bad.context.argument]).toEqual(["WSAEINVAL", "parse", true])
  })
})
