/**
 * The accepting side as machines: listen's steps, one accept (tryAccept first), and serve's accept loop:
 * slots, posted accepts, draining after a wake-up, first bytes per connection, transient pauses, failure,
 * and a stop that ends with nothing in flight whatever state the connections are in.
 */
import { describe, expect, it } from "vitest"
import { makeIpv4, wildcard } from "../src/address.js"
import { wsa } from "../src/errors/codes.js"
import { finished } from "../src/completion.js"
import * as Calls from "../src/calls.js"
import * as Listening from "../src/listener.js"
import { type Completion, defaultCapabilities, type Driver, type NativeSocket, ok } from "../src/native/Driver.js"
import { isNow, isThrown, makePort, type Pending, type Started } from "../src/port.js"
import { close, Socket } from "../src/sockets.js"
import type { Failure } from "../src/failure.js"
import { aborted, data, Defect, ended, makeManual, type ManualOptions, manualPort, peer, reset } from "./support/manual.js"

const local = makeIpv4("127.0.0.1", 8080)

const failureOf = (u: unknown): Failure => {
  if (typeof u !== "object" || u === null || (u as { _tag?: unknown })._tag !== "Failure") throw new Error(`expected a failure, got ${String(u)}`)
  return u as Failure
}

const pending = (started: Started): Pending => {
  if (isNow(started) || isThrown(started)) throw new Error(`expected an operation in flight, got ${JSON.stringify(started)}`)
  return started
}

const acceptedCompletion = (socket: NativeSocket = { family: "ipv4" }, extra: Partial<Completion> = {}): Completion => ({
  status: 0,
  bytes: 0,
  accepted: { socket, peer },
  ...extra
})

/** A listening socket on a manual port (the driver's listen is not involved). */
const listeningOn = (options: ManualOptions = { fast: true }) => {
  const { manual, port } = manualPort(options)
  const socket = new Socket("ipv4", { family: "ipv4" }, port)
  port.track(socket.native)
  socket.bound = true
  socket.state = "listening"
  return { manual, port, socket, listener: new Listening.Listener(socket) }
}

