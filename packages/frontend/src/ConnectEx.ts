/**
 * The ConnectEx service: connect a bound socket (optionally sending the first bytes), and `dial`, which
 * binds, connects, retries what is worth retrying and times out in one call.
 *
 * @since 0.1.0
 */
import type * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as WsaError from "./errors/WsaError.js"
import * as internal from "./internal/dial.js"
import { serviceWith, unwrapScoped } from "./internal/effectVersion.js"
import * as Iocp from "./Iocp.js"
import type * as Simulated from "./Simulated.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Service = internal.Service

/**
 * The ConnectEx service: present when a layer with a working driver was built.
 *
 * @example
 * const { driver } = yield* ConnectEx.ConnectEx // "posix", "windows" or "simulated"
 * @since 0.1.0
 * @category services
 */
export const ConnectEx: typeof internal.ConnectEx = internal.ConnectEx

/**
 * @since 0.1.0
 * @category services
 */
export type ConnectEx = internal.ConnectEx

/**
 * @since 0.1.0
 * @category models
 */
export type ConnectOptions = internal.ConnectOptions

/**
 * @since 0.1.0
 * @category models
 */
export type Connected = internal.Connected

/**
 * @since 0.1.0
 * @category models
 */
export type DialOptions<R = never> = internal.DialOptions<R>

/**
 * @since 0.1.0
 * @category models
 */
export type Dialed = internal.Dialed

/**
 * Connects a bound socket, sending `data` (all of it) once connected; `bytesSent` says how much.
 *
 * Fails with one tagged error per WSA code: unbound WSAEINVAL, connected WSAEISCONN, pending WSAEALREADY,
 * 0.0.0.0 WSAEADDRNOTAVAIL, closed WSAENOTSOCK, and what the network says (WSAECONNREFUSED, ...).
 * After WSAECONNREFUSED, WSAENETUNREACH or WSAETIMEDOUT the same socket may connect again; after any other
 * failure it is unusable. Interrupting it cancels the kernel operation and waits for it; a cancelled connect
 * spends the socket (Windows cannot reuse it; Go and .NET close it), so connect a new one.
 *
 * @example
 * const { bytesSent } = yield* ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", 8080), { data })
 * @since 0.1.0
 * @category connecting
 */
export const connect: typeof internal.connect = internal.connect

/**
 * Binds (to `bind`, or the wildcard of the destination's family), connects with `data`, retries with
 * `retry` only while the error is retryable (on a fresh socket when the old one became unusable), and
 * applies `timeout` to all of it (its error type has `TimeoutException`, in Effect 4 `Cause.TimeoutError`,
 * only when `timeout` is given).
 * The socket lives in the caller's scope; a dial that fails, times out or is interrupted closes its socket
 * before it returns.
 *
 * @example
 * const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 8080), {
 *   retry: ConnectEx.retryPolicy(5),
 *   timeout: "5 seconds"
 * })
 * @since 0.1.0
 * @category connecting
 */
export const dial: typeof internal.dial = internal.dial

// Connect by name or by list, racing attempts per RFC 8305 (Happy Eyeballs). Re-exported rather than
// re-assigned: HappyEyeballs.ts imports dial from internal/dial.js, and this module from it.
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
export const retryPolicy: typeof internal.retryPolicy = internal.retryPolicy

/**
 * The service and the completion port over a given driver.
 *
 * @example
 * const layer = ConnectEx.layerDriver(Effect.succeed(myDriver)) // a Driver of your own
 * @since 0.1.0
 * @category layers
 */
export const layerDriver = (
  driver: Effect.Effect<Core.Driver, WsaError.WsaError>
): Layer.Layer<ConnectEx | Iocp.Iocp, WsaError.WsaError> =>
  Layer.effect(ConnectEx, serviceWith(Iocp.Iocp, (port) => ({ driver: Iocp.portOf(port).driver.name, iocp: port }))).pipe(
    Layer.provideMerge(Iocp.layer(driver))
  )

const unavailable = (detail: string) => (cause: unknown) =>
  WsaError.fromName("WSASYSNOTREADY", { operation: "layer", detail: `${detail}: ${String(cause)}` })

const platformDriver: Effect.Effect<Core.Driver, WsaError.WsaError> = Effect.suspend((): Effect.Effect<Core.Driver, WsaError.WsaError> => {
  switch (process.platform) {
    case "linux":
      return Effect.tryPromise({
        try: () => import("@effect-connectex/core/posix").then((m) => m.makePosixDriver()),
        catch: unavailable("the POSIX driver could not load libc")
      })
    case "win32":
      return Effect.tryPromise({
        try: () => import("@effect-connectex/core/windows").then((m) => m.makeWindowsDriver()),
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
 * so that `TestClock.adjust` moves it (in Effect 4, `it.effect`'s). Also provides `Simulated.NetworkLog`: what was
 * attempted and sent. Closing the layer aborts what is pending, stops the timers and closes what is open.
 *
 * @example
 * import { Effect, Schedule } from "effect"
 * import { ConnectEx, Simulated, SocketAddress } from "effect-connectex" // Effect 4: "@effect-connectex/effect4"
 *
 * const network = Simulated.network({ "192.0.2.1:80": Simulated.refuse({ times: 2 }) })
 * const program = ConnectEx.dial(SocketAddress.ipv4("192.0.2.1", 80), { retry: Schedule.recurs(3) })
 * program.pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(network)))
 * @since 0.1.0
 * @category layers
 */
export const layerSimulated = (
  network: Simulated.Network
): Layer.Layer<ConnectEx | Iocp.Iocp | Simulated.NetworkLog> =>
  unwrapScoped(
    // Loaded when the layer is built: programs that only use `layer` never load the simulated network.
    Effect.promise(() => import("./Simulated.js")).pipe(
      Effect.flatMap((Simulated) =>
        Effect.map(Simulated.makeDriverEffect(network), ({ driver, log }) =>
          Layer.merge(
            // the simulated driver's startup always answers 0: a failure here would be a defect
            Layer.orDie(layerDriver(Effect.succeed(driver))),
            Layer.succeed(Simulated.NetworkLog, log)
          ))
      )
    )
  )

/**
 * Which driver the layer picked: "posix", "windows" or "simulated" (or the name of a driver given to
 * `layerDriver`).
 *
 * @example
 * const name = yield* ConnectEx.driverName // "posix" on Linux
 * @since 0.1.0
 * @category accessors
 */
export const driverName: Effect.Effect<Core.DriverName, never, ConnectEx> = serviceWith(ConnectEx, (s) => s.driver)
