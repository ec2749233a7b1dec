/**
 * Failures in words for the command line: what went wrong, then what to do with `connectex`'s own options.
 * The library's messages advise a program (which call to make); these advise a person at a shell.
 *
 * @since 0.1.0
 */
import { Cause, type Duration } from "effect"
import { type ConnectEx, type Resolver, SocketAddress, WsaError } from "effect-connectex"
import { formatMillis } from "./parse.js"

/**
 * What an attempt can fail with: a WSA error, our per-attempt timeout, and for a name its resolution or
 * the race over its addresses.
 *
 * @since 0.1.0
 */
export type AttemptError = WsaError.WsaError | Cause.TimeoutException | ConnectEx.DialError | Resolver.ResolveError

const isDialError = (error: AttemptError): error is ConnectEx.DialError => error._tag === "DialError"
const isResolveError = (error: AttemptError): error is Resolver.ResolveError => error._tag === "ResolveError"

/**
 * Whether another attempt may help: refused, unreachable, timed out (ours or the kernel's), a race in which
 * every address failed that way, a resolver that could not answer now.
 *
 * @since 0.1.0
 */
export const isRetryable = (error: AttemptError): boolean =>
  Cause.isTimeoutException(error) ||
  (isDialError(error) ? error.attempts.length > 0 && error.attempts.every((attempt) => WsaError.isRetryable(attempt.error))
    : isResolveError(error) ? error.reason === "TryAgain"
    : WsaError.isRetryable(error))

const retryHint = "add --retries N to try again"

/** What to do about a WSA error from this command line, where there is something to do. */
const advice = (error: WsaError.WsaError): string | undefined => {
  switch (error._tag) {
    case "WSAECONNREFUSED":
      return "Check the port and that the service runs there; to wait for a service that is starting, add --retries N."
    case "WSAETIMEDOUT":
      return `Check that the host is up and that no firewall drops the connection; ${retryHint}.`
    case "WSAENETUNREACH":
      return `Check the address and this machine's network connection; ${retryHint}.`
    case "WSAEHOSTUNREACH":
      return "Check the address and that the host is up."
    case "WSAEADDRNOTAVAIL":
      return error.operation === "bind"
        ? "Give --bind an address of this machine (or leave --bind out)."
        : "Give a destination that can be reached: not 0.0.0.0 or [::]."
    case "WSAEADDRINUSE":
      return "The --bind port is taken: give port 0 to let the system choose, or another port."
    case "WSAEACCES":
      return error.operation === "bind"
        ? "Binding that port needs privileges: give port 0 or one above 1023."
        : "The system or a firewall refused it; check the destination."
    case "WSAEAFNOSUPPORT":
      return "The --bind address and the destination are of different families (IPv4, IPv6): give --bind an address of the destination's family, or leave --bind out."
    case "WSAENOPROTOOPT":
    case "WSAEOPNOTSUPP":
      return error.operation === "setsockopt" ? "This system does not offer TCP Fast Open: leave out --fast-open." : undefined
    case "WSAECONNRESET":
    case "WSAECONNABORTED":
      return "The connection was cut before it was set up; try again, and check the service's logs."
    case "WSAEMFILE":
    case "WSAENOBUFS":
      return "This machine is out of sockets or ports for now: wait, or close connections other programs keep open."
    default:
      return undefined
  }
}

/** The meaning of a code, in the table's words; for an argument the library refused, the detail instead. */
const meaning = (error: WsaError.WsaError): string => {
  if (error._tag === "Unknown") return `the system reported an error connectex has no name for, during ${error.operation}.`
  // the table's WSAEINVAL meaning speaks of call order (a program's mistake); what the user can act on is the detail
  if (error._tag === "WSAEINVAL") return `the system refused an argument${error.detail === undefined ? "" : `: ${error.detail}`}.`
  return WsaError.wsaCodes[error._tag][1]
}

const wsaLine = (error: WsaError.WsaError, where: string): string => {
  const todo = advice(error)
  return `${error._tag} (code ${error.code})${where}: ${meaning(error)}${todo === undefined ? "" : ` ${todo}`}`
}

const dialLine = (error: ConnectEx.DialError): string => {
  const target = error.host === undefined ? `port ${error.port}` : `${error.host}:${error.port}`
  if (error.attempts.length === 0) return `DialError: ${target} has no address to connect to.`
  const tags = new Set(error.attempts.map((attempt) => attempt.error._tag))
  const addresses = error.attempts.map((attempt) => SocketAddress.format(attempt.address))
  const first = error.attempts[0]!.error
  if (tags.size === 1) {
    return wsaLine(first, addresses.length === 1 ? ` from ${addresses[0]}` : ` from every address (${addresses.join(", ")})`)
  }
  const each = error.attempts.map((attempt) => `${SocketAddress.format(attempt.address)} ${attempt.error._tag} (code ${attempt.error.code})`)
  const todo = [...new Set(error.attempts.map((attempt) => advice(attempt.error)).filter((text) => text !== undefined))]
  return `DialError: no address of ${target} connected: ${each.join(", ")}.${todo.length === 0 ? "" : ` ${todo.join(" ")}`}`
}

const resolveLine = (error: Resolver.ResolveError): string => {
  const code = error.code === undefined ? "" : ` (${error.code})`
  switch (error.reason) {
    case "NotFound":
      return `ResolveError: ${JSON.stringify(error.host)} is not a known host name${code}. Check the spelling, or give an IP address, e.g. 127.0.0.1:8080.`
    case "TryAgain":
      return `ResolveError: the name server did not answer for ${JSON.stringify(error.host)}${code}. Check this machine's DNS settings and network; ${retryHint}.`
    default:
      return `ResolveError: ${JSON.stringify(error.host)} did not resolve${code}. Check the name and this machine's resolver settings (DNS, the hosts file), or give an IP address.`
  }
}

/**
 * One line for a failed attempt: the tag and code, what happened, and what to do about it.
 *
 * @since 0.1.0
 */
export const describeFailure = (error: AttemptError, timeout: Duration.Duration): string =>
  Cause.isTimeoutException(error)
    ? `TimeoutException: no connection within ${formatMillis(timeout)}; the attempt was cancelled. ` +
      "Check that the host is up and reachable (a firewall may drop the connection silently), or give a longer --timeout."
    : isDialError(error) ? dialLine(error)
    : isResolveError(error) ? resolveLine(error)
    : wsaLine(error, "")

/**
 * The error's name for a summary: `WSAECONNREFUSED (code 10061)`, or the code every address of a name failed
 * with, or the tag.
 *
 * @since 0.1.0
 */
export const errorName = (error: AttemptError): string => {
  const single = isDialError(error) && new Set(error.attempts.map((attempt) => attempt.error._tag)).size === 1
    ? error.attempts[0]?.error
    : error
  return single !== undefined && WsaError.isWsaError(single) ? `${single._tag} (code ${single.code})` : error._tag
}

/**
 * Why the network driver did not start, for the command line.
 *
 * @since 0.1.0
 */
export const describeStartFailure = (error: WsaError.WsaError): string =>
  error._tag === "WSAEOPNOTSUPP"
    ? `connectex runs on Linux and Windows; this system is ${process.platform}.`
    : `cannot start the network driver (${error._tag}${error.detail === undefined ? "" : `: ${error.detail}`}). ` +
      "Reinstall connectex for this system (npm install -g @effect-connectex/cli), then try again."
