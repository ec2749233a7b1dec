/**
 * The long operations on a socket as plain machines with callbacks: connect, send, receive, shutdown and
 * disconnect, each checked first (state machine and arguments, in the same order for both front-ends) and
 * ordered per direction by the socket's queue. Each returns a `Failure` (nothing started) or a `Started`:
 * the completion at once, or the operation in flight, whose `cancel` always ends in exactly one completion
 * (995 unless it finished first) and leaves the queue to the next in line. A front-end wraps a `Started` in
 * its own Effect (cancel, then wait for the completion, on interruption) and makes its error from a status.
 */
import type { SocketAddress } from "./address.js"
import * as Address from "./address.js"
import { nameByCode, wsa, type WsaName } from "./errors/codes.js"
import { describe } from "./describe.js"
import { argumentFailure, type ErrorContext, type Failure, isFailure, type Operation } from "./failure.js"
import { checkReceiveSize } from "./options.js"
import type { Fifo } from "./fifo.js"
import { type Completion, type Done, isPartialSend } from "./native/Driver.js"
import { completionOf, isNow, isThrown, type Pending, type Started } from "./port.js"
import * as SocketState from "./socket.js"
import { checked, refused, type Socket, usable } from "./sockets.js"

export { isFailure }

/** A completion for a driver's start that threw after the operation had waited in line: a defect to report. */
export interface DefectCompletion extends Completion {
  readonly defect: unknown
}

export const isDefect = (completion: Completion): completion is DefectCompletion => "defect" in completion

const aborted = completionOf(wsa.WSA_OPERATION_ABORTED)

/**
 * Runs `begin` holding `queue`: at once when the queue is free, else once it is handed over. The queue is
 * released by the operation's own completion (which always comes), never by the caller, so that nothing can
 * strand it. Cancelled while still in line, it leaves the line and completes with 995.
 */
export const inQueue = (socket: Socket, queue: Fifo, begin: (done: Done) => Started, onLater: Done): Started => {
  const releasing = (then: Done): Started => {
    // Checked when the queue is taken: a socket closed while this waited must never reach the driver (its
    // descriptor may belong to another socket by now); what waited is aborted as a pending operation is.
    const started = socket.state === "closed" ? { now: aborted } : begin((completion) => {
      queue.release()
      then(completion)
    })
    if (isNow(started) || isThrown(started)) queue.release()
    return started
  }
  if (queue.tryAcquire()) return releasing(onLater)

  let inFlight: Pending | undefined
  let done = false
  const waiters: Array<() => void> = []
  const complete = (completion: Completion): void => {
    if (done) return
    done = true
    inFlight = undefined
    onLater(completion)
    for (const wake of waiters.splice(0)) wake()
  }
  const turn = queue.take(() => {
    const started = releasing(complete)
    if (isNow(started)) complete(started.now)
    else if (isThrown(started)) {
      const defect: DefectCompletion = { ...aborted, defect: started.thrown }
      complete(defect)
    }
    else inFlight = started
  })
  return {
    cancel: () => {
      if (done) return
      if (inFlight !== undefined) return inFlight.cancel()
      if (turn !== undefined) queue.leave(turn)
      complete(aborted)
    },
    whenCompleted: (callback) => (done ? callback() : void waiters.push(callback))
  }
}

// ---------------------------------------------------------------------------------------------------------
// Addresses

/**
 * An address from a caller: valid and canonical, or WSAEINVAL (WSAEAFNOSUPPORT for an unknown family), naming
 * the argument (`name`, default "address").
 */
export const validAddress = (address: unknown, operation: Failure["operation"], name = "address"): SocketAddress | Failure => {
  const result = Address.validate(address)
  if (!Address.isInvalid(result)) return result
  return argumentFailure(result.unknownFamily === true ? "WSAEAFNOSUPPORT" : "WSAEINVAL", operation, `the ${name} is invalid: ${result.invalid}`)
}

/** A value a check refused: the name of its error and the context to make it with. */
export interface Rejected<N extends WsaName> {
  readonly _tag: "Rejected"
  readonly name: N
  readonly context: ErrorContext
}

export const isRejected = <N extends WsaName>(u: SocketAddress | Rejected<N>): u is Rejected<N> => "_tag" in u && u._tag === "Rejected"

