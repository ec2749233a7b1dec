/**
 * The completion port's machinery: the core's completion table turned into Effects, the sockets opened
 * through the port, and the driver. Users see only `Iocp.Service` (its stats); the modules of this package
 * reach the machinery through `portOf`.
 */
import * as Core from "@effect-connectex/core"
import { Effect } from "effect"
import * as Metrics from "../Metrics.js"

export const PortTypeId: unique symbol = Symbol.for("effect-connectex/Iocp/Port")

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
   * completion before the fiber stops. A driver whose `start` throws is a defect (the entry is completed
   * and removed first, so layer release never waits for it).
   */
  readonly submit: (start: (done: Core.Done) => Core.InFlight) => Effect.Effect<Core.Completion>
  /**
   * `submit` without an Effect, for code that runs in driver callbacks (the push read, serve's first bytes):
   * a completion that came before this returns is given back as `{ now }` (`onLater` is not called for it);
   * a later one goes to `onLater`, once. A driver whose `start` throws is returned as `Thrown`.
   */
  readonly start: (start: (done: Core.Done) => Core.InFlight, onLater: Core.Done) => Started
  /** Registers a socket opened by the driver, so that closing the port closes it. */
  readonly track: (socket: Core.NativeSocket) => void
  /** Closes a socket (its pending operations complete with 995 first). Idempotent. */
  readonly close: (socket: Core.NativeSocket) => void
  /** False once the layer is released: later use is WSANOTINITIALISED. */
  readonly isOpen: () => boolean
  readonly stats: () => Stats
  /** Aborts what is pending, waits for it, closes every socket, cleans the driver up. */
  readonly shutdown: Effect.Effect<void>
}

/** What `Port.start` gives: the completion at once, or the operation in flight, or a driver's exception. */
export type Started = { readonly now: Core.Completion } | Core.Submitted | Core.Thrown

export const isNow = (started: Started): started is { readonly now: Core.Completion } => "now" in started

const noTags: ReadonlyArray<never> = []

const notInitialised: Core.Completion = { status: Core.wsa.WSANOTINITIALISED, bytes: 0 }

/** Cancels an operation and waits for its completion (at once if it already completed). */
export const cancelAndWait = (submitted: Core.Submitted): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    submitted.cancel()
    submitted.whenCompleted(() => resume(Effect.void))
  })

export const makePort = (driver: Core.Driver): Port => {
  let open = true
  const sockets = new Set<Core.NativeSocket>()
  // Updated in place (no Effect per operation): this is the hot path of every connect, send and receive.
  const table = Core.makeCompletionTable({ onPendingChange: (delta) => Metrics.pendingOperations.unsafeModify(delta, noTags) })

  // Interruption cancels and waits for the completion: in the wait's canceller, and from the wait's exit
  // when the operation is still in flight then, because Effect 3 does not run an interrupted async's
  // canceller in every case (measured: a fiber yielding every 12-40 operations, interrupted after 0-10 steps,
  // left its receive pending in the kernel, to swallow the next bytes that arrived).
  const submit = (start: (done: Core.Done) => Core.InFlight): Effect.Effect<Core.Completion> =>
    Effect.suspend(() => {
      let inFlight: Core.Submitted | undefined
      let completed = false
      return Effect.onExit(
        Effect.async<Core.Completion>((resume) => {
          if (!open) return resume(Effect.succeed(notInitialised))
          const started = table.submit(start, (completion) => {
            completed = true
            inFlight = undefined
            resume(Effect.succeed(completion))
          })
          if (Core.isThrown(started)) return resume(Effect.die(started.thrown))
          if (!completed) inFlight = started
          return cancelAndWait(started)
        }),
        (exit) => (exit._tag === "Failure" && inFlight !== undefined ? cancelAndWait(inFlight) : Effect.void)
      )
    })

  const start = (begin: (done: Core.Done) => Core.InFlight, onLater: Core.Done): Started => {
    if (!open) return { now: notInitialised }
    let starting = true
    let now: Core.Completion | undefined
    const submitted = table.submit(begin, (completion) => (starting ? void (now = completion) : onLater(completion)))
    starting = false
    return now === undefined ? submitted : { now }
  }

  const close = (socket: Core.NativeSocket): void => {
    if (sockets.delete(socket)) driver.close(socket)
  }

  const shutdown = Effect.async<void>((resume) => {
    open = false
    table.abortAll(() => resume(Effect.void))
  }).pipe(
    Effect.andThen(() => {
      for (const socket of [...sockets]) close(socket)
      driver.cleanup()
    })
  )

  return {
    driver,
    submit,
    start,
    track: (socket) => void sockets.add(socket),
    close,
    isOpen: () => open,
    stats: () => {
      const { duplicates, completed, pending, submitted } = table.counts()
      return { pending, submitted, completed, duplicates, sockets: sockets.size, liveAllocations: driver.liveAllocations() }
    },
    shutdown
  }
}
