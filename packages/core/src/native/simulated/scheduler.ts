/**
 * How the simulated driver tells time, in plain milliseconds: the interface, and a scheduler moved by hand
 * for tests of the driver alone. The Effect front-end implements the interface on its Clock.
 */

/** `now` in milliseconds, and `sleep` that runs `callback` once `millis` have passed (returns a canceller). */
export interface Scheduler {
  /** the current time in milliseconds */
  readonly now: () => number
  /** runs `callback` once `millis` have passed; the returned function cancels it */
  readonly sleep: (millis: number, callback: () => void) => () => void
}

/** A scheduler moved by hand. */
export interface ManualScheduler {
  /** the scheduler to give `makeDriver` */
  readonly scheduler: Scheduler
  /** moves time forward, running every callback due by then in time order */
  readonly advance: (millis: number) => void
  /** callbacks not yet run */
  readonly pending: () => number
}

interface Timer {
  readonly at: number
  readonly callback: () => void
}

/** A scheduler at time 0 that only moves when `advance` is called; ties run in the order they were set. */
export const manualScheduler = (): ManualScheduler => {
  let now = 0
  let sequenceNumber = 0
  const timers = new Map<number, Timer>()
  const next = (until: number): [number, Timer] | undefined => {
    let best: [number, Timer] | undefined
    for (const entry of timers) {
      if (entry[1].at <= until && (best === undefined || entry[1].at < best[1].at)) best = entry
    }
    return best
  }
  return {
    scheduler: {
      now: () => now,
      sleep: (millis, callback) => {
        const id = sequenceNumber++
        timers.set(id, { at: now + Math.max(0, millis), callback })
        return () => {
          timers.delete(id)
        }
      }
    },
    advance: (millis) => {
      const until = now + millis
      for (let due = next(until); due !== undefined; due = next(until)) {
        timers.delete(due[0])
        now = due[1].at
        due[1].callback()
      }
      now = until
    },
    pending: () => timers.size
  }
}