/** `SocketAddress.validate`: the canonical address, or its WSAEINVAL (WSAEAFNOSUPPORT for an unknown family). */
export const checkAddress = (address: unknown, operation: Operation): SocketAddress | Rejected<"WSAEINVAL" | "WSAEAFNOSUPPORT"> => {
  const result = Address.validate(address)
  if (!Address.isInvalid(result)) return result
  const context: ErrorContext = { operation, detail: result.invalid, argument: true }
  return { _tag: "Rejected", name: result.unknownFamily === true ? "WSAEAFNOSUPPORT" : "WSAEINVAL", context }
}

/** `SocketAddress.parse`: the address of untrusted text, or its WSAEINVAL. */
export const parseAddress = (text: unknown): SocketAddress | Rejected<"WSAEINVAL"> => {
  const result = Address.parse(text)
  return Address.isInvalid(result) ? { _tag: "Rejected", name: "WSAEINVAL", context: { operation: "parse", detail: result.invalid, argument: true } } : result
}

// ---------------------------------------------------------------------------------------------------------
// connect

export interface ConnectChecked {
  readonly socket: Socket
  readonly target: SocketAddress
  readonly data: Uint8Array | undefined
}

/** Every check of a connect before the kernel is involved: the socket, the target, the data, the state. */
export const checkConnect = (u: unknown, address: unknown, options: unknown): ConnectChecked | Failure => {
  const socket = usable(u, "connect")
  if (isFailure(socket)) return socket
  const target = validAddress(address, "connect")
  if (isFailure(target)) return target
  const data = (options as { data?: unknown } | undefined)?.data
  if (data !== undefined && !(data instanceof Uint8Array)) return argumentFailure("WSAEFAULT", "connect", "data must be a Uint8Array", target)
  const refusal = SocketState.checkConnect(socket, target)
  if (refusal !== undefined) return refused(refusal, "connect", target)
  return { socket, target, data }
}

/**
 * Connects a checked socket. The socket's next state (connected, reusable after a refusal, spent) is settled
 * in the completion itself, so that it holds even when the waiting fiber was interrupted a moment earlier;
 * `observe` runs there too (a front-end's metrics). `now` is the front-end's clock, in milliseconds.
 */
export const connect = (
  checked: ConnectChecked,
  now: () => number,
  onLater: Done,
  observe?: (completion: Completion) => void
): Started => {
  const { data, socket, target } = checked
  const driver = socket.port.driver
  SocketState.connecting(socket)
  return socket.port.start((done) =>
    driver.connect(socket.native, target, data, (completion) => {
      SocketState.settleConnect(
        socket,
        completion.status,
        now(),
        () => nameByCode.get(completion.status) ?? "Unknown",
        () => driver.resetConnect(socket.native)
      )
      observe?.(completion)
      done(completion)
    }), onLater)
}

// ---------------------------------------------------------------------------------------------------------
// send

/** A send's checks: a connected socket not shut down, bytes that are a Uint8Array. */
export const checkSend = (u: unknown, bytes: unknown): Socket | Failure => {
  const socket = checked(u, "send", SocketState.checkSend)
  if (isFailure(socket)) return socket
  return bytes instanceof Uint8Array ? socket : argumentFailure("WSAEFAULT", "send", "bytes must be a Uint8Array")
}

/**
 * Sends all of `bytes` in order behind the socket's earlier sends; the completion's `bytes` is the whole
 * length. On an idle socket it is first tried synchronously from the caller's bytes (the driver's `trySend`):
 * done at once when the kernel takes them all, else only the rest, copied, goes through the port, holding the
 * queue until its completion. A send that must queue copies its bytes first, so the caller's buffer is never
 * read once this call has returned.
 */
export const send = (socket: Socket, bytes: Uint8Array, onLater: Done): Started => {
  const port = socket.port
  const driver = port.driver
  if (bytes.byteLength === 0) return { now: completionOf(0) }
  const queue = socket.sendQueue
  if (!queue.idle) {
    const copy = bytes.slice()
    return inQueue(socket, queue, (done) => port.start((d) => driver.send(socket.native, copy, d, true), done), onLater)
  }
  if (driver.trySend === undefined) {
    return inQueue(socket, queue, (done) => port.start((d) => driver.send(socket.native, bytes, d), done), onLater)
  }
  const first = driver.trySend(socket.native, bytes)
  if (!isPartialSend(first)) return { now: first }
  // The rest, already copied (into the memory its operation takes over, on Windows); the completion counts
  // what went at once too.
  const { rest, sent } = first
  const total = (completion: Completion): Completion =>
    completion.status === 0 ? { ...completion, bytes: sent + completion.bytes } : completion
  const started = inQueue(socket, queue, (done) => port.start((d) => driver.send(socket.native, rest, d, true), done), (c) => onLater(total(c)))
  return isNow(started) ? { now: total(started.now) } : started
}

