/**
 * The pure parts of Happy Eyeballs (RFC 8305) that both front-ends race with: the order of the attempts,
 * what a resolver's answer becomes, and the words of a failed race. The race itself is each front-end's.
 */
import { isIP } from "node:net"
import { describe } from "./describe.js"
import { format, type Invalid, type Ipv6Address, ipv4, ipv6, isInvalid, parseZone, type SocketAddress } from "./address.js"

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

const checked = <A extends SocketAddress>(address: A | Invalid, constructor: "ipv4" | "ipv6"): A => {
  if (isInvalid(address)) throw new TypeError(`SocketAddress.${constructor}: ${address.invalid}`)
  return address as A
}

/**
 * An address literal from a resolver and a port. An IPv6 `%zone` must be numeric (the scope id); a named
 * zone ("fe80::1%eth0") cannot be given to a socket here, so that literal is unusable. A literal that is not
 * an address at all throws, as `SocketAddress.ipv4` / `ipv6` do.
 */
export const fromLiteral = (literal: string, port: number): SocketAddress | UnusableLiteral => {
  const zoneAt = literal.indexOf("%")
  const base = zoneAt < 0 ? literal : literal.slice(0, zoneAt)
  if (isIP(base) === 4) return checked(ipv4(base, port), "ipv4")
  const scopeId = parseZone(zoneAt < 0 ? undefined : literal.slice(zoneAt + 1))
  return typeof scopeId === "number"
    ? checked(ipv6(base, port, { scopeId }), "ipv6")
    : { address: checked<Ipv6Address>(ipv6(base, port), "ipv6"), detail: `the zone of ${JSON.stringify(literal)} is not a numeric scope id` }
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
