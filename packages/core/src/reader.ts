/**
 * The two streaming reads, as plain machines with callbacks.
 *
 * The pull read (behind `Socket.stream`): each pull takes every chunk already there in one synchronous step
 * (the driver's `tryReceive`, into its pooled buffer; nothing armed), and only when the socket is empty waits
 * for one receive through the port. The push read (behind `PlatformSocket`'s `run` and the node:stream
 * Duplex): chunks are handed to a sink from the driver's own callbacks, as node:net hands out "data" events,
 * with no scheduling in between; the sink pauses it by answering false and resumes it later. While a socket
 * is read the POSIX poll handle stays armed between reads (the driver disarms it lazily), as libuv keeps a
 * stream that is being read armed.
 */
import { type Failure, isFailure, statusFailure } from "./failure.js"
import type { Turn } from "./fifo.js"
import { isDefect, receive } from "./io.js"
import type { Completion, Done, Reading } from "./native/Driver.js"
import { isNow, isThrown, type Pending, type Started } from "./port.js"
import * as SocketState from "./socket.js"
import { checked, isSocket, type Socket } from "./sockets.js"

/** At most this many chunks in one synchronous step, so that one busy socket cannot starve the others. */
const BATCH = 16

/** What one pull gives: chunks (never empty), or `undefined` once the peer has closed its side. */
export type Pulled = ReadonlyArray<Uint8Array> | undefined

/** `tryPull`'s answer when nothing is there yet: `wait` is the next step. */
export const WAIT: unique symbol = Symbol.for("effect-connectex/Reader/wait")
export type WAIT = typeof WAIT

/** A driver's exception met by a read (a defect for the front-end to report). */
export interface Defect {
  readonly _tag: "Defect"
  readonly defect: unknown
}

export const isDefectOf = (u: unknown): u is Defect =>
  typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "Defect"

export interface Reader {
  /** What is there now: chunks, the end, a failure; `WAIT` when the next step is `wait`. */
  readonly tryPull: () => Pulled | Failure | WAIT
  /** After `WAIT`: one receive, in order behind the socket's other receives. */
  readonly wait: (onLater: Done) => Started
  /** The receive `wait` completed with, as a pull's result. */
  readonly settle: (completion: Completion) => Pulled | Failure | Defect
}

export const makeReader = (socket: unknown, chunkSize: number): Reader => {
  let ended = false
  /**
   * the last pull found the socket drained (a short read): the next one goes straight to the wait, whose
   * receive tries the socket first anyway (one recv per wake-up instead of two EAGAINs)
   */
  let drained = false
  /** a failure met after some chunks of a batch: reported by the next pull, after those chunks */
  let owed: Failure | undefined
  /** the socket `tryPull` found empty: `wait` waits on it */
  let waitingOn: Socket | undefined

  const tryPull = (): Pulled | Failure | WAIT => {
    if (owed !== undefined) {
      const failure = owed
      owed = undefined
      return failure
    }
    if (ended) return undefined
    const current = checked(socket, "receive", SocketState.checkReceive)
    if (!isSocket(current)) return current
    const driver = current.port.driver
    if (drained || !current.receiveQueue.idle || driver.tryReceive === undefined) {
      drained = false
      waitingOn = current
      return WAIT
    }
    let batch: Array<Uint8Array> | undefined
    for (let i = 0; i < BATCH; i++) {
      const now = driver.tryReceive(current.native, chunkSize)
      if (now === undefined) break
      if (now.status !== 0) {
        const failure = statusFailure(now.status, "receive")
        if (batch === undefined) return failure
        owed = failure
        break
      }
      const data = now.data
      if (data === undefined || data.byteLength === 0) {
        ended = true
        break
      }
      ;(batch ??= []).push(data)
      // A short read: the kernel had no more; the next try would only say EAGAIN.
      if (data.byteLength < chunkSize) {
        drained = true
        break
      }
    }
    if (batch !== undefined) return batch
    if (ended) return undefined
    waitingOn = current
    return WAIT
  }

  const wait = (onLater: Done): Started => {
    const current = waitingOn
    waitingOn = undefined
    if (current === undefined) {
      // A wait without a `WAIT` first: what tryPull says, as a completion (`settle` turns it back).
      const now = tryPull()
      if (now !== WAIT) return { now: pulledAsCompletion(now) }
      return wait(onLater)
    }
    return receive(current, chunkSize, onLater)
  }

  const settle = (completion: Completion): Pulled | Failure | Defect => {
    const carried = (completion as PulledCompletion).pulled
    if (carried !== undefined) return carried.value
    if (isDefect(completion)) return { _tag: "Defect", defect: completion.defect }
    if (completion.status !== 0) return statusFailure(completion.status, "receive")
    const data = completion.data
    if (data === undefined || data.byteLength === 0) {
      ended = true
      return undefined
    }
    return [data]
  }

  return { tryPull, wait, settle }
}

/** A pull's result carried through a completion (a `wait` called without a `WAIT` first). */
interface PulledCompletion extends Completion {
  readonly pulled?: { readonly value: Pulled | Failure }
}

const pulledAsCompletion = (value: Pulled | Failure): PulledCompletion => ({ status: 0, bytes: 0, pulled: { value } })

