/**
 * The two streaming reads as machines. The pull read: batches of what is there, the end, failures owed after
 * their chunks, a wait only when the socket is empty. The push read: chunks from the driver's callbacks,
 * pause and resume, one end, a stop that ends with nothing in flight and the queue given back, and the
 * driver's streaming read (readStart) with its end, close and stop.
 */
import { describe, expect, it } from "vitest"
import { wsa } from "../src/errors/codes.js"
import { finished } from "../src/completion.js"
import * as Io from "../src/io.js"
import type { Completion, Driver } from "../src/native/Driver.js"
import { isNow, isThrown, makePort, type Pending, type Started } from "../src/port.js"
import * as Reader from "../src/reader.js"
import { close, Socket } from "../src/sockets.js"
import * as SocketState from "../src/socket.js"
import { aborted, data, Defect, ended, makeManual, manualPort, type Manual, reset } from "./support/manual.js"

const pending = (started: Started): Pending => {
  if (isNow(started) || isThrown(started)) throw new Error(`expected an operation in flight, got ${JSON.stringify(started)}`)
  return started
}

const text = (chunks: ReadonlyArray<Uint8Array>): Array<string> => chunks.map((c) => new TextDecoder().decode(c))
const full = (n: number, size: number): Completion => {
  const bytes = new Uint8Array(size).fill(n)
  return { status: 0, bytes: size, data: bytes }
}
const tries = (manual: Manual) => manual.calls.filter((c) => c === "tryReceive").length

/** A driver without one of its optional parts. */
const without = (driver: Driver, ...names: Array<"tryReceive" | "readStart">): Driver => {
  const copy: Record<string, unknown> = { ...driver }
  for (const name of names) delete copy[name]
  return copy as unknown as Driver
}

const connectedOn = (driver: Driver) => {
  const port = makePort(driver)
  const socket = new Socket("ipv4", { family: "ipv4" }, port)
  port.track(socket.native)
  SocketState.acceptedInto(socket, 0)
  return { port, socket }
}

