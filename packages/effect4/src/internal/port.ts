/**
 * The completion port's machinery: the core's completion table turned into Effect 4 effects, the sockets
 * opened through the port, and the driver. Users see only `Iocp.Service` (its stats).
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Metrics from "../Metrics.js"

export const PortTypeId: unique symbol = Symbol.for("@effect-connectex/effect4/Iocp/Port")

export interface Stats {
  readonly pending: number
  readonly submitted: number
  readonly completed: number
  readonly duplicates: number
  readonly sockets: number
  readonly liveAllocations: number
}

export interface Port {
  readonly driver: Core.Driver
  /**
   * Starts an operation and waits for its single completion. Interruption cancels it and waits for the
   * completion before the fiber stops. A driver whose `start` throws is a defect.
   */
  readonly submit: (
    start: (done: Core.Done) => Core.InFlight,
    /** told the operation's handle once it is in flight (not called when it completed at once) */
    started?: (submitted: Core.Submitted) => void
  ) => Effect.Effect<Core.Completion>
  readonly track: (socket: Core.NativeSocket) => void
  /** Closes a socket (its pending operations complete with 995 first). Idempotent. */
  readonly close: (socket: Core.NativeSocket) => void
  readonly isOpen: () => boolean
  readonly stats: () => Stats
  /** Aborts what is pending, waits for it, closes every socket, cleans the driver up. */
  readonly shutdown: Effect.Effect<void>
}

const notInitialised: Core.Completion = { status: Core.wsa.WSANOTINITIALISED, bytes: 0 }

export const makePort = (driver: Core.Driver): Port => {
  let open = true
  const sockets = new Set<Core.NativeSocket>()
  const table = Core.makeCompletionTable({ onPendingChange: Metrics.unsafe.pendingOperations })

  const submit = (
    start: (done: Core.Done) => Core.InFlight,
    started?: (submitted: Core.Submitted) => void
  ): Effect.Effect<Core.Completion> =>
    Effect.callback<Core.Completion>((resume) => {
      if (!open) return resume(Effect.succeed(notInitialised))
      let completed = false
      const submitted = table.submit(start, (completion) => {
        completed = true
        resume(Effect.succeed(completion))
      })
      if (Core.isThrown(submitted)) return resume(Effect.die(submitted.thrown))
      if (!completed) started?.(submitted)
      // Runs on interruption: cancel, then hold the interruption until the completion has arrived.
      return Effect.callback<void>((resumeCancelled) => {
        submitted.cancel()
        submitted.whenCompleted(() => resumeCancelled(Effect.void))
      })
    })

  const close = (socket: Core.NativeSocket): void => {
    if (sockets.delete(socket)) driver.close(socket)
  }

  const shutdown = Effect.callback<void>((resume) => {
    open = false
    table.abortAll(() => resume(Effect.void))
  }).pipe(
    Effect.andThen(Effect.sync(() => {
      for (const socket of [...sockets]) close(socket)
      driver.cleanup()
    }))
  )

  return {
    driver,
    submit,
    track: (socket) => void sockets.add(socket),
    close,
    isOpen: () => open,
    stats: () => {
      const { completed, duplicates, pending, submitted } = table.counts()
      return { pending, submitted, completed, duplicates, sockets: sockets.size, liveAllocations: driver.liveAllocations() }
    },
    shutdown
  }
}
