import * as Effect from "effect/Effect"
import { interruptUnsafe, type RunFork } from "./effectVersion.js"

/**
 * The core's `sleep(ms, then)` hook on Effect's Clock (so that a TestClock moves the core's delays): a fiber
 * forked with `runFork` sleeps, then calls `then`; the cancel it gives interrupts that fiber.
 */
export const sleepOn = <R>(runFork: RunFork<R>) => (ms: number, then: () => void): () => void => {
  const fiber = runFork(Effect.andThen(Effect.sleep(ms), Effect.sync(then)))
  return () => interruptUnsafe(fiber)
}
