/**
 * The library's metrics (Effect 4 `Metric`): read them with `Metric.value`, or export them with any Effect
 * metrics exporter. The same names as the Effect 3 front-end.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Metric from "effect/Metric"

/**
 * Connect latency in milliseconds, successful or not (from the call to its completion).
 *
 * @example
 * const state = yield* Metric.value(Metrics.connectLatency)
 * @since 0.1.0
 * @category metrics
 */
export const connectLatency: Metric.Histogram<number> = Metric.histogram("connectex_connect_latency_ms", {
  description: "ConnectEx.connect latency in milliseconds",
  boundaries: Metric.exponentialBoundaries({ start: 0.05, factor: 2, count: 20 })
})

/**
 * Failed connects, with the attribute `error` = the WSA tag (`WSAECONNREFUSED`, ...).
 *
 * @example
 * const refused = yield* Metric.value(Metric.withAttributes(Metrics.connectFailures, { error: "WSAECONNREFUSED" }))
 * @since 0.1.0
 * @category metrics
 */
export const connectFailures: Metric.Counter<number> = Metric.counter("connectex_connect_failures_total", {
  description: "ConnectEx.connect failures by WSA tag",
  incremental: true
})

/**
 * Sockets open now (opened by `Socket.open`, not yet closed).
 *
 * @example
 * const { value: open } = yield* Metric.value(Metrics.openSockets)
 * @since 0.1.0
 * @category metrics
 */
export const openSockets: Metric.Gauge<number> = Metric.gauge("connectex_open_sockets", { description: "sockets open now" })

/**
 * Operations (connect, send, receive, disconnect) waiting for their completion now.
 *
 * @example
 * const { value: pending } = yield* Metric.value(Metrics.pendingOperations)
 * @since 0.1.0
 * @category metrics
 */
export const pendingOperations: Metric.Gauge<number> = Metric.gauge("connectex_pending_operations", {
  description: "operations waiting for their completion"
})

const empty = Context.empty()
const failuresByTag = new Map<string, Metric.Counter<number>>()

/** @internal synchronous updates on the hot path (the default registry, as Effect code sees it) */
export const unsafe = {
  openSockets: (delta: number): void => openSockets.modifyUnsafe(delta, empty),
  pendingOperations: (delta: number): void => pendingOperations.modifyUnsafe(delta, empty),
  connectLatency: (ms: number): void => connectLatency.updateUnsafe(ms, empty),
  connectFailure: (tag: string): void => {
    let metric = failuresByTag.get(tag)
    if (metric === undefined) failuresByTag.set(tag, metric = Metric.withAttributes(connectFailures, { error: tag }))
    metric.updateUnsafe(1, empty)
  }
}
