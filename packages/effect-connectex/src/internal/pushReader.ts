/**
 * The core's push read (chunks handed to a sink from the driver's callbacks, as node:net hands out "data"
 * events) as a scoped Effect: closing the scope stops the read, cancels the receive in flight and waits for
 * its completion, and gives the socket's receive queue back.
 */
import * as Core from "@effect-connectex/core"
import { Effect, type Scope } from "effect"
import * as WsaError from "../errors/WsaError.js"
import * as internal from "./socket.js"

const receiveError = internal.failureOnto(WsaError.receiveTags)

/** Reads `socket` into `sink` until its end, a failure, or the scope's close. */
export const pushRead = (
  socket: unknown,
  chunkSize: number,
  sink: Core.Reader.PushSink
): Effect.Effect<void, WsaError.ReceiveError, Scope.Scope> =>
  Effect.suspend(() => {
    const checked = Core.Reader.checkPush(socket)
    if (Core.isFailure(checked)) return Effect.fail(receiveError(checked))
    return Effect.asVoid(Effect.acquireRelease(
      Effect.sync(() => Core.Reader.pushRead(checked, chunkSize, sink)),
      (read) => Effect.async<void>((resume) => read.stop(() => resume(Effect.void)))
    ))
  })

/** The end of a push read as the error (or defect) it stands for; `undefined` for the peer's end. */
export const endOf = (outcome: undefined | Core.Failure | Core.Reader.Defect) =>
  outcome === undefined
    ? undefined
    : Core.Reader.isDefectOf(outcome)
    ? { defect: outcome.defect }
    : { error: receiveError(outcome) }
