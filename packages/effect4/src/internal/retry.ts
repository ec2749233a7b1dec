/**
 * Retrying as Effect 4 does it, for `dial` (written once, in packages/frontend/src): the schedule type it
 * takes, a stepper over a schedule, and `ConnectEx.retryPolicy`. The Effect 3 front-end's file of the same
 * name gives the same names in Effect 3's words.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import * as WsaError from "../errors/WsaError.js"

/** A schedule `dial` takes as `retry`. */
export type RetrySchedule<R> = Schedule.Schedule<unknown, WsaError.Retryable, never, R>

type Step = { readonly _tag: "Continue"; readonly delay: Duration.Duration } | { readonly _tag: "Done" }

/**
 * A stepper over `schedule`: each call sleeps the schedule's next delay and answers true, or answers false once
 * the schedule is done (and from then on: Effect 4 has no `Schedule.driver`, and a raw step is not sticky after
 * Done). No schedule: never retry.
 */
export const retryStepper = <R>(
  schedule: RetrySchedule<R> | undefined
): Effect.Effect<(input: WsaError.Retryable) => Effect.Effect<boolean, never, R>, never, R> =>
  Effect.gen(function*() {
    if (schedule === undefined) return (_: WsaError.Retryable): Effect.Effect<boolean, never, R> => Effect.succeed(false)
    const step = yield* Schedule.toStep(schedule)
    let done = false
    return (input: WsaError.Retryable): Effect.Effect<boolean, never, R> =>
      done ? Effect.succeed(false) : Effect.clockWith((clock) =>
        step(clock.currentTimeMillisUnsafe(), input).pipe(
          Effect.map(([, delay]): Step => ({ _tag: "Continue", delay })),
          Pull.catchDone(() => Effect.succeed<Step>({ _tag: "Done" })),
          Effect.flatMap((next) => {
            if (next._tag === "Done") {
              done = true
              return Effect.succeed(false)
            }
            return Effect.as(Effect.sleep(next.delay), true)
          })
        )
      )
  })

/** ConnectEx.retryPolicy: exponential from 50 ms, at most `times` retries, retryable codes only. */
export const retryPolicy = (times = 5): Schedule.Schedule<Duration.Duration, WsaError.Retryable> =>
  Schedule.max([Schedule.exponential("50 millis"), Schedule.recurs(times)]).pipe(
    Schedule.setInputType<WsaError.Retryable>(),
    Schedule.while(({ input }) => WsaError.isRetryable(input))
  )
