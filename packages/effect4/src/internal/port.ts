/**
 * The core's machines as Effects: the one place where this front-end waits for an operation. Interruption
 * cancels it and waits for its completion before the fiber stops, so no memory the kernel may still write is
 * released early; the core's `cancel` always ends in exactly one completion and gives the socket's queue on.
 *
 * One wait is enough here, unlike in the Effect 3 front-end: Effect 4 pushes an `Effect.callback`'s canceller
 * onto the fiber's stack as soon as the callback suspends, and an interruption (landing while the fiber
 * waits or while it is still running the registration) unwinds that stack, so the canceller runs in every
 * case. packages/effect-connectex/test/guarantees.test.ts interrupts receives at every step to hold this to account.
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"

/** Cancels an operation and waits for its completion (at once if it already completed). */
export const cancelAndWait = (pending: Core.Pending): Effect.Effect<void> =>
  Effect.callback<void>((resume) => Core.cancelAndThen(pending, () => resume(Effect.void)))

const outcome = (completion: Core.Completion): Effect.Effect<Core.Completion> =>
  Core.Io.isDefect(completion) ? Effect.die(completion.defect) : Effect.succeed(completion)

/**
 * Starts an operation inside the wait (so that an interruption can never land between the start and the
 * wait) and waits for its completion; interrupted, it cancels the operation and waits for the completion.
 * A driver whose start throws is a defect.
 */
export const operation = (start: (onLater: Core.Done) => Core.Started): Effect.Effect<Core.Completion> =>
  Effect.callback<Core.Completion>((resume) => {
    const started = start((completion) => resume(outcome(completion)))
    if (Core.isNow(started)) return resume(outcome(started.now))
    if (Core.isThrown(started)) return resume(Effect.die(started.thrown))
    return cancelAndWait(started)
  })

/**
 * Starts an operation now (call it inside `Effect.suspend`) and gives its completion: at once, with no
 * callback, when the core finished it synchronously (a send the kernel took whole). For operations that
 * finish by themselves and give their queue on from their own completion (a send): should the fiber be
 * interrupted before it reaches the wait, the operation still completes and nothing is stranded.
 * Interrupting the wait cancels it and waits for the completion.
 */
export const begun = (start: (onLater: Core.Done) => Core.Started): Effect.Effect<Core.Completion> => {
  let arrived: Core.Completion | undefined
  let waiter: ((completion: Core.Completion) => void) | undefined
  const started = start((completion) => {
    arrived = completion
    waiter?.(completion)
  })
  if (Core.isNow(started)) return outcome(started.now)
  if (Core.isThrown(started)) return Effect.die(started.thrown)
  return Effect.callback<Core.Completion>((resume) => {
    if (arrived !== undefined) return resume(outcome(arrived))
    waiter = (completion) => resume(outcome(completion))
    return cancelAndWait(started)
  })
}
