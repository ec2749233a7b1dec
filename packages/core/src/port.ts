/**
 * The completion port: the one place where an operation is started, and where the sockets of a layer are
 * kept, so that shutting the layer down aborts what is pending, waits for it, closes every socket and cleans
 * the driver up. Effect-free: each front-end turns `start` into its own Effect (cancel, then wait for the
 * completion, on interruption) and `shutdown` into its layer's release.
 */
import { type CompletionTable, isThrown, makeCompletionTable, type Submitted, type Thrown } from "./completion.js"
import { wsa } from "./errors/codes.js"
import type { Completion, Done, Driver, InFlight, NativeSocket } from "./native/Driver.js"

/** The port's counters. */
export interface Stats {
  /** operations waiting for their completion now */
  readonly pending: number
  readonly submitted: number
  readonly completed: number
  /** completions that arrived for an operation already completed: always 0 unless a driver is broken */
  readonly duplicates: number
  /** sockets open through this port */
  readonly sockets: number
  /** the driver's live native resources (sockets, buffers, poll handles, OVERLAPPEDs) */
  readonly liveAllocations: number
}

/** An operation in flight: cancel it (its completion still follows, once) or wait for that completion. */
export type Pending = Submitted

/**
 * What starting an operation gives: its completion at once (`now`: the callback given for later is not
 * called), the operation in flight (the completion goes to that callback, once), or a driver's exception
 * (the operation is complete and out of the table; the front-end reports a defect).
 */
export type Started = { readonly now: Completion } | Pending | Thrown

export const isNow = (started: Started): started is { readonly now: Completion } => "now" in started
export { isThrown }

/** A completion for an operation that never reached the driver. */
export const completionOf = (status: number, bytes = 0): Completion => ({ status, bytes })

const notInitialised = completionOf(wsa.WSANOTINITIALISED)

export interface Hooks {
  /** operations pending: +1 at each start, -1 at each completion (a metric's gauge) */
  readonly onPendingChange?: (delta: 1 | -1) => void
  /** sockets open: +1 when one is tracked, -1 when it is closed */
  readonly onSocketsChange?: (delta: 1 | -1) => void
}

export interface Port {
  readonly driver: Driver
  /** Starts an operation; see `Started`. After `shutdown`, every start completes at once with WSANOTINITIALISED. */
  readonly start: (begin: (done: Done) => InFlight, onLater: Done) => Started
  /** Registers a socket opened by the driver, so that shutting the port down closes it. */
  readonly track: (socket: NativeSocket) => void
  /** Closes a socket (its pending operations complete with 995 first). Idempotent. */
  readonly close: (socket: NativeSocket) => void
  /**
   * Runs `then` once the socket is closed, by `close` or by `shutdown` (after its pending operations were
   * aborted), for a waiter with no operation in flight to learn it; gives the unwatch. Nothing for a socket
   * the port does not hold (already closed).
   */
  readonly onClose: (socket: NativeSocket, then: () => void) => () => void
  /** False once the port was shut down: later use is WSANOTINITIALISED. */
  readonly isOpen: () => boolean
  /**
   * Counts a driver's streaming read as pending while it lasts (+1 when it starts, -1 when it ends): it waits
   * for data as a posted receive does, without an operation of its own.
   */
  readonly streaming: (delta: 1 | -1) => void
  readonly stats: () => Stats
  /** Aborts what is pending, waits for it, closes every socket, cleans the driver up; then `then`. */
  readonly shutdown: (then: () => void) => void
}

export const makePort = (driver: Driver, hooks: Hooks = {}): Port => {
  let open = true
  let streams = 0
  const sockets = new Set<NativeSocket>()
  const table: CompletionTable = makeCompletionTable(hooks.onPendingChange === undefined ? {} : { onPendingChange: hooks.onPendingChange })

  const start = (begin: (done: Done) => InFlight, onLater: Done): Started => {
    if (!open) return { now: notInitialised }
    let starting = true
    let now: Completion | undefined
    const submitted = table.submit(begin, (completion) => (starting ? void (now = completion) : onLater(completion)))
    starting = false
    return now === undefined ? submitted : { now }
  }

  /** who waits for a socket's close with nothing in flight on it (a serve's listener, a paused Duplex) */
  const closeWatchers = new WeakMap<NativeSocket, Set<() => void>>()

  const close = (socket: NativeSocket): void => {
    if (!sockets.delete(socket)) return
    hooks.onSocketsChange?.(-1)
    driver.close(socket)
    const watchers = closeWatchers.get(socket)
    if (watchers === undefined) return
    closeWatchers.delete(socket)
    for (const then of watchers) then()
  }

  const onClose = (socket: NativeSocket, then: () => void): () => void => {
    if (!sockets.has(socket)) return () => {}
    let watchers = closeWatchers.get(socket)
    if (watchers === undefined) closeWatchers.set(socket, watchers = new Set())
    watchers.add(then)
    return () => void watchers.delete(then)
  }

  return {
    driver,
    start,
    track: (socket) => {
      sockets.add(socket)
      hooks.onSocketsChange?.(1)
    },
    close,
    onClose,
    isOpen: () => open,
    streaming: (delta) => {
      streams += delta
      hooks.onPendingChange?.(delta)
    },
    stats: () => {
      const { completed, duplicates, pending, submitted } = table.counts()
      return { pending: pending + streams, submitted, completed, duplicates, sockets: sockets.size, liveAllocations: driver.liveAllocations() }
    },
    shutdown: (then) => {
      open = false
      table.abortAll(() => {
        for (const socket of [...sockets]) close(socket)
        driver.cleanup()
        then()
      })
    }
  }
}

/** Cancels a pending operation and runs `then` once it completed (at once if it already has). */
export const cancelAndThen = (pending: Pending, then: () => void): void => {
  pending.cancel()
  pending.whenCompleted(then)
}
