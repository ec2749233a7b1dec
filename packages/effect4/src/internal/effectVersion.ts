/**
 * What Effect 4 spells differently from Effect 3, under the names the modules written once use
 * (packages/frontend/src, compiled into both front-ends). The Effect 3 front-end's file of the same name
 * has the same exports, in Effect 3's words.
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"

/** What a duration may be given as ("5 seconds", a number of milliseconds, a Duration). */
export type DurationInput = Duration.Input

/** A Duration from what a user gave; throws on an invalid one (`Duration.fromInputUnsafe`). */
export const decodeDuration: (input: DurationInput) => Duration.Duration = Duration.fromInputUnsafe

/** What `f` makes of a service (`Service.useSync` in Effect 4). */
export const serviceWith = <I, S, A>(tag: Context.Service<I, S>, f: (service: S) => A): Effect.Effect<A, never, I> =>
  tag.useSync(f)

/** The effect `f` makes of a service (`Service.use`). */
export const serviceWithEffect = <I, S, A, E, R>(
  tag: Context.Service<I, S>,
  f: (service: S) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, I | R> => tag.use(f)

/** An effect completed from a callback API (`Effect.callback`); what `register` returns runs on interruption. */
export const callback: <A, E = never, R = never>(
  register: (resume: (effect: Effect.Effect<A, E, R>) => void) => void | Effect.Effect<void, never, R>
) => Effect.Effect<A, E, R> = Effect.callback

/** A layer from a scoped effect: what it acquires is released with the layer (`Layer.effect` in Effect 4). */
export const layerScoped: <I, S, E, R>(
  tag: Context.Service<I, S>,
  effect: Effect.Effect<NoInfer<S>, E, R>
) => Layer.Layer<I, E, Exclude<R, Scope.Scope>> = Layer.effect

/** A layer made by a scoped effect (`Layer.unwrap` in Effect 4: its scope is the layer's). */
export const unwrapScoped: <A, E1, R1, E, R>(
  effect: Effect.Effect<Layer.Layer<A, E1, R1>, E, R>
) => Layer.Layer<A, E | E1, R1 | Exclude<R, Scope.Scope>> = Layer.unwrap

/** A Duration from any value, or None when it is not one. */
export const durationOption = (input: unknown): Option.Option<Duration.Duration> => {
  try {
    return Duration.fromInput(input as Duration.Input)
  } catch {
    return Option.none()
  }
}

/** The failure in a cause, if it has one (`Cause.findErrorOption`). */
export const failureOption: <E>(cause: Cause.Cause<E>) => Option.Option<E> = Cause.findErrorOption

/** Whether a cause is an interruption and nothing else (`Cause.hasInterruptsOnly`). */
export const isInterruptedOnly: <E>(cause: Cause.Cause<E>) => boolean = Cause.hasInterruptsOnly

/** What `Effect.timeout` adds to an effect's errors. */
export type TimeoutError = Cause.TimeoutError

/** A fiber started by a `RunFork`. */
export type RunningFiber<A, E = never> = Fiber.Fiber<A, E>

/** Starts an effect as a fiber of its own, outside the caller's structure (a callback's fiber). */
export type RunFork<R> = <A, E>(effect: Effect.Effect<A, E, R>) => RunningFiber<A, E>

/** A `RunFork` with the current fiber's services; a fiber it starts runs at once, inside the call. */
export const runForkFrom = <R = never>(): Effect.Effect<RunFork<R>, never, R> =>
  Effect.map(Effect.context<R>(), (context) => Effect.runForkWith(context))

/** Interrupts a fiber without waiting for it. */
export const interruptUnsafe = (fiber: RunningFiber<unknown, unknown>): void => fiber.interruptUnsafe()

/** A child scope of `parent`, closed with it; its finalizers run in sequence. */
export const forkScope = (parent: Scope.Scope): Effect.Effect<Scope.Closeable> => Scope.fork(parent, "sequential")

/** `effect` with `scope` as its Scope (`Scope.provide`). */
export const inScope = (scope: Scope.Scope) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope>> =>
  Scope.provide(scope)(effect)

/** A span around an effect, with attributes and no captured stack trace. */
export const withSpan = (name: string, attributes?: Record<string, unknown>) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(Effect.withSpan(name, attributes === undefined ? undefined : { attributes }, { captureStackTrace: false }))

/** Lets other fibers run first. */
export const yieldNow: Effect.Effect<void> = Effect.yieldNow

/** The fiber's Clock. */
export const currentClock: Effect.Effect<Clock.Clock> = Effect.clockWith(Effect.succeed)

/** The Clock's time now, synchronously (for callbacks outside any fiber). */
export const clockMillisUnsafe = (clock: Clock.Clock): number => clock.currentTimeMillisUnsafe()

/** Completes a Deferred from outside any fiber. */
export const deferredDoneUnsafe = <A, E>(deferred: Deferred.Deferred<A, E>, exit: Exit.Exit<A, E>): void =>
  void Deferred.doneUnsafe(deferred, exit)

/** Recovers from every failure of an effect, its cause in hand (`Effect.catchCause`). */
export const catchAllCause: <E, A2, E2, R2>(
  f: (cause: Cause.Cause<E>) => Effect.Effect<A2, E2, R2>
) => <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A2 | A, E2, R2 | R> = Effect.catchCause

/** A fiber's exit if it has ended, without waiting. */
export const pollUnsafe = <A, E>(fiber: RunningFiber<A, E>): Exit.Exit<A, E> | undefined => fiber.pollUnsafe()

/** The Clock's time now in nanoseconds, synchronously. */
export const clockNanosUnsafe = (clock: Clock.Clock): bigint => clock.currentTimeNanosUnsafe()

/** A scope that can be closed (what `forkScope` makes). */
export type CloseableScope = Scope.Closeable

/** The tag of what `Effect.timeout` fails with. */
export const timeoutTag = "TimeoutError" as const

/** A scope made outside any fiber. */
export const makeScopeUnsafe = (): CloseableScope => Scope.makeUnsafe()

/** A runner of fibers in `fibers` (interrupted when its scope closes); a fiber it starts runs at once, inside the call. */
export const fiberSetRunner = (fibers: FiberSet.FiberSet<void, never>): Effect.Effect<(effect: Effect.Effect<void>) => RunningFiber<void>> =>
  FiberSet.runtime(fibers)<never>()
