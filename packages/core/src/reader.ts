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
export const pushRead = (socket: Socket, chunkSize: number, sink: PushSink): PushRead => new PushReader(socket, chunkSize, sink)

/**
 * The push read's state. A class (its steps on the prototype, two callbacks bound per read) because an idle
 * connection keeps one alive: per-read closures were most of what a served idle connection cost.
 */
class PushReader implements PushRead {
  private over = false
  private stopped = false
  private paused = false
  /** `sink.chunk` is running: a `resume` called from inside it (the consumer finished at once) cancels the pause */
  private delivering = false
  private resumedEarly = false
  /** the last read was short: the kernel had no more, so the next step waits instead of trying */
  private drained = false
  /** a receive in flight (the loop of receives, for drivers without a streaming read) */
  private inFlight: Pending | undefined = undefined
  /** the driver's streaming read, where it has one: no operation per chunk */
  private streaming: Reading | undefined = undefined
  private holding = false
  private turn: Turn | undefined = undefined
  private whenIdle: Array<() => void> | undefined = undefined

  constructor(private readonly socket: Socket, private readonly chunkSize: number, private readonly sink: PushSink) {
    this.turn = socket.receiveQueue.take(this.begin)
    if (this.turn === undefined) this.begin()
  }

  /** The consumer's resume, handed with each chunk. */
  private readonly resume = (): void => {
    if (this.delivering) return void (this.resumedEarly = true)
    if (!this.paused || this.over || this.stopped) return
    this.paused = false
    if (this.streaming !== undefined) this.streaming.resume()
    else this.step()
  }

  /** The driver's streaming read delivers here. */
  private readonly onChunk = (completion: Completion): boolean => !this.over && !this.stopped && this.deliver(completion)

  /** The receive queue is ours (at once, or handed over): start reading. */
  private readonly begin = (): void => {
    this.turn = undefined
    this.holding = true
    if (this.stopped) return this.releaseIfDone()
    // Checked when the queue is ours: a socket closed while this waited must never reach the driver.
    const usable = checkPush(this.socket)
    if (isFailure(usable)) return void this.end(usable)
    const port = this.socket.port
    if (port.driver.readStart === undefined || !port.isOpen()) return this.step()
    port.streaming(1)
    this.streaming = port.driver.readStart(this.socket.native, this.chunkSize, this.onChunk)
  }

  /** Gives the queue back once nothing is in flight and the read is over or stopped. */
  private releaseIfDone(): void {
    if (this.inFlight !== undefined || !(this.over || this.stopped)) return
    if (this.streaming !== undefined) {
      this.streaming.stop()
      this.streaming = undefined
      this.socket.port.streaming(-1)
    }
    if (this.holding) {
      this.holding = false
      this.socket.receiveQueue.release()
    }
    if (this.whenIdle !== undefined) for (const then of this.whenIdle.splice(0)) then()
  }

  private end(outcome: undefined | Failure | Defect): false {
    if (!this.over) {
      this.over = true
      if (!this.stopped) this.sink.end(outcome)
    }
    this.releaseIfDone()
    return false
  }

  /** Hands one completion on; true while reading may go on. */
  private deliver(completion: Completion): boolean {
    if (completion.status !== 0) return this.end(statusFailure(completion.status, "receive"))
    const data = completion.data
    if (data === undefined || data.byteLength === 0) return this.end(undefined)
    this.drained = data.byteLength < this.chunkSize
    this.delivering = true
    this.resumedEarly = false
    let goOn: boolean
    try {
      goOn = this.sink.chunk(data, this.resume)
    } finally {
      this.delivering = false
    }
    if (!goOn && !this.resumedEarly) this.paused = true
    return !this.paused && !this.over && !this.stopped
  }

  /** One receive through the port: its completion if it came at once, else `undefined` (it is in flight). */
  private receiveNext(): Completion | undefined {
    const { chunkSize, socket } = this
    const started = socket.port.start((done) => socket.port.driver.receive(socket.native, chunkSize, done), (completion) => {
      this.inFlight = undefined
      if (this.stopped || this.over) return this.releaseIfDone()
      if (this.deliver(completion)) this.step()
    })
    if (isNow(started)) return started.now
    if (isThrown(started)) return void this.end({ _tag: "Defect", defect: started.thrown })
    this.inFlight = started
    return undefined
  }

  /** The loop of receives, for drivers without a streaming read. */
  private readonly step = (): void => {
    const driver = this.socket.port.driver
    for (let i = 0; i < BATCH; i++) {
      if (this.over || this.stopped || this.paused || this.inFlight !== undefined) return
      // Checked on every step: a socket closed meanwhile must never reach the driver (its fd may be reused).
      const usable = checkPush(this.socket)
      if (isFailure(usable)) return void this.end(usable)
      let now = this.drained || driver.tryReceive === undefined ? undefined : driver.tryReceive(this.socket.native, this.chunkSize)
      this.drained = false
      if (now === undefined) now = this.receiveNext()
      if (now === undefined || !this.deliver(now)) return
    }
    // A socket that keeps having data yields after a batch, so that one connection cannot starve the others.
    setImmediate(this.step)
  }

  stop(then?: () => void): void {
    if (then !== undefined) (this.whenIdle ??= []).push(then)
    if (!this.stopped) {
      this.stopped = true
      if (this.turn !== undefined) {
        this.socket.receiveQueue.leave(this.turn)
        this.turn = undefined
      }
      // its completion gives the queue back (and runs `then`)
      if (this.inFlight !== undefined) return this.inFlight.cancel()
    }
    this.releaseIfDone()
  }
}
