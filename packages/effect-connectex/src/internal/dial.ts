/**
 * The ConnectEx service and its two calls, `connect` and `dial`: the machinery behind `ConnectEx` and
 * `HappyEyeballs` (both import it; neither imports the other).
 */
import * as Core from "@effect-connectex/core"
import { Cause, Context, Duration, Effect, ExecutionStrategy, Exit, MetricLabel, Option, Schedule, Scope } from "effect"
import * as WsaError from "../errors/WsaError.js"
import * as Iocp from "../Iocp.js"
import * as Metrics from "../Metrics.js"
import * as Socket from "../Socket.js"
import type * as SocketAddress from "../SocketAddress.js"
import { operation } from "./port.js"
import * as internal from "./socket.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** which backend the layer picked: "posix", "windows" or "simulated" */
  readonly driver: Core.DriverName
  /** the completion port the layer built with it (dial opens its sockets there) */
  readonly iocp: Iocp.Service
}

/**
 * The ConnectEx service: present when a layer with a working driver was built.
 *
 * @example
 * const { driver } = yield* ConnectEx.ConnectEx // "posix", "windows" or "simulated"
 * @since 0.1.0
 * @category tags
 */
export class ConnectEx extends Context.Tag("effect-connectex/ConnectEx")<ConnectEx, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectOptions {
  /** sent once the connection is established (or with the SYN under TCP Fast Open) */
  readonly data?: Uint8Array | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Connected {
  readonly bytesSent: number
}

const connectError = internal.failureOnto(WsaError.connectTags)
const dialCheckError = internal.failureOnto(WsaError.dialTags)

/** A failed connect: counted by tag, and the span says why. */
const failed = <E extends WsaError.WsaError>(error: E) => {
  Metrics.connectFailures.unsafeUpdate(1, [MetricLabel.make("error", error._tag)])
  return Effect.zipRight(Effect.annotateCurrentSpan("connectex.outcome", error._tag), Effect.fail(error))
}

/**
 * Connects a bound socket, sending `data` (all of it) once connected; `bytesSent` says how much.
 *
 * Fails with one tagged error per WSA code: unbound WSAEINVAL, connected WSAEISCONN, pending WSAEALREADY,
 * 0.0.0.0 WSAEADDRNOTAVAIL, closed WSAENOTSOCK, and what the network says (WSAECONNREFUSED, ...).
 * After WSAECONNREFUSED, WSAENETUNREACH or WSAETIMEDOUT the same socket may connect again.
 * Interrupting it cancels the kernel operation and waits for it.
 *
 * @example
 * const { bytesSent } = yield* ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", 8080), { data })
 * @since 0.1.0
 * @category connecting
 */
export const connect = (
  socket: Socket.Socket,
  address: SocketAddress.SocketAddress,
  options?: ConnectOptions
): Effect.Effect<Connected, WsaError.ConnectError, ConnectEx> =>
  Effect.zipRight(
    ConnectEx,
    Effect.clockWith((clock) =>
      Effect.suspend(() => {
        const checked = Core.Io.checkConnect(socket, address, options)
        if (Core.isFailure(checked)) return failed(connectError(checked))
        const started = clock.unsafeCurrentTimeNanos()
        // The outcome is settled and measured in the completion itself, so that it holds even when the
        // waiting fiber was interrupted a moment earlier.
        const observe = () => Metrics.connectLatency.unsafeUpdate(Number(clock.unsafeCurrentTimeNanos() - started) / 1e6, [])
        return Effect.flatMap(
          operation((onLater) => Core.Io.connect(checked, () => clock.unsafeCurrentTimeMillis(), onLater, observe)),
          (completion) =>
            completion.status !== 0
              ? failed(connectError(Core.statusFailure(completion.status, "connect", checked.target)))
              : Effect.as(
                Effect.annotateCurrentSpan({ "connectex.outcome": "connected", "connectex.bytes_sent": completion.bytes }),
                { bytesSent: completion.bytes }
              )
        )
      })
    )
  ).pipe(
    Effect.withSpan("ConnectEx.connect", {
      attributes: { "net.peer.address": describeAddress(address) },
      captureStackTrace: false
    })
  )

const describeAddress = Core.describeAddress

/**
 * @since 0.1.0
 * @category models
 */
export interface DialOptions<R = never> {
  /** the local address to bind (default: the wildcard of the destination's family, port 0) */
  readonly bind?: SocketAddress.SocketAddress | undefined
  readonly data?: Uint8Array | undefined
  /** stepped only for WSAECONNREFUSED, WSAENETUNREACH and WSAETIMEDOUT; its input is that error */
  readonly retry?: Schedule.Schedule<unknown, WsaError.Retryable, R> | undefined
  /** bounds the whole dial, retries included */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Dialed {
  readonly socket: Socket.Socket
  readonly bytesSent: number
}

/** What Effect 3 takes as a duration and as a schedule, for the core's checks of dial's options. */
export const kinds: Core.Dialing.Kinds = {
  isDuration: (u) => Option.isSome(Duration.decodeUnknown(u as Duration.DurationInput)),
  isSchedule: Schedule.isSchedule
}

/** A socket in a scope of its own, so that dial can close a replaced socket at once. */
const openBound = (family: SocketAddress.Family, local: SocketAddress.SocketAddress, parent: Scope.Scope) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(parent, ExecutionStrategy.sequential)
    const socket = yield* Effect.onError(
      Scope.extend(Effect.tap(Socket.open({ family }), (socket) => Socket.bind(socket, local)), scope),
      () => Scope.close(scope, Exit.void)
    )
    return { socket, scope }
  })