// ---------------------------------------------------------------------------------------------------------
// receive

/** A receive's checks: a connected (or draining) socket, a `maxBytes` from 1 to MAX_RECEIVE. */
export const checkReceive = (u: unknown, maxBytes: unknown, name = "maxBytes"): Socket | Failure => {
  const socket = checked(u, "receive", SocketState.checkReceive)
  if (isFailure(socket)) return socket
  const bad = checkReceiveSize(name, maxBytes)
  return bad === undefined ? socket : argumentFailure("WSAEINVAL", "receive", bad)
}

/** A read size (`chunkSize`, `readSize`): 1 to MAX_RECEIVE, else a WSAEINVAL naming it. */
export const checkReadSize = (name: string, size: unknown, operation: "receive" | "accept"): Failure | undefined => {
  const bad = checkReceiveSize(name, size)
  return bad === undefined ? undefined : argumentFailure("WSAEINVAL", operation, bad)
}

/**
 * Receives up to `maxBytes` in order behind the socket's earlier receives (empty data: the peer's end). On an
 * idle socket the driver's `tryReceive` goes first: data already there completes it without arming anything.
 */
export const receive = (socket: Socket, maxBytes: number, onLater: Done): Started => {
  const now = tryReceive(socket, maxBytes)
  return now === undefined ? receiveLater(socket, maxBytes, onLater) : { now }
}

/** `receive`'s synchronous part: what is there now, if nobody else is receiving; nothing stays pending. */
export const tryReceive = (socket: Socket, maxBytes: number): Completion | undefined => {
  const driver = socket.port.driver
  return socket.receiveQueue.idle && driver.tryReceive !== undefined ? driver.tryReceive(socket.native, maxBytes) : undefined
}

/** `receive` without its synchronous try (the caller just made it): in line, through the port. */
export const receiveLater = (socket: Socket, maxBytes: number, onLater: Done): Started =>
  inQueue(socket, socket.receiveQueue, (done) => socket.port.start((d) => socket.port.driver.receive(socket.native, maxBytes, d), done), onLater)

// ---------------------------------------------------------------------------------------------------------
// shutdown and disconnect: both behind the sends in progress, so that the FIN follows all the data

/** A half-close's checks; "done" when the sending direction is already shut down. */
export const checkShutdown = (u: unknown, direction: unknown): Socket | Failure | "done" => {
  const socket = usable(u, "send")
  if (isFailure(socket)) return socket
  if (direction !== "send") return argumentFailure("WSAEINVAL", "send", `only the "send" direction can be shut down, got ${describe(direction)}`)
  const refusal = SocketState.checkShutdown(socket)
  if (refusal === "done") return "done"
  return refusal === undefined ? socket : refused(refusal, "send")
}

/** Ends the sending direction once the sends in progress are out (a FIN after the data). Idempotent. */
export const shutdown = (socket: Socket, onLater: Done): Started =>
  inQueue(socket, socket.sendQueue, () => {
    if (SocketState.checkShutdown(socket) === "done") return { now: completionOf(0) }
    const status = socket.port.driver.shutdownSend(socket.native)
    if (status === 0) SocketState.shutDown(socket)
    return { now: completionOf(status) }
  }, onLater)

export const checkDisconnect = (u: unknown): Socket | Failure => checked(u, "disconnect", SocketState.checkDisconnect)

/** DisconnectEx: graceful, behind the sends in progress; the socket's next state settled in the completion. */
export const disconnect = (socket: Socket, reuse: boolean, onLater: Done): Started =>
  inQueue(socket, socket.sendQueue, (done) => {
    const refusal = SocketState.checkDisconnect(socket)
    if (refusal !== undefined) return { now: completionOf(wsa[refusal.refused]) }
    return socket.port.start((d) =>
      socket.port.driver.disconnect(socket.native, reuse, (completion) => {
        SocketState.settleDisconnect(socket, completion.status, reuse)
        d(completion)
      }), done)
  }, onLater)