describe("listen", () => {
  it("checkListen: a valid address and a backlog from 0 (511 by default)", () => {
    expect(Listening.checkListen(local, undefined)).toEqual({ local, backlog: 511 })
    expect(Listening.checkListen(local, { backlog: 0 })).toEqual({ local, backlog: 0 })
    expect(Listening.checkListen(local, { backlog: 0x7fffffff })).toEqual({ local, backlog: 0x7fffffff })
    expect(failureOf(Listening.checkListen({ family: "ipv4", host: "x", port: 1 }, undefined))).toMatchObject({ code: wsa.WSAEINVAL, operation: "listen" })
    for (const backlog of [-1, 1.5, 0x80000000, "5"]) {
      expect(failureOf(Listening.checkListen(local, { backlog: backlog as number }))).toEqual({
        _tag: "Failure",
        code: wsa.WSAEINVAL,
        operation: "listen",
        address: local,
        detail: `backlog must be an integer from 0, got ${typeof backlog === "string" ? `"${backlog}"` : backlog}`
      })
    }
  })

  it("listenOn: SO_REUSEADDR by default, bind (port chosen now), listen; the socket is listening", () => {
    const manual = makeManual()
    const calls: Array<string> = []
    const driver: Driver = {
      ...manual.driver,
      setOption: (_s, option, value) => (calls.push(`${option}=${String(value)}`), 0),
      bind: (_s, address, deferPort) => (calls.push(`bind ${address.port} ${deferPort}`), 0),
      listen: (_s, backlog) => (calls.push(`listen ${backlog}`), 0)
    }
    const port = makePort(driver)
    const socket = Calls.open(port, { family: "ipv4" }) as Socket
    const listener = Listening.listenOn(socket, local, 7, undefined) as Listening.Listener
    expect(Listening.isListener(listener)).toBe(true)
    expect(Listening.isListener(socket)).toBe(false)
    expect(listener.socket).toBe(socket)
    expect(listener.family).toBe("ipv4")
    expect(calls).toEqual(["SO_REUSEADDR=true", "bind 8080 false", "listen 7"])
    expect(socket).toMatchObject({ state: "listening", bound: true })
    // reuseAddress: false, or a driver that does not reuse by default: no SO_REUSEADDR
    calls.length = 0
    Listening.listenOn(Calls.open(port, { family: "ipv4" }) as Socket, local, 1, { reuseAddress: false })
    expect(calls).toEqual(["bind 8080 false", "listen 1"])
    calls.length = 0
    const plain = makePort({ ...driver, capabilities: { postedAccepts: 1, reuseAddressByDefault: false } })
    Listening.listenOn(Calls.open(plain, { family: "ipv4" }) as Socket, local, 1, undefined)
    expect(calls).toEqual(["bind 8080 false", "listen 1"])
  })

  it("listenOn: each step's failure, with its operation and the address", () => {
    const manual = makeManual()
    const failing = (part: Partial<Driver>) => {
      const port = makePort({ ...manual.driver, ...part })
      return Listening.listenOn(Calls.open(port, { family: "ipv4" }) as Socket, local, 1, undefined)
    }
    expect(failing({ setOption: () => wsa.WSAEACCES })).toEqual({ _tag: "Failure", code: wsa.WSAEACCES, operation: "listen", address: local, detail: undefined })
    expect(failing({ bind: () => wsa.WSAEADDRINUSE })).toMatchObject({ code: wsa.WSAEADDRINUSE, operation: "bind", address: local })
    expect(failing({ listen: () => wsa.WSAENOBUFS })).toMatchObject({ code: wsa.WSAENOBUFS, operation: "listen", address: local })
    const port = makePort(manual.driver)
    const bound = Calls.open(port, { family: "ipv4" }) as Socket
    Calls.bind(bound, wildcard("ipv4"))
    expect(failureOf(Listening.listenOn(bound, local, 1, undefined))).toMatchObject({ code: wsa.WSAEINVAL, operation: "bind", address: local })
    expect(bound.state).toBe("open")
  })

  it("capabilitiesOf: the driver's, else the defaults", () => {
    const manual = makeManual()
    expect(Listening.capabilitiesOf(manual.driver)).toBe(defaultCapabilities)
    const own = { postedAccepts: 4, reuseAddressByDefault: false }
    expect(Listening.capabilitiesOf({ ...manual.driver, capabilities: own })).toBe(own)
  })

  it("listeningSocket and address: a listener of ours; accept only on a listening one", () => {
    const { listener, socket, port } = listeningOn()
    expect(Listening.listeningSocket(listener, "accept")).toBe(socket)
    expect(Listening.listeningSocket(socket, "accept")).toBe(socket)
    expect(Listening.listeningSocket({}, "accept")).toEqual({
      _tag: "Failure",
      code: wsa.WSAEINVAL,
      operation: "accept",
      address: undefined,
      detail: "the value is not a listener made by Listener.listen"
    })
    const plain = Calls.open(port, { family: "ipv4" }) as Socket
    expect(failureOf(Listening.listeningSocket(plain, "accept"))).toMatchObject({ code: wsa.WSAEINVAL, operation: "accept" })
    expect(Listening.listeningSocket(plain, "localAddress")).toBe(plain)
    expect(Listening.address(listener)).toEqual(makeIpv4("10.0.0.1", 5000))
    close(socket)
    expect(failureOf(Listening.listeningSocket(listener, "accept"))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "accept" })
    expect(failureOf(Listening.address(listener))).toMatchObject({ code: wsa.WSAENOTSOCK, operation: "localAddress" })
    const broken = makePort({ ...makeManual().driver, localAddress: () => ({ ok: false, code: wsa.WSAEINVAL }) })
    const other = new Socket("ipv4", { family: "ipv4" }, broken)
    other.state = "listening"
    expect(failureOf(Listening.address(other))).toMatchObject({ code: wsa.WSAEINVAL, operation: "localAddress" })
  })
})

