import { describe, expect, it } from "vitest"
import { finished, isThrown, makeCompletionTable, once, type Submitted, type Thrown } from "../src/completion.js"
import type { Completion, Done, InFlight } from "../src/native/Driver.js"

const ok: Completion = { status: 0, bytes: 3 }
const aborted: Completion = { status: 995, bytes: 0 }

/** A hand-driven operation: `complete` is the driver's `done`; `cancel` only records that it was asked. */
const manual = () => {
  let done: Done | undefined
  let cancels = 0
  const start = (d: Done): InFlight => {
    done = d
    return { cancel: () => void cancels++ }
  }
  return {
    start,
    complete: (c: Completion) => done?.(c),
    cancels: () => cancels
  }
}

const submitted = (u: Submitted | Thrown): Submitted => {
  if (isThrown(u)) throw new Error("expected a submitted entry")
  return u
}

describe("once", () => {
  it("passes the first completion only and counts the rest as duplicates", () => {
    const seen: Array<Completion> = []
    let duplicates = 0
    const latch = once((c) => seen.push(c), () => duplicates++)
    expect(latch.completed()).toBe(false)
    latch.complete(ok)
    expect(latch.completed()).toBe(true)
    latch.complete(aborted)
    latch.complete(aborted)
    expect(seen).toEqual([ok])
    expect(duplicates).toBe(2)
  })

  it("ignores duplicates without a counter", () => {
    const seen: Array<Completion> = []
    const latch = once((c) => seen.push(c))
    latch.complete(ok)
    latch.complete(aborted)
    expect(seen).toEqual([ok])
  })

  it("finished has a cancel that does nothing", () => {
    expect(finished.cancel()).toBeUndefined()
  })
})

describe("makeCompletionTable", () => {
  it("runs onComplete exactly once and counts duplicate completions", () => {
    const table = makeCompletionTable()
    const op = manual()
    const seen: Array<Completion> = []
    submitted(table.submit(op.start, (c) => seen.push(c)))
    expect(table.counts()).toEqual({ pending: 1, submitted: 1, completed: 0, duplicates: 0, thrown: 0 })
    op.complete(ok)
    op.complete(aborted)
    op.complete(ok)
    expect(seen).toEqual([ok])
    expect(table.counts()).toEqual({ pending: 0, submitted: 1, completed: 1, duplicates: 2, thrown: 0 })
  })

  it("cancel asks the driver and the entry stays pending until the completion arrives", () => {
    const table = makeCompletionTable()
    const op = manual()
    const seen: Array<Completion> = []
    const entry = submitted(table.submit(op.start, (c) => seen.push(c)))
    let woken = 0
    entry.whenCompleted(() => woken++)
    entry.cancel()
    expect(op.cancels()).toBe(1)
    expect(woken).toBe(0)
    expect(table.counts().pending).toBe(1)
    op.complete(aborted)
    expect(woken).toBe(1)
    expect(seen).toEqual([aborted])
    expect(table.counts().pending).toBe(0)
    // after completion, whenCompleted runs at once
    let late = 0
    entry.whenCompleted(() => late++)
    expect(late).toBe(1)
  })

  it("an operation that completes inside start is complete before submit returns", () => {
    const table = makeCompletionTable()
    const seen: Array<Completion> = []
    const entry = submitted(table.submit((done) => (done(ok), finished), (c) => seen.push(c)))
    expect(seen).toEqual([ok])
    expect(table.counts()).toEqual({ pending: 0, submitted: 1, completed: 1, duplicates: 0, thrown: 0 })
    let woken = 0
    entry.whenCompleted(() => woken++)
    expect(woken).toBe(1)
    entry.cancel()
  })

  it("a start that throws: Thrown, the entry removed, onComplete never called, counts consistent", () => {
    const deltas: Array<number> = []
    const table = makeCompletionTable({ onPendingChange: (d) => deltas.push(d) })
    const boom = new Error("driver bug")
    let called = 0
    const result = table.submit(() => {
      throw boom
    }, () => called++)
    expect(isThrown(result)).toBe(true)
    expect((result as Thrown).thrown).toBe(boom)
    expect(called).toBe(0)
    expect(table.counts()).toEqual({ pending: 0, submitted: 1, completed: 1, duplicates: 0, thrown: 1 })
    expect(deltas).toEqual([1, -1])
    let then = 0
    table.abortAll(() => then++)
    expect(then).toBe(1)
  })

  it("a start that completes synchronously and then throws: the completion stands, the throw is counted", () => {
    const table = makeCompletionTable()
    const seen: Array<Completion> = []
    const result = table.submit((done) => {
      done(ok)
      throw new Error("after done")
    }, (c) => seen.push(c))
    expect(isThrown(result)).toBe(false)
    expect(seen).toEqual([ok])
    expect(table.counts()).toEqual({ pending: 0, submitted: 1, completed: 1, duplicates: 0, thrown: 1 })
  })

  it("abortAll cancels every pending operation and calls then once, after the last completion", () => {
    const table = makeCompletionTable()
    const ops = [manual(), manual(), manual()]
    for (const op of ops) submitted(table.submit(op.start, () => {}))
    let then = 0
    table.abortAll(() => then++)
    expect(ops.map((op) => op.cancels())).toEqual([1, 1, 1])
    ops[0]?.complete(aborted)
    ops[1]?.complete(aborted)
    expect(then).toBe(0)
    expect(table.counts().pending).toBe(1)
    ops[2]?.complete(aborted)
    expect(then).toBe(1)
    expect(table.counts().pending).toBe(0)
  })

  it("abortAll with nothing pending calls then at once and leaves completed entries alone", () => {
    const table = makeCompletionTable()
    const op = manual()
    submitted(table.submit(op.start, () => {}))
    op.complete(ok)
    let then = 0
    table.abortAll(() => then++)
    expect(then).toBe(1)
    expect(op.cancels()).toBe(0)
  })

  it("onPendingChange sees +1 per submission and -1 per completion, never for duplicates", () => {
    const deltas: Array<number> = []
    const table = makeCompletionTable({ onPendingChange: (d) => deltas.push(d) })
    const a = manual()
    const b = manual()
    submitted(table.submit(a.start, () => {}))
    submitted(table.submit(b.start, () => {}))
    expect(deltas).toEqual([1, 1])
    b.complete(ok)
    b.complete(ok)
    a.complete(aborted)
    expect(deltas).toEqual([1, 1, -1, -1])
    expect(table.counts()).toEqual({ pending: 0, submitted: 2, completed: 2, duplicates: 1, thrown: 0 })
  })
})
