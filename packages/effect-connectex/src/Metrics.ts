/**
 * The library's metrics (Effect `Metric`): read them with `Metric.value`, or export them with any Effect
 * metrics exporter (OpenTelemetry, Prometheus).
 *
 * @since 0.1.0
 */
import { Metric, MetricBoundaries } from "effect"

/**
 * Connect latency in milliseconds, successful or not (from the call to its completion).
 *
 * @example
 * const state = yield* Metric.value(Metrics.connectLatency)
 * @since 0.1.0
 * @category metrics
 */
export const connectLatency = Metric.histogram(
  "connectex_connect_latency_ms",
  MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 20 }),
  "ConnectEx.connect latency in milliseconds"
)

/**
 * Failed connects, tagged `error` = the WSA tag (`WSAECONNREFUSED`, ...).
 *
 * @example
 * const refused = yield* Metric.value(Metrics.connectFailures.pipe(Metric.tagged("error", "WSAECONNREFUSED")))
 * @since 0.1.0
 * @category metrics
 */
export const connectFailures = Metric.counter("connectex_connect_failures_total", {
  description: "ConnectEx.connect failures by WSA tag",
  incremental: true
})

/**
 * Sockets open now (opened by `Socket.open`, not yet closed).
 *
 * @example
 * const open = yield* Metric.value(Metrics.openSockets)
 * @since 0.1.0
 * @category metrics
 */
export const openSockets = Metric.gauge("connectex_open_sockets", { description: "sockets open now" })

/**
 * Operations (connect, send, receive, disconnect) waiting for their completion now.
 *
 * @example
 * const pending = yield* Metric.value(Metrics.pendingOperations)
 * @since 0.1.0
 * @category metrics
 */
export const pendingOperations = Metric.gauge("connectex_pending_operations", {
  description: "operations waiting for their completion"
})

const noTags: ReadonlyArray<never> = []
const failuresByTag = new Map<string, typeof connectFailures>()

/** @internal synchronous updates on the hot path (no Effect per operation; the same as Effect 4's Metrics.unsafe) */
export const unsafe = {
  openSockets: (delta: number): void => openSockets.unsafeModify(delta, noTags),
  pendingOperations: (delta: number): void => pendingOperations.unsafeModify(delta, noTags),
  connectLatency: (ms: number): void => connectLatency.unsafeUpdate(ms, noTags),
  connectFailure: (tag: string): void => {
    let metric = failuresByTag.get(tag)
    if (metric === undefined) failuresByTag.set(tag, metric = connectFailures.pipe(Metric.tagged("error", tag)))
    metric.unsafeUpdate(1, noTags)
  }
}
