/**
 * The streaming read behind `Socket.stream`, `PlatformSocket`'s `run` and the node:stream Duplex: a pull
 * that takes every chunk already there in one synchronous step (the driver's `tryReceive`, into its pooled
 * buffer; no Effect.async, nothing armed), and only when the socket is empty waits on the completion port
 * for one receive. While the stream is read the POSIX poll handle stays armed for reading between pulls
 * (the driver disarms it lazily), as libuv keeps a stream that is being read armed.
 */
import * as Core from "@effect-connectex/core"
import { Effect } from "effect"
import * as WsaError from "../errors/WsaError.js"
import * as internal from "./socket.js"

/** At most this many chunks are taken in one synchronous step, so that one busy socket cannot starve others. */
const BATCH = 16

/** What one pull gives: chunks (never empty), or `undefined` once the peer has closed its side. */
export type Pulled = ReadonlyArray<Uint8Array> | undefined

export const isPulled = (u: Pulled | WsaError.ReceiveError): u is Pulled => u === undefined || Array.isArray(u)

/** `tryPull`'s answer when nothing is there yet: `wait` is the next step. */
export const WAIT: unique symbol = Symbol.for("effect-connectex/Reader/wait")

export interface Reader {
  readonly pull: Effect.Effect<Pulled, WsaError.ReceiveError>
  /**
   * The synchronous part of `pull`, for callers outside a fiber (the Duplex): what is there now (chunks,
   * the end, or the error), or `WAIT` when `pull` would wait.
   */
  readonly tryPull: () => Pulled | WsaError.ReceiveError | typeof WAIT
  /** After `tryPull` answered `WAIT`: the wait for one receive (a plain `pull` otherwise). */
  readonly wait: Effect.Effect<Pulled, WsaError.ReceiveError>
}

const receiveError = internal.statusOnto(WsaError.receiveTags)

export const makeReader = (socket: unknown, chunkSize: number): Reader => {
  let ended = false
  /**
   * the last pull found the socket drained (a short read): the next one goes straight to the wait, whose
   * receive tries the socket first anyway (one recv per wake-up instead of two EAGAINs)
   */
  let drained = false
  /** an error met after some chunks of a batch: reported by the next pull, after those chunks */
  let owed: WsaError.ReceiveError | undefined

  const waitForOne = (impl: internal.SocketImpl): Effect.Effect<Pulled, WsaError.ReceiveError> =>
    impl.receiveQueue.with(
      Effect.flatMap(impl.port.submit((done) => impl.port.driver.receive(impl.native, chunkSize, done)), (completion) => {
        if (completion.status !== 0) return Effect.fail(receiveError(completion.status, "receive"))
        const data = completion.data
        if (data === undefined || data.byteLength === 0) {
          ended = true
          return Effect.succeed(undefined)
        }
        return Effect.succeed([data])
      })
    )

  /** the socket `tryPull` found empty: `wait` waits on it */
  let waitingOn: internal.SocketImpl | undefined

  const tryPull = (): Pulled | WsaError.ReceiveError | typeof WAIT => {
    if (owed !== undefined) {
      const error = owed
      owed = undefined
      return error
    }
    if (ended) return undefined
    const impl = internal.checkedSync(socket, "receive", Core.SocketState.checkReceive)
    if (!internal.isSocket(impl)) return impl
    const driver = impl.port.driver
    if (drained || !impl.receiveQueue.idle || driver.tryReceive === undefined) {
      drained = false
      waitingOn = impl
      return WAIT
    }
    let batch: Array<Uint8Array> | undefined
    for (let i = 0; i < BATCH; i++) {
      const now = driver.tryReceive(impl.native, chunkSize)
      if (now === undefined) break
      if (now.status !== 0) {
        const error = receiveError(now.status, "receive")
        if (batch === undefined) return error
        owed = error
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
    waitingOn = impl
    return WAIT
  }

  const wait: Effect.Effect<Pulled, WsaError.ReceiveError> = Effect.suspend(() => {
    const impl = waitingOn
    waitingOn = undefined
    return impl === undefined ? pull : waitForOne(impl)
  })

  const pull: Effect.Effect<Pulled, WsaError.ReceiveError> = Effect.suspend(() => {
    const now = tryPull()
    if (now === WAIT) return wait
    return isPulled(now) ? Effect.succeed(now) : Effect.fail(now)
  })

  return { pull, tryPull, wait }
}
