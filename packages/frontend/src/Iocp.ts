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
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as WsaError from "./errors/WsaError.js"
import { callback, layerScoped, serviceWithEffect } from "./internal/effectVersion.js"
import { Iocp } from "./internal/services.js"
import * as Metrics from "./Metrics.js"

const PortTypeId: unique symbol = Symbol.for("effect-connectex/Iocp/Port")

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
 * What users see of the port: its counters. The machinery stays inside the library.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** @internal */
  readonly [PortTypeId]: Core.Port
  readonly stats: Effect.Effect<Stats>
}

export { Iocp }

/**
 * Builds the port over a driver: `startup` now, and at scope close abort, wait, close, `cleanup`.
 *
 * @example
 * const port = yield* Iocp.make(driver) // scoped: released with the scope
 * @since 0.1.0
 * @category constructors
 */
export const make = (driver: Core.Driver): Effect.Effect<Service, WsaError.WsaError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.suspend(() => {
        const status = driver.startup()
        return status === 0
          ? Effect.succeed(Core.makePort(driver, metrics))
          : Effect.fail(WsaError.fromCode(status, { operation: "startup", detail: `the ${driver.name} driver did not start` }))
      }),
      (port) => callback<void>((resume) => port.shutdown(() => resume(Effect.void)))
    ),
    (port): Service => ({ [PortTypeId]: port, stats: Effect.sync(port.stats) })
  )

/**
 * The port as a layer over a driver (built once per layer; released with it).
 *
 * @example
 * const portLayer = Iocp.layer(Effect.succeed(driver))
 * @since 0.1.0
 * @category layers
 */
export const layer = (driver: Effect.Effect<Core.Driver, WsaError.WsaError>): Layer.Layer<Iocp, WsaError.WsaError> =>
  layerScoped(Iocp, Effect.flatMap(driver, make))

/**
 * The port's counters: pending operations, completions, open sockets, live native allocations.
 *
 * @example
 * const { pending, liveAllocations } = yield* Iocp.stats
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<Stats, never, Iocp> = serviceWithEffect(Iocp, (port) => port.stats)

/** @internal the machinery behind a service */
export const portOf = (service: Service): Core.Port => service[PortTypeId]

// Updated in place (no Effect per operation): this is the hot path of every connect, send and receive.
const metrics: Core.Hooks = {
  onPendingChange: Metrics.unsafe.pendingOperations,
  onSocketsChange: Metrics.unsafe.openSockets
}
