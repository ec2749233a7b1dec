/**
 * Connecting to a name or a list of addresses, racing the attempts as RFC 8305 ("Happy Eyeballs v2")
 * describes: IPv6 first, families interleaved, a new attempt every `attemptDelay` (250 ms) or as soon as
 * one fails, the first connection wins and the others are cancelled and closed.
 *
 * `ConnectEx.dialName` and `ConnectEx.dialList` are these functions.
 *
 * @since 0.1.0
 */
import { describe, HappyEyeballs as Core, isFailure, Race } from "@effect-connectex/core"
import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type * as ConnectEx from "./internal/dial.js"
import { dial, kinds as dialKinds } from "./internal/dial.js"
import {
  callback,
  type DurationInput,
  durationOption,
  failureOption,
  forkScope,
  inScope,
  interruptUnsafe,
  isInterruptedOnly,
  runForkFrom,
  type TimeoutError,
  withSpan,
  yieldNow
} from "./internal/effectVersion.js"
import { sleepOn } from "./internal/sleep.js"
import * as internal from "./internal/socket.js"
import * as WsaError from "./errors/WsaError.js"
import * as Resolver from "./Resolver.js"
import type * as SocketAddress from "./SocketAddress.js"

/**
 * RFC 8305's recommended Connection Attempt Delay.
 *
 * @example
 * ConnectEx.dialName("db.test", 5432, { attemptDelay: Duration.times(HappyEyeballs.DEFAULT_ATTEMPT_DELAY, 2) })
 * @since 0.1.0
 */
export const DEFAULT_ATTEMPT_DELAY: Duration.Duration = Duration.millis(250)

/**
 * The options of `dialName` and `dialList`: those of `ConnectEx.dial` (its `retry` applies to each
 * attempt, its `timeout` to the whole race) and the stagger between attempts.
 *
 * @example
 * const options: HappyEyeballs.DialManyOptions = { attemptDelay: "100 millis", timeout: "5 seconds" }
 * @since 0.1.0
 * @category models
 */
export interface DialManyOptions<R = never> extends ConnectEx.DialOptions<R> {
  /**
   * how long an attempt has alone before the next one starts (RFC 8305's Connection Attempt Delay,
   * default 250 ms); a failed attempt starts the next one at once
   */
  readonly attemptDelay?: DurationInput | undefined
}

/**
 * One attempt of a failed `dialName` / `dialList`: where it went and how it failed.
 *
 * @example
 * const tags = dialError.attempts.map((a: HappyEyeballs.FailedAttempt) => `${SocketAddress.format(a.address)}: ${a.error._tag}`)
 * @since 0.1.0
 * @category models
 */
export interface FailedAttempt {
  readonly address: SocketAddress.SocketAddress
  readonly error: WsaError.DialFailure
}

/**
 * Every attempt failed: `attempts` lists each address tried, in the order the attempts started, with its
 * typed WSA error.
 *
 * @example
 * const program = ConnectEx.dialName("db.test", 5432).pipe(
 *   Effect.catchTag("DialError", (error) => Effect.fail(error.attempts.map((a) => a.error._tag)))
 * )
 * @since 0.1.0
 * @category errors
 */
export class DialError extends Data.TaggedError("DialError")<{
  /** the name dialed (`dialName`), or undefined for `dialList` */
  readonly host: string | undefined
  readonly port: number
  readonly attempts: ReadonlyArray<FailedAttempt>
  readonly message: string
}> {
  constructor(props: { readonly host: string | undefined; readonly port: number; readonly attempts: ReadonlyArray<FailedAttempt> }) {
    super({ ...props, message: Core.dialErrorMessage(props.host, props.port, props.attempts) })
  }
}

/**
 * What a successful `dialName` / `dialList` gives: the connected socket (in the caller's scope), the
 * bytes of `data` sent, and the address that won the race.
 *
 * @example
 * const { socket, address }: HappyEyeballs.DialedAddress = yield* ConnectEx.dialName("localhost", 8080)
 * @since 0.1.0
 * @category models
 */
export interface DialedAddress extends ConnectEx.Dialed {
  readonly address: SocketAddress.SocketAddress
}

/**
 * RFC 8305 section 4: IPv6 first, then the families alternate, each family keeping its own order.
 * Duplicates are dropped.
 *
 * @example
 * HappyEyeballs.interleave([v4a, v4b, v6a]) // [v6a, v4a, v4b]
 * @since 0.1.0
 * @category ordering
 */
export const interleave = (addresses: ReadonlyArray<SocketAddress.SocketAddress>): Array<SocketAddress.SocketAddress> =>
  Core.interleave(addresses)

/** A literal the resolver gave that a socket cannot take, as the WSAEINVAL attempt it becomes. */
const unusableAttempt = (literal: Core.UnusableLiteral): FailedAttempt => ({
  address: literal.address,
  error: new WsaError.WSAEINVAL(Core.unusableContext(literal))
})

