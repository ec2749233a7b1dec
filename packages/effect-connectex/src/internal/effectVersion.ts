/**
 * What Effect 3 spells differently from Effect 4, under the names the modules written once use
 * (packages/frontend/src, compiled into both front-ends). The Effect 4 front-end's file of the same name
 * has the same exports, in Effect 4's words.
 */
import { Cause, type Clock, type Context, Deferred, Duration, Effect, ExecutionStrategy, type Exit, type Fiber, FiberId, FiberSet, Layer, type Option, Runtime, Scope } from "effect"

/** What a duration may be given as ("5 seconds", a number of milliseconds, a Duration). */
export type DurationInput = Duration.DurationInput

/** A Duration from what a user gave; throws on an invalid one (`Duration.decode`). */
export const decodeDuration: (input: DurationInput) => Duration.Duration = Duration.decode

/** What `f` makes of a service (a tag is an Effect of its service in Effect 3; a reference needs nothing). */
export const serviceWith = <I, S, A>(tag: Effect.Effect<S, never, I>, f: (service: S) => A): Effect.Effect<A, never, I> =>
  Effect.map(tag, f)

/** The effect `f` makes of a service. */
export const serviceWithEffect = <I, S, A, E, R>(
  tag: Effect.Effect<S, never, I>,
  f: (service: S) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, I | R> => Effect.flatMap(tag, f)

/** An effect completed from a callback API (`Effect.async`); what `register` returns runs on interruption. */
export const callback: <A, E = never, R = never>(
  register: (resume: (effect: Effect.Effect<A, E, R>) => void) => void | Effect.Effect<void, never, R>
) => Effect.Effect<A, E, R> = Effect.async

/** A layer from a scoped effect: what it acquires is released with the layer (`Layer.scoped`). */
export const layerScoped: <I, S, E, R>(
  tag: Context.Tag<I, S>,
  effect: Effect.Effect<NoInfer<S>, E, R>
) => Layer.Layer<I, E, Exclude<R, Scope.Scope>> = Layer.scoped

/** A layer made by a scoped effect (`Layer.unwrapScoped`). */
export const unwrapScoped: <A, E1, R1, E, R>(
  effect: Effect.Effect<Layer.Layer<A, E1, R1>, E, R>
) => Layer.Layer<A, E | E1, R1 | Exclude<R, Scope.Scope>> = Layer.unwrapScoped

/** A Duration from any value, or None when it is not one (`Duration.decodeUnknown`). */
export const durationOption: (input: unknown) => Option.Option<Duration.Duration> = Duration.decodeUnknown

/** The failure in a cause, if it has one. */
export const failureOption: <E>(cause: Cause.Cause<E>) => Option.Option<E> = Cause.failureOption

/** Whether a cause is an interruption and nothing else. */
export const isInterruptedOnly: <E>(cause: Cause.Cause<E>) => boolean = Cause.isInterruptedOnly

/** What `Effect.timeout` adds to an effect's errors. */
export type TimeoutError = Cause.TimeoutException

/** A fiber started by a `RunFork`. */
export type RunningFiber<A, E = never> = Fiber.RuntimeFiber<A, E>

/** Starts an effect as a fiber of its own, outside the caller's structure (a callback's fiber). */
export type RunFork<R> = <A, E>(effect: Effect.Effect<A, E, R>) => RunningFiber<A, E>

/**
 * A `RunFork` with the current fiber's context and services; a fiber it starts runs at once, inside the call,
 * and is interruptible whatever the caller's region.
 */
export const runForkFrom = <R = never>(): Effect.Effect<RunFork<R>, never, R> =>
  Effect.map(Effect.interruptible(Effect.runtime<R>()), (runtime) => Runtime.runFork(runtime))

/** Interrupts a fiber without waiting for it. */
export const interruptUnsafe = (fiber: RunningFiber<unknown, unknown>): void => fiber.unsafeInterruptAsFork(FiberId.none)

/** A child scope of `parent`, closed with it; its finalizers run in sequence. */
export const forkScope = (parent: Scope.Scope): Effect.Effect<Scope.CloseableScope> =>
  Scope.fork(parent, ExecutionStrategy.sequential)

/** `effect` with `scope` as its Scope (`Scope.extend`). */
export const inScope = (scope: Scope.Scope) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope>> =>
  Scope.extend(effect, scope)

/** A span around an effect, with attributes and no captured stack trace. */
export const withSpan = (name: string, attributes?: Record<string, unknown>) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withSpan(effect, name, attributes === undefined ? { captureStackTrace: false } : { attributes, captureStackTrace: false })

/** Lets other fibers run first (`Effect.yieldNow()`). */
export const yieldNow: Effect.Effect<void> = Effect.yieldNow()

/** The fiber's Clock. */
export const currentClock: Effect.Effect<Clock.Clock> = Effect.clock

/** The Clock's time now, synchronously (for callbacks outside any fiber). */
export const clockMillisUnsafe = (clock: Clock.Clock): number => clock.unsafeCurrentTimeMillis()

/** Completes a Deferred from outside any fiber. */
export const deferredDoneUnsafe = <A, E>(deferred: Deferred.Deferred<A, E>, exit: Exit.Exit<A, E>): void =>
  void Deferred.unsafeDone(deferred, exit)

/** Recovers from every failure of an effect, its cause in hand. */
export const catchAllCause: <E, A2, E2, R2>(
  f: (cause: Cause.Cause<E>) => Effect.Effect<A2, E2, R2>
) => <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A2 | A, E2, R2 | R> = Effect.catchAllCause

/** A fiber's exit if it has ended, without waiting. */
export const pollUnsafe = <A, E>(fiber: RunningFiber<A, E>): Exit.Exit<A, E> | undefined => fiber.unsafePoll() ?? undefined

/** The Clock's time now in nanoseconds, synchronously. */
export const clockNanosUnsafe = (clock: Clock.Clock): bigint => clock.unsafeCurrentTimeNanos()

/** A scope that can be closed (what `forkScope` makes). */
export type CloseableScope = Scope.CloseableScope

/** The tag of what `Effect.timeout` fails with. */
export const timeoutTag = "TimeoutException" as const

/** A scope made outside any fiber. */
export const makeScopeUnsafe = (): CloseableScope => Effect.runSync(Scope.make())

/** A runner of fibers in `fibers` (interrupted when its scope closes); a fiber it starts runs at once, inside the call. */
export const fiberSetRunner = (fibers: FiberSet.FiberSet<void, never>): Effect.Effect<(effect: Effect.Effect<void>) => RunningFiber<void>> =>
  Effect.map(FiberSet.runtime(fibers)<never>(), (run) => (effect) => run(effect, { immediate: true }))
