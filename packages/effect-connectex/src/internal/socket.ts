/**
 * The socket value: the core's state record (every transition is in `@effect-connectex/core`'s socket
 * state machine) plus what the Effect front-end adds, the port it belongs to and the per-direction queues.
 */
import * as Core from "@effect-connectex/core"
import { Effect } from "effect"
import * as WsaError from "../errors/WsaError.js"
import { Fifo } from "./fifo.js"
import { cancelAndWait, isNow, type Port } from "./port.js"

export const TypeId: unique symbol = Symbol.for("effect-connectex/Socket")
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

export const wsaError = <N extends WsaError.WsaName>(name: N, operation: Operation, address?: Core.SocketAddress, detail?: string) =>
  WsaError.fromName(name, { operation, address, detail })

/** A kernel status as one of a function's errors: see `WsaError.narrowing` (Unknown is the catch-all). */
export type ToError<E> = (status: number, operation: Operation, address?: Core.SocketAddress) => E

export const statusOnto = <N extends WsaError.WsaName>(tags: ReadonlyArray<N>): ToError<WsaError.ErrorOf<N> | WsaError.Unknown> => {
  const narrow = WsaError.narrowing(tags)
  return (status, operation, address) => narrow(status, { operation, address })
}

/** The state machine's refusal as the error a user sees. */
export const refused = <N extends WsaError.WsaName>(refusal: Core.SocketState.Refusal<N>, operation: Operation, address?: Core.SocketAddress) =>
  WsaError.fromName(refusal.refused, { operation, address, detail: refusal.detail })

/** What the checks every call makes first can fail with. */
export type NotUsable = WsaError.WSAENOTSOCK | WsaError.WSANOTINITIALISED

/** The checks every call makes first: a socket of ours, a live port, not closed. */
export const usableSync = (u: unknown, operation: Operation): SocketImpl | NotUsable => {
  if (!isSocket(u)) return wsaError("WSAENOTSOCK", operation, undefined, "the value is not a socket opened by Socket.open")
  if (!u.port.isOpen()) return wsaError("WSANOTINITIALISED", operation)
  const refusal = Core.SocketState.checkOpen(u)
  return refusal === undefined ? u : refused(refusal, operation)
}

export const usable = (u: unknown, operation: Operation): Effect.Effect<SocketImpl, NotUsable> =>
  Effect.suspend(() => {
    const result = usableSync(u, operation)
    return isSocket(result) ? Effect.succeed(result) : Effect.fail(result)
  })

/** The socket, if the state machine lets `operation` proceed on it (synchronously). */
export const checkedSync = <N extends WsaError.WsaName>(
  socket: unknown,
  operation: "send" | "receive" | "disconnect",
  check: (impl: SocketImpl) => Core.SocketState.Refusal<N> | undefined
): SocketImpl | NotUsable | WsaError.ErrorOf<N> => {
  const impl = usableSync(socket, operation)
  if (!isSocket(impl)) return impl
  const refusal = check(impl)
  return refusal === undefined ? impl : refused(refusal, operation)
}

/** The socket, if the state machine lets `operation` proceed on it. */
export const checked = <N extends WsaError.WsaName>(
  socket: unknown,
  operation: "send" | "receive" | "disconnect",
  check: (impl: SocketImpl) => Core.SocketState.Refusal<N> | undefined
): Effect.Effect<SocketImpl, NotUsable | WsaError.ErrorOf<N>> =>
  Effect.suspend(() => {
    const impl = checkedSync(socket, operation, check)
    return isSocket(impl) ? Effect.succeed(impl) : Effect.fail(impl)
  })

/** A long operation through the completion port, failing with the function's error for a non-zero status. */
export const submit = <E>(
  socket: SocketImpl,
  operation: Operation,
  start: (done: Core.Done) => Core.InFlight,
  toError: ToError<E>,
  address?: Core.SocketAddress
): Effect.Effect<Core.Completion, E> =>
  Effect.flatMap(socket.port.submit(start), (completion) =>
    completion.status === 0
      ? Effect.succeed(completion)
      : Effect.fail(toError(completion.status, operation, address)))

/**
 * Starts a send now, holding `queue` (taken by the caller), and releases the queue when the operation
 * completes, however it ends. The Effect returned waits for that completion (the bytes sent, `base` included);
 * interrupting it cancels the operation and waits for the completion. Should the Effect never run (its fiber
 * interrupted first), the operation still completes by itself and frees the queue.
 */
export const startReleasing = <E>(
  socket: SocketImpl,
  queue: Fifo,
  start: (done: Core.Done) => Core.InFlight,
  base: number,
  toError: ToError<E>
): Effect.Effect<number, E> => {
  let completion: Core.Completion | undefined
  let waiter: ((completion: Core.Completion) => void) | undefined
  const started = socket.port.start(start, (done) => {
    queue.release()
    completion = done
    waiter?.(done)
  })
  const outcome = (done: Core.Completion): Effect.Effect<number, E> =>
    done.status === 0 ? Effect.succeed(base + done.bytes) : Effect.fail(toError(done.status, "send"))
  if (isNow(started)) {
    queue.release()
    return outcome(started.now)
  }
  if (Core.isThrown(started)) {
    // The table completed the entry without a completion: the queue is the caller's to give back.
    queue.release()
    return Effect.die(started.thrown)
  }
  const submitted = started
  // Cancelled and waited for from the exit too: Effect 3 does not run an interrupted async's canceller in
  // every case (see `makePort`).
  return Effect.flatMap(
    Effect.onExit(
      Effect.async<Core.Completion>((resume) => {
        if (completion !== undefined) return resume(Effect.succeed(completion))
        waiter = (done) => resume(Effect.succeed(done))
        return cancelAndWait(submitted)
      }),
      (exit) => (exit._tag === "Failure" && completion === undefined ? cancelAndWait(submitted) : Effect.void)
    ),
    outcome
  )
}

/** Closes the socket: pending operations complete with WSA_OPERATION_ABORTED, then the handle goes. */
export const close = (socket: SocketImpl): void => {
  if (Core.SocketState.close(socket)) socket.port.close(socket.native)
}

/** Effect's built-in tracer: its spans are recorded nowhere, so a span no child can see is unobservable. */
const nativeTracer = Effect.runSync(Effect.tracer)

/**
 * A span for an i/o call with its size and outcome (bytes moved, or the WSA tag). `Effect.useSpan` and
 * attributes set on the span object directly: the call does not become the parent span of anything (it
 * runs no child effects), so the fiber-ref work of `withSpan` and `annotateCurrentSpan` is saved. Under
 * Effect's built-in tracer (no tracer installed) no span is made at all: nothing could ever see it, and
 * making one (random ids, an attribute map) was a fifth of the garbage of a small send or receive.
 */
export const traced = <A extends number | Uint8Array, E extends { readonly _tag: string }>(
  name: string,
  requested: number,
  effect: Effect.Effect<A, E>
): Effect.Effect<A, E> =>
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
