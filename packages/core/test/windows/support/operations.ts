/** Starting a driver operation from a test and waiting for its single completion. */
import type { Completion } from "../../../src/native/Driver.js"
import type { WindowsInFlight } from "../../../src/native/windows/driver.js"

export interface Started {
  readonly operation: WindowsInFlight
  readonly completion: Promise<Completion>
  /** whether `done` ran already (right after the start: synchronously) */
  readonly settled: () => boolean
}

/** Starts an operation; `done` running twice throws (the exactly-once contract). */
export const started = (start: (done: (completion: Completion) => void) => WindowsInFlight): Started => {
  let resolve: (completion: Completion) => void = () => {}
  let calls = 0
  const completion = new Promise<Completion>((r) => {
    resolve = r
  })
  const operation = start((c) => {
    if (++calls > 1) throw new Error("done called twice")
    resolve(c)
  })
  return { operation, completion, settled: () => calls > 0 }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resolves with "timeout" when the promise did not settle within `ms`. */
export const within = <A>(promise: Promise<A>, ms: number): Promise<A | "timeout"> =>
  Promise.race([promise, sleep(ms).then(() => "timeout" as const)])
