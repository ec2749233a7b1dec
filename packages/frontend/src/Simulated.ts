/**
 * A deterministic in-memory network behind the same `Driver` interface as the Windows and POSIX backends,
 * for testing code that connects: script what each destination does (accept, refuse the first N attempts,
 * never answer, time out, be unreachable, reset, answer late) and read back what was sent.
 *
 * Nothing leaves the process: the addresses are only names in the script. Time-based behaviour (delays,
 * SYN timeouts, resets and closes after a while) runs on Effect's `Clock`, so `TestClock.adjust` moves it.
 *
 * @example
 * import { Simulated } from "effect-connectex" // Effect 4: "@effect-connectex/effect4"
 *
 * const network = Simulated.network({
 *   "127.0.0.1:8080": Simulated.accept({ echo: true }),
 *   "192.0.2.1:80": Simulated.refuse({ times: 2 }),          // refused twice, then accepted
 *   "192.0.2.2:80": Simulated.blackhole({ synTimeout: "21 seconds" }),
 *   "198.51.100.9:*": Simulated.unreachable("network")           // any port
 * }, { default: Simulated.refuse() })
 *
 * @since 0.1.0
 */
import type { Driver } from "@effect-connectex/core"
import * as Sim from "@effect-connectex/core/simulated"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { decodeDuration, type DurationInput, serviceWith } from "./internal/effectVersion.js"
import * as clock from "./internal/simulated/clock.js"
import { NetworkLog } from "./internal/services.js"
import type { SocketAddress } from "./SocketAddress.js"

// The scenario builder is the core's, over Effect's Duration: behaviours keep Duration fields, and the driver is
// given the same description in milliseconds.
const dsl = Sim.scenario<DurationInput, Duration.Duration>({
  decode: decodeDuration,
  zero: Duration.zero,
  toMillis: Duration.toMillis
})

/**
 * The destination answers the SYN: the connect succeeds (after `delay`), the connect data and every send
 * are recorded, and the peer then behaves as configured (`echo`, `greeting`, `resetAfter`, `closeAfter`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Accept extends Sim.AcceptOf<Duration.Duration> {}

/**
 * Nothing listens: the connect fails `WSAECONNREFUSED` (after `delay`) for the first `times` attempts to the
 * address, then the address behaves as `then`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Refuse extends Sim.RefuseOf<Duration.Duration> {}

/**
 * The SYN is dropped: the connect stays pending until it is cancelled or its socket closed, or, with a
 * `synTimeout`, fails `WSAETIMEDOUT` once that much Clock time has passed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Blackhole extends Sim.BlackholeOf<Duration.Duration> {}

/**
 * No route: the connect fails `WSAENETUNREACH` ("network") or `WSAEHOSTUNREACH` ("host") after `delay`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Unreachable extends Sim.UnreachableOf<Duration.Duration> {}

/**
 * One behaviour per attempt: the n-th connect to the address uses the n-th entry, the last one repeats.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sequence extends Sim.SequenceOf<Duration.Duration> {}

/**
 * What a destination does when it is connected to.
 *
 * @since 0.1.0
 * @category models
 */
export type Behaviour = Accept | Refuse | Blackhole | Unreachable | Sequence

/**
 * A listening peer. Options: `delay` before the connect completes, `echo` to send back what it receives,
 * `greeting` bytes it sends first, `resetAfter` / `closeAfter` to end the connection after a while.
 *
 * @example
 * Simulated.accept({ echo: true, delay: "20 millis", greeting: "220 ready\r\n" })
 * @since 0.1.0
 * @category constructors
 */
export const accept: (options?: Sim.AcceptOptions<DurationInput>) => Accept = dsl.accept

/**
 * Refuses (`WSAECONNREFUSED`). Without `times` every attempt is refused; with `times` the first `times`
 * attempts are, and later ones behave as `then` (default: `accept()`).
 *
 * @example
 * Simulated.refuse({ times: 2, then: Simulated.accept({ echo: true }) })
 * @since 0.1.0
 * @category constructors
 */
export const refuse: (options?: Sim.RefuseOptions<DurationInput, Duration.Duration>) => Refuse = dsl.refuse

/**
 * Drops the SYN: pending until cancelled, or `WSAETIMEDOUT` after `synTimeout` of Clock time.
 *
 * @example
 * Simulated.blackhole({ synTimeout: "21 seconds" })
 * @since 0.1.0
 * @category constructors
 */
