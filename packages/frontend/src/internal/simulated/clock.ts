import type { Scheduler } from "@effect-connectex/core/simulated"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import { clockMillisUnsafe, currentClock, fiberSetRunner, interruptUnsafe } from "../effectVersion.js"

/**
 * The simulated driver's scheduler on the current Effect Clock (TestClock; in Effect 4, `it.effect`'s): each
 * sleep is a fiber of a scoped FiberSet, interrupted when the scope closes.
 */
export const clockScheduler: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const clock = yield* currentClock
  const fibers = yield* FiberSet.make<void, never>()
  // Each sleep's fiber starts at once: its sleep is registered with the Clock before `sleep` returns, so a
  // TestClock.adjust right after counts from the time the timer was set.
  const run = yield* fiberSetRunner(fibers)
  return {
    now: () => clockMillisUnsafe(clock),
    sleep: (millis, callback) => {
      let live = true
      const fiber = run(
        Effect.sleep(Duration.millis(millis)).pipe(
          Effect.andThen(Effect.sync(() => {
            if (!live) return
            live = false
            callback()
          }))
        )
      )
      return () => {
        if (!live) return
        live = false
        interruptUnsafe(fiber)
      }
    }
  }
})
