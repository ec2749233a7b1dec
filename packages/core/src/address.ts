/**
 * IPv4 and IPv6 socket addresses as records: the one parser, validator and formatter every layer uses.
 *
 * Only this module makes records: frozen, valid and canonical, so that validating one again costs a prototype
 * check. Their prototype speaks both Effects' structural equality (Effect 3's `Symbol.for("effect/Equal")` /
 * `Symbol.for("effect/Hash")` methods, Effect 4's `"~effect/Equal"` / `"~effect/Hash"`), written out here so
 * that the core imports neither and an address is the same value whichever front-end made or reads it. Its
 * own fields are the data (JSON and test equality see only them).
 */
import ipaddr from "ipaddr.js"
import { isIPv4, isIPv6 } from "node:net"
import { describe } from "./describe.js"

export type Family = "ipv4" | "ipv6"

export interface Ipv4Address {
  readonly family: "ipv4"
  /** dotted-quad text */
  readonly host: string
  readonly port: number
}

export interface Ipv6Address {
  readonly family: "ipv6"
  /** RFC 5952 text, without brackets or zone */
  readonly host: string
  readonly port: number
  readonly flowInfo: number
  readonly scopeId: number
}

export type SocketAddress = Ipv4Address | Ipv6Address

export const isPort = (port: unknown): port is number =>
  typeof port === "number" && Number.isInteger(port) && port >= 0 && port <= 65535

export const isUint32 = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff

const bytesCache = new WeakMap<SocketAddress, Uint8Array>()

/** Whether two values are the same address: the same fields (a record's text is canonical). */
const sameFields = (a: SocketAddress, b: unknown): boolean => {
  if (typeof b !== "object" || b === null) return false
  const other = b as Partial<Record<keyof Ipv6Address, unknown>>
  return a.family === other.family && a.host === other.host && a.port === other.port &&
    (a.family === "ipv4" || (a.flowInfo === other.flowInfo && a.scopeId === other.scopeId))
}

/** A 32-bit hash of the fields (the same for equal records), in the small-integer range both Effects use. */
const hashOf = (a: SocketAddress): number => {
  const text = a.family === "ipv4" ? `${a.host}:${a.port}` : `[${a.host}%${a.scopeId}]:${a.port}/${a.flowInfo}`
  let h = 5381
  for (let i = 0; i < text.length; i++) h = Math.imul(h, 33) ^ text.charCodeAt(i)
  return (h & 0xbfffffff) | ((h >>> 1) & 0x40000000)
}

const equalMethod = {
  value(this: SocketAddress, that: unknown): boolean {
    return sameFields(this, that)
  }
}
const hashMethod = {
  value(this: SocketAddress): number {
    return hashOf(this)
  }
}

/** Every record's prototype: the equality protocols of Effect 3 and Effect 4, not enumerable. */
const AddressProto: object = Object.create(Object.prototype, {
  [Symbol.for("effect/Equal")]: equalMethod,
  [Symbol.for("effect/Hash")]: hashMethod,
  "~effect/Equal": equalMethod,
  "~effect/Hash": hashMethod
})

const canonical = <A extends SocketAddress>(fields: A): A => Object.freeze(Object.assign(Object.create(AddressProto) as A, fields))

/** Whether the value is a record made by this module, so it is valid and canonical. */
export const isCanonical = (address: unknown): address is SocketAddress =>
  typeof address === "object" && address !== null && Object.getPrototypeOf(address) === AddressProto

/** Whether two values are the same address (either may be a plain object that is a valid address). */
export const equals = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  const x = validate(a)
  const y = validate(b)
  return !isInvalid(x) && !isInvalid(y) && sameFields(x, y)
}

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

export const makeIpv4 = (host: string, port: number): Ipv4Address => canonical({ family: "ipv4", host, port })

export const makeIpv6 = (host: string, port: number, flowInfo: number, scopeId: number): Ipv6Address =>
  canonical({ family: "ipv6", host: ipaddr.IPv6.parse(host).toRFC5952String(), port, flowInfo, scopeId })

/** A literal or the reason it is not one. */
export const ipv4 = (host: string, port: number): Ipv4Address | Invalid => {
  const problem = checkIpv4(host, port)
  return problem === undefined ? makeIpv4(host, port) : { invalid: problem }
}

export const ipv6 = (
  host: string,
  port: number,
  options?: { readonly flowInfo?: number; readonly scopeId?: number }
): Ipv6Address | Invalid => {
  const flowInfo = options?.flowInfo ?? 0
  const scopeId = options?.scopeId ?? 0
  const problem = checkIpv6(host, port, flowInfo, scopeId)
  return problem === undefined ? makeIpv6(host, port, flowInfo, scopeId) : { invalid: problem }
}

const orThrow = <A extends SocketAddress>(address: A | Invalid, constructor: "ipv4" | "ipv6"): A => {
  if (isInvalid(address)) throw new TypeError(`SocketAddress.${constructor}: ${address.invalid}`)
  return address
}

/** `SocketAddress.ipv4`: an invalid literal is a programmer error and throws a TypeError. */
export const ipv4Literal = (host: string, port: number): Ipv4Address => orThrow(ipv4(host, port), "ipv4")

/** `SocketAddress.ipv6`: an invalid literal throws a TypeError. */
export const ipv6Literal = (
  host: string,
  port: number,
  options?: { readonly flowInfo?: number; readonly scopeId?: number }
): Ipv6Address => orThrow(ipv6(host, port, options), "ipv6")

/** Why a value is not an address; `family` is set when the family itself was unknown. */
export interface Invalid {
  readonly invalid: string
  readonly unknownFamily?: true
}

export const isInvalid = (u: SocketAddress | Invalid): u is Invalid => "invalid" in u

