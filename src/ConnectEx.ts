/**
 * The ConnectEx service: connect a bound socket (optionally sending the first bytes), and `dial`, which
 * binds, connects, retries what is worth retrying and times out in one call.
 *
 * @since 0.1.0
 */
import { Cause, Context, Duration, Effect, ExecutionStrategy, Exit, Layer, MetricLabel, Option, Schedule, Scope } from "effect"
import { codeOf } from "./errors/codes.js"
import * as WsaError from "./errors/WsaError.js"
import * as internal from "./internal/socket.js"
import * as Iocp from "./Iocp.js"
import * as Metrics from "./Metrics.js"
import * as Simulated from "./Simulated.js"
import type { Done, Driver } from "./native/Driver.js"
import * as Socket from "./Socket.js"
import * as SocketAddress from "./SocketAddress.js"
import { describe } from "./internal/describe.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** which backend the layer picked: "posix", "windows" or "simulated" */
  readonly driver: Driver["name"]
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

const retryableStatus = new Set([codeOf("WSAECONNREFUSED"), codeOf("WSAENETUNREACH"), codeOf("WSAETIMEDOUT")])

/** What the socket becomes when its connect completes; runs in the completion itself, so it holds even
 * when the waiting fiber was interrupted a moment earlier. */
const settle = (s: internal.SocketImpl, status: number, now: number): void => {
  if (s.state !== "connecting") return
  if (status === 0) {
    s.state = "connected"
    s.connectedAt = now
    s.sendShut = false
    return
  }
  // Refused, unreachable or timed out: the same socket may connect again once reset. A cancelled connect
  // leaves a Windows socket unusable, so it spends the socket on every backend (dial opens a fresh one).
  if (retryableStatus.has(status) && s.port.driver.resetConnect(s.native) === 0) {
    s.state = "open"
    return
  }
  s.state = "spent"
  s.spentBy = WsaError.fromCode(status, { operation: "connect" })._tag
}

interface Checked {
  readonly s: internal.SocketImpl
  readonly target: SocketAddress.SocketAddress
  readonly data: Uint8Array | undefined
}

/** Every check before the kernel is involved, synchronously: this runs on every connect. */
const checkConnect = (
  socket: Socket.Socket,
  address: SocketAddress.SocketAddress,
  options: ConnectOptions | undefined
): Checked | WsaError.WsaError => {
  const s = internal.usableSync(socket, "connect")
  if (!internal.isSocket(s)) return s
  const target = SocketAddress.validateSync(address, "connect")
  if (WsaError.isWsaError(target)) return target
  const data = (options as { data?: unknown } | undefined)?.data
  if (data !== undefined && !(data instanceof Uint8Array)) {
    return internal.wsaError("WSAEFAULT", "connect", target, "data must be a Uint8Array")
  }
  if (target.family !== s.family) {
    return internal.wsaError("WSAEAFNOSUPPORT", "connect", target, `an ${target.family} destination on an ${s.family} socket`)
  }
  switch (s.state) {
    case "connecting":
      return internal.wsaError("WSAEALREADY", "connect", target)
    case "connected":
      return internal.wsaError("WSAEISCONN", "connect", target)
    case "spent":
      return internal.wsaError("WSAEINVAL", "connect", target, `the socket is unusable after ${s.spentBy ?? "an earlier failure"}; open a new one`)
  }
  if (!s.bound) return internal.wsaError("WSAEINVAL", "connect", target, "the socket is not bound: call Socket.bind first")
  if (SocketAddress.isUnspecified(target) || target.port === 0) {
    return internal.wsaError("WSAEADDRNOTAVAIL", "connect", target, "the destination must be a concrete address and port")
  }
  return { s, target, data: data as Uint8Array | undefined }
}

/** A failed connect: counted by tag, and the span says why. */
const failed = (error: WsaError.WsaError) => {
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
        const checked = checkConnect(socket, address, options)
        if (WsaError.isWsaError(checked)) return failed(checked)
        const { data, s, target } = checked
        const started = clock.unsafeCurrentTimeNanos()
        s.state = "connecting"
        // The outcome is settled and measured in the completion itself, so that it holds even when the
        // waiting fiber was interrupted a moment earlier.
        const start = (done: Done) =>
          s.port.driver.connect(s.native, target, data, (completion) => {
            settle(s, completion.status, clock.unsafeCurrentTimeMillis())
            Metrics.connectLatency.unsafeUpdate(Number(clock.unsafeCurrentTimeNanos() - started) / 1e6, [])
            done(completion)
          })
        return Effect.flatMap(s.port.submit(start), (completion) =>
          completion.status !== 0
            ? failed(internal.fromStatus(completion.status, "connect", target))
            : Effect.as(
              Effect.annotateCurrentSpan({ "connectex.outcome": "connected", "connectex.bytes_sent": completion.bytes }),
              { bytesSent: completion.bytes }
            ))
      })
    )
  ).pipe(
    Effect.withSpan("ConnectEx.connect", {
      attributes: { "net.peer.address": describeAddress(address) },
      captureStackTrace: false
    })
  ) as Effect.Effect<Connected, WsaError.ConnectError, ConnectEx>

