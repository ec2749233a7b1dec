/**
 * The pure parts of Happy Eyeballs (RFC 8305) that both front-ends race with: the order of the attempts,
 * what a resolver's answer becomes, and the words of a failed race. The race itself is `race.ts`'s machine.
 */
import { isIP } from "node:net"
import { format, type Ipv6Address, ipv4Literal, ipv6Literal, parseZone, type SocketAddress } from "./address.js"
import { describe } from "./describe.js"
import { argumentFailure, type ErrorContext, type Failure, isFailure, type Operation } from "./failure.js"
import { validAddress } from "./io.js"

/** An address as messages and duplicate detection show it; a value `format` cannot print is still named. */
export const keyOf = (address: SocketAddress): string => {
  try {
    return format(address)
  } catch {
    return `invalid ${String(address)}`
  }
}

/**
 * RFC 8305 section 4: IPv6 first, then the families alternate, each family keeping its own order.
 * Duplicates are dropped.
 */
export const interleave = <A extends SocketAddress>(addresses: ReadonlyArray<A>): Array<A> => {
  const seen = new Set<string>()
  const v6: Array<A> = []
  const v4: Array<A> = []
  for (const address of addresses) {
    const key = keyOf(address)
    if (seen.has(key)) continue
    seen.add(key)
    ;(address.family === "ipv6" ? v6 : v4).push(address)
  }
  const result: Array<A> = []
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    const a = v6[i]
    const b = v4[i]
    if (a !== undefined) result.push(a)
    if (b !== undefined) result.push(b)
  }
  return result
}

/** One failed attempt as a message lists it: where and the tag of its error. */
export const describeAttempts = (
  attempts: ReadonlyArray<{ readonly address: SocketAddress; readonly error: { readonly _tag: string } }>
): string =>
  attempts.length === 0
    ? "there was no address to try"
    : attempts.map((a) => `${keyOf(a.address)} ${a.error._tag}`).join(", ")

/**
 * The WSA code every failed attempt shares, or undefined when they differ (or there were none): a race whose
 * attempts all failed alike fails with that code's error, so that it is caught as a single dial's would be.
 */
export const sharedCode = (attempts: ReadonlyArray<{ readonly error: { readonly code: number } }>): number | undefined => {
  const code = attempts[0]?.error.code
  return code !== undefined && attempts.every((attempt) => attempt.error.code === code) ? code : undefined
}

/** A resolver's literal that cannot be dialed: the address it names and why (a WSAEINVAL attempt). */
export interface UnusableLiteral {
  readonly address: Ipv6Address
  readonly detail: string
}

/**
 * An address literal from a resolver and a port. An IPv6 `%zone` must be numeric (the scope id); a named
 * zone ("fe80::1%eth0") cannot be given to a socket here, so that literal is unusable. A literal that is not
 * an address at all throws, as `SocketAddress.ipv4` / `ipv6` do.
 */
export const fromLiteral = (literal: string, port: number): SocketAddress | UnusableLiteral => {
  const zoneAt = literal.indexOf("%")
  const base = zoneAt < 0 ? literal : literal.slice(0, zoneAt)
  if (isIP(base) === 4) return ipv4Literal(base, port)
  const scopeId = parseZone(zoneAt < 0 ? undefined : literal.slice(zoneAt + 1))
  return typeof scopeId === "number"
    ? ipv6Literal(base, port, { scopeId })
    : { address: ipv6Literal(base, port), detail: `the zone of ${JSON.stringify(literal)} is not a numeric scope id` }
}

/** The resolver's literals as addresses, in their order: those a socket can take, and those it cannot. */
export const fromLiterals = (
  literals: ReadonlyArray<string>,
  port: number
): { readonly usable: Array<SocketAddress>; readonly unusable: Array<UnusableLiteral> } => {
  const usable: Array<SocketAddress> = []
  const unusable: Array<UnusableLiteral> = []
  for (const literal of literals) {
    const address = fromLiteral(literal, port)
    if ("detail" in address) unusable.push(address)
    else usable.push(address)
  }
  return { usable, unusable }
}

/**
 * The IP literal `host` is (brackets taken off, a `%zone` kept), or undefined when it is a name to resolve.
 */
export const hostLiteral = (host: string): string | undefined => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  return isIP(bare.replace(/%.*$/, "")) !== 0 ? bare : undefined
}

/** The longest host `dialName` takes: a DNS name has at most 253 characters (255 with a final dot). */
export const MAX_HOST_LENGTH = 255

/** Why `host` cannot be a host name or an IP literal (a sentence), or undefined when it may be one. */
export const invalidHost = (host: unknown): string | undefined => {
  if (typeof host !== "string") return `The host must be a string, got ${describe(host)}.`
  if (host.length === 0) return "The host is empty."
  if (host.length > MAX_HOST_LENGTH) return `The host is ${host.length} characters long; a host name has at most 253.`
  // NUL would cut the name short in the C resolver; no other control character or space is valid in a name.
  if (/[\u0000-\u0020\u007f]/.test(host)) return `The host ${describe(host)} contains a NUL byte, a control character or a space.`
  return undefined
}