const toDialFailure = WsaError.narrowingError(WsaError.dialTags)

/** The race's end as the core's machine gives it; a defect is the attempt's whole cause. */
type RaceEnd = Race.RaceEnd<SocketAddress.SocketAddress, ConnectEx.Dialed, WsaError.DialFailure, Cause.Cause<WsaError.DialFailure>>

/**
 * The race's end for the caller: the winner, or (every attempt failed) the error they share when they all
 * failed alike (one attempt: its own error), so that `catchTag("WSAECONNREFUSED")` works on a name as on an
 * address; a `DialError` listing each otherwise.
 */
const raceOutcome = (host: string | undefined, port: number, end: RaceEnd): Effect.Effect<DialedAddress, DialError | WsaError.DialFailure> => {
  switch (end._tag) {
    case "won":
      return Effect.succeed({ socket: end.connection.socket, bytesSent: end.connection.bytesSent, address: end.address })
    case "own":
      return Effect.fail(end.error)
    case "shared":
      return Effect.fail(toDialFailure(WsaError.fromCode(end.code, end.context)))
    case "mixed":
      return Effect.fail(new DialError({ host, port, attempts: end.attempts }))
    case "defect":
      return Effect.failCause(end.defect)
  }
}

/** How an attempt's dial ended, as the race reads it. */
const attemptEnd = (
  exit: Exit.Exit<ConnectEx.Dialed, WsaError.DialFailure>
): Race.AttemptEnd<ConnectEx.Dialed, WsaError.DialFailure, Cause.Cause<WsaError.DialFailure>> => {
  if (Exit.isSuccess(exit)) return { _tag: "connected", connection: exit.value }
  const error = failureOption(exit.cause)
  if (Option.isSome(error)) return { _tag: "failed", error: error.value }
  return isInterruptedOnly(exit.cause) ? { _tag: "interrupted" } : { _tag: "defect", defect: exit.cause }
}

const stopped = (racing: Race.Racing): Effect.Effect<void> => callback<void>((resume) => racing.stop(() => resume(Effect.void)))

/**
 * The race itself, over addresses already ordered; `timeout` is applied by the callers. The core's machine
 * decides when each attempt starts and how the race ends; here each attempt is a fiber and the delay a sleep
 * on Effect's Clock (a TestClock moves it).
 */
const race = <R>(
  host: string | undefined,
  port: number,
  addresses: ReadonlyArray<SocketAddress.SocketAddress>,
  unusable: ReadonlyArray<FailedAttempt>,
  options: DialManyOptions<R> | undefined
): Effect.Effect<DialedAddress, DialError | WsaError.DialFailure, ConnectEx.ConnectEx | Scope.Scope | R> =>
  Effect.gen(function*() {
    const delay = Option.getOrElse(durationOption(options?.attemptDelay ?? DEFAULT_ATTEMPT_DELAY), () => DEFAULT_ATTEMPT_DELAY)
    const attemptOptions: ConnectEx.DialOptions<R> & { readonly timeout?: undefined } = { bind: options?.bind, data: options?.data, retry: options?.retry }
    const parent = yield* Effect.scope
    const runFork = yield* runForkFrom<ConnectEx.ConnectEx | R>()

    /**
     * One attempt in a scope of its own: kept (left in the caller's scope) only by the winner. Its first step
     * waits for the scheduler (a forked fiber runs at once): a loopback connect that completes inside the call
     * would otherwise end the whole race synchronously, and a connector's Duplex would emit "connect" before
     * its caller could listen.
     */
    const attempt = (address: SocketAddress.SocketAddress, settled: (end: ReturnType<typeof attemptEnd>) => boolean, over: () => void) => {
      const fiber = runFork(Effect.andThen(yieldNow, Effect.flatMap(forkScope(parent), (scope) => {
        let kept = false
        return Effect.exit(inScope(scope)(dial(address, attemptOptions))).pipe(
          Effect.flatMap((exit) => Effect.sync(() => void (kept = settled(attemptEnd(exit))))),
          Effect.ensuring(Effect.suspend(() => (kept ? Effect.void : Scope.close(scope, Exit.void))))
        )
      })))
      fiber.addObserver(over)
      return () => interruptUnsafe(fiber)
    }

    let racing: Race.Racing | undefined
    const plan = { host, port, addresses, unusable, attemptDelayMs: Duration.toMillis(delay) }
    const end = callback<RaceEnd>((resume) => {
      racing = Race.race(plan, { attempt, sleep: sleepOn(runFork), done: (end) => resume(Effect.succeed(end)) })
    })
    // Losers are interrupted (their connects cancelled, their sockets closed) before the race returns.
    const ended = yield* Effect.ensuring(end, Effect.suspend(() => (racing === undefined ? Effect.void : stopped(racing))))
    return yield* raceOutcome(host, port, ended)
  })

