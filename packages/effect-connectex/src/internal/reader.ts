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

export interface Reader {
  readonly pull: Effect.Effect<Pulled, WsaError.ReceiveError>
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

  const pull: Effect.Effect<Pulled, WsaError.ReceiveError> = Effect.suspend(() => {
    if (owed !== undefined) {
      const error = owed
      owed = undefined
      return Effect.fail(error)
    }
    if (ended) return Effect.succeed(undefined)
    const impl = internal.usableSync(socket, "receive")
    if (!internal.isSocket(impl)) return Effect.fail(impl)
    const refusal = Core.SocketState.checkReceive(impl)
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "receive"))
    const driver = impl.port.driver
    if (drained || !impl.receiveQueue.idle || driver.tryReceive === undefined) {
      drained = false
      return waitForOne(impl)
    }
    let batch: Array<Uint8Array> | undefined
    for (let i = 0; i < BATCH; i++) {
      const now = driver.tryReceive(impl.native, chunkSize)
      if (now === undefined) break
      if (now.status !== 0) {
        const error = receiveError(now.status, "receive")
        if (batch === undefined) return Effect.fail(error)
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
    if (batch !== undefined) return Effect.succeed(batch)
    if (ended) return Effect.succeed(undefined)
    return waitForOne(impl)
  })

  return { pull }
}
