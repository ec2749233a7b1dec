/**
 * The Stream and Sink shapes of Effect 3 behind `Socket.stream` and `Socket.sink` (written once, in
 * packages/frontend/src; the pull itself is internal/readerPull.ts). The Effect 4 front-end's file of the same
 * name gives the same names in Effect 4's words.
 */
import * as Core from "@effect-connectex/core"
import { Chunk, Effect, Option, Sink, Stream } from "effect"

/** The chunks of repeated pulls as a Stream, ending at the peer's end. */
export const pullStream = <E>(pull: Effect.Effect<Core.Reader.Pulled, E>): Stream.Stream<Uint8Array, E> =>
  Stream.repeatEffectChunkOption(
    Effect.matchEffect(pull, {
      onFailure: (error) => Effect.fail(Option.some(error)),
      onSuccess: (chunks) => chunks === undefined ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(chunks))
    })
  )

/** A span around a stream (no stack trace captured: a stream is made often). */
export const streamSpan = (name: string) => <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  Stream.withSpan(stream, name, { captureStackTrace: false })

/** A Sink running `each` for every element in order; a batch of one without `Effect.forEach`. */
export const sinkEach = <A, E>(each: (a: A) => Effect.Effect<unknown, E>): Sink.Sink<void, A, never, E> =>
  Sink.forEachChunk((chunk: Chunk.Chunk<A>) =>
    Chunk.size(chunk) === 1 ? Effect.asVoid(each(Chunk.unsafeGet(chunk, 0))) : Effect.forEach(chunk, each, { discard: true })
  )