/** What `dial` does, without its timeout: the socket it is using is closed on every way out but success. */
const dialAttempts = <R>(address: SocketAddress.SocketAddress, options: DialOptions<R> | undefined) =>
  Effect.gen(function*() {
    const checked = Core.Dialing.checkDial(address, options, kinds)
    if (Core.isFailure(checked)) return yield* Effect.fail(dialCheckError(checked))
    const { local, target } = checked
    const { iocp: port } = yield* ConnectEx
    const parent = yield* Effect.scope
    const schedule = yield* Schedule.driver(options?.retry ?? (Schedule.stop as Schedule.Schedule<unknown, WsaError.Retryable, R>))
    const open = openBound(target.family, local, parent).pipe(Effect.provideService(Iocp.Iocp, port))
    let current: { readonly socket: Socket.Socket; readonly scope: Scope.CloseableScope } | undefined
    const loop = Effect.gen(function*() {
      current = yield* open
      while (true) {
        const attempt = yield* Effect.exit(connect(current.socket, target, { data: options?.data }))
        if (Exit.isSuccess(attempt)) return { socket: current.socket, bytesSent: attempt.value.bytesSent }
        const failure = Cause.failureOption(attempt.cause)
        if (Option.isNone(failure) || !WsaError.isRetryable(failure.value)) return yield* Effect.failCause(attempt.cause)
        const next = yield* Effect.either(schedule.next(failure.value))
        if (next._tag === "Left") return yield* Effect.fail(failure.value)
        if (!Core.SocketState.canConnectAgain(current.socket as internal.SocketImpl)) {
          yield* Scope.close(current.scope, Exit.void)
          current = yield* open
        }
      }
    })
    // A failure, a timeout or an interruption closes the socket before dial returns; success hands it to the
    // caller's scope.
    return yield* Effect.onExit(loop, (exit) =>
      Exit.isSuccess(exit) || current === undefined ? Effect.void : Scope.close(current.scope, Exit.void))
  })

/**
 * Binds (to `bind`, or the wildcard of the destination's family), connects with `data`, retries with
 * `retry` only while the error is retryable (on a fresh socket when the old one became unusable), and
 * applies `timeout` to all of it. The socket lives in the caller's scope; a dial that fails, times out or
 * is interrupted closes its socket before it returns.
 */
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options: DialOptions<R> & { readonly timeout: Duration.DurationInput }
): Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutException, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R> & { readonly timeout?: undefined }
): Effect.Effect<Dialed, WsaError.DialFailure, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutException, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutException, ConnectEx | Scope.Scope | R> {
  const attempts = dialAttempts(address, options)
  // An invalid timeout is reported by checkDialOptions inside `attempts`, so it must not reach Effect.timeout.
  const timeout = options?.timeout === undefined ? undefined : Duration.decodeUnknown(options.timeout)
  const bounded: Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutException, ConnectEx | Scope.Scope | R> =
    timeout === undefined || Option.isNone(timeout) ? attempts : Effect.timeout(attempts, timeout.value)
  return Effect.withSpan(bounded, "ConnectEx.dial", {
    attributes: { "net.peer.address": describeAddress(address) },
    captureStackTrace: false
  })
}

/** ConnectEx.retryPolicy: exponential from 50 ms, at most `times` retries, retryable codes only. */
export const retryPolicy = (times = 5): Schedule.Schedule<unknown, WsaError.Retryable> =>
  Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(times)), Schedule.whileInput(WsaError.isRetryable))
