/**
 * IPv4 and IPv6 socket addresses: validated values with structural equality.
 *
 * @since 0.1.0
 */
import { Data, Effect, Equal } from "effect"
import ipaddr from "ipaddr.js"
import { isIPv4, isIPv6 } from "node:net"
import { WSAEINVAL } from "./errors/WsaError.js"
import { describe } from "./internal/describe.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Family = "ipv4" | "ipv6"

/**
 * @since 0.1.0
 * @category models
 */
export interface Ipv4Address {
  readonly family: "ipv4"
  /** dotted-quad text */
  readonly host: string
  readonly port: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Ipv6Address {
  readonly family: "ipv6"
  /** RFC 5952 text, without brackets or zone */
  readonly host: string
  readonly port: number
  readonly flowInfo: number
  readonly scopeId: number
}

/**
 * @since 0.1.0
 * @category models
 */
export type SocketAddress = Ipv4Address | Ipv6Address

const isPort = (port: unknown): port is number =>
  typeof port === "number" && Number.isInteger(port) && port >= 0 && port <= 65535

const isUint32 = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff

/** Why a literal is not an address, or undefined when it is one. */
const checkIpv4 = (host: unknown, port: unknown): string | undefined =>
  typeof host !== "string" || !isIPv4(host)
    ? `not an IPv4 address: ${describe(host)}`
    : !isPort(port)
    ? `port must be an integer from 0 to 65535, got ${describe(port)}`
    : undefined

const checkIpv6 = (host: unknown, port: unknown, flowInfo: unknown, scopeId: unknown): string | undefined =>
  typeof host !== "string" || !isIPv6(host) || host.includes("%")
    ? `not an IPv6 address: ${describe(host)}`
    : !isPort(port)
    ? `port must be an integer from 0 to 65535, got ${describe(port)}`
    : !isUint32(flowInfo)
    ? `flowInfo must be an unsigned 32-bit integer, got ${describe(flowInfo)}`
    : !isUint32(scopeId)
    ? `scopeId must be an unsigned 32-bit integer, got ${describe(scopeId)}`
    : undefined

/**
 * Addresses made by this module: already valid and canonical, so `validate` returns them as they are and
 * their bytes are parsed once (a connect's hot path then does no text parsing at all).
 */
const trusted = new WeakSet<SocketAddress>()
const bytesCache = new WeakMap<SocketAddress, Uint8Array>()

const remember = <A extends SocketAddress>(address: A): A => {
  trusted.add(address)
  return address
}

const makeIpv4 = (host: string, port: number): Ipv4Address => remember(Data.struct({ family: "ipv4", host, port }))

const makeIpv6 = (host: string, port: number, flowInfo: number, scopeId: number): Ipv6Address =>
  remember(Data.struct({ family: "ipv6", host: ipaddr.IPv6.parse(host).toRFC5952String(), port, flowInfo, scopeId }))

/**
 * An IPv4 address from a literal. An invalid literal is a programmer error and throws; use `parse` for
 * untrusted text.
 *
 * @example
 * const target = SocketAddress.ipv4("127.0.0.1", 8080)
 * @since 0.1.0
 * @category constructors
 */
export const ipv4 = (host: string, port: number): Ipv4Address => {
  const problem = checkIpv4(host, port)
  if (problem !== undefined) throw new TypeError(`SocketAddress.ipv4: ${problem}`)
  return makeIpv4(host, port)
}

/**
 * An IPv6 address from a literal (no brackets, no zone: the scope goes in `scopeId`). Throws on an invalid
 * literal; use `parse` for untrusted text.
 *
 * @example
 * const target = SocketAddress.ipv6("::1", 8080)
 * @since 0.1.0
 * @category constructors
 */
export const ipv6 = (
  host: string,
  port: number,
  options?: { readonly flowInfo?: number; readonly scopeId?: number }
): Ipv6Address => {
  const flowInfo = options?.flowInfo ?? 0
  const scopeId = options?.scopeId ?? 0
  const problem = checkIpv6(host, port, flowInfo, scopeId)
  if (problem !== undefined) throw new TypeError(`SocketAddress.ipv6: ${problem}`)
  return makeIpv6(host, port, flowInfo, scopeId)
}

const invalid = (text: unknown, why: string) =>
  new WSAEINVAL({ operation: "connect", detail: `cannot parse address ${describe(text)}: ${why}` })

const parsePort = (text: string): number | undefined =>
  /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined

/**
 * Parses untrusted text: `"127.0.0.1:80"`, `"[::1]:80"`, `"[fe80::1%2]:80"` (numeric scope id).
 * Anything malformed is a `WSAEINVAL` value.
 *
 * @example
 * const address = yield* SocketAddress.parse("[::1]:8080")
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): Effect.Effect<SocketAddress, WSAEINVAL> =>
  Effect.suspend((): Effect.Effect<SocketAddress, WSAEINVAL> => {
    if (typeof text !== "string" || text.length === 0 || text.length > 128) {
      return Effect.fail(invalid(text, "expected host:port or [ipv6]:port"))
    }
    const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text)
    if (bracketed !== null) {
      const [, inner = "", portText = ""] = bracketed
      const [host = "", zone, ...rest] = inner.split("%")
      const port = parsePort(portText)
      if (port === undefined) return Effect.fail(invalid(text, "port must be 0-65535"))
      if (rest.length > 0 || !isIPv6(host)) return Effect.fail(invalid(text, "not an IPv6 address"))
      if (zone !== undefined && !/^\d{1,10}$/.test(zone)) return Effect.fail(invalid(text, "scope id must be a number"))
      const scopeId = zone === undefined ? 0 : Number(zone)
      if (!isUint32(scopeId)) return Effect.fail(invalid(text, "scope id out of range"))
      return Effect.succeed(makeIpv6(host, port, 0, scopeId))
    }
    const plain = /^([0-9.]+):([^:]*)$/.exec(text)
    if (plain === null) return Effect.fail(invalid(text, "expected host:port or [ipv6]:port"))
    const [, host = "", portText = ""] = plain
    const port = parsePort(portText)
    if (!isIPv4(host)) return Effect.fail(invalid(text, "not an IPv4 address"))
    if (port === undefined) return Effect.fail(invalid(text, "port must be 0-65535"))
    return Effect.succeed(makeIpv4(host, port))
  })

/**
 * Validates an address value that may not have come from the constructors (a user's object literal, a
 * value from JSON): a `WSAEINVAL` unless it is a well-formed address. Returns the canonical value.
 *
 * @example
 * const address = yield* SocketAddress.validate(JSON.parse(text), "connect")
 * @since 0.1.0
 * @category parsing
 */
export const validate = (
  address: unknown,
  operation: "bind" | "connect"
): Effect.Effect<SocketAddress, WSAEINVAL> =>
  Effect.suspend(() => {
    const result = validateSync(address, operation)
    return result instanceof WSAEINVAL ? Effect.fail(result) : Effect.succeed(result)
  })

/** @internal `validate` without the Effect, for hot paths. */
export const validateSync = (address: unknown, operation: "bind" | "connect"): SocketAddress | WSAEINVAL => {
  if (typeof address !== "object" || address === null) {
    return new WSAEINVAL({ operation, detail: "the address is not a SocketAddress" })
  }
  if (trusted.has(address as SocketAddress)) return address as SocketAddress
  const a = address as Record<string, unknown>
  const problem = a.family === "ipv4"
    ? checkIpv4(a.host, a.port)
    : a.family === "ipv6"
    ? checkIpv6(a.host, a.port, a.flowInfo ?? 0, a.scopeId ?? 0)
    : `unknown address family ${describe(a.family)}`
  if (problem !== undefined) return new WSAEINVAL({ operation, detail: problem })
  return a.family === "ipv4"
    ? makeIpv4(a.host as string, a.port as number)
    : makeIpv6(a.host as string, a.port as number, (a.flowInfo ?? 0) as number, (a.scopeId ?? 0) as number)
}

/**
 * The text form: `127.0.0.1:80`, `[::1]:80`, `[fe80::1%2]:80`. `parse(format(a))` equals `a` (flow info aside).
 *
 * @example
 * SocketAddress.format(SocketAddress.ipv6("::1", 80)) // "[::1]:80"
 * @since 0.1.0
 * @category formatting
 */
export const format = (address: SocketAddress): string =>
  address.family === "ipv4"
    ? `${address.host}:${address.port}`
    : `[${address.host}${address.scopeId === 0 ? "" : `%${address.scopeId}`}]:${address.port}`

/**
 * Structural equality (also available through `Equal.equals`).
 *
 * @example
 * SocketAddress.equals(SocketAddress.ipv6("0::1", 80), SocketAddress.ipv6("::1", 80)) // true
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: SocketAddress, b: SocketAddress): boolean => Equal.equals(a, b)

/**
 * The address's IP as network-order bytes (4 for IPv4, 16 for IPv6).
 *
 * @example
 * SocketAddress.toBytes(SocketAddress.ipv4("127.0.0.1", 80)) // Uint8Array [127, 0, 0, 1]
 * @since 0.1.0
 * @category conversions
 */
export const toBytes = (address: SocketAddress): Uint8Array => {
  const cached = bytesCache.get(address)
  if (cached !== undefined) return cached.slice()
  const bytes = Uint8Array.from(ipaddr.parse(address.host).toByteArray())
  if (trusted.has(address)) bytesCache.set(address, bytes.slice())
  return bytes
}

/**
 * An address from network-order bytes, as the kernel returns them.
 *
 * @example
 * SocketAddress.fromBytes(new Uint8Array([127, 0, 0, 1]), 80) // 127.0.0.1:80
 * @since 0.1.0
 * @category conversions
 */
export const fromBytes = (
  bytes: Uint8Array,
  port: number,
  options?: { readonly flowInfo?: number; readonly scopeId?: number }
): SocketAddress =>
  bytes.length === 4
    ? makeIpv4(ipaddr.fromByteArray(Array.from(bytes)).toString(), port)
    : makeIpv6(ipaddr.fromByteArray(Array.from(bytes)).toString(), port, options?.flowInfo ?? 0, options?.scopeId ?? 0)

/**
 * Whether the IP is the unspecified address (0.0.0.0 or ::): fine to bind, never a destination.
 *
 * @example
 * SocketAddress.isUnspecified(SocketAddress.ipv4("0.0.0.0", 0)) // true
 * @since 0.1.0
 * @category predicates
 */
export const isUnspecified = (address: SocketAddress): boolean =>
  trusted.has(address)
    ? address.host === (address.family === "ipv4" ? "0.0.0.0" : "::") // canonical text
    : toBytes(address).every((byte) => byte === 0)

/**
 * The wildcard address of a family, port 0: what `dial` binds when no local address is given.
 *
 * @example
 * yield* Socket.bind(socket, SocketAddress.wildcard("ipv6")) // [::]:0
 * @since 0.1.0
 * @category constructors
 */
export const wildcard = (family: Family): SocketAddress =>
  family === "ipv4" ? makeIpv4("0.0.0.0", 0) : makeIpv6("::", 0, 0, 0)
