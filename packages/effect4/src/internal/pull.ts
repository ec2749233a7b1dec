/**
 * The Stream and Sink shapes of Effect 4 behind `Socket.stream` and `Socket.sink` (written once, in
 * packages/frontend/src; the pull itself is internal/readerPull.ts). The Effect 3 front-end's file of the same
 * name gives the same names in Effect 3's words.
 */
import * as Core from "@effect-connectex/core"
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"

/**
 * A pull's chunks as the non-empty batch Effect 4's pulls give, and `onEnd` at the peer's end. The core
 * never hands out an empty batch; should one come, the next pull is taken instead.
 */
export const nonEmpty = <E, E2>(
  pull: Effect.Effect<Core.Reader.Pulled, E>,
  onEnd: () => Effect.Effect<never, E2>
): Effect.Effect<Arr.NonEmptyReadonlyArray<Uint8Array>, E | E2> => {
  const batch: Effect.Effect<Arr.NonEmptyReadonlyArray<Uint8Array>, E | E2> = Effect.flatMap(pull, (chunks) =>
    chunks === undefined ? onEnd() : Arr.isReadonlyArrayNonEmpty(chunks) ? Effect.succeed(chunks) : batch)
  return batch
}

/** The chunks of repeated pulls as a Stream, ending at the peer's end. */
export const pullStream = <E>(pull: Effect.Effect<Core.Reader.Pulled, E>): Stream.Stream<Uint8Array, E> =>
  Stream.fromPull(Effect.succeed(nonEmpty(pull, Cause.done)))

/** A span around a stream. */
export const streamSpan = (name: string) => <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  Stream.withSpan(stream, name)

/** A Sink running `each` for every element in order; a batch of one without `Effect.forEach`. */
export const sinkEach = <A, E>(each: (a: A) => Effect.Effect<unknown, E>): Sink.Sink<void, A, never, E> =>
  Sink.forEachArray((batch: Arr.NonEmptyReadonlyArray<A>) =>
    batch.length === 1 ? Effect.asVoid(each(batch[0])) : Effect.forEach(batch, each, { discard: true })
  )
