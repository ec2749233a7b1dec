/**
 * The socket value is the core's (`Core.Sockets.Socket`: the state machine's record, its port and its
 * queues); what this front-end adds is its errors, made from the core's failures, and its spans.
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import * as WsaError from "../errors/WsaError.js"

export const TypeId: typeof Core.Sockets.TypeId = Core.Sockets.TypeId
export type TypeId = typeof TypeId

export type SocketImpl = Core.Sockets.Socket

export const isSocket = (u: unknown): u is SocketImpl => Core.Sockets.isSocket(u)

export type Operation = WsaError.Operation

/** A core failure as one of a function's errors: see `WsaError.narrowing` (Unknown is the catch-all). */
export type ToError<E> = (failure: Core.Failure) => E

export const failureOnto: <N extends WsaError.WsaName>(tags: ReadonlyArray<N>) => ToError<WsaError.ErrorOf<N> | WsaError.Unknown> =
  WsaError.failureOnto

/** The error of any failure (its full union). */
export const errorOf: (failure: Core.Failure) => WsaError.WsaError = WsaError.errorOf

/** Closes the socket: pending operations complete with WSA_OPERATION_ABORTED, then the handle goes. */
export const close: (socket: SocketImpl) => void = Core.Sockets.close

/** Effect's built-in tracer: its spans are recorded nowhere, so a span no child can see is unobservable. */
const nativeTracer = Effect.runSync(Effect.tracer)

/**
 * A span for an i/o call with its size and outcome (bytes moved, or the WSA tag). Under Effect's built-in
 * tracer (no tracer installed) no span is made: nothing could see it (as in the Effect 3 front-end).
 */
export const traced = (name: string, requested: number) =>
<A extends number | Uint8Array, E extends WsaError.WsaError, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => fiber.getRef(Tracer.Tracer) === nativeTracer ? effect : spanned(name, requested, effect))

const spanned = <A extends number | Uint8Array, E extends WsaError.WsaError, R>(
  name: string,
  requested: number,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.tap((result) =>
      Effect.annotateCurrentSpan({
        "connectex.outcome": "ok",
        "connectex.bytes": typeof result === "number" ? result : result.byteLength
      })
    ),
    Effect.tapError((error) => Effect.annotateCurrentSpan("connectex.outcome", error._tag)),
    Effect.withSpan(name, { attributes: { "connectex.requested_bytes": requested } })
  )
