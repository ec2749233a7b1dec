// The completion port: start (now / later / thrown), the sockets it keeps, its counters, shutdown.
import { describe, expect, it } from "vitest"
import { finished } from "../src/completion.js"
import { wsa } from "../src/errors/codes.js"
import type { Completion, NativeSocket } from "../src/native/Driver.js"
import { cancelAndThen, completionOf, isNow, isThrown, makePort, type Pending, type Started } from "../src/port.js"
import { aborted, makeManual } from "./support/manual.js"

const pending = (started: Started): Pending => {
  if (isNow(started) || isThrown(started)) throw new Error("expected an operation in flight")
  return started
}

const socket = (): NativeSocket => ({ family: "ipv4" })

describe("makePort", () => {
  it("a completion inside start is returned as `now`; onLater is not called", () => {
    const port = makePort(makeManual().driver)
    const later: Array<Completion> = []
    const started = port.start((done) => (done({ status: 0, bytes: 7 }), finished), (c) => later.push(c))
    expect(started).toEqual({ now: { status: 0, bytes: 7 } })
    expect(isNow(started)).toBe(true)
    expect(later).toEqual([])
    expect(port.stats()).toMatchObject({ pending: 0, submitted: 1, completed: 1 })
  })

  it("a completion after start goes to onLater, once", () => {
    const manual = makeManual()
    const port = makePort(manual.driver)
    const later: Array<Completion> = []
    const s = socket()
    const started = port.start((done) => manual.driver.receive(s, 10, done), (c) => later.push(c))
    expect(isNow(started)).toBe(false)
    expect(isThrown(started)).toBe(false)
    expect(port.stats().pending).toBe(1)
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    manual.ops[0]!.complete({ status: 0, bytes: 2 })
    expect(later).toEqual([{ status: 0, bytes: 1 }])
    expect(port.stats()).toMatchObject({ pending: 0, submitted: 1, completed: 1, duplicates: 1 })
  })

  it("a start that throws is Thrown, complete and out of the table", () => {
    const port = makePort(makeManual().driver)
    const boom = new Error("boom")
    const started = port.start(() => {
      throw boom
    }, () => expect.unreachable())
    expect(isThrown(started)).toBe(true)
    expect(isNow(started)).toBe(false)
    expect(started).toEqual({ thrown: boom })
    expect(port.stats()).toMatchObject({ pending: 0, completed: 1 })
  })

  it("pending and socket hooks see every change; streaming reads count as pending", () => {
    const deltas: Array<string> = []
    const manual = makeManual()
    const port = makePort(manual.driver, {
      onPendingChange: (d) => deltas.push(`op${d}`),
      onSocketsChange: (d) => deltas.push(`socket${d}`)
    })
    const a = socket()
    port.track(a)
    port.start((done) => manual.driver.receive(a, 1, done), () => {})
    port.streaming(1)
    expect(port.stats()).toEqual({ pending: 2, submitted: 1, completed: 0, duplicates: 0, sockets: 1, liveAllocations: 1 })
    port.streaming(-1)
    expect(port.stats().pending).toBe(1)
    port.close(a)
    port.close(a)
    expect(deltas).toEqual(["socket1", "op1", "op1", "op-1", "socket-1", "op-1"])
    expect(port.stats()).toEqual({ pending: 0, submitted: 1, completed: 1, duplicates: 0, sockets: 0, liveAllocations: 0 })
  })

  it("close closes a tracked socket through the driver once; an untracked one is left alone", () => {
    const manual = makeManual()
    const port = makePort(manual.driver)
    const a = socket()
    const b = socket()
    port.track(a)
    port.close(b)
    expect(manual.closed.has(b)).toBe(false)
    port.close(a)
    port.close(a)
    expect(manual.closed.has(a)).toBe(true)
    expect(manual.calls.filter((c) => c === "close")).toEqual(["close"])
  })

  it("onClose: every watcher of a tracked socket runs once at its close; one taken back does not; untracked, none", () => {
    const manual = makeManual()
    const port = makePort(manual.driver)
    const a = socket()
    const untracked = socket()
    port.track(a)
    const seen: Array<string> = []
    port.onClose(a, () => seen.push("first"))
    const takeBack = port.onClose(a, () => seen.push("taken back"))
    port.onClose(a, () => seen.push("third"))
    port.onClose(untracked, () => seen.push("untracked"))()
    takeBack()
    port.close(untracked)
    port.close(a)
    port.close(a)
    expect(seen).toEqual(["first", "third"])
  })

  it("shutdown aborts what is pending, waits for it, then closes every socket, cleans up, and calls then", () => {
    const manual = makeManual({ cancel: "hold" })
    const port = makePort(manual.driver)
    const a = socket()
    const b = socket()
    port.track(a)
    port.track(b)
    const later: Array<Completion> = []
    port.start((done) => manual.driver.receive(a, 1, done), (c) => later.push(c))
    let then = 0
    port.shutdown(() => then++)
    expect(port.isOpen()).toBe(false)
    expect(manual.ops[0]!.cancels).toBe(1)
    // the cancel's completion has not come: nothing is closed yet
    expect(then).toBe(0)
    expect(manual.closed.size).toBe(0)
    expect(manual.cleanups()).toBe(0)
    manual.ops[0]!.complete(aborted)
    expect(later).toEqual([aborted])
    expect([manual.closed.has(a), manual.closed.has(b)]).toEqual([true, true])
    expect(manual.cleanups()).toBe(1)
    expect(then).toBe(1)
    expect(port.stats().sockets).toBe(0)
  })

  it("shutdown with nothing pending finishes at once; every later start is WSANOTINITIALISED", () => {
    const manual = makeManual()
    const port = makePort(manual.driver)
    expect(port.isOpen()).toBe(true)
    let then = 0
    port.shutdown(() => then++)
    expect(then).toBe(1)
    expect(manual.cleanups()).toBe(1)
    const started = port.start(() => expect.unreachable(), () => expect.unreachable())
    expect(started).toEqual({ now: { status: wsa.WSANOTINITIALISED, bytes: 0 } })
    expect(port.stats().submitted).toBe(0)
  })

  it("completionOf makes a completion with 0 bytes unless told", () => {
    expect(completionOf(995)).toEqual({ status: 995, bytes: 0 })
    expect(completionOf(0, 12)).toEqual({ status: 0, bytes: 12 })
  })
})

describe("cancelAndThen", () => {
  it("cancels, then runs `then` once the completion came", () => {
    const manual = makeManual({ cancel: "hold" })
    const port = makePort(manual.driver)
    const s = socket()
    const started = pending(port.start((done) => manual.driver.receive(s, 1, done), () => {}))
    let then = 0
    cancelAndThen(started, () => then++)
    expect(manual.ops[0]!.cancels).toBe(1)
    expect(then).toBe(0)
    manual.ops[0]!.complete(aborted)
    expect(then).toBe(1)
  })

  it("runs `then` at once when the operation has completed already", () => {
    const manual = makeManual()
    const port = makePort(manual.driver)
    const s = socket()
    const started = pending(port.start((done) => manual.driver.receive(s, 1, done), () => {}))
    manual.ops[0]!.complete({ status: 0, bytes: 1 })
    let then = 0
    cancelAndThen(started, () => then++)
    expect(then).toBe(1)
  })
})
