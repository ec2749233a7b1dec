/**
 * The ConnectEx service and its two calls, `connect` and `dial`: the machinery behind `ConnectEx` and
 * `HappyEyeballs` (both import it; neither imports the other).
 */
import * as Core from "@effect-connectex/core"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as WsaError from "../errors/WsaError.js"
import * as Iocp from "../Iocp.js"
import * as Metrics from "../Metrics.js"
import * as Socket from "../Socket.js"
import type * as SocketAddress from "../SocketAddress.js"
import {
  clockMillisUnsafe,
  clockNanosUnsafe,
  type CloseableScope,
  type DurationInput,
  durationOption,
  failureOption,
  forkScope,
  inScope,
  serviceWithEffect,
  type TimeoutError,
  withSpan
} from "./effectVersion.js"
import { operation } from "./port.js"
import * as retry from "./retry.js"
import { ConnectEx } from "./services.js"
import * as internal from "./socket.js"

export { ConnectEx }

const describeAddress = Core.describeAddress

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
const failed = <E extends WsaError.WsaError>(error: E): Effect.Effect<never, E> => {
  Metrics.unsafe.connectFailure(error._tag)
  return Effect.andThen(Effect.annotateCurrentSpan("connectex.outcome", error._tag), Effect.fail(error))
}

/** `ConnectEx.connect`: see its documentation there. */
export const connect = (
  socket: Socket.Socket,
  address: SocketAddress.SocketAddress,
  options?: ConnectOptions
): Effect.Effect<Connected, WsaError.ConnectError, ConnectEx> =>
  serviceWithEffect(ConnectEx, () =>
    Effect.clockWith((clock) =>
      Effect.suspend(() => {
        const checked = Core.Io.checkConnect(socket, address, options)
        if (Core.isFailure(checked)) return failed(connectError(checked))
        const started = clockNanosUnsafe(clock)
        // The outcome is settled and measured in the completion itself, so that it holds even when the
        // waiting fiber was interrupted a moment earlier.
        const observe = () => Metrics.unsafe.connectLatency(Number(clockNanosUnsafe(clock) - started) / 1e6)
        return Effect.flatMap(
          operation((onLater) => Core.Io.connect(checked, () => clockMillisUnsafe(clock), onLater, observe)),
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
    withSpan("ConnectEx.connect", { "net.peer.address": describeAddress(address) })
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface DialOptions<R = never> {
  /** the local address to bind (default: the wildcard of the destination's family, port 0) */
  readonly bind?: SocketAddress.SocketAddress | undefined
  readonly data?: Uint8Array | undefined
  /** stepped only for WSAECONNREFUSED, WSAENETUNREACH and WSAETIMEDOUT; its input is that error */
  readonly retry?: retry.RetrySchedule<R> | undefined
  /** bounds the whole dial, retries included */
  readonly timeout?: DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Dialed {
  readonly socket: Socket.Socket
  readonly bytesSent: number
}

/** What Effect takes as a duration and as a schedule, for the core's checks of dial's options. */
export const kinds: Core.Dialing.Kinds = {
  isDuration: (u) => Option.isSome(durationOption(u)),
  isSchedule: Schedule.isSchedule
}

/** A socket in a scope of its own, so that dial can close a replaced socket at once. */
const openBound = (family: SocketAddress.Family, local: SocketAddress.SocketAddress, parent: Scope.Scope) =>
  Effect.gen(function*() {
    const scope = yield* forkScope(parent)
    const socket = yield* Effect.onError(
      inScope(scope)(Effect.tap(Socket.open({ family }), (socket) => Socket.bind(socket, local))),
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
    const next = yield* retry.retryStepper(options?.retry)
    const open = openBound(target.family, local, parent).pipe(Effect.provideService(Iocp.Iocp, port))
    let current: { readonly socket: Socket.Socket; readonly scope: CloseableScope } | undefined
    const loop = Effect.gen(function*() {
      current = yield* open
      while (true) {
        const attempt = yield* Effect.exit(connect(current.socket, target, { data: options?.data }))
        if (Exit.isSuccess(attempt)) return { socket: current.socket, bytesSent: attempt.value.bytesSent }
        const failure = failureOption(attempt.cause)
        if (Option.isNone(failure) || !WsaError.isRetryable(failure.value)) return yield* Effect.failCause(attempt.cause)
        if (!(yield* next(failure.value))) return yield* Effect.fail(failure.value)
        if (!(internal.isSocket(current.socket) && Core.SocketState.canConnectAgain(current.socket))) {
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
 * `ConnectEx.dial`: see its documentation there.
 */
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options: DialOptions<R> & { readonly timeout: DurationInput }
): Effect.Effect<Dialed, WsaError.DialFailure | TimeoutError, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R> & { readonly timeout?: undefined }
): Effect.Effect<Dialed, WsaError.DialFailure, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.DialFailure | TimeoutError, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.DialFailure | TimeoutError, ConnectEx | Scope.Scope | R> {
  const attempts = dialAttempts(address, options)
  // An invalid timeout is reported by checkDialOptions inside `attempts`, so it must not reach Effect.timeout.
  const timeout = options?.timeout === undefined ? undefined : durationOption(options.timeout)
  const bounded = timeout === undefined || Option.isNone(timeout) ? attempts : Effect.timeout(attempts, timeout.value)
  return bounded.pipe(withSpan("ConnectEx.dial", { "net.peer.address": describeAddress(address) }))
}

/** ConnectEx.retryPolicy: exponential from 50 ms, at most `times` retries, retryable codes only. */
export const retryPolicy: typeof retry.retryPolicy = retry.retryPolicy