/** Where the pushed chunks go. */
export interface PushSink {
  /** A chunk (never empty). `false` pauses the read until `resume` is called. */
  readonly chunk: (bytes: Uint8Array, resume: () => void) => boolean
  /**
   * The read is over: the peer's end (`undefined`), a failure, or a driver's exception. Called once; nothing
   * follows. Not called when the read was stopped.
   */
  readonly end: (outcome: undefined | Failure | Defect) => void
}

/** A push read: stop it, and know when no receive of it is in flight any more. */
export interface PushRead {
  /** Stops the read (idempotent); `then` runs once nothing of it is in flight and the queue is given back. */
  readonly stop: (then?: () => void) => void
}

/** The checks of a push read: a connected (or draining) socket. */
export const checkPush = (u: unknown): Socket | Failure => checked(u, "receive", SocketState.checkReceive)

/**
 * Reads `socket` into `sink` until its end, a failure, or `stop`. The socket's receive queue is held for as
 * long (other receives wait until the read is over; the read itself waits in line for the queue first).
 * Stopping cancels the receive in flight and gives the queue back once its completion came.
 */
export const pushRead = (socket: Socket, chunkSize: number, sink: PushSink): PushRead => {
  const port = socket.port
  const driver = port.driver
  const queue = socket.receiveQueue
  let over = false
  let stopped = false
  let paused = false
  /** `sink.chunk` is running: a `resume` called from inside it (the consumer finished at once) cancels the pause */
  let delivering = false
  let resumedEarly = false
  /** the last read was short: the kernel had no more, so the next step waits instead of trying */
  let drained = false
  /** a receive in flight (the loop of receives, for drivers without a streaming read) */
  let inFlight: Pending | undefined
  /** the driver's streaming read, where it has one: no operation per chunk */
  let streaming: Reading | undefined
  let holding = false
  let turn: Turn | undefined
  const whenIdle: Array<() => void> = []

  /** Gives the queue back once nothing is in flight and the read is over or stopped. */
  const releaseIfDone = (): void => {
    if (inFlight !== undefined || !(over || stopped)) return
    if (streaming !== undefined) {
      streaming.stop()
      streaming = undefined
      port.streaming(-1)
    }
    if (holding) {
      holding = false
      queue.release()
    }
    for (const then of whenIdle.splice(0)) then()
  }

  const end = (outcome: undefined | Failure | Defect): false => {
    if (!over) {
      over = true
      if (!stopped) sink.end(outcome)
    }
    releaseIfDone()
    return false
  }

  const resume = (): void => {
    if (delivering) return void (resumedEarly = true)
    if (!paused || over || stopped) return
    paused = false
    if (streaming !== undefined) streaming.resume()
    else step()
  }

  /** Hands one completion on; true while reading may go on. */
  const deliver = (completion: Completion): boolean => {
    if (completion.status !== 0) return end(statusFailure(completion.status, "receive"))
    const data = completion.data
    if (data === undefined || data.byteLength === 0) return end(undefined)
    drained = data.byteLength < chunkSize
    delivering = true
    resumedEarly = false
    let goOn: boolean
    try {
      goOn = sink.chunk(data, resume)
    } finally {
      delivering = false
    }
    if (!goOn && !resumedEarly) paused = true
    return !paused && !over && !stopped
  }

  /** One receive through the port: its completion if it came at once, else `undefined` (it is in flight). */
  const receiveNext = (): Completion | undefined => {
    const started = port.start((done) => driver.receive(socket.native, chunkSize, done), (completion) => {
      inFlight = undefined
      if (stopped || over) return releaseIfDone()
      if (deliver(completion)) step()
    })
    if (isNow(started)) return started.now
    if (isThrown(started)) return void end({ _tag: "Defect", defect: started.thrown })
    inFlight = started
    return undefined
  }

  const step = (): void => {
    for (let i = 0; i < BATCH; i++) {
      if (over || stopped || paused || inFlight !== undefined) return
      // Checked on every step: a socket closed meanwhile must never reach the driver (its fd may be reused).
      const usable = checkPush(socket)
      if (isFailure(usable)) return void end(usable)
      let now = drained || driver.tryReceive === undefined ? undefined : driver.tryReceive(socket.native, chunkSize)
      drained = false
      if (now === undefined) now = receiveNext()
      if (now === undefined || !deliver(now)) return
    }
    // A socket that keeps having data yields after a batch, so that one connection cannot starve the others.
    setImmediate(step)
  }

  const begin = (): void => {
    turn = undefined
    holding = true
    if (stopped) return releaseIfDone()
    // Checked when the queue is ours: a socket closed while this waited must never reach the driver.
    const usable = checkPush(socket)
    if (isFailure(usable)) return void end(usable)
    if (driver.readStart === undefined || !port.isOpen()) return step()
    port.streaming(1)
    streaming = driver.readStart(socket.native, chunkSize, (completion) => !over && !stopped && deliver(completion))
  }

  turn = queue.take(begin)
  if (turn === undefined) begin()

  return {
    stop: (then) => {
      if (then !== undefined) whenIdle.push(then)
      if (!stopped) {
        stopped = true
        if (turn !== undefined) {
          queue.leave(turn)
          turn = undefined
        }
        // its completion gives the queue back (and runs `then`)
        if (inFlight !== undefined) return inFlight.cancel()
      }
      releaseIfDone()
    }
  }
}
