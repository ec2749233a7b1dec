/**
 * The socket value is the core's (`Core.Sockets.Socket`: the state machine's record, its port and its
 * queues); what this front-end adds is its errors, made from the core's failures, and its spans.
 */
import * as Core from "@effect-connectex/core"
import { Effect } from "effect"
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
 * A span for an i/o call with its size and outcome (bytes moved, or the WSA tag). `Effect.useSpan` and
 * attributes set on the span object directly: the call does not become the parent span of anything (it
 * runs no child effects), so the fiber-ref work of `withSpan` and `annotateCurrentSpan` is saved. Under
 * Effect's built-in tracer (no tracer installed) no span is made at all: nothing could ever see it, and
 * making one (random ids, an attribute map) was a fifth of the garbage of a small send or receive.
 */
export const traced = (name: string, requested: number) =>
<A extends number | Uint8Array, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.tracerWith((tracer) => tracer === nativeTracer ? effect : spanned(name, requested, effect))

const spanned = <A extends number | Uint8Array, E extends { readonly _tag: string }>(
  name: string,
  requested: number,
  effect: Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  Effect.useSpan(name, { attributes: { "connectex.requested_bytes": requested }, captureStackTrace: false }, (span) =>
    Effect.onExit(effect, (exit) => {
      if (exit._tag === "Success") {
        span.attribute("connectex.outcome", "ok")
        span.attribute("connectex.bytes", typeof exit.value === "number" ? exit.value : exit.value.byteLength)
      } else {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        if (error !== undefined) span.attribute("connectex.outcome", error._tag)
      }
      return Effect.void
    }))