describe("pull read (makeReader)", () => {
  it("takes every chunk already there in one step, at most 16, then waits", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    for (let i = 0; i < 18; i++) manual.ready(socket.native, full(i, 4))
    const reader = Reader.makeReader(socket, 4)
    const first = reader.tryPull() as ReadonlyArray<Uint8Array>
    expect(first).toHaveLength(16)
    expect(first[15]).toEqual(new Uint8Array(4).fill(15))
    expect(tries(manual)).toBe(16)
    expect((reader.tryPull() as ReadonlyArray<Uint8Array>).map((c) => c[0])).toEqual([16, 17])
    expect(reader.tryPull()).toBe(Reader.WAIT)
  })

  it("after a short read the next pull goes straight to the wait, and the one after tries again", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, data("ab"))
    manual.ready(socket.native, data("cd"))
    const reader = Reader.makeReader(socket, 4)
    expect(text(reader.tryPull() as ReadonlyArray<Uint8Array>)).toEqual(["ab"])
    expect(tries(manual)).toBe(1)
    expect(reader.tryPull()).toBe(Reader.WAIT)
    expect(tries(manual)).toBe(1)
    expect(text(reader.tryPull() as ReadonlyArray<Uint8Array>)).toEqual(["cd"])
  })

  it("the end after chunks: the chunks, then undefined for good", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, full(1, 2))
    manual.ready(socket.native, ended)
    const reader = Reader.makeReader(socket, 2)
    expect((reader.tryPull() as ReadonlyArray<Uint8Array>)).toHaveLength(1)
    expect(reader.tryPull()).toBeUndefined()
    expect(reader.tryPull()).toBeUndefined()
    expect(tries(manual)).toBe(2)
  })

  it("the end at once: undefined; a chunk without data is an end too", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, { status: 0, bytes: 0 })
    expect(Reader.makeReader(socket, 2).tryPull()).toBeUndefined()
  })

  it("a failure after chunks is owed to the next pull; a failure at once is the pull's", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, full(1, 2))
    manual.ready(socket.native, reset)
    manual.ready(socket.native, full(2, 2))
    const reader = Reader.makeReader(socket, 2)
    expect((reader.tryPull() as ReadonlyArray<Uint8Array>)).toHaveLength(1)
    expect(reader.tryPull()).toMatchObject({ _tag: "Failure", code: wsa.WSAECONNRESET, operation: "receive" })
    expect(tries(manual)).toBe(2)
    expect((reader.tryPull() as ReadonlyArray<Uint8Array>)).toHaveLength(1)
    manual.ready(socket.native, reset)
    expect(reader.tryPull()).toMatchObject({ _tag: "Failure", code: wsa.WSAECONNRESET })
  })

  it("a closed socket, or a value that is no socket, fails the pull", () => {
    const { connected } = manualPort({ fast: true })
    const socket = connected()
    close(socket)
    expect(Reader.makeReader(socket, 2).tryPull()).toMatchObject({ _tag: "Failure", code: wsa.WSAENOTSOCK, operation: "receive" })
    expect(Reader.makeReader("nope", 2).tryPull()).toMatchObject({ _tag: "Failure", code: wsa.WSAENOTSOCK })
  })

  it("waits without trying when another receive holds the queue, or the driver cannot try", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    pending(Io.receiveLater(socket, 1, () => {}))
    manual.ready(socket.native, data("x"))
    expect(Reader.makeReader(socket, 2).tryPull()).toBe(Reader.WAIT)
    expect(tries(manual)).toBe(0)
    const other = connectedOn(without(makeManual().driver, "tryReceive"))
    expect(Reader.makeReader(other.socket, 2).tryPull()).toBe(Reader.WAIT)
  })

  it("wait after WAIT: one receive in line, settled into chunks, the end, a failure or a defect", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    const reader = Reader.makeReader(socket, 8)
    expect(reader.tryPull()).toBe(Reader.WAIT)
    const seen: Array<Completion> = []
    pending(reader.wait((c) => seen.push(c)))
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([8])
    // the wait's receive tried the socket once more first
    expect(tries(manual)).toBe(2)
    manual.ops[0]!.complete(data("hey"))
    expect(text(reader.settle(seen[0]!) as ReadonlyArray<Uint8Array>)).toEqual(["hey"])
    expect(reader.settle(reset)).toMatchObject({ _tag: "Failure", code: wsa.WSAECONNRESET, operation: "receive" })
    const defect: Io.DefectCompletion = { ...aborted, defect: "boom" }
    expect(reader.settle(defect)).toEqual({ _tag: "Defect", defect: "boom" })
    expect(Reader.isDefectOf(reader.settle(defect))).toBe(true)
    expect(Reader.isDefectOf(null)).toBe(false)
    expect(Reader.isDefectOf(undefined)).toBe(false)
    expect(Reader.isDefectOf({ _tag: "Failure" })).toBe(false)
    expect(reader.settle({ status: 0, bytes: 0 })).toBeUndefined()
    // the end is remembered: the next pull says so without the driver
    expect(reader.tryPull()).toBeUndefined()
    expect(tries(manual)).toBe(2)
  })

  it("wait with the data there already (its receive tries first): at once", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    const reader = Reader.makeReader(socket, 8)
    expect(reader.tryPull()).toBe(Reader.WAIT)
    manual.ready(socket.native, data("now"))
    const started = reader.wait(() => expect.unreachable())
    expect(isNow(started) && text(reader.settle(started.now) as ReadonlyArray<Uint8Array>)).toEqual(["now"])
  })

  it("wait without WAIT first: what tryPull says, carried through a completion", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    manual.ready(socket.native, data("ab"))
    const reader = Reader.makeReader(socket, 8)
    const started = reader.wait(() => expect.unreachable())
    if (!isNow(started)) throw new Error("expected now")
    expect(started.now).toMatchObject({ status: 0, bytes: 0 })
    expect(text(reader.settle(started.now) as ReadonlyArray<Uint8Array>)).toEqual(["ab"])
    // drained: the next wait without WAIT goes to a receive
    const seen: Array<Completion> = []
    pending(reader.wait((c) => seen.push(c)))
    expect(manual.pending("receive")).toHaveLength(1)
    manual.ops[0]!.complete(ended)
    expect(reader.settle(seen[0]!)).toBeUndefined()
    const after = reader.wait(() => expect.unreachable())
    expect(isNow(after) && reader.settle(after.now)).toBeUndefined()
  })

  it("wait without WAIT on a closed socket carries the failure", () => {
    const { connected } = manualPort({ fast: true })
    const socket = connected()
    close(socket)
    const reader = Reader.makeReader(socket, 8)
    const started = reader.wait(() => expect.unreachable())
    expect(isNow(started) && reader.settle(started.now)).toMatchObject({ _tag: "Failure", code: wsa.WSAENOTSOCK })
  })
})

