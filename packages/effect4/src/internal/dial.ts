/**
 * The ConnectEx service and its two calls, `connect` and `dial`.
 */
import * as Core from "@effect-connectex/core"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as WsaError from "../errors/WsaError.js"
import * as Iocp from "../Iocp.js"
import * as Metrics from "../Metrics.js"
import * as Socket from "../Socket.js"
import type * as SocketAddress from "../SocketAddress.js"
import { operation } from "./port.js"
import * as internal from "./socket.js"

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
 * The ConnectEx service: present when a layer with a working driver was built.
 *
 * @since 0.1.0
 * @category services
 */
export class ConnectEx extends Context.Service<ConnectEx, Service>()("@effect-connectex/effect4/ConnectEx") {}

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
  ConnectEx.use(() =>
    Effect.clockWith((clock) =>
      Effect.suspend(() => {
        const checked = Core.Io.checkConnect(socket, address, options)
        if (Core.isFailure(checked)) return failed(connectError(checked))
        const started = clock.currentTimeNanosUnsafe()
        // The outcome is settled and measured in the completion itself, so that it holds even when the
        // waiting fiber was interrupted a moment earlier.
        const observe = () => Metrics.unsafe.connectLatency(Number(clock.currentTimeNanosUnsafe() - started) / 1e6)
        return Effect.flatMap(
          operation((onLater) => Core.Io.connect(checked, () => clock.currentTimeMillisUnsafe(), onLater, observe)),
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
    Effect.withSpan("ConnectEx.connect", { attributes: { "net.peer.address": describeAddress(address) } })
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
  readonly retry?: Schedule.Schedule<unknown, WsaError.Retryable, never, R> | undefined
  /** bounds the whole dial, retries included */
  readonly timeout?: Duration.Input | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Dialed {
  readonly socket: Socket.Socket
  readonly bytesSent: number
}

/** A duration from an untyped caller: None when Effect cannot read it as one (then a WSAEINVAL, never a throw). */
export const decodeDuration = (input: unknown): Option.Option<Duration.Duration> => {
  try {
    return Duration.fromInput(input as Duration.Input)
  } catch {
    return Option.none()
  }
}

/** What Effect 4 takes as a duration and as a schedule, for the core's checks of dial's options. */
export const kinds: Core.Dialing.Kinds = {
  isDuration: (u) => Option.isSome(decodeDuration(u)),
  isSchedule: Schedule.isSchedule
}

/** A socket in a scope of its own, so that dial can close a replaced socket at once. */
const openBound = (family: SocketAddress.Family, local: SocketAddress.SocketAddress, parent: Scope.Scope) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(parent, "sequential")
    const socket = yield* Effect.onError(
      Scope.provide(scope)(Effect.tap(Socket.open({ family }), (socket) => Socket.bind(socket, local))),
      () => Scope.close(scope, Exit.void)
    )
    return { socket, scope }
  })

type Step = { readonly _tag: "Continue"; readonly delay: Duration.Duration } | { readonly _tag: "Done" }

/**
 * Effect 4 has no `Schedule.driver`: a stepper over `Schedule.toStep` that sleeps the delay and latches
 * `Done` (a raw step is not sticky after Done).
 */
const makeStepper = <R>(schedule: Schedule.Schedule<unknown, WsaError.Retryable, never, R> | undefined) =>
  Effect.gen(function*() {
    if (schedule === undefined) return (_: WsaError.Retryable): Effect.Effect<boolean, never, R> => Effect.succeed(false)
    const step = yield* Schedule.toStep(schedule)
    let done = false
    return (input: WsaError.Retryable): Effect.Effect<boolean, never, R> =>
      done ? Effect.succeed(false) : Effect.clockWith((clock) =>
        step(clock.currentTimeMillisUnsafe(), input).pipe(
          Effect.map(([, delay]): Step => ({ _tag: "Continue", delay })),
          Pull.catchDone(() => Effect.succeed<Step>({ _tag: "Done" })),
          Effect.flatMap((next) => {
            if (next._tag === "Done") {
              done = true
              return Effect.succeed(false)
            }
            return Effect.as(Effect.sleep(next.delay), true)
          })
        )
      )
  })

/** What `dial` does, without its timeout: the socket it is using is closed on every way out but success. */
const dialAttempts = <R>(address: SocketAddress.SocketAddress, options: DialOptions<R> | undefined) =>
  Effect.gen(function*() {
    const checked = Core.Dialing.checkDial(address, options, kinds)
    if (Core.isFailure(checked)) return yield* Effect.fail(dialCheckError(checked))
    const { local, target } = checked
    const { iocp: port } = yield* ConnectEx
    const parent = yield* Effect.scope
    const next = yield* makeStepper(options?.retry)
    const open = openBound(target.family, local, parent).pipe(Effect.provideService(Iocp.Iocp, port))
    let current: { readonly socket: Socket.Socket; readonly scope: Scope.Closeable } | undefined
    const loop = Effect.gen(function*() {
      current = yield* open
      while (true) {
        const attempt = yield* Effect.exit(connect(current.socket, target, { data: options?.data }))
        if (Exit.isSuccess(attempt)) return { socket: current.socket, bytesSent: attempt.value.bytesSent }
        const failure = Cause.findErrorOption(attempt.cause)
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
  options: DialOptions<R> & { readonly timeout: Duration.Input }
): Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutError, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R> & { readonly timeout?: undefined }
): Effect.Effect<Dialed, WsaError.DialFailure, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutError, ConnectEx | Scope.Scope | R>
export function dial<R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.DialFailure | Cause.TimeoutError, ConnectEx | Scope.Scope | R> {
  const attempts = dialAttempts(address, options)
  // An invalid timeout is reported by checkDialOptions inside `attempts`, so it must not reach Effect.timeout.
  const timeout = options?.timeout === undefined ? undefined : decodeDuration(options.timeout)
  const bounded = timeout === undefined || Option.isNone(timeout) ? attempts : Effect.timeout(attempts, timeout.value)
  return Effect.withSpan(bounded, "ConnectEx.dial", { attributes: { "net.peer.address": describeAddress(address) } })
}