const describeAddress = (address: unknown): string => {
  try {
    return SocketAddress.format(address as SocketAddress.SocketAddress)
  } catch {
    return describe(address)
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DialOptions<R = never> {
  /** the local address to bind (default: the wildcard of the destination's family, port 0) */
  readonly bind?: SocketAddress.SocketAddress | undefined
  readonly data?: Uint8Array | undefined
  /** stepped only for WSAECONNREFUSED, WSAENETUNREACH and WSAETIMEDOUT; its input is that error */
  readonly retry?: Schedule.Schedule<unknown, WsaError.ConnectError, R> | undefined
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

/** Options from untyped callers: a WSAEINVAL value, never a defect deep inside Effect.timeout or a schedule. */
const checkDialOptions = (options: DialOptions<unknown> | undefined): Effect.Effect<void, WsaError.WSAEINVAL> =>
  Effect.suspend(() => {
    const invalid = (detail: string) => Effect.fail(new WsaError.WSAEINVAL({ operation: "connect", detail }))
    if (options === undefined) return Effect.void
    if (typeof options !== "object" || options === null) return invalid(`dial options must be an object, got ${describe(options)}`)
    if (options.timeout !== undefined && Option.isNone(Duration.decodeUnknown(options.timeout))) {
      return invalid(`timeout is not a duration: ${describe(options.timeout)}`)
    }
    if (options.retry !== undefined && !Schedule.isSchedule(options.retry)) {
      return invalid(`retry is not a Schedule: ${describe(options.retry)}`)
    }
    return Effect.void
  })

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

/**
 * Binds (to `bind`, or the wildcard of the destination's family), connects with `data`, retries with
 * `retry` only while the error is retryable (on a fresh socket when the old one became unusable), and
 * applies `timeout` to all of it. The socket lives in the caller's scope.
 *
 * @example
 * const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 8080), {
 *   retry: Schedule.exponential("10 millis").pipe(Schedule.compose(Schedule.recurs(5))),
 *   timeout: "5 seconds"
 * })
 * @since 0.1.0
 * @category connecting
 */
export const dial = <R = never>(
  address: SocketAddress.SocketAddress,
  options?: DialOptions<R>
): Effect.Effect<Dialed, WsaError.ConnectError | Cause.TimeoutException, ConnectEx | Scope.Scope | R> => {
  const attempts = Effect.gen(function*() {
    yield* checkDialOptions(options)
    const target = yield* SocketAddress.validate(address, "connect")
    const local = options?.bind === undefined
      ? SocketAddress.wildcard(target.family)
      : yield* SocketAddress.validate(options.bind, "bind")
    const port = yield* Iocp.Iocp
    const parent = yield* Effect.scope
    const schedule = yield* Schedule.driver(options?.retry ?? (Schedule.stop as Schedule.Schedule<unknown, WsaError.ConnectError, R>))
    let current = yield* openBound(target.family, local, parent).pipe(Effect.provideService(Iocp.Iocp, port))
    while (true) {
      const attempt = yield* Effect.exit(connect(current.socket, target, { data: options?.data }))
      if (Exit.isSuccess(attempt)) return { socket: current.socket, bytesSent: attempt.value.bytesSent }
      const failure = Cause.failureOption(attempt.cause)
      if (failure._tag === "None" || !WsaError.isRetryable(failure.value)) {
        yield* Scope.close(current.scope, Exit.void)
        return yield* Effect.failCause(attempt.cause)
      }
      const next = yield* Effect.either(schedule.next(failure.value))
      if (next._tag === "Left") {
        yield* Scope.close(current.scope, Exit.void)
        return yield* Effect.fail(failure.value)
      }
      if ((current.socket as internal.SocketImpl).state !== "open") {
        yield* Scope.close(current.scope, Exit.void)
        current = yield* openBound(target.family, local, parent).pipe(Effect.provideService(Iocp.Iocp, port))
      }
    }
  })
  // An invalid timeout is reported by checkDialOptions inside `attempts`, so it must not reach Effect.timeout.
  const timeout = options?.timeout === undefined ? undefined : Duration.decodeUnknown(options.timeout)
  const bounded = timeout === undefined || Option.isNone(timeout) ? attempts : Effect.timeout(attempts, timeout.value)
  return Effect.withSpan(bounded, "ConnectEx.dial", {
    attributes: { "net.peer.address": describeAddress(address) },
    captureStackTrace: false
  }) as Effect.Effect<
    Dialed,
    WsaError.ConnectError | Cause.TimeoutException,
    ConnectEx | Scope.Scope | R
  >
}

// Connect by name or by list, racing attempts per RFC 8305 (Happy Eyeballs). Re-exported rather than
// re-assigned: HappyEyeballs.ts imports dial from this module.
export {
  /** @since 0.1.0 */
  type DialedAddress,
  /** @since 0.1.0 */
  DialError,
  /** @since 0.1.0 */
  dialList,
  /** @since 0.1.0 */
  type DialManyOptions,
  /** @since 0.1.0 */
  dialName,
  /** @since 0.1.0 */
  type FailedAttempt
} from "./HappyEyeballs.js"

/**
 * The retry policy worth starting from: exponential back-off from 50 ms, at most `times` retries, for the
 * retryable codes only (dial never steps a schedule for other errors).
 *
 * @example
 * yield* ConnectEx.dial(target, { retry: ConnectEx.retryPolicy(3) })
 * @since 0.1.0
 * @category retrying
 */
export const retryPolicy = (times = 5): Schedule.Schedule<unknown, WsaError.ConnectError> =>
  Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(times)), Schedule.whileInput(WsaError.isRetryable))

/**
 * The service and the completion port over a given driver.
 *
 * @example
 * const layer = ConnectEx.layerDriver(Effect.succeed(myDriver)) // a Driver of your own
 * @since 0.1.0
 * @category layers
 */
export const layerDriver = (driver: Effect.Effect<Driver, WsaError.WsaError>): Layer.Layer<ConnectEx | Iocp.Iocp, WsaError.WsaError> =>
  Layer.effect(ConnectEx, Effect.map(Iocp.Iocp, (port) => ({ driver: port.driver.name }))).pipe(
    Layer.provideMerge(Iocp.layer(driver))
  )

const unavailable = (detail: string) => (cause: unknown) =>
  WsaError.fromName("WSASYSNOTREADY", { operation: "layer", detail: `${detail}: ${String(cause)}` })

const platformDriver: Effect.Effect<Driver, WsaError.WsaError> = Effect.suspend(() => {
  switch (process.platform) {
    case "linux":
      return Effect.tryPromise({
        try: () => import("./native/posix/driver.js").then((m) => m.makePosixDriver()),
        catch: unavailable("the POSIX driver could not load libc")
      })
    case "win32":
      return Effect.tryPromise({
        try: () => import("./native/windows/driver.js").then((m) => m.makeWindowsDriver()),
        catch: unavailable("the Windows driver could not load ws2_32")
      })
    default:
      return Effect.fail(
        WsaError.fromName("WSAEOPNOTSUPP", { operation: "layer", detail: `no driver for platform ${process.platform}` })
      )
  }
})

/**
 * ConnectEx and the completion port for this operating system: windows on win32, posix on linux; any
 * other platform fails at layer build with WSAEOPNOTSUPP.
 *
 * @example
 * program.pipe(Effect.scoped, Effect.provide(ConnectEx.layer))
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ConnectEx | Iocp.Iocp, WsaError.WsaError> = layerDriver(platformDriver)

/**
 * ConnectEx over a deterministic in-memory network, for your own tests: scripted behaviour per address
 * (accept, refuse N times, never answer, unreachable, reset, delay), with time taken from Effect's `Clock`
 * so that `TestClock.adjust` moves it. Also provides `Simulated.NetworkLog`: what was attempted and sent.
 *
 * @example
 * const network = Simulated.network({ "192.0.2.1:80": Simulated.refuse({ times: 2 }) })
 * const program = ConnectEx.dial(SocketAddress.ipv4("192.0.2.1", 80), { retry: Schedule.recurs(3) })
 * program.pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(network)))
 * @since 0.1.0
 * @category layers
 */
export const layerSimulated = (
  network: Simulated.Network
): Layer.Layer<ConnectEx | Iocp.Iocp | Simulated.NetworkLog> =>
  Layer.unwrapScoped(
    Effect.map(Simulated.makeDriverEffect(network), ({ driver, log }) =>
      Layer.merge(
        layerDriver(Effect.succeed(driver)) as Layer.Layer<ConnectEx | Iocp.Iocp>,
        Layer.succeed(Simulated.NetworkLog, log)
      ))
  )

/**
 * Which driver the layer picked: "posix", "windows" or "simulated".
 *
 * @example
 * const name = yield* ConnectEx.driverName // "posix" on Linux
 * @since 0.1.0
 * @category accessors
 */
export const driverName: Effect.Effect<Driver["name"], never, ConnectEx> = Effect.map(ConnectEx, (s) => s.driver)
