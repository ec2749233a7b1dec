/**
 * The streaming read behind `Socket.stream` and `PlatformSocket`'s reader (the Effect 3 front-end's
 * internal/reader.ts, for Effect 4): a pull that takes every chunk already there in one synchronous step (the
 * driver's `tryReceive`; nothing armed, no `Effect.callback`), and only when the socket is empty waits on the
 * completion port for one receive, in order behind other receives on the socket.
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import type * as WsaError from "../errors/WsaError.js"
import * as internal from "./socket.js"

/** At most this many chunks are taken in one synchronous step, so that one busy socket cannot starve others. */
const BATCH = 16

/** What one pull gives: chunks (never empty), or `undefined` once the peer has closed its side. */
export type Pulled = readonly [Uint8Array, ...Array<Uint8Array>] | undefined

export interface Reader {
  readonly pull: Effect.Effect<Pulled, WsaError.WsaError>
  /**
   * Ends the reader from outside the pulling fiber (a closing scope): the receive a pull waits on is cancelled,
   * so that pull fails with WSA_OPERATION_ABORTED, and so does every later pull. Cheaper than racing each
   * pull against a close signal (two fibers per pull).
   */
  readonly abort: () => void
}

const abortedCompletion: Core.Completion = { status: Core.wsa.WSA_OPERATION_ABORTED, bytes: 0 }

export const makeReader = (socket: unknown, chunkSize: number): Reader => {
  let ended = false
  /** an error met after some chunks of a batch: reported by the next pull, after those chunks */
  let owed: WsaError.WsaError | undefined

  let aborted = false
  /** the receive a pull waits on, for `abort` */
  let inFlight: Core.Submitted | undefined
  const tracked = (submitted: Core.Submitted): void => {
    inFlight = submitted
  }
  const receiveOne = (s: internal.SocketImpl): Effect.Effect<Core.Completion> =>
    Effect.suspend(() =>
      aborted ? Effect.succeed(abortedCompletion) : s.port.submit((done) => s.port.driver.receive(s.native, chunkSize, done), tracked)
    )

  const waitForOne = (s: internal.SocketImpl): Effect.Effect<Pulled, WsaError.WsaError> =>
    s.receiveQueue.with(
      Effect.flatMap(receiveOne(s), (completion) => {
        inFlight = undefined
        if (completion.status !== 0) return Effect.fail(internal.fromStatus(completion.status, "receive"))
        const data = completion.data
        if (data === undefined || data.byteLength === 0) {
          ended = true
          return Effect.succeed(undefined)
        }
        return Effect.succeed([data] as const)
      })
    )

  const pull: Effect.Effect<Pulled, WsaError.WsaError> = Effect.suspend(() => {
    if (owed !== undefined) {
      const error = owed
      owed = undefined
      return Effect.fail(error)
    }
    if (ended) return Effect.succeed(undefined)
    if (aborted) return Effect.fail(internal.fromStatus(Core.wsa.WSA_OPERATION_ABORTED, "receive"))
    const s = internal.checkedSync(socket, "receive", Core.SocketState.checkReceive)
    if (!internal.isSocket(s)) return Effect.fail(s)
    const driver = s.port.driver
    if (!s.receiveQueue.idle || driver.tryReceive === undefined) return waitForOne(s)
    let batch: [Uint8Array, ...Array<Uint8Array>] | undefined
    for (let i = 0; i < BATCH; i++) {
      const now = driver.tryReceive(s.native, chunkSize)
      if (now === undefined) break
      if (now.status !== 0) {
        const error = internal.fromStatus(now.status, "receive")
        if (batch === undefined) return Effect.fail(error)
        owed = error
        break
      }
      const data = now.data
      if (data === undefined || data.byteLength === 0) {
        ended = true
        break
      }
      if (batch === undefined) batch = [data]
      else batch.push(data)
      // A short read: the kernel had no more; the next try would only say EAGAIN.
      if (data.byteLength < chunkSize) break
    }
    if (batch !== undefined) return Effect.succeed(batch)
    if (ended) return Effect.succeed(undefined)
    return waitForOne(s)
  })

  const abort = (): void => {
    aborted = true
    const waiting = inFlight
    inFlight = undefined
    waiting?.cancel()
  }

  return { pull, abort }
}