export const blackhole: (options?: { readonly synTimeout?: DurationInput }) => Blackhole = dsl.blackhole

/**
 * No route to the network (`WSAENETUNREACH`, the default) or to the host (`WSAEHOSTUNREACH`).
 *
 * @example
 * Simulated.unreachable("host")
 * @since 0.1.0
 * @category constructors
 */
export const unreachable: (target?: "network" | "host", options?: { readonly delay?: DurationInput }) => Unreachable =
  dsl.unreachable

/**
 * Accepts, then resets at once (or after `after`): the connect succeeds, send and receive fail
 * `WSAECONNRESET`. Shorthand for `accept({ resetAfter })`.
 *
 * @example
 * Simulated.reset({ after: "1 second" })
 * @since 0.1.0
 * @category constructors
 */
export const reset: (options?: { readonly after?: DurationInput; readonly delay?: DurationInput }) => Accept = dsl.reset

/**
 * One behaviour per attempt; the last one repeats.
 *
 * @example
 * Simulated.sequence(Simulated.blackhole(), Simulated.unreachable("host"), Simulated.accept())
 * @since 0.1.0
 * @category constructors
 */
export const sequence: (first: Behaviour, ...rest: Array<Behaviour>) => Sequence = dsl.sequence

/**
 * A scripted network: an immutable description, reusable across tests (attempt counters live in each
 * driver made from it): `routes` by `SocketAddress.format` text (a port of `*` matches any port of that host),
 * the `default` for destinations with no route, and the `localHost` a socket bound to the wildcard gets when
 * it connects to a non-loopback destination.
 *
 * @since 0.1.0
 * @category models
 */
export interface Network extends Sim.NetworkOf<Duration.Duration> {}

/**
 * A network from a script of `"host:port"` (or `"host:*"`) -> behaviour. Unlisted destinations behave as
 * `options.default` (default: `refuse()`, as a host with nothing listening). A malformed key throws.
 *
 * @example
 * const network = Simulated.network(
 *   { "127.0.0.1:80": Simulated.accept({ echo: true }), "[::1]:80": Simulated.reset() },
 *   { default: Simulated.unreachable("host") }
 * )
 * @since 0.1.0
 * @category constructors
 */
export const network: (routes: Readonly<Record<string, Behaviour>>, options?: Sim.NetworkOptions<Duration.Duration>) => Network = dsl.network

// ---------------------------------------------------------------------------------------------------------
// Scheduler and log
// ---------------------------------------------------------------------------------------------------------

/**
 * How the driver tells time: `now` in milliseconds, and `sleep` that calls `callback` once `millis` have
 * passed and returns a function that cancels it. `makeDriverEffect` implements it on Effect's Clock;
 * `manualScheduler` is a hand-cranked one for tests of the driver alone.
 *
 * @since 0.1.0
 * @category models
 */
export type Scheduler = Sim.Scheduler

/**
 * One connect attempt as the simulated network saw it.
 *
 * @since 0.1.0
 * @category models
 */
export type Attempt = Sim.Attempt

/**
 * What the simulated network recorded. Every read is a snapshot (copies).
 *
 * @since 0.1.0
 * @category models
 */
export type Log = Sim.Log

export { NetworkLog }

/**
 * Every byte sent to `address` so far.
 *
 * @example
 * const bytes = yield* Simulated.sent("127.0.0.1:8080")
 * @since 0.1.0
 * @category accessors
 */
export const sent = (address: SocketAddress | string): Effect.Effect<Uint8Array, never, NetworkLog> =>
  serviceWith(NetworkLog, (log) => log.sent(address))

/**
 * The connect attempts so far, optionally only those to `address`.
 *
 * @example
 * const attempts = yield* Simulated.attempts("192.0.2.1:80")
 * // attempts.map((a) => a.status) -> [10061, 10061, 0]
 * @since 0.1.0
 * @category accessors
 */
export const attempts = (
  address?: SocketAddress | string
): Effect.Effect<ReadonlyArray<Attempt>, never, NetworkLog> => serviceWith(NetworkLog, (log) => log.attempts(address))

// ---------------------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------------------

