/**
 * `connectex probe`: connect attempts with the library, each printed as it completes, then a summary.
 *
 * @since 0.1.0
 */
import { Console, Duration, Effect, Either, Schedule, type Scope } from "effect"
import { ConnectEx, type Iocp, Socket, SocketAddress, type WsaError } from "effect-connectex"
import { type AttemptError, describeFailure, errorName, isRetryable } from "./messages.js"
import { formatMillis, type Target } from "./parse.js"

/**
 * @since 0.1.0
 */
export interface ProbeOptions {
  readonly target: Target
  readonly data: Uint8Array | undefined
  readonly bind: SocketAddress.SocketAddress | undefined
  /** retries after the first attempt, for the retryable outcomes only */
  readonly retries: number
  /** bounds each attempt (resolution, connect, and the echo when `readEcho`) */
  readonly timeout: Duration.Duration
  /** an address target only: a name's race opens its own sockets */
  readonly fastOpen: boolean
  /** after connecting with data, read the same number of bytes back (the demo's echo server) */
  readonly readEcho: boolean
}

/**
 * @since 0.1.0
 */
export interface Connected {
  /** the address connected to: the target's, or the one that won a name's race */
  readonly address: SocketAddress.SocketAddress
  readonly bytesSent: number
  readonly echo: Uint8Array | undefined
}

/**
 * @since 0.1.0
 */
export interface ProbeResult {
  readonly attempts: number
  readonly elapsed: Duration.Duration
  readonly outcome: Either.Either<Connected, AttemptError>
}

/** The first retry waits this long, and each further one twice as long as the previous. */
const firstDelay = Duration.millis(100)

/**
 * The target as the user reads it back: `localhost:8080`, `127.0.0.1:8080`, `[::1]:8080`.
 *
 * @since 0.1.0
 */
export const formatTarget = (target: Target): string =>
  target._tag === "Address" ? SocketAddress.format(target.address) : `${target.host}:${target.port}`

const printable = (bytes: Uint8Array): string =>
  JSON.stringify(Buffer.from(bytes).toString("utf8"))

const describeSuccess = (connected: Connected, target: Target): string =>
  `connected${target._tag === "Name" ? ` to ${SocketAddress.format(connected.address)}` : ""}, ` +
  `${connected.bytesSent} byte${connected.bytesSent === 1 ? "" : "s"} sent` +
  (connected.echo === undefined ? "" : `, echo ${printable(connected.echo)} received`)

/** Reads until `length` bytes arrived or the peer closed. */
const receiveExactly = (socket: Socket.Socket, length: number): Effect.Effect<Uint8Array, WsaError.WsaError> =>
  Effect.gen(function*() {
    const chunks: Array<Uint8Array> = []
    let received = 0
    while (received < length) {
      const chunk = yield* Socket.receive(socket, length - received)
      if (chunk.length === 0) break
      chunks.push(chunk)
      received += chunk.length
    }
    return Buffer.concat(chunks)
  })

type Attempt = Effect.Effect<Connected, AttemptError, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>

/** One connection to an address, step by step: the socket is ours, so options such as TCP Fast Open apply. */
const connectAddress = (address: SocketAddress.SocketAddress, options: ProbeOptions): Attempt =>
  Effect.gen(function*() {
    const socket = yield* Socket.open({ family: address.family })
    if (options.fastOpen) yield* Socket.setOption(socket, "TCP_FASTOPEN", true)
    yield* Socket.bind(socket, options.bind ?? SocketAddress.wildcard(address.family))
    const { bytesSent } = yield* ConnectEx.connect(socket, address, { data: options.data })
    const echo = options.readEcho && options.data !== undefined
      ? yield* receiveExactly(socket, options.data.length)
      : undefined
    return { address, bytesSent, echo }
  })

/** A name: resolved, then its addresses raced (RFC 8305) by the library's dialName. */
const connectName = (host: string, port: number, options: ProbeOptions): Attempt =>
  Effect.map(
    ConnectEx.dialName(host, port, { bind: options.bind, data: options.data }),
    ({ address, bytesSent }) => ({ address, bytesSent, echo: undefined })
  )

const attemptOnce = (options: ProbeOptions): Effect.Effect<Connected, AttemptError, ConnectEx.ConnectEx | Iocp.Iocp> =>
  Effect.scoped(
    options.target._tag === "Address"
      ? connectAddress(options.target.address, options)
      : connectName(options.target.host, options.target.port, options)
  ).pipe(Effect.timeout(options.timeout))

/**
 * Runs the attempts (retrying what `isRetryable` says may pass next time, with exponential back-off from
 * 100 ms), printing each attempt and each wait as it happens, then a summary.
 *
 * @since 0.1.0
 */
export const probe = (options: ProbeOptions): Effect.Effect<ProbeResult, never, ConnectEx.ConnectEx | Iocp.Iocp> =>
  Effect.gen(function*() {
    const target = formatTarget(options.target)
    const tries = options.retries + 1
    yield* Console.log(
      `probe ${target}: up to ${tries} attempt${tries === 1 ? "" : "s"}, timeout ${formatMillis(options.timeout)} each` +
        (options.data === undefined ? "" : `, ${options.data.length} bytes of data`) +
        (options.bind === undefined ? "" : `, bound to ${SocketAddress.format(options.bind)}`) +
        (options.fastOpen ? ", TCP Fast Open" : "") +
        (options.target._tag === "Name" ? "; each attempt resolves the name and races its addresses (Happy Eyeballs)" : "")
    )
    let attempts = 0
    let previous: string | undefined
    // A repeated error is named, not explained again.
    const describeAttempt = (result: Either.Either<Connected, AttemptError>): string => {
      if (Either.isRight(result)) return describeSuccess(result.right, options.target)
      const full = describeFailure(result.left, options.timeout)
      const text = full === previous ? `${errorName(result.left)}, as above` : full
      previous = full
      return text
    }
    const attempt = Effect.suspend(() => {
      attempts += 1
      const n = attempts
      return attemptOnce(options).pipe(
        Effect.either,
        Effect.timed,
        Effect.flatMap(([elapsed, result]) =>
          Console.log(`  attempt ${n}: ${describeAttempt(result)} (${formatMillis(elapsed)})`).pipe(
            Effect.zipRight(result)
          )
        )
      )
    })
    const schedule = Schedule.exponential(firstDelay).pipe(
      Schedule.intersect(Schedule.recurs(options.retries)),
      Schedule.whileInput(isRetryable),
      // Called only when the schedule goes on: print the wait before it starts.
      Schedule.modifyDelayEffect((_, delay) => Effect.as(Console.log(`  retrying in ${formatMillis(delay)}`), delay))
    )
    const [elapsed, outcome] = yield* attempt.pipe(Effect.retry(schedule), Effect.either, Effect.timed)
    yield* Console.log(
      Either.match(outcome, {
        onLeft: (error) =>
          `summary: ${target} not connected after ${attempts} attempt${attempts === 1 ? "" : "s"} in ${formatMillis(elapsed)}; ` +
          `last error ${errorName(error)}` +
          (isRetryable(error) || attempts > options.retries ? "" : " (not retryable)"),
        onRight: (connected) =>
          `summary: ${target} connected on attempt ${attempts} of ${tries} in ${formatMillis(elapsed)}, ` +
          `${connected.bytesSent} bytes sent`
      })
    )
    return { attempts, elapsed, outcome }
  })
