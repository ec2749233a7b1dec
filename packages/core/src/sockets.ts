/**
 * The socket value both front-ends hand out: the state machine's record (every transition is in `socket.ts`),
 * the port it belongs to, and its per-direction queues; plus the checks every call makes first.
 */
import type { Family, SocketAddress } from "./address.js"
import { Fifo } from "./fifo.js"
import { argumentFailure, failure, type Failure, type Operation } from "./failure.js"
import type { NativeSocket } from "./native/Driver.js"
import type { Port } from "./port.js"
import * as SocketState from "./socket.js"

export const TypeId: unique symbol = Symbol.for("effect-connectex/Socket")
export type TypeId = typeof TypeId

export class Socket implements SocketState.SocketState {
  readonly [TypeId]: TypeId = TypeId
  state: SocketState.State = "open"
  bound = false
  connectedAt: number | undefined = undefined
  sendShut = false
  spentBy: string | undefined = undefined
  private sends: Fifo | undefined = undefined
  private receives: Fifo | undefined = undefined
  constructor(readonly family: Family, readonly native: NativeSocket, readonly port: Port) {}
  /** Sends (and receives) on one socket are queued in order; each queue made on first use. */
  get sendQueue(): Fifo {
    return (this.sends ??= new Fifo())
  }
  get receiveQueue(): Fifo {
    return (this.receives ??= new Fifo())
  }
}

export const isSocket = (u: unknown): u is Socket => u instanceof Socket

/** The state machine's refusal as a failure of `operation`. */
export const refused = (refusal: SocketState.Refusal, operation: Operation, address?: SocketAddress): Failure =>
  failure(refusal.refused, operation, address, refusal.detail)

/** The checks every call makes first: a socket of ours, a live port, not closed. */
export const usable = (u: unknown, operation: Operation): Socket | Failure => {
  if (!isSocket(u)) return argumentFailure("WSAENOTSOCK", operation, "the value is not a socket opened by Socket.open")
  if (!u.port.isOpen()) return failure("WSANOTINITIALISED", operation)
  const refusal = SocketState.checkOpen(u)
  return refusal === undefined ? u : refused(refusal, operation)
}

/** `usable`, then the state machine's check for `operation`. */
export const checked = (u: unknown, operation: Operation, check: (socket: Socket) => SocketState.Refusal | undefined): Socket | Failure => {
  const socket = usable(u, operation)
  if (!isSocket(socket)) return socket
  const refusal = check(socket)
  return refusal === undefined ? socket : refused(refusal, operation)
}

/**
 * Runs `then` once the socket is closed (by `close`, or by its layer's shutdown), after its pending operations
 * were aborted, for a waiter that may have no operation in flight to fail; gives the unwatch.
 */
export const onClose = (socket: Socket, then: () => void): () => void => socket.port.onClose(socket.native, then)

/** Closes the socket: pending operations complete with WSA_OPERATION_ABORTED, then the handle goes. Idempotent. */
export const close = (socket: Socket): void => {
  if (SocketState.close(socket)) socket.port.close(socket.native)
}