describe("accept", () => {
  it("checkReceive: 0 to 64 MiB", () => {
    expect(Listening.checkReceive(0)).toBeUndefined()
    expect(Listening.checkReceive(64 * 1024 * 1024)).toBeUndefined()
    expect(Listening.checkReceive(-1)).toMatchObject({ code: wsa.WSAEINVAL, operation: "accept", detail: "receive must be an integer from 0 to 67108864, got -1" })
  })

  it("adopt: the connection tracked and connected since `now`, with its first bytes; a failure as a failure", () => {
    const { socket: listening, port } = listeningOn()
    const native: NativeSocket = { family: "ipv4" }
    const adopted = Listening.adopt(listening, acceptedCompletion(native, { data: data("hi").data! }), 77) as Listening.Accepted
    expect(adopted.socket.native).toBe(native)
    expect(adopted.socket).toMatchObject({ state: "connected", bound: true, connectedAt: 77, family: "ipv4" })
    expect(adopted.peer).toBe(peer)
    expect(new TextDecoder().decode(adopted.data)).toBe("hi")
    expect(port.stats().sockets).toBe(2)
    const plain = Listening.adopt(listening, acceptedCompletion(), 0) as Listening.Accepted
    expect(plain.data).toEqual(new Uint8Array(0))
    expect(Listening.adopt(listening, { status: wsa.WSAECONNRESET, bytes: 0 }, 0)).toMatchObject({ code: wsa.WSAECONNRESET, operation: "accept" })
    expect(Listening.adopt(listening, { status: 0, bytes: 0 }, 0)).toMatchObject({ code: wsa.WSAEINVAL, operation: "accept" })
    expect(Listening.adopt(listening, { ...acceptedCompletion(), status: wsa.WSAENOBUFS }, 0)).toMatchObject({ code: wsa.WSAENOBUFS })
    expect(port.stats().sockets).toBe(3)
  })

  it("tryAccept first; nothing queued, or first bytes wanted: an accept through the port", () => {
    const { socket, manual } = listeningOn()
    const queued = acceptedCompletion()
    manual.ready(socket.native, queued)
    expect(Listening.accept(socket, 0, () => expect.unreachable())).toEqual({ now: queued })
    const later: Array<Completion> = []
    pending(Listening.accept(socket, 0, (c) => later.push(c)))
    expect(manual.calls).toEqual(["tryAccept", "tryAccept", "accept"])
    pending(Listening.accept(socket, 5, () => {}))
    expect(manual.calls).toEqual(["tryAccept", "tryAccept", "accept", "accept"])
    expect(manual.pending("accept").map((op) => op.arg)).toEqual([0, 5])
    manual.ops[0]!.complete(queued)
    expect(later).toEqual([queued])
    const noTry = listeningOn({})
    pending(Listening.accept(noTry.socket, 0, () => {}))
    expect(noTry.manual.calls).toEqual(["accept"])
  })

  it("closeUnadopted closes what an accept made, and nothing else", () => {
    const manual = makeManual()
    const native: NativeSocket = { family: "ipv4" }
    Listening.closeUnadopted(manual.driver, undefined)
    Listening.closeUnadopted(manual.driver, { status: 0, bytes: 0 })
    expect(manual.closed.size).toBe(0)
    Listening.closeUnadopted(manual.driver, acceptedCompletion(native))
    expect([...manual.closed]).toEqual([native])
  })
})