/** A sink that records everything; `answer` decides what chunk() returns. */
const sink = (answer: (bytes: Uint8Array, resume: () => void) => boolean = () => true) => {
  const chunks: Array<string> = []
  const ends: Array<unknown> = []
  let resume: (() => void) | undefined
  return {
    chunks,
    ends,
    resume: () => resume?.(),
    sink: {
      chunk: (bytes: Uint8Array, r: () => void) => {
        resume = r
        chunks.push(new TextDecoder().decode(bytes))
        return answer(bytes, r)
      },
      end: (outcome: unknown) => void ends.push(outcome)
    } as Reader.PushSink
  }
}

describe("push read over receives (no streaming read)", () => {
  it("keeps one receive in flight, hands each chunk on, and ends once at the peer's end", () => {
    const { connected, manual, port } = manualPort()
    const socket = connected()
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    expect(socket.receiveQueue.idle).toBe(false)
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([4])
    manual.pending()[0]!.complete(data("ab"))
    manual.pending()[0]!.complete(data("cdef"))
    expect(s.chunks).toEqual(["ab", "cdef"])
    expect(manual.pending("receive")).toHaveLength(1)
    manual.pending()[0]!.complete(ended)
    expect(s.ends).toEqual([undefined])
    expect(manual.pending()).toHaveLength(0)
    expect(socket.receiveQueue.idle).toBe(true)
    expect(port.stats().pending).toBe(0)
  })

  it("a failed receive ends it with the failure; the queue is given back", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    manual.pending()[0]!.complete(reset)
    expect(s.ends).toEqual([expect.objectContaining({ _tag: "Failure", code: wsa.WSAECONNRESET, operation: "receive" })])
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("pauses when the sink answers false, and resumes with one receive", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    let accept = false
    const s = sink(() => accept)
    Reader.pushRead(socket, 4, s.sink)
    manual.pending()[0]!.complete(data("a"))
    expect(manual.pending()).toHaveLength(0)
    accept = true
    s.resume()
    s.resume()
    expect(manual.pending("receive")).toHaveLength(1)
    manual.pending()[0]!.complete(data("b"))
    expect(s.chunks).toEqual(["a", "b"])
    expect(manual.pending("receive")).toHaveLength(1)
    // a resume while not paused starts nothing more
    s.resume()
    expect(manual.pending("receive")).toHaveLength(1)
  })

  it("a resume from inside chunk() (the consumer done at once) cancels the pause", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const s = sink((_bytes, resume) => (resume(), false))
    Reader.pushRead(socket, 4, s.sink)
    manual.pending()[0]!.complete(data("a"))
    expect(manual.pending("receive")).toHaveLength(1)
  })

  it("stop with a receive in flight: cancels it; `then` once its completion came and the queue is back", () => {
    const { connected, manual } = manualPort({ cancel: "hold" })
    const socket = connected()
    const s = sink()
    const read = Reader.pushRead(socket, 4, s.sink)
    const thens: Array<string> = []
    read.stop(() => thens.push(`first idle=${socket.receiveQueue.idle}`))
    read.stop(() => thens.push("second"))
    expect(manual.ops[0]!.cancels).toBe(1)
    expect(thens).toEqual([])
    expect(socket.receiveQueue.idle).toBe(false)
    // the data won the race with the cancel: not delivered, the read is over
    manual.ops[0]!.complete(data("late"))
    expect(thens).toEqual(["first idle=true", "second"])
    expect(s.chunks).toEqual([])
    expect(s.ends).toEqual([])
    expect(manual.ops).toHaveLength(1)
    read.stop(() => thens.push("after"))
    expect(thens).toEqual(["first idle=true", "second", "after"])
  })

  it("stop without `then`, and stop when paused (nothing in flight): the queue at once", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const read = Reader.pushRead(socket, 4, sink(() => false).sink)
    manual.pending()[0]!.complete(data("a"))
    read.stop()
    expect(socket.receiveQueue.idle).toBe(true)
    const other = connected()
    const r2 = Reader.pushRead(other, 4, sink().sink)
    r2.stop()
    expect(manual.ops[1]!.cancels).toBe(1)
    expect(other.receiveQueue.idle).toBe(true)
  })

  it("a resume after stop or after the end starts nothing", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const s = sink(() => false)
    const read = Reader.pushRead(socket, 4, s.sink)
    manual.pending()[0]!.complete(data("a"))
    read.stop()
    s.resume()
    expect(manual.pending()).toHaveLength(0)
    const other = connected()
    const s2 = sink(() => false)
    Reader.pushRead(other, 4, s2.sink)
    manual.pending()[0]!.complete(data("a"))
    close(other)
    s2.resume()
    expect(s2.ends).toEqual([expect.objectContaining({ code: wsa.WSAENOTSOCK })])
    s2.resume()
    expect(manual.pending()).toHaveLength(0)
    expect(s2.ends).toHaveLength(1)
  })

  it("waits in line behind a receive; stopped there, it never starts and `then` runs at once", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.receiveLater(socket, 1, () => {}))
    const s = sink()
    const read = Reader.pushRead(socket, 4, s.sink)
    expect(manual.ops).toHaveLength(1)
    let then = 0
    read.stop(() => then++)
    expect(then).toBe(1)
    // the receive in front still holds the queue: a stopped read in line gives away nothing
    expect(socket.receiveQueue.idle).toBe(false)
    const third: Array<Completion> = []
    pending(Io.receiveLater(socket, 3, (c) => third.push(c)))
    expect(manual.ops).toHaveLength(1)
    manual.ops[0]!.complete(data("a"))
    expect(manual.ops.map((op) => op.arg)).toEqual([1, 3])
    manual.ops[1]!.complete(data("c"))
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("stop after the end gives nothing back twice: the queue another receive holds now stays held", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const s = sink()
    const read = Reader.pushRead(socket, 4, s.sink)
    manual.pending()[0]!.complete(ended)
    expect(socket.receiveQueue.idle).toBe(true)
    pending(Io.receiveLater(socket, 9, () => {}))
    read.stop()
    expect(socket.receiveQueue.idle).toBe(false)
    pending(Io.receiveLater(socket, 10, () => {}))
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([9])
  })

  it("waits in line behind a receive, then reads once handed the queue", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.receiveLater(socket, 1, () => {}))
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    manual.ops[0]!.complete(data("a"))
    expect(manual.pending("receive").map((op) => op.arg)).toEqual([4])
    manual.pending()[0]!.complete(data("b"))
    expect(s.chunks).toEqual(["b"])
  })

  it("a socket closed while it waited in line: never reaches the driver, ends with WSAENOTSOCK", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    pending(Io.receiveLater(socket, 1, () => {}))
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    close(socket)
    expect(manual.ops).toHaveLength(1)
    expect(s.ends).toEqual([expect.objectContaining({ _tag: "Failure", code: wsa.WSAENOTSOCK, operation: "receive" })])
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("a socket closed between chunks (from inside chunk()): ends with WSAENOTSOCK, nothing more started", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const s = sink(() => (close(socket), true))
    Reader.pushRead(socket, 4, s.sink)
    manual.pending()[0]!.complete(data("a"))
    expect(s.ends).toEqual([expect.objectContaining({ code: wsa.WSAENOTSOCK })])
    expect(manual.ops).toHaveLength(1)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("closing the socket aborts the receive in flight: the read ends once, with 995", () => {
    const { connected, manual } = manualPort()
    const socket = connected()
    const s = sink()
    const read = Reader.pushRead(socket, 4, s.sink)
    close(socket)
    expect(s.ends).toEqual([expect.objectContaining({ code: wsa.WSA_OPERATION_ABORTED })])
    let then = 0
    read.stop(() => then++)
    expect(then).toBe(1)
    expect(manual.ops).toHaveLength(1)
  })

  it("a driver that throws ends it with a defect", () => {
    const { connected } = manualPort({ throwOn: "receive" })
    const socket = connected()
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    expect(s.ends).toHaveLength(1)
    expect(Reader.isDefectOf(s.ends[0])).toBe(true)
    expect((s.ends[0] as Reader.Defect).defect).toBeInstanceOf(Defect)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("a port shut down: ends with WSANOTINITIALISED without the driver", () => {
    const { connected, manual, port } = manualPort({ fast: true })
    const socket = connected()
    port.shutdown(() => {})
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    expect(s.ends).toEqual([expect.objectContaining({ code: wsa.WSANOTINITIALISED })])
    expect(manual.calls.filter((c) => c !== "close")).toEqual([])
  })
})

describe("push read with tryReceive", () => {
  it("takes what is there without an operation; after a short read it waits through a receive", () => {
    const manual = makeManual({ fast: true })
    const { socket } = connectedOn(without(manual.driver, "readStart"))
    manual.ready(socket.native, full(1, 4))
    manual.ready(socket.native, data("ab"))
    manual.ready(socket.native, data("cd"))
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    expect(s.chunks).toHaveLength(2)
    expect(tries(manual)).toBe(2)
    // drained: straight to a receive, without trying
    expect(manual.pending("receive")).toHaveLength(1)
    manual.pending()[0]!.complete(full(2, 4))
    // a full chunk: try again (there is "cd")
    expect(tries(manual)).toBe(3)
    expect(s.chunks.slice(2)).toEqual(["\u0002\u0002\u0002\u0002", "cd"])
  })

  it("nothing there: a receive; the end through tryReceive ends it", () => {
    const manual = makeManual({ fast: true })
    const { socket } = connectedOn(without(manual.driver, "readStart"))
    const s = sink()
    Reader.pushRead(socket, 4, s.sink)
    expect(tries(manual)).toBe(1)
    manual.ready(socket.native, ended)
    manual.pending()[0]!.complete(full(1, 4))
    expect(tries(manual)).toBe(2)
    expect(s.ends).toEqual([undefined])
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("a busy socket yields after 16 chunks and goes on at the next turn of the loop", async () => {
    const manual = makeManual({ fast: true })
    const { socket } = connectedOn(without(manual.driver, "readStart"))
    for (let i = 0; i < 20; i++) manual.ready(socket.native, full(i, 2))
    manual.ready(socket.native, ended)
    const s = sink()
    Reader.pushRead(socket, 2, s.sink)
    expect(s.chunks).toHaveLength(16)
    expect(s.ends).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(s.chunks).toHaveLength(20)
    expect(s.ends).toEqual([undefined])
  })

  it("stopped while it yields between batches: nothing more is delivered", async () => {
    const manual = makeManual({ fast: true })
    const { socket } = connectedOn(without(manual.driver, "readStart"))
    for (let i = 0; i < 20; i++) manual.ready(socket.native, full(i, 2))
    const s = sink()
    const read = Reader.pushRead(socket, 2, s.sink)
    expect(s.chunks).toHaveLength(16)
    let then = 0
    read.stop(() => then++)
    expect(then).toBe(1)
    await new Promise((resolve) => setImmediate(resolve))
    expect(s.chunks).toHaveLength(16)
    expect(tries(manual)).toBe(16)
    expect(socket.receiveQueue.idle).toBe(true)
  })

  it("a receive that completes at once is delivered in the same step", () => {
    const manual = makeManual({ fast: true })
    const driver: Driver = { ...without(manual.driver, "readStart"), receive: (_s, _n, done) => (done(data("x")), finished) }
    const { socket } = connectedOn(driver)
    let n = 0
    const s = sink(() => ++n < 3)
    Reader.pushRead(socket, 4, s.sink)
    expect(s.chunks).toEqual(["x", "x", "x"])
  })
})

describe("push read over the driver's streaming read", () => {
  it("starts one streaming read, counted as pending; chunks go to the sink; pause and resume go to the driver", () => {
    const { connected, manual, port } = manualPort({ fast: true })
    const socket = connected()
    let accept = true
    const s = sink(() => accept)
    Reader.pushRead(socket, 8, s.sink)
    expect(manual.streams).toHaveLength(1)
    const stream = manual.streams[0]!
    expect(stream.chunkSize).toBe(8)
    expect(port.stats().pending).toBe(1)
    expect(manual.ops).toHaveLength(0)
    expect(stream.push(data("a"))).toBe(true)
    accept = false
    expect(stream.push(data("b"))).toBe(false)
    s.resume()
    expect(stream.resumes).toBe(1)
    s.resume()
    expect(stream.resumes).toBe(1)
    expect(s.chunks).toEqual(["a", "b"])
  })

  it("the end: the sink's end once, the stream stopped, no longer pending, the queue back", () => {
    const { connected, manual, port } = manualPort({ fast: true })
    const socket = connected()
    const s = sink()
    const read = Reader.pushRead(socket, 8, s.sink)
    const stream = manual.streams[0]!
    expect(stream.push(ended)).toBe(false)
    expect(s.ends).toEqual([undefined])
    expect(stream.stopped).toBe(true)
    expect(port.stats().pending).toBe(0)
    expect(socket.receiveQueue.idle).toBe(true)
    expect(stream.push(data("x"))).toBe(false)
    expect(s.chunks).toEqual([])
    let then = 0
    read.stop(() => then++)
    expect(then).toBe(1)
    expect(port.stats().pending).toBe(0)
  })

  it("closed (the driver's 995): ends with the failure", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    const s = sink()
    Reader.pushRead(socket, 8, s.sink)
    manual.streams[0]!.push(aborted)
    expect(s.ends).toEqual([expect.objectContaining({ code: wsa.WSA_OPERATION_ABORTED })])
  })

  it("stop: the stream stopped at once, nothing delivered after, `then` runs", () => {
    const { connected, manual, port } = manualPort({ fast: true })
    const socket = connected()
    const s = sink()
    const read = Reader.pushRead(socket, 8, s.sink)
    let then = 0
    read.stop(() => then++)
    expect(then).toBe(1)
    expect(manual.streams[0]!.stopped).toBe(true)
    expect(port.stats().pending).toBe(0)
    expect(socket.receiveQueue.idle).toBe(true)
    expect(manual.streams[0]!.push(data("late"))).toBe(false)
    expect(s.chunks).toEqual([])
    expect(s.ends).toEqual([])
  })

  it("a resume after stop does not resume the driver", () => {
    const { connected, manual } = manualPort({ fast: true })
    const socket = connected()
    const s = sink(() => false)
    const read = Reader.pushRead(socket, 8, s.sink)
    manual.streams[0]!.push(data("a"))
    read.stop()
    s.resume()
    expect(manual.streams[0]!.resumes).toBe(0)
  })

  it("checkPush: a connected or draining socket", () => {
    const { connected, port } = manualPort()
    const socket = connected()
    expect(Reader.checkPush(socket)).toBe(socket)
    socket.state = "disconnected"
    expect(Reader.checkPush(socket)).toBe(socket)
    const fresh = new Socket("ipv4", { family: "ipv4" }, port)
    expect(Reader.checkPush(fresh)).toMatchObject({ _tag: "Failure", code: wsa.WSAENOTCONN, operation: "receive" })
  })
})
