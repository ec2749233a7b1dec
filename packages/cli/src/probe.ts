/**
 * `connectex probe`: connect attempts with the library, each printed as it completes, then a summary.
 *
 * @since 0.1.0
 */
import { Cause, Console, Duration, Effect, Either, Schedule } from "effect"
import { ConnectEx, type Iocp, Socket, SocketAddress, WsaError } from "effect-connectex"
import { formatMillis } from "./parse.js"

/**
 * @since 0.1.0
 */
export interface ProbeOptions {
  readonly target: SocketAddress.SocketAddress
  readonly data: Uint8Array | undefined
  readonly bind: SocketAddress.SocketAddress | undefined
  /** retries after the first attempt, for the retryable outcomes only */
  readonly retries: number
  /** bounds each attempt (connect, and the echo when `readEcho`) */
  readonly timeout: Duration.Duration
  readonly fastOpen: boolean
  /** after connecting with data, read the same number of bytes back (the demo's echo server) */
  readonly readEcho: boolean
}

/**
 * What an attempt can fail with: a WSA error, or our own per-attempt timeout.
 *
 * @since 0.1.0
 */
export type AttemptError = WsaError.WsaError | Cause.TimeoutException

/**
 * @since 0.1.0
 */
export interface Connected {
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

const isRetryable = (error: AttemptError): boolean => Cause.isTimeoutException(error) || WsaError.isRetryable(error)

/**
 * One line for a failure: the tag, the WSA code and the library's message.
 *
 * @since 0.1.0
 */
export const describeError = (error: AttemptError, timeout: Duration.Duration): string =>
  Cause.isTimeoutException(error)
    ? `TimeoutException: no completion within ${formatMillis(timeout)}; the pending connect was cancelled`
    : `${error._tag} (code ${error.code}): ${error.message}`

const printable = (bytes: Uint8Array): string =>
  JSON.stringify(Buffer.from(bytes).toString("utf8"))

const describeSuccess = (connected: Connected): string =>
  `connected, ${connected.bytesSent} byte${connected.bytesSent === 1 ? "" : "s"} sent` +
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

const attemptOnce = (options: ProbeOptions): Effect.Effect<Connected, AttemptError, ConnectEx.ConnectEx | Iocp.Iocp> =>
  Effect.scoped(
    Effect.gen(function*() {
      const socket = yield* Socket.open({ family: options.target.family })
      if (options.fastOpen) yield* Socket.setOption(socket, "TCP_FASTOPEN", true)
      yield* Socket.bind(socket, options.bind ?? SocketAddress.wildcard(options.target.family))
      const { bytesSent } = yield* ConnectEx.connect(socket, options.target, { data: options.data })
      const echo = options.readEcho && options.data !== undefined
        ? yield* receiveExactly(socket, options.data.length)
        : undefined
      return { bytesSent, echo }
    })
  ).pipe(Effect.timeout(options.timeout))

/**
 * Runs the attempts (retrying WSAECONNREFUSED, WSAENETUNREACH, WSAETIMEDOUT and timeouts with exponential
 * back-off from 100 ms), printing each attempt and each wait as it happens, then a summary.
 *
 * @since 0.1.0
 */
export const probe = (options: ProbeOptions): Effect.Effect<ProbeResult, never, ConnectEx.ConnectEx | Iocp.Iocp> =>
  Effect.gen(function*() {
    const target = SocketAddress.format(options.target)
    const tries = options.retries + 1
    yield* Console.log(
      `probe ${target}: up to ${tries} attempt${tries === 1 ? "" : "s"}, timeout ${formatMillis(options.timeout)} each` +
        (options.data === undefined ? "" : `, ${options.data.length} bytes of data`) +
        (options.bind === undefined ? "" : `, bound to ${SocketAddress.format(options.bind)}`) +
        (options.fastOpen ? ", TCP Fast Open" : "")
    )
    let attempts = 0
    let previous: string | undefined
    // A repeated error is named, not explained again.
    const describeAttempt = (result: Either.Either<Connected, AttemptError>): string => {
      if (Either.isRight(result)) return describeSuccess(result.right)
      const full = describeError(result.left, options.timeout)
      const text = full === previous ? `${result.left._tag}, as above` : full
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
          `last error ${Cause.isTimeoutException(error) ? error._tag : `${error._tag} (code ${error.code})`}` +
          (isRetryable(error) || attempts > options.retries ? "" : " (not retryable)"),
        onRight: (connected) =>
          `summary: ${target} connected on attempt ${attempts} of ${tries} in ${formatMillis(elapsed)}, ` +
          `${connected.bytesSent} bytes sent`
      })
    )
    return { attempts, elapsed, outcome }
  })