describe("checkServe", () => {
  it("receive, the listener, slots and posted accepts, with their defaults", () => {
    const { listener, socket, port } = listeningOn()
    expect(Listening.checkServe(listener, undefined)).toEqual({ socket, receive: 0, slots: Infinity, accepts: 1 })
    expect(Listening.checkServe(listener, { concurrency: 2.7, accepts: 3.9, receive: 16 })).toEqual({ socket, receive: 16, slots: 2, accepts: 3 })
    expect(Listening.checkServe(listener, { concurrency: 0, accepts: 0 })).toMatchObject({ slots: 1, accepts: 1 })
    expect(Listening.checkServe(listener, { concurrency: "unbounded" })).toMatchObject({ slots: Infinity })
    expect(Listening.checkServe(listener, { concurrency: Infinity })).toMatchObject({ slots: Infinity })
    expect(Listening.checkServe(listener, { receive: -1 })).toMatchObject({ _tag: "Failure", code: wsa.WSAEINVAL, operation: "accept" })
    expect(Listening.checkServe({}, undefined)).toMatchObject({ _tag: "Failure", code: wsa.WSAEINVAL, operation: "accept" })
    const posted = makePort({ ...makeManual().driver, capabilities: { postedAccepts: 4, reuseAddressByDefault: false } })
    const other = new Socket("ipv4", { family: "ipv4" }, posted)
    other.state = "listening"
    expect(Listening.checkServe(other, undefined)).toMatchObject({ accepts: 4 })
    expect(port).toBeDefined()
  })
})

interface Served {
  readonly accepted: Listening.Accepted
  readonly done: () => void
}

/** serve on a manual listening socket, with hooks that record. */
const serving = (options: Listening.ServeOptions = {}, manualOptions: ManualOptions = { fast: true }) => {
  const l = listeningOn(manualOptions)
  const connections: Array<Served> = []
  const failed: Array<unknown> = []
  const sleeps: Array<{ readonly ms: number; readonly then: () => void; cancelled: boolean }> = []
  const hooks: Listening.ServeHooks = {
    now: () => 42,
    sleep: (ms, then) => {
      const sleep = { ms, then, cancelled: false }
      sleeps.push(sleep)
      return () => void (sleep.cancelled = true)
    },
    connection: (accepted, done) => void connections.push({ accepted, done }),
    failed: (outcome) => void failed.push(outcome)
  }
  const checked = Listening.checkServe(l.listener, options)
  if ("_tag" in checked) throw new Error("checkServe")
  const start = () => Listening.serve(checked, hooks)
  return { ...l, connections, failed, sleeps, start }
}

const accepts = (manual: ReturnType<typeof makeManual>) => manual.pending("accept")

