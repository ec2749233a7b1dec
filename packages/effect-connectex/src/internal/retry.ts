/**
 * Retrying as Effect 3 does it, for `dial` (written once, in packages/frontend/src): the schedule type it
 * takes, a stepper over a schedule, and `ConnectEx.retryPolicy`. The Effect 4 front-end's file of the same
 * name gives the same names in Effect 4's words.
 */
import { Effect, Schedule } from "effect"
import * as WsaError from "../errors/WsaError.js"

/** A schedule `dial` takes as `retry`. */
export type RetrySchedule<R> = Schedule.Schedule<unknown, WsaError.Retryable, R>

/**
 * A stepper over `schedule` (`Schedule.driver`): each call sleeps the schedule's next delay and answers true, or
 * answers false once the schedule is done (and from then on). No schedule: never retry.
 */
export const retryStepper = <R>(
  schedule: RetrySchedule<R> | undefined
): Effect.Effect<(input: WsaError.Retryable) => Effect.Effect<boolean, never, R>, never, R> =>
  Effect.map(Schedule.driver(schedule ?? (Schedule.stop as RetrySchedule<R>)), (driver) => (input) =>
    Effect.map(Effect.either(driver.next(input)), (next) => next._tag === "Right"))

/** ConnectEx.retryPolicy: exponential from 50 ms, at most `times` retries, retryable codes only. */
export const retryPolicy = (times = 5): Schedule.Schedule<unknown, WsaError.Retryable> =>
  Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(times)), Schedule.whileInput(WsaError.isRetryable))