/** Why `port` is not a port for `dialName` (a sentence), or undefined. */
export const invalidPort = (port: unknown): string | undefined =>
  typeof port === "number" && Number.isInteger(port) && port >= 0 && port <= 65535
    ? undefined
    : `The port must be an integer from 0 to 65535, got ${describe(port)}.`

/** The options of `dialName` / `dialList`: an object (or nothing) whose `timeout` and `attemptDelay` are durations. */
export const checkOptions = (options: unknown, operation: Operation, isDuration: (u: unknown) => boolean): Failure | undefined => {
  if (options === undefined) return undefined
  if (typeof options !== "object" || options === null) return argumentFailure("WSAEINVAL", operation, `The options must be an object, got ${describe(options)}.`)
  const { attemptDelay, timeout } = options as { readonly attemptDelay?: unknown; readonly timeout?: unknown }
  if (timeout !== undefined && !isDuration(timeout)) return argumentFailure("WSAEINVAL", operation, `The timeout must be a duration, got ${describe(timeout)}.`)
  if (attemptDelay !== undefined && !isDuration(attemptDelay)) {
    return argumentFailure("WSAEINVAL", operation, `The attemptDelay must be a duration, got ${describe(attemptDelay)}.`)
  }
  return undefined
}

/** `dialList`'s arguments: an array of valid addresses (in the race's order), and valid options. */
export const checkList = (addresses: unknown, options: unknown, isDuration: (u: unknown) => boolean): Array<SocketAddress> | Failure => {
  if (!Array.isArray(addresses)) return argumentFailure("WSAEINVAL", "connect", `The addresses must be an array, got ${describe(addresses)}.`)
  const badOptions = checkOptions(options, "connect", isDuration)
  if (badOptions !== undefined) return badOptions
  const valid: Array<SocketAddress> = []
  for (const address of addresses as ReadonlyArray<unknown>) {
    const checked = validAddress(address, "connect")
    if (isFailure(checked)) return checked
    valid.push(checked)
  }
  return interleave(valid)
}

/** `dialName`'s arguments: a host that may be a name or a literal, a port, valid options. */
export const checkName = (host: unknown, port: unknown, options: unknown, isDuration: (u: unknown) => boolean): Failure | undefined => {
  const badArgument = invalidHost(host) ?? invalidPort(port)
  if (badArgument !== undefined) return argumentFailure("WSAEINVAL", "resolve", badArgument)
  return checkOptions(options, "resolve", isDuration)
}

/** The host a span names: the host as given (cut at the longest a host may be), or a description of a non-string. */
export const spanHost = (host: unknown): string => typeof host === "string" ? host.slice(0, MAX_HOST_LENGTH) : describe(host)

/** A resolver's literal that cannot be dialed, as the WSAEINVAL attempt it becomes: its context. */
export const unusableContext = ({ address, detail }: UnusableLiteral): ErrorContext => ({ operation: "connect", address, detail, argument: true })

const targetOf = (host: string | undefined, port: number): string => host === undefined ? `port ${port}` : `${host}:${port}`

/** The message of a race whose attempts failed differently: every attempt, where and how. */
export const dialErrorMessage = (host: string | undefined, port: number, attempts: Parameters<typeof describeAttempts>[0]): string =>
  `every connection attempt to ${targetOf(host, port)} failed: ${describeAttempts(attempts)}. ` +
  `Check that the service listens on one of these addresses and that a route leads there.`

/** An attempt's error as the race reads it. */
export interface AttemptError {
  readonly _tag: string
  readonly code: number
  readonly operation: Operation
  readonly address?: SocketAddress | undefined
}

/**
 * How a race whose every attempt failed fails: with the one attempt's own error (`own`), with the code every
 * attempt shares (`shared`: the context of that error, naming each attempt), or with a `DialError` (`mixed`),
 * so that `catchTag("WSAECONNREFUSED")` works on a name as on an address.
 */
export const allFailed = <E extends AttemptError>(
  host: string | undefined,
  port: number,
  attempts: ReadonlyArray<{ readonly address: SocketAddress; readonly error: E }>
): { readonly _tag: "own"; readonly error: E } | { readonly _tag: "shared"; readonly code: number; readonly context: ErrorContext } | { readonly _tag: "mixed" } => {
  const code = sharedCode(attempts)
  const first = attempts[0]?.error
  if (code === undefined || first === undefined) return { _tag: "mixed" }
  if (attempts.length === 1) return { _tag: "own", error: first }
  return {
    _tag: "shared",
    code,
    context: {
      operation: first.operation,
      address: first.address,
      detail: `every attempt to ${targetOf(host, port)} failed this way (${describeAttempts(attempts)})`
    }
  }
}