describe("serve", () => {
  it("keeps one accept posted; each connection goes to its handler connected since `now`; again", () => {
    const s = serving()
    s.start()
    expect(accepts(s.manual)).toHaveLength(1)
    const native: NativeSocket = { family: "ipv4" }
    accepts(s.manual)[0]!.complete(acceptedCompletion(native))
    expect(s.connections).toHaveLength(1)
    expect(s.connections[0]!.accepted.socket).toMatchObject({ native, state: "connected", connectedAt: 42 })
    // after the wake-up: the queue drained (empty), then the next accept posted
    expect(s.manual.calls).toEqual(["tryAccept", "accept", "tryAccept", "tryAccept", "accept"])
    expect(accepts(s.manual)).toHaveLength(1)
    // the handler is over: its socket closed through the port
    s.connections[0]!.done()
    s.connections[0]!.done()
    expect([...s.manual.closed]).toEqual([native])
  })

  it("posts `accepts` accepts at once", () => {
    const s = serving({ accepts: 3 }, {})
    s.start()
    expect(accepts(s.manual)).toHaveLength(3)
  })

  it("drains the kernel's queue after a wake-up: every queued connection, no accept per connection", () => {
    const s = serving()
    s.start()
    for (let i = 0; i < 3; i++) s.manual.ready(s.socket.native, acceptedCompletion())
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    expect(s.connections).toHaveLength(4)
    expect(s.manual.ops.filter((op) => op.kind === "accept")).toHaveLength(2)
  })

  it("connections already queued at the start: 64 per drain, 64 drains per turn, then the loop yields", async () => {
    const s = serving()
    for (let i = 0; i < 4100; i++) s.manual.ready(s.socket.native, acceptedCompletion())
    s.start()
    expect(s.connections).toHaveLength(64 * 64)
    expect(accepts(s.manual)).toHaveLength(0)
    await new Promise((resolve) => setImmediate(resolve))
    expect(s.connections).toHaveLength(4100)
    expect(accepts(s.manual)).toHaveLength(1)
  })

  it("with a bound: no accept without a free slot; a finished handler frees one and the accept goes on", () => {
    const s = serving({ concurrency: 2 })
    s.start()
    s.manual.ready(s.socket.native, acceptedCompletion())
    s.manual.ready(s.socket.native, acceptedCompletion())
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    // two slots: two connections, the third stays in the kernel's queue, no accept posted
    expect(s.connections).toHaveLength(2)
    expect(accepts(s.manual)).toHaveLength(0)
    s.connections[0]!.done()
    expect(s.connections).toHaveLength(3)
    expect(accepts(s.manual)).toHaveLength(0)
    s.connections[1]!.done()
    s.connections[1]!.done()
    expect(accepts(s.manual)).toHaveLength(1)
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    expect(s.connections).toHaveLength(4)
    expect(accepts(s.manual)).toHaveLength(0)
  })

  it("with a bound and no tryAccept: one accept per slot", () => {
    const s = serving({ concurrency: 1 }, {})
    s.start()
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    expect(accepts(s.manual)).toHaveLength(0)
    s.connections[0]!.done()
    expect(accepts(s.manual)).toHaveLength(1)
  })

  it("stop: the accept cancelled, `then` once nothing is in flight; a handler finishing later frees no lane", () => {
    const s = serving({ concurrency: 1 }, { fast: true, cancel: "hold" })
    const serve = s.start()
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    s.connections[0]!.done()
    const thens: Array<string> = []
    serve.stop(() => thens.push("a"))
    serve.stop(() => thens.push("b"))
    expect(s.manual.ops[1]!.cancels).toBe(1)
    expect(thens).toEqual([])
    s.manual.ops[1]!.complete(aborted)
    expect(thens).toEqual(["a", "b"])
    expect(s.failed).toEqual([])
    serve.stop(() => thens.push("c"))
    expect(thens).toEqual(["a", "b", "c"])
  })

  it("stop while lanes wait for a slot (one over the limit): returns at once; freed slots start nothing", () => {
    const s = serving({ concurrency: 2, accepts: 3 })
    const serve = s.start()
    // two slots: two accepts posted, the third lane waits for a slot
    expect(accepts(s.manual)).toHaveLength(2)
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    expect(s.connections).toHaveLength(2)
    expect(accepts(s.manual)).toHaveLength(0)
    let then = 0
    serve.stop(() => then++)
    expect(then).toBe(1)
    s.connections[0]!.done()
    s.connections[1]!.done()
    expect(accepts(s.manual)).toHaveLength(0)
    expect(s.manual.calls.filter((c) => c === "accept")).toHaveLength(2)
  })

  it("a connection that arrives after stop (the accept won the race): closed, never handed over", () => {
    const s = serving({}, { fast: true, cancel: "hold" })
    const serve = s.start()
    let then = 0
    serve.stop(() => then++)
    const native: NativeSocket = { family: "ipv4" }
    accepts(s.manual)[0]!.complete(acceptedCompletion(native))
    expect(s.connections).toHaveLength(0)
    expect([...s.manual.closed]).toEqual([native])
    expect(then).toBe(1)
  })

  it("a transient failure (out of descriptors) pauses the loop 50 ms, then it accepts again", () => {
    const s = serving({ concurrency: 1 })
    s.start()
    accepts(s.manual)[0]!.complete({ status: wsa.WSAEMFILE, bytes: 0 })
    expect(s.failed).toEqual([])
    expect(s.sleeps.map((p) => p.ms)).toEqual([50])
    expect(accepts(s.manual)).toHaveLength(0)
    s.sleeps[0]!.then()
    // the slot the failed accept took is free again: the loop accepts
    expect(accepts(s.manual)).toHaveLength(1)
    accepts(s.manual)[0]!.complete({ status: wsa.WSAENOBUFS, bytes: 0 })
    expect(s.sleeps).toHaveLength(2)
  })

  it("stop cancels a pause", () => {
    const s = serving()
    const serve = s.start()
    accepts(s.manual)[0]!.complete({ status: wsa.WSAENOBUFS, bytes: 0 })
    let then = 0
    serve.stop(() => then++)
    expect(s.sleeps[0]!.cancelled).toBe(true)
    expect(then).toBe(1)
    // a pause that fires anyway (its cancel lost the race) starts nothing
    s.sleeps[0]!.then()
    expect(accepts(s.manual)).toHaveLength(0)
  })

  it("any other failure ends the serve, once; a stop after it runs `then` at once", () => {
    const s = serving({ accepts: 2 }, {})
    const serve = s.start()
    accepts(s.manual)[0]!.complete({ status: wsa.WSAEINVAL, bytes: 0 })
    expect(s.failed).toEqual([expect.objectContaining({ _tag: "Failure", code: wsa.WSAEINVAL, operation: "accept" })])
    expect(accepts(s.manual)).toHaveLength(1)
    accepts(s.manual)[0]!.complete({ status: wsa.WSAECONNRESET, bytes: 0 })
    expect(s.failed).toHaveLength(1)
    expect(accepts(s.manual)).toHaveLength(0)
    let then = 0
    serve.stop(() => then++)
    expect(then).toBe(1)
  })

  it("a closed listener: the loop fails with WSAENOTSOCK and posts nothing", () => {
    const s = serving({ concurrency: 1 })
    s.start()
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    close(s.socket)
    s.connections[0]!.done()
    expect(s.failed).toEqual([expect.objectContaining({ code: wsa.WSAENOTSOCK, operation: "accept" })])
    expect(accepts(s.manual)).toHaveLength(0)
  })

  it("a driver whose accept throws: the serve fails with the defect", () => {
    const s = serving({}, { throwOn: "accept" })
    s.start()
    expect(s.failed).toHaveLength(1)
    expect((s.failed[0] as { defect: unknown }).defect).toBeInstanceOf(Defect)
  })

  it("a failure inside the drain ends the serve", () => {
    const s = serving()
    s.start()
    s.manual.ready(s.socket.native, { status: wsa.WSAENOTSOCK, bytes: 0 })
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    expect(s.connections).toHaveLength(1)
    expect(s.failed).toEqual([expect.objectContaining({ code: wsa.WSAENOTSOCK })])
    expect(accepts(s.manual)).toHaveLength(0)
  })

  it("stopped from inside a handler while draining: the rest of the queue is closed, not handed over", () => {
    const l = listeningOn()
    let serve: Listening.Serving | undefined
    const handed: Array<Listening.Accepted> = []
    const checked = Listening.checkServe(l.listener, {}) as Exclude<ReturnType<typeof Listening.checkServe>, Failure>
    const queued: NativeSocket = { family: "ipv4" }
    serve = Listening.serve(checked, {
      now: () => 0,
      sleep: () => () => {},
      connection: (accepted) => {
        handed.push(accepted)
        serve?.stop(() => {})
      },
      failed: () => expect.unreachable()
    })
    expect(handed).toHaveLength(0)
    l.manual.ready(l.socket.native, acceptedCompletion(queued))
    l.manual.ready(l.socket.native, acceptedCompletion())
    l.manual.pending("accept")[0]!.complete(acceptedCompletion())
    expect(handed).toHaveLength(1)
    expect([...l.manual.closed]).toEqual([queued])
    expect(l.manual.pending("accept")).toHaveLength(0)
  })
})

