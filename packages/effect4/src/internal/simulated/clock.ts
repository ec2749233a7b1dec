import type { Scheduler } from "@effect-connectex/core/simulated"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"

/**
 * The simulated driver's scheduler on the current Effect 4 Clock (TestClock in `it.effect`): each sleep is a
 * fiber of a scoped FiberSet, interrupted when the scope closes.
 */
export const clockScheduler: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const clock = yield* Clock.Clock
  const fibers = yield* FiberSet.make<void, never>()
  // runForkWith evaluates the fiber synchronously: its sleep is registered with the Clock before
  // `sleep` returns, so a TestClock.adjust right after counts from the time the timer was set.
  const run = yield* FiberSet.runtime(fibers)<never>()
  return {
    now: () => clock.currentTimeMillisUnsafe(),
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
        fiber.interruptUnsafe()
      }
    }
  }
})