const parsePort = (text: string): number | undefined =>
  /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined

/** The one IPv6 zone parser: a numeric scope id (interface index). */
export const parseZone = (zone: string | undefined): number | Invalid => {
  if (zone === undefined) return 0
  if (!/^\d{1,10}$/.test(zone)) return { invalid: "the scope id must be a number (an interface index)" }
  const scopeId = Number(zone)
  return isUint32(scopeId) ? scopeId : { invalid: "the scope id is out of range" }
}

/**
 * Parses `"127.0.0.1:80"`, `"[::1]:80"`, `"[fe80::1%2]:80"` (numeric scope id). A host name is not parsed
 * here: the reason says to resolve it first.
 */
export const parse = (text: unknown): SocketAddress | Invalid => {
  const invalid = (why: string): Invalid => ({ invalid: `cannot parse the address text ${describe(text)}: ${why}` })
  if (typeof text !== "string" || text.length === 0 || text.length > 128) {
    return invalid("expected host:port or [ipv6]:port")
  }
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text)
  if (bracketed !== null) {
    const [, inner = "", portText = ""] = bracketed
    const [host = "", zone, ...rest] = inner.split("%")
    const port = parsePort(portText)
    if (port === undefined) return invalid("the port must be 0-65535")
    if (rest.length > 0 || !isIPv6(host)) return invalid("not an IPv6 address")
    const scopeId = parseZone(zone)
    if (typeof scopeId !== "number") return invalid(scopeId.invalid)
    return makeIpv6(host, port, 0, scopeId)
  }
  const plain = /^([^:[\]]+):([^:]*)$/.exec(text)
  if (plain === null) return invalid("expected host:port or [ipv6]:port")
  const [, host = "", portText = ""] = plain
  if (!isIPv4(host)) {
    return invalid(
      /^[0-9.]+$/.test(host)
        ? "not an IPv4 address"
        : "the host is a name, not an IP address literal; use ConnectEx.dialName to resolve it"
    )
  }
  const port = parsePort(portText)
  if (port === undefined) return invalid("the port must be 0-65535")
  return makeIpv4(host, port)
}

/**
 * Validates a value that may not have come from this module (a user's object literal, JSON): the canonical
 * record, or why it is not an address (`unknownFamily` when the family itself is wrong).
 */
export const validate = (address: unknown): SocketAddress | Invalid => {
  if (typeof address !== "object" || address === null) return { invalid: "the address is not a SocketAddress" }
  if (isCanonical(address)) return address
  const a = address as Record<string, unknown>
  if (a.family !== "ipv4" && a.family !== "ipv6") {
    return { invalid: `unknown address family ${describe(a.family)}`, unknownFamily: true }
  }
  const problem = a.family === "ipv4"
    ? checkIpv4(a.host, a.port)
    : checkIpv6(a.host, a.port, a.flowInfo ?? 0, a.scopeId ?? 0)
  if (problem !== undefined) return { invalid: problem }
  return a.family === "ipv4"
    ? makeIpv4(a.host as string, a.port as number)
    : makeIpv6(a.host as string, a.port as number, (a.flowInfo ?? 0) as number, (a.scopeId ?? 0) as number)
}

/** `127.0.0.1:80`, `[::1]:80`, `[fe80::1%2]:80`: the scope id is kept. */
export const format = (address: SocketAddress): string =>
  address.family === "ipv4"
    ? `${address.host}:${address.port}`
    : `[${address.host}${address.scopeId === 0 ? "" : `%${address.scopeId}`}]:${address.port}`

/** `format` for a value that may not be an address (error messages, span attributes): never throws. */
export const describeAddress = (address: unknown): string => {
  const valid = validate(address)
  return isInvalid(valid) ? describe(address) : format(valid)
}

/** The IP as network-order bytes (4 for IPv4, 16 for IPv6). */
export const toBytes = (address: SocketAddress): Uint8Array => {
  const cached = bytesCache.get(address)
  if (cached !== undefined) return cached.slice()
  const bytes = Uint8Array.from(ipaddr.parse(address.host).toByteArray())
  if (isCanonical(address)) bytesCache.set(address, bytes.slice())
  return bytes
}

/** An address from network-order bytes, as the kernel returns them. */
export const fromBytes = (
  bytes: Uint8Array,
  port: number,
  options?: { readonly flowInfo?: number; readonly scopeId?: number }
): SocketAddress =>
  bytes.length === 4
    // dotted-quad decimal is already the canonical text (every accept decodes one: no detour through ipaddr)
    ? makeIpv4(`${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`, port)
    : makeIpv6(ipaddr.fromByteArray(Array.from(bytes)).toString(), port, options?.flowInfo ?? 0, options?.scopeId ?? 0)

/** 0.0.0.0 or ::: fine to bind, never a destination. */
export const isUnspecified = (address: SocketAddress): boolean =>
  isCanonical(address)
    ? address.host === (address.family === "ipv4" ? "0.0.0.0" : "::") // canonical text
    : toBytes(address).every((byte) => byte === 0)

/** 127.0.0.0/8 or ::1. */
export const isLoopback = (address: SocketAddress): boolean =>
  address.family === "ipv4" ? address.host.startsWith("127.") : address.host === "::1"

/** The wildcard of a family, port 0. */
export const wildcard = (family: Family): SocketAddress =>
  family === "ipv4" ? makeIpv4("0.0.0.0", 0) : makeIpv6("::", 0, 0, 0)

/** The same address with another port. */
export const withPort = (address: SocketAddress, port: number): SocketAddress =>
  address.family === "ipv4"
    ? makeIpv4(address.host, port)
    : makeIpv6(address.host, port, address.flowInfo, address.scopeId)
