// The per-socket queue: one holder, the rest in arrival order; a caller who leaves is never handed the queue.
import { describe, expect, it } from "vitest"
import { Fifo } from "../src/fifo.js"

describe("Fifo", () => {
  it("is idle until taken; tryAcquire takes it once; release frees it", () => {
    const fifo = new Fifo()
    expect(fifo.idle).toBe(true)
    expect(fifo.tryAcquire()).toBe(true)
    expect(fifo.idle).toBe(false)
    expect(fifo.tryAcquire()).toBe(false)
    fifo.release()
    expect(fifo.idle).toBe(true)
    expect(fifo.tryAcquire()).toBe(true)
  })

  it("take on a free queue holds it at once (no turn, no wake)", () => {
    const fifo = new Fifo()
    let woken = 0
    expect(fifo.take(() => woken++)).toBeUndefined()
    expect(fifo.idle).toBe(false)
    expect(woken).toBe(0)
  })

  it("hands the queue to the waiters in arrival order, one per release", () => {
    const fifo = new Fifo()
    fifo.tryAcquire()
    const order: Array<string> = []
    const a = fifo.take(() => order.push("a"))
    const b = fifo.take(() => order.push("b"))
    expect(a).toMatchObject({ handed: false })
    expect(b).toMatchObject({ handed: false })
    fifo.release()
    expect(order).toEqual(["a"])
    expect(a?.handed).toBe(true)
    expect(b?.handed).toBe(false)
    expect(fifo.idle).toBe(false)
    fifo.release()
    expect(order).toEqual(["a", "b"])
    expect(fifo.idle).toBe(false)
    fifo.release()
    expect(fifo.idle).toBe(true)
  })

  it("a caller who leaves the line is never woken; the others keep their order", () => {
    const fifo = new Fifo()
    fifo.tryAcquire()
    const order: Array<string> = []
    const a = fifo.take(() => order.push("a"))!
    const b = fifo.take(() => order.push("b"))!
    const c = fifo.take(() => order.push("c"))!
    fifo.leave(a)
    fifo.leave(c)
    fifo.leave(c)
    expect(fifo.idle).toBe(false)
    fifo.release()
    expect(order).toEqual(["b"])
    expect(b.handed).toBe(true)
    fifo.release()
    expect(order).toEqual(["b"])
    expect(fifo.idle).toBe(true)
  })

  it("leaving after the queue was handed over passes it on, once", () => {
    const fifo = new Fifo()
    fifo.tryAcquire()
    const order: Array<string> = []
    const a = fifo.take(() => order.push("a"))!
    const b = fifo.take(() => order.push("b"))!
    fifo.release()
    expect(a.handed).toBe(true)
    fifo.leave(a)
    expect(a.handed).toBe(false)
    expect(order).toEqual(["a", "b"])
    // a second leave must not release the queue b holds now
    fifo.leave(a)
    expect(fifo.idle).toBe(false)
    expect(fifo.tryAcquire()).toBe(false)
    fifo.leave(b)
    expect(fifo.idle).toBe(true)
  })

  it("leaving a turn the queue never had is harmless; leaving with no line at all too", () => {
    const fifo = new Fifo()
    fifo.leave({ handed: false, wake: () => {} })
    expect(fifo.idle).toBe(true)
    fifo.tryAcquire()
    fifo.leave({ handed: false, wake: () => {} })
    expect(fifo.idle).toBe(false)
  })

  it("a release with nobody waiting, after the line emptied, frees the queue", () => {
    const fifo = new Fifo()
    fifo.tryAcquire()
    const a = fifo.take(() => {})!
    fifo.leave(a)
    fifo.release()
    expect(fifo.idle).toBe(true)
  })
})
