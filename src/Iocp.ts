/**
 * The completion port: the one place where an operation is started, waited for and cancelled.
 *
 * It owns the table of pending operations and turns each driver completion into the `Exit` of exactly
 * one waiting fiber. Interrupting that fiber cancels the kernel operation and waits for its completion
 * before the interruption finishes, so no memory the kernel may still write is released early. Closing
 * the layer aborts everything pending (WSA_OPERATION_ABORTED), waits for the aborts, closes the sockets
 * still open and releases the driver.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { codeOf } from "./errors/codes.js"
import * as WsaError from "./errors/WsaError.js"
import * as Metrics from "./Metrics.js"
import type { Completion, Done, Driver, NativeSocket, Operation } from "./native/Driver.js"

/**
 * @since 0.1.0
 * @category models
 */
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

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly driver: Driver
  /**
   * Starts an operation and waits for its single completion. Interruption cancels it and waits for the
   * completion (ERROR_NOT_FOUND-style races included) before the fiber stops.
   */
  readonly submit: (start: (done: Done) => Operation) => Effect.Effect<Completion>
  /** Registers a socket opened by the driver, so that closing the port closes it. */
  readonly track: (socket: NativeSocket) => void
  /** Closes a socket (its pending operations complete with 995 first). Idempotent. */
  readonly close: (socket: NativeSocket) => void
  /** False once the layer is released: later use is WSANOTINITIALISED. */
  readonly isOpen: () => boolean
  readonly stats: Effect.Effect<Stats>
}

/**
 * The completion port service.
 *
 * @example
 * const port = yield* Iocp.Iocp
 * const { pending } = yield* port.stats
 * @since 0.1.0
 * @category tags
 */
export class Iocp extends Context.Tag("effect-connectex/Iocp")<Iocp, Service>() {}

const noTags: ReadonlyArray<never> = []

interface Pending {
  operation: Operation | undefined
  completed: boolean
  readonly waiters: Array<() => void>
}

const whenCompleted = (entry: Pending): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (entry.completed) return resume(Effect.void)
    entry.waiters.push(() => resume(Effect.void))
  })

/**
 * Builds the port over a driver: `startup` now, and at scope close abort, wait, close, `cleanup`.
 *
 * @example
 * const port = yield* Iocp.make(driver) // scoped: released with the scope
 * @since 0.1.0
 * @category constructors
 */
export const make = (driver: Driver): Effect.Effect<Service, WsaError.WsaError, import("effect/Scope").Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const status = driver.startup()
      return status === 0
        ? Effect.succeed(makeService(driver))
        : Effect.fail(WsaError.fromCode(status, { operation: "startup", detail: `the ${driver.name} driver did not start` }))
    }),
    (service) => service.shutdown
  )

const makeService = (driver: Driver): Service & { readonly shutdown: Effect.Effect<void> } => {
  let open = true
  const pending = new Set<Pending>()
  const sockets = new Set<NativeSocket>()
  const counts = { submitted: 0, completed: 0, duplicates: 0 }

  const submit = (start: (done: Done) => Operation): Effect.Effect<Completion> =>
    Effect.async<Completion>((resume) => {
      if (!open) return resume(Effect.succeed({ status: codeOf("WSANOTINITIALISED"), bytes: 0 }))
      const entry: Pending = { operation: undefined, completed: false, waiters: [] }
      pending.add(entry)
      counts.submitted++
      // Updated in place (no Effect per operation): this is the hot path of every connect, send and receive.
      Metrics.pendingOperations.unsafeModify(1, noTags)
      const done: Done = (completion) => {
        if (entry.completed) return void counts.duplicates++
        entry.completed = true
        counts.completed++
        Metrics.pendingOperations.unsafeModify(-1, noTags)
        pending.delete(entry)
        for (const wake of entry.waiters) wake()
        resume(Effect.succeed(completion))
      }
      entry.operation = start(done)
      if (entry.completed) return
      return Effect.suspend(() => {
        entry.operation?.cancel()
        return whenCompleted(entry)
      })
    })

  const close = (socket: NativeSocket): void => {
    if (!sockets.delete(socket)) return
    driver.close(socket)
  }

  const shutdown = Effect.suspend(() => {
    open = false
    const aborted = [...pending]
    for (const entry of aborted) entry.operation?.cancel()
    return Effect.forEach(aborted, whenCompleted, { discard: true })
  }).pipe(
    Effect.andThen(() => {
      for (const socket of [...sockets]) close(socket)
      driver.cleanup()
    })
  )

  return {
    driver,
    submit,
    track: (socket) => void sockets.add(socket),
    close,
    isOpen: () => open,
    stats: Effect.sync(() => ({
      pending: pending.size,
      ...counts,
      sockets: sockets.size,
      liveAllocations: driver.liveAllocations()
    })),
    shutdown
  }
}

/**
 * The port as a layer over a driver (built once per layer; released with it).
 *
 * @example
 * const portLayer = Iocp.layer(Effect.succeed(driver))
 * @since 0.1.0
 * @category layers
 */
export const layer = (driver: Effect.Effect<Driver, WsaError.WsaError>): Layer.Layer<Iocp, WsaError.WsaError> =>
  Layer.scoped(Iocp, Effect.flatMap(driver, make))

/**
 * The port's counters: pending operations, completions, open sockets, live native allocations.
 *
 * @example
 * const { pending, liveAllocations } = yield* Iocp.stats
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<Stats, never, Iocp> = Effect.flatMap(Iocp, (port) => port.stats)
