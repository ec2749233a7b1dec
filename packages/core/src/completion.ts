/**
 * Exactly-once completions, in one place: the `once` latch every driver completes its operations through,
 * and the completion table that starts, cancels and counts operations for a port.
 *
 * An operation is started with a `done` callback that must run exactly once. Cancelling asks the kernel to
 * stop; the operation still completes (with WSA_OPERATION_ABORTED unless it had already finished), and only
 * then may the memory it owns be released. The table keeps every started operation until that completion.
 */
import type { Completion, Done, InFlight } from "./native/Driver.js"

/**
 * A `done` that passes on its first call only; `completed` says whether it ran (it is true from the moment
 * the first call begins, so a cancel made while `done` runs already sees it).
 */
export interface Once<A = Completion> {
  readonly complete: (result: A) => void
  readonly completed: () => boolean
}

/**
 * Wraps `done` so that it runs once; later calls go to `duplicate` (a broken driver, counted). Drivers
 * that must turn a raw kernel result into a completion first (the Windows driver's dequeued entry) latch
 * on that result instead: `A` defaults to `Completion`.
 */
export const once = <A = Completion>(done: (result: A) => void, duplicate: () => void = () => {}): Once<A> => {
  let completed = false
  return {
    complete: (completion) => {
      if (completed) return duplicate()
      completed = true
      done(completion)
    },
    completed: () => completed
  }
}

/** An operation that finished before `start` returned: nothing to cancel. */
export const finished: InFlight = { cancel: () => {} }

/** The counters of a table. */
export interface Counts {
  /** operations waiting for their completion now */
  readonly pending: number
  readonly submitted: number
  readonly completed: number
  /** completions that arrived for an operation already completed: always 0 unless a driver is broken */
  readonly duplicates: number
  /** `start` calls that threw (a driver defect): each completed the operation at once */
  readonly thrown: number
}

/** A started entry of the table. */
export interface Submitted {
  /** Asks the kernel to stop; the completion still follows. Idempotent. */
  readonly cancel: () => void
  /** Runs `callback` once the operation completed (at once if it already has). */
  readonly whenCompleted: (callback: () => void) => void
}

/** What a submission gives back when `start` threw: the operation is complete and out of the table. */
export interface Thrown {
  readonly thrown: unknown
}

export interface CompletionTable {
  /**
   * Starts an operation: `onComplete` runs exactly once with its completion, possibly before `submit`
   * returns. When `start` throws, the entry is completed and removed at once and the exception is returned
   * (the front-end reports it as a defect): nothing waits for a completion that cannot come.
   */
  readonly submit: (start: (done: Done) => InFlight, onComplete: (completion: Completion) => void) => Submitted | Thrown
  /** Cancels everything pending; `then` runs once the last of them completed. */
  readonly abortAll: (then: () => void) => void
  readonly counts: () => Counts
}

export const isThrown = (u: object): u is Thrown => "thrown" in u

export const makeCompletionTable = (
  hooks: { readonly onPendingChange?: (delta: 1 | -1) => void } = {}
): CompletionTable => {
  interface Entry {
    operation: InFlight
    /** the entry's exactly-once latch: the driver's `done`, or `start` throwing, whichever comes first */
    readonly latch: Once<Completion | undefined>
    readonly waiters: Array<() => void>
  }
  const pending = new Set<Entry>()
  let submitted = 0
  let completed = 0
  let duplicates = 0
  let thrown = 0

  const submit = (start: (done: Done) => InFlight, onComplete: (completion: Completion) => void): Submitted | Thrown => {
    const entry: Entry = {
      operation: finished,
      // The one transition to "completed"; a later call is a duplicate (a broken driver), counted.
      latch: once<Completion | undefined>((completion) => {
        completed++
        pending.delete(entry)
        hooks.onPendingChange?.(-1)
        for (const wake of entry.waiters.splice(0)) wake()
        if (completion !== undefined) onComplete(completion)
      }, () => void duplicates++),
      waiters: []
    }
    pending.add(entry)
    submitted++
    hooks.onPendingChange?.(1)
    try {
      entry.operation = start(entry.latch.complete)
    } catch (error) {
      thrown++
      // Completed before it threw: the caller already has its completion; the exception is only counted.
      // Otherwise the entry completes now, without a completion: the caller reports the exception instead.
      if (!entry.latch.completed()) return entry.latch.complete(undefined), { thrown: error }
    }
    return {
      cancel: () => entry.operation.cancel(),
      whenCompleted: (callback) => (entry.latch.completed() ? callback() : void entry.waiters.push(callback))
    }
  }

  const abortAll = (then: () => void): void => {
    const aborted = [...pending]
    let left = aborted.length
    if (left === 0) return then()
    const one = () => {
      if (--left === 0) then()
    }
    for (const entry of aborted) {
      entry.waiters.push(one)
      entry.operation.cancel()
    }
  }

  return {
    submit,
    abortAll,
    counts: () => ({ pending: pending.size, submitted, completed, duplicates, thrown })
  }
}
