/**
 * The push read behind `PlatformSocket`'s `run`: chunks are handed to a callback from the driver's own
 * callbacks, as node:net hands out "data" events, with no Effect and no fiber hand-off per chunk. Every chunk
 * already there is taken synchronously (the driver's `tryReceive`, into its pooled buffer); only an empty
 * socket starts one receive through the completion port, started again when it completes (Linux: the poll
 * handle stays armed while the socket is read). The consumer pauses the read by answering `false` and
 * resumes it later (a handler's Effect runs in between: TCP back-pressure).
 */
import * as Core from "@effect-connectex/core"
import { Effect, Exit, type Scope } from "effect"
import * as WsaError from "../errors/WsaError.js"
import { isNow } from "./port.js"
import * as internal from "./socket.js"

/** Where the pushed chunks go. */
export interface PushSink {
  /** A chunk (never empty). `false` pauses the read until `resume` is called. */
  readonly chunk: (bytes: Uint8Array, resume: () => void) => boolean
  /** The read is over: the peer's end (success), its error, or a driver defect. Called once; nothing follows. */
  readonly end: (exit: Exit.Exit<void, WsaError.ReceiveError>) => void
}

/** At most this many chunks in one synchronous run (libuv reads at most 32 per event), then the loop yields. */
const BATCH = 16

const receiveError = internal.statusOnto(WsaError.receiveTags)

/**
 * Reads `socket` into `sink` until its end, an error, or the scope closes. The socket's receive queue is held
 * for as long (other receives wait until the read is over); closing the scope cancels the receive in flight
 * and waits for its completion before the queue is released.
 */
export const pushRead = (
  socket: unknown,
  chunkSize: number,
  sink: PushSink
): Effect.Effect<void, internal.NotUsable | WsaError.ReceiveError, Scope.Scope> =>
  Effect.flatMap(internal.checked(socket, "receive", Core.SocketState.checkReceive), (impl) =>
    Effect.zipRight(
      // The wait for the queue stays interruptible (a pending receive may hold it for long); once it is taken,
      // its release is installed in the same uninterruptible step.
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(impl.receiveQueue.take(restore), Effect.addFinalizer(() => impl.receiveQueue.releaseEffect))
      ),
      Effect.acquireRelease(Effect.sync(() => start(impl, chunkSize, sink)), (stop) => stop)
    ))

/** Starts reading; the returned Effect stops it and completes once no receive is in flight. */
const start = (socket: internal.SocketImpl, chunkSize: number, sink: PushSink): Effect.Effect<void> => {
  const driver = socket.port.driver
  let over = false
  let paused = false
  /** `sink.chunk` is running: a `resume` called from inside it (the Effect finished at once) cancels the pause */
  let delivering = false
  let resumedEarly = false
  /** the last read was short: the kernel had no more, so the next step waits instead of trying */
  let drained = false
  let inFlight: Core.Submitted | undefined

  const end = (exit: Exit.Exit<void, WsaError.ReceiveError>): false => {
    if (!over) {
      over = true
      sink.end(exit)
    }
    return false
  }

  const resume = (): void => {
    if (delivering) return void (resumedEarly = true)
    if (!paused) return
    paused = false
    step()
  }

  /** Hands one completion on; true while reading may go on. */
  const deliver = (completion: Core.Completion): boolean => {
    if (completion.status !== 0) return end(Exit.fail(receiveError(completion.status, "receive")))
    const data = completion.data
    if (data === undefined || data.byteLength === 0) return end(Exit.void)
    drained = data.byteLength < chunkSize
    delivering = true
    resumedEarly = false
    const goOn = sink.chunk(data, resume)
    delivering = false
    if (!goOn && !resumedEarly) paused = true
    return !paused && !over
  }

  /** One receive through the port: its completion if it came at once, else `undefined` (it is in flight). */
  const receiveNext = (): Core.Completion | undefined => {
    const started = socket.port.start((done) => driver.receive(socket.native, chunkSize, done), (completion) => {
      inFlight = undefined
      if (!over && deliver(completion)) step()
    })
    if (isNow(started)) return started.now
    if (Core.isThrown(started)) return void end(Exit.die(started.thrown))
    inFlight = started
    return undefined
  }

  const step = (): void => {
    for (let i = 0; i < BATCH; i++) {
      if (over || paused || inFlight !== undefined) return
      // Checked on every step: a socket closed meanwhile must never reach the driver (its fd may be reused).
      const usable = internal.checkedSync(socket, "receive", Core.SocketState.checkReceive)
      if (!internal.isSocket(usable)) return void end(Exit.fail(usable))
      let now = drained || driver.tryReceive === undefined ? undefined : driver.tryReceive(socket.native, chunkSize)
      drained = false
      if (now === undefined) now = receiveNext()
      if (now === undefined || !deliver(now)) return
    }
    // A socket that keeps having data yields after a batch, so that one connection cannot starve the others.
    setImmediate(step)
  }

  step()

  return Effect.async<void>((resume) => {
    over = true
    const pending = inFlight
    if (pending === undefined) return resume(Effect.void)
    pending.cancel()
    pending.whenCompleted(() => resume(Effect.void))
  })
}
