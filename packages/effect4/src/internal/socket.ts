/**
 * The socket value: the core's state record (every transition is in `@effect-connectex/core`'s socket
 * state machine) plus what the Effect 4 front-end adds: the port it belongs to and the per-direction queues.
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import * as WsaError from "../errors/WsaError.js"
import { Fifo } from "./fifo.js"
import type { Port } from "./port.js"

export const TypeId: unique symbol = Symbol.for("@effect-connectex/effect4/Socket")
export type TypeId = typeof TypeId

export class SocketImpl implements Core.SocketState.SocketState {
  readonly [TypeId]: TypeId = TypeId
  state: Core.SocketState.State = "open"
  bound = false
  connectedAt: number | undefined = undefined
  sendShut = false
  spentBy: string | undefined = undefined
  private queues: { readonly send: Fifo; readonly receive: Fifo } | undefined = undefined
  /** Sends (and receives) on one socket are queued in order; made on first use, most sockets never send. */
  get sendQueue(): Fifo {
    return (this.queues ??= { send: new Fifo(), receive: new Fifo() }).send
  }
  get receiveQueue(): Fifo {
    return (this.queues ??= { send: new Fifo(), receive: new Fifo() }).receive
  }
  constructor(readonly family: Core.Family, readonly native: Core.NativeSocket, readonly port: Port) {}
}

export const isSocket = (u: unknown): u is SocketImpl => u instanceof SocketImpl

export type Operation = WsaError.Operation

export const wsaError = (name: WsaError.WsaName, operation: Operation, address?: Core.SocketAddress, detail?: string) =>
  WsaError.fromName(name, { operation, address, detail })

export const fromStatus = (status: number, operation: Operation, address?: Core.SocketAddress) =>
  WsaError.fromCode(status, { operation, address })

/** The state machine's refusal as the error a user sees. */
export const refused = (refusal: Core.SocketState.Refusal, operation: Operation, address?: Core.SocketAddress) =>
  WsaError.fromName(refusal.refused, { operation, address, detail: refusal.detail })

/** The checks every call makes first: a socket of ours, a live port, not closed. */
export const usableSync = (u: unknown, operation: Operation): SocketImpl | WsaError.WsaError => {
  if (!isSocket(u)) return wsaError("WSAENOTSOCK", operation, undefined, "the value is not a socket opened by Socket.open")
  if (!u.port.isOpen()) return wsaError("WSANOTINITIALISED", operation)
  const refusal = Core.SocketState.checkOpen(u)
  return refusal === undefined ? u : refused(refusal, operation)
}

export const usable = (u: unknown, operation: Operation): Effect.Effect<SocketImpl, WsaError.WsaError> =>
  Effect.suspend(() => {
    const result = usableSync(u, operation)
    return isSocket(result) ? Effect.succeed(result) : Effect.fail(result)
  })

/** A long operation through the completion port, failing with the WSA error of a non-zero status. */
export const submit = (
  socket: SocketImpl,
  operation: Operation,
  start: (done: Core.Done) => Core.InFlight,
  address?: Core.SocketAddress
): Effect.Effect<Core.Completion, WsaError.WsaError> =>
  Effect.flatMap(socket.port.submit(start), (completion) =>
    completion.status === 0
      ? Effect.succeed(completion)
      : Effect.fail(fromStatus(completion.status, operation, address)))

/** Closes the socket: pending operations complete with WSA_OPERATION_ABORTED, then the handle goes. */
export const close = (socket: SocketImpl): void => {
  if (Core.SocketState.close(socket)) socket.port.close(socket.native)
}

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

/** The socket, if the state machine lets `operation` proceed on it (synchronously). */
export const checkedSync = (
  socket: unknown,
  operation: "send" | "receive",
  check: (s: SocketImpl) => Core.SocketState.Refusal | undefined
): SocketImpl | WsaError.WsaError => {
  const s = usableSync(socket, operation)
  if (!isSocket(s)) return s
  const refusal = check(s)
  return refusal === undefined ? s : refused(refusal, operation)
}
