/**
 * The core's machines as Effects: the one place where this front-end waits for an operation. Interruption
 * cancels it and waits for its completion before the fiber stops, so no memory the kernel may still write is
 * released early; the core's `cancel` always ends in exactly one completion and gives the socket's queue on.
 */
import * as Core from "@effect-connectex/core"
import { Effect } from "effect"

/** Cancels an operation and waits for its completion (at once if it already completed). */
export const cancelAndWait = (pending: Core.Pending): Effect.Effect<void> =>
  Effect.async<void>((resume) => Core.cancelAndThen(pending, () => resume(Effect.void)))

const outcome = (completion: Core.Completion): Effect.Effect<Core.Completion> =>
  Core.Io.isDefect(completion) ? Effect.die(completion.defect) : Effect.succeed(completion)

/**
 * Starts an operation inside the wait (so that an interruption can never land between the start and the
 * wait) and waits for its completion. Cancelled and waited for from the wait's canceller and, while still in
 * flight, from its exit: Effect 3 does not run an interrupted async's canceller in every case (measured: a
 * fiber yielding every 12-40 operations, interrupted after 0-10 steps, left its receive pending in the
 * kernel, to swallow the next bytes that arrived). A driver whose start throws is a defect.
 */
export const operation = (start: (onLater: Core.Done) => Core.Started): Effect.Effect<Core.Completion> =>
  Effect.suspend(() => {
    let pending: Core.Pending | undefined
    return Effect.onExit(
      Effect.async<Core.Completion>((resume) => {
        const started = start((completion) => {
          pending = undefined
          resume(outcome(completion))
        })
        if (Core.isNow(started)) return resume(outcome(started.now))
        if (Core.isThrown(started)) return resume(Effect.die(started.thrown))
        pending = started
        return cancelAndWait(started)
      }),
      (exit) => (exit._tag === "Failure" && pending !== undefined ? cancelAndWait(pending) : Effect.void)
    )
  })

/**
 * Starts an operation now (call it inside `Effect.suspend`) and gives its completion: at once, with no
 * Effect.async, when the core finished it synchronously (a send the kernel took whole). For operations that
 * finish by themselves and give their queue on from their own completion (a send): should the fiber be
 * interrupted before it reaches the wait, the operation still completes and nothing is stranded. Interrupting
 * the wait cancels it and waits for the completion (from the canceller and the exit, as `operation`).
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
  return Effect.onExit(
    Effect.async<Core.Completion>((resume) => {
      if (arrived !== undefined) return resume(outcome(arrived))
      waiter = (completion) => resume(outcome(completion))
      return cancelAndWait(started)
    }),
    (exit) => (exit._tag === "Failure" && arrived === undefined ? cancelAndWait(started) : Effect.void)
  )
}
