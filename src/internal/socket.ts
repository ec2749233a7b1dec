/**
 * The socket's own state machine (libuv-style flags): every entry point checks it first, so each backend
 * gives Windows' documented answer even where its kernel would not (a second bind on Linux, 0.0.0.0 under
 * Wine, a second connect while one is pending).
 */
import { Effect } from "effect"
import * as WsaError from "../errors/WsaError.js"
import type { Service } from "../Iocp.js"
import type { Completion, Done, NativeSocket, Operation as NativeOperation } from "../native/Driver.js"
import type { Family, SocketAddress } from "../SocketAddress.js"

export const TypeId: unique symbol = Symbol.for("effect-connectex/Socket")
export type TypeId = typeof TypeId

/** open: not connected; spent: after a non-retryable failure or a disconnect without reuse. */
export type State = "open" | "connecting" | "connected" | "spent" | "closed"

export class SocketImpl {
  readonly [TypeId]: TypeId = TypeId
  state: State = "open"
  bound = false
  /** Clock time (ms) the connection was established, for connectTime on drivers without a kernel counter. */
  connectedAt: number | undefined = undefined
  /** the sending direction was shut down (Socket.shutdown): later sends are WSAESHUTDOWN */
  sendShut = false
  /** why the socket is spent, for the message of later calls */
  spentBy: string | undefined = undefined
  private locks: { readonly send: Effect.Semaphore; readonly receive: Effect.Semaphore } | undefined = undefined
  /** Sends (and receives) on one socket are queued in order; made on first use, most sockets never send. */
  get sendLock(): Effect.Semaphore {
    return (this.locks ??= { send: Effect.unsafeMakeSemaphore(1), receive: Effect.unsafeMakeSemaphore(1) }).send
  }
  get receiveLock(): Effect.Semaphore {
    return (this.locks ??= { send: Effect.unsafeMakeSemaphore(1), receive: Effect.unsafeMakeSemaphore(1) }).receive
  }
  constructor(readonly family: Family, readonly native: NativeSocket, readonly port: Service) {}
}

export const isSocket = (u: unknown): u is SocketImpl => u instanceof SocketImpl

export type Operation = WsaError.Operation

export const wsaError = (name: WsaError.WsaName, operation: Operation, address?: SocketAddress, detail?: string) =>
  WsaError.fromName(name, { operation, address, detail })

export const fromStatus = (status: number, operation: Operation, address?: SocketAddress) =>
  WsaError.fromCode(status, { operation, address })

/** The checks every call makes first: a socket of ours, a live port, not closed. */
export const usableSync = (u: unknown, operation: Operation): SocketImpl | WsaError.WsaError => {
  if (!isSocket(u)) return wsaError("WSAENOTSOCK", operation, undefined, "the value is not a socket opened by Socket.open")
  if (!u.port.isOpen()) return wsaError("WSANOTINITIALISED", operation)
  if (u.state === "closed") return wsaError("WSAENOTSOCK", operation, undefined, "the socket was closed")
  return u
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
  start: (done: Done) => NativeOperation,
  address?: SocketAddress
): Effect.Effect<Completion, WsaError.WsaError> =>
  Effect.flatMap(socket.port.submit(start), (completion) =>
    completion.status === 0
      ? Effect.succeed(completion)
      : Effect.fail(fromStatus(completion.status, operation, address)))

/** Closes the socket: pending operations complete with WSA_OPERATION_ABORTED, then the handle goes. */
export const close = (socket: SocketImpl): void => {
  if (socket.state === "closed") return
  socket.state = "closed"
  socket.connectedAt = undefined
  socket.port.close(socket.native)
}


/** A span for an i/o call with its size and outcome (bytes moved, or the WSA tag). */
export const traced = (name: string, requested: number) =>
<A extends number | Uint8Array, R>(effect: Effect.Effect<A, WsaError.WsaError, R>): Effect.Effect<A, WsaError.WsaError, R> =>
  effect.pipe(
    Effect.tap((result) =>
      Effect.annotateCurrentSpan({
        "connectex.outcome": "ok",
        "connectex.bytes": typeof result === "number" ? result : result.byteLength
      })
    ),
    Effect.tapError((error) => Effect.annotateCurrentSpan("connectex.outcome", error._tag)),
    Effect.withSpan(name, { attributes: { "connectex.requested_bytes": requested }, captureStackTrace: false })
  )