/** The timeout, if it is one: a bad one is reported by the argument checks first. */
const validTimeout = (options: unknown): Duration.Duration | undefined => {
  const timeout = typeof options === "object" && options !== null ? (options as { timeout?: unknown }).timeout : undefined
  return timeout === undefined ? undefined : Option.getOrUndefined(durationOption(timeout))
}

const withTimeout = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  timeout: Duration.Duration | undefined
): Effect.Effect<A, E | TimeoutError, R> => timeout === undefined ? effect : Effect.timeout(effect, timeout)

const isDuration = dialKinds.isDuration
const argumentError = internal.failureOnto(["WSAEINVAL", "WSAEAFNOSUPPORT"])

/**
 * Races connects to `addresses` (RFC 8305): IPv6 first and the families interleaved, one new attempt every
 * `attemptDelay` (default 250 ms, on Effect's Clock) or as soon as one fails. The first connection wins and
 * stays in the caller's scope; the other attempts are interrupted (their connects cancelled, their sockets
 * closed) before this returns. Each attempt is `ConnectEx.dial(address, { bind, data, retry })`; `timeout`
 * bounds the whole race. If every attempt fails alike (all refused, say), the race fails with that error, so
 * that it is caught by its tag as a single dial's would be; attempts that failed differently give one
 * `DialError` listing each address and its WSA error. A list that is not an array, an invalid address or an
 * invalid option is `WSAEINVAL` (`WSAEAFNOSUPPORT` for an unknown family).
 *
 * `data` is given to every attempt's connect: an attempt that connected in the same instant as the winner
 * may have sent it too before it is closed, so keep connect data idempotent (as with TCP Fast Open).
 * With `bind`, attempts to the other family fail WSAEAFNOSUPPORT.
 *
 * @example
 * const { socket, address } = yield* ConnectEx.dialList([
 *   SocketAddress.ipv4("192.0.2.10", 443),
 *   SocketAddress.ipv6("2001:db8::10", 443)
 * ], { timeout: "10 seconds" })
 * @since 0.1.0
 * @category connecting
 */
export const dialList = <R = never>(
  addresses: ReadonlyArray<SocketAddress.SocketAddress>,
  options?: DialManyOptions<R>
): Effect.Effect<
  DialedAddress,
  DialError | WsaError.DialFailure | WsaError.WSAEINVAL | WsaError.WSAEAFNOSUPPORT | TimeoutError,
  ConnectEx.ConnectEx | Scope.Scope | R
> =>
  Effect.suspend((): Effect.Effect<
    DialedAddress,
    DialError | WsaError.DialFailure | WsaError.WSAEINVAL | WsaError.WSAEAFNOSUPPORT | TimeoutError,
    ConnectEx.ConnectEx | Scope.Scope | R
  > => {
    const ordered = Core.checkList(addresses, options, isDuration)
    if (isFailure(ordered)) return Effect.fail(argumentError(ordered))
    return withTimeout(race(undefined, ordered[0]?.port ?? 0, ordered, [], options), validTimeout(options))
  }).pipe(withSpan("ConnectEx.dialList"))

/**
 * Resolves `host` with the `Resolver` service (the system resolver unless a layer provides another), then
 * races the addresses as `dialList` does (every attempt failed alike: that error; differently: a
 * `DialError`). An IP literal (`"127.0.0.1"`, `"::1"`) is not resolved. `timeout` bounds resolution and the
 * race together. An invalid host, port or option is `WSAEINVAL`, never a defect.
 *
 * @example
 * const { socket, address } = yield* ConnectEx.dialName("localhost", 8080, {
 *   attemptDelay: "250 millis",
 *   timeout: "5 seconds"
 * })
 * @since 0.1.0
 * @category connecting
 */
export const dialName = <R = never>(
  host: string,
  port: number,
  options?: DialManyOptions<R>
): Effect.Effect<
  DialedAddress,
  DialError | WsaError.DialFailure | Resolver.ResolveError | WsaError.WSAEINVAL | TimeoutError,
  ConnectEx.ConnectEx | Scope.Scope | R
> => {
  const run = Effect.gen(function*() {
    // Hostile arguments are a typed WSAEINVAL, never a defect.
    const bad = Core.checkName(host, port, options, isDuration)
    if (bad !== undefined) return yield* Effect.fail(argumentError(bad))
    const literal = Core.hostLiteral(host)
    const literals = literal !== undefined ? [literal] : yield* Resolver.resolve(host)
    const { unusable, usable } = Core.fromLiterals(literals, port)
    return yield* race(host, port, interleave(usable), unusable.map(unusableAttempt), options)
  })
  return Effect.suspend(() => withTimeout(run, validTimeout(options))).pipe(
    withSpan("ConnectEx.dialName", { "net.peer.name": Core.spanHost(host), "net.peer.port": describe(port) })
  )
}