/**
 * A driver on the scripted network, with time from `scheduler`, and the log of what it saw (the core's
 * simulated driver, given this module's behaviours in milliseconds).
 *
 * - `bind` keeps the address; port 0 gets an ephemeral port (49152 upwards) at bind, or at connect with
 *   `deferPort`; two sockets on the same family and port fail `WSAEADDRINUSE` unless both set `SO_REUSEADDR`.
 * - `connect` follows the destination's behaviour; a failed or cancelled connect leaves the socket bound
 *   and ready to connect again. A socket bound to the wildcard gets a loopback source address for loopback
 *   destinations and `network.localHost` otherwise.
 * - `send` completes at once (recorded; echoed by an echo peer); `receive` completes when the peer has
 *   bytes (up to `maxBytes` of the byte stream, across sends), closed (empty bytes) or reset (`WSAECONNRESET`).
 * - `disconnect` is graceful and completes at once: the peer gets every byte sent before it, then the end of
 *   the stream (an echo peer then closes its side). Without `reuse`, `send` fails `WSAESHUTDOWN`, `connect`
 *   `WSAEISCONN`, and `receive` drains what the peer still sends; with `reuse` pending receives complete
 *   with 995 and the socket may connect again.
 * - `close` completes every pending operation of the socket with 995 before it returns.
 * - `liveAllocations` = open sockets + pending operations.
 *
 * @example
 * const manual = Simulated.manualScheduler()
 * const { driver, log } = Simulated.makeDriver(Simulated.network({}), manual.scheduler)
 * @since 0.1.0
 * @category constructors
 */
export const makeDriver = (net: Network, scheduler: Scheduler): { readonly driver: Driver; readonly log: Log } =>
  Sim.makeDriver(dsl.toNetwork(net), scheduler)

// ---------------------------------------------------------------------------------------------------------
// Schedulers
// ---------------------------------------------------------------------------------------------------------

/**
 * A scheduler on the current Effect Clock: each sleep is a fiber running `Effect.sleep`, so `TestClock`
 * moves it (in Effect 4, `it.effect`'s); the fibers are interrupted when the scope closes.
 *
 * @example
 * const scheduler = yield* Simulated.clockScheduler // TestClock.adjust moves it
 * @since 0.1.0
 * @category constructors
 */
export const clockScheduler: Effect.Effect<Scheduler, never, Scope.Scope> = clock.clockScheduler

/**
 * A driver on the scripted network whose time is the current Effect Clock (so `TestClock.adjust` moves
 * delays and timeouts). When the scope closes, its timers stop and any socket still open is closed.
 * This is what `ConnectEx.layerSimulated` is built from.
 *
 * @example
 * import { Effect, TestClock } from "effect" // Effect 4: TestClock from "effect/testing"
 * import { Simulated, SocketAddress } from "effect-connectex" // Effect 4: "@effect-connectex/effect4"
 *
 * const program = Effect.gen(function*() {
 *   const { driver, log } = yield* Simulated.makeDriverEffect(
 *     Simulated.network({ "192.0.2.1:80": Simulated.blackhole({ synTimeout: "21 seconds" }) })
 *   )
 *   const opened = driver.open("ipv4")
 *   if (!opened.ok) return
 *   driver.bind(opened.value, SocketAddress.wildcard("ipv4"), false)
 *   driver.connect(opened.value, SocketAddress.ipv4("192.0.2.1", 80), undefined, (c) => console.log(c.status))
 *   yield* TestClock.adjust("21 seconds") // logs 10060 (WSAETIMEDOUT)
 *   console.log(log.attempts())
 * }).pipe(Effect.scoped)
 * @since 0.1.0
 * @category constructors
 */
export const makeDriverEffect = (
  net: Network
): Effect.Effect<{ readonly driver: Driver; readonly log: Log }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scheduler = yield* clockScheduler
    const made = makeDriver(net, scheduler)
    yield* Effect.addFinalizer(() => Effect.sync(() => made.driver.cleanup()))
    return made
  })

/**
 * A scheduler moved by hand, for tests of the driver without Effect: `advance(millis)` runs, in time order,
 * every callback due by then.
 *
 * @example
 * const manual = Simulated.manualScheduler()
 * const { driver } = Simulated.makeDriver(network, manual.scheduler)
 * manual.advance(1000)
 * @since 0.1.0
 * @category constructors
 */
export const manualScheduler = (): Sim.ManualScheduler => Sim.manualScheduler()
