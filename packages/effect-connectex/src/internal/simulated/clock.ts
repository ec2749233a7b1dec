import { Duration, Effect, FiberId, FiberSet } from "effect"
import type { Scope } from "effect"
import type { Scheduler } from "@effect-connectex/core/simulated"

/** The simulated driver's scheduler on the current Effect Clock: each sleep is a fiber of a scoped FiberSet. */
export const clockScheduler: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const clock = yield* Effect.clock
  const fibers = yield* FiberSet.make<void, never>()
  const run = yield* FiberSet.runtime(fibers)<never>()
  return {
    now: () => clock.unsafeCurrentTimeMillis(),
    sleep: (millis, callback) => {
      let live = true
      const fiber = run(
        Effect.sleep(Duration.millis(millis)).pipe(
          Effect.andThen(Effect.sync(() => {
            if (!live) return
            live = false
            callback()
          }))
        ),
        // start now, so that the sleep is registered with the Clock before `sleep` returns
        { immediate: true }
      )
      return () => {
        if (!live) return
        live = false
        fiber.unsafeInterruptAsFork(FiberId.none)
      }
    }
  }
})