describe("serve with first bytes", () => {
  it("each connection's first bytes are waited for on its own; the handler gets them", () => {
    const s = serving({ receive: 8 })
    s.start()
    const a: NativeSocket = { family: "ipv4" }
    const b: NativeSocket = { family: "ipv4" }
    accepts(s.manual)[0]!.complete(acceptedCompletion(a))
    accepts(s.manual)[0]!.complete(acceptedCompletion(b))
    const receives = s.manual.pending("receive")
    expect(receives.map((op) => [op.socket, op.arg])).toEqual([[a, 8], [b, 8]])
    receives[1]!.complete(data("bee"))
    expect(s.connections.map((c) => new TextDecoder().decode(c.accepted.data))).toEqual(["bee"])
    receives[0]!.complete(ended)
    expect(s.connections[1]!.accepted.data).toEqual(new Uint8Array(0))
    expect(s.connections[1]!.accepted.socket.native).toBe(a)
  })

  it("a client that resets before its first bytes: closed, its slot freed, no handler", () => {
    const s = serving({ receive: 8, concurrency: 1 })
    s.start()
    const a: NativeSocket = { family: "ipv4" }
    accepts(s.manual)[0]!.complete(acceptedCompletion(a))
    expect(accepts(s.manual)).toHaveLength(0)
    s.manual.pending("receive")[0]!.complete(reset)
    expect(s.connections).toHaveLength(0)
    expect(s.manual.closed.has(a)).toBe(true)
    expect(accepts(s.manual)).toHaveLength(1)
  })

  it("a completion without data hands over empty bytes", () => {
    const s = serving({ receive: 8 })
    s.start()
    accepts(s.manual)[0]!.complete(acceptedCompletion())
    s.manual.pending("receive")[0]!.complete({ status: 0, bytes: 0 })
    expect(s.connections[0]!.accepted.data).toEqual(new Uint8Array(0))
  })

  it("stop cancels the first-bytes waits and closes their sockets; `then` once they completed", () => {
    const s = serving({ receive: 8 }, { fast: true, cancel: "hold" })
    const serve = s.start()
    const a: NativeSocket = { family: "ipv4" }
    accepts(s.manual)[0]!.complete(acceptedCompletion(a))
    let then = 0
    serve.stop(() => then++)
    const receive = s.manual.ops.find((op) => op.kind === "receive")!
    expect(receive.cancels).toBe(1)
    expect(then).toBe(0)
    s.manual.pending("accept")[0]!.complete(aborted)
    expect(then).toBe(0)
    // the bytes won the race with the cancel: the connection is still not handed over
    receive.complete(data("late"))
    expect(s.connections).toHaveLength(0)
    expect(s.manual.closed.has(a)).toBe(true)
    expect(then).toBe(1)
  })

  it("first bytes that are there at once, and a receive that throws", () => {
    const manual = makeManual({ fast: true })
    let throws = false
    const driver: Driver = {
      ...manual.driver,
      receive: (socket, n, done) => {
        if (throws) throw new Defect("receive")
        return socket === first ? (done(data("now")), finished) : manual.driver.receive(socket, n, done)
      }
    }
    const first: NativeSocket = { family: "ipv4" }
    const second: NativeSocket = { family: "ipv4" }
    const port = makePort(driver)
    const socket = new Socket("ipv4", { family: "ipv4" }, port)
    socket.state = "listening"
    const connections: Array<Listening.Accepted> = []
    const checked = Listening.checkServe(socket, { receive: 4, concurrency: 1 }) as Exclude<ReturnType<typeof Listening.checkServe>, Failure>
    Listening.serve(checked, { now: () => 0, sleep: () => () => {}, connection: (a) => void connections.push(a), failed: () => expect.unreachable() })
    manual.pending("accept")[0]!.complete(acceptedCompletion(first))
    expect(connections.map((c) => new TextDecoder().decode(c.data))).toEqual(["now"])
    expect(port.stats().sockets).toBe(1)
    throws = true
    // a fresh serve with a free slot: its connection's receive throws: closed, the slot freed, the next accept posted
    const other = Listening.serve({ ...checked }, { now: () => 0, sleep: () => () => {}, connection: () => expect.unreachable(), failed: () => expect.unreachable() })
    manual.pending("accept").at(-1)!.complete(acceptedCompletion(second))
    expect(manual.closed.has(second)).toBe(true)
    expect(manual.pending("accept")).toHaveLength(1)
    other.stop(() => {})
    expect(ok(1)).toEqual({ ok: true, value: 1 })
  })
})
