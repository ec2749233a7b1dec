/**
 * The core's pull read (`Core.Reader`) as Effects, behind `Socket.stream` and the Effect 4 `PlatformSocket`'s
 * reader: what is there now in one synchronous step, and only when the socket is empty one receive waited for.
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as WsaError from "../errors/WsaError.js"
import { operation } from "./port.js"
import * as internal from "./socket.js"

const receiveError = internal.failureOnto(WsaError.receiveTags)

/** One pull of a reader: what is there now, else one receive waited for (`undefined`: the peer's end). */
export const pullFrom = (reader: Core.Reader.Reader): Effect.Effect<Core.Reader.Pulled, WsaError.ReceiveError> =>
  Effect.suspend(() => {
    const now = reader.tryPull()
    if (now !== Core.Reader.WAIT) return Core.isFailure(now) ? Effect.fail(receiveError(now)) : Effect.succeed(now)
    return Effect.flatMap(operation((onLater) => reader.wait(onLater)), (completion) => {
      const pulled = reader.settle(completion)
      if (Core.Reader.isDefectOf(pulled)) return Effect.die(pulled.defect)
      return Core.isFailure(pulled) ? Effect.fail(receiveError(pulled)) : Effect.succeed(pulled)
    })
  })
