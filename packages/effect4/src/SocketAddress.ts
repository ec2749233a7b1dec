/**
 * IPv4 and IPv6 socket addresses: validated values with structural equality.
 *
 * @since 0.1.0
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import { WSAEAFNOSUPPORT, WSAEINVAL } from "./errors/WsaError.js"
import type { Operation } from "./errors/WsaError.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Family = Core.Family

/**
 * @since 0.1.0
 * @category models
 */
export type Ipv4Address = Core.Ipv4Address

/**
 * @since 0.1.0
 * @category models
 */
export type Ipv6Address = Core.Ipv6Address

/**
 * @since 0.1.0
 * @category models
 */
export type SocketAddress = Core.SocketAddress

// Effect 4 compares plain objects structurally (Equal.equals, Hash.hash), so the core's plain address records are
// Effect values as they are: this front-end installs no constructor (the Effect 3 one installs Data.struct).

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
  const address = Core.ipv4(host, port)
  if (Core.isInvalid(address)) throw new TypeError(`SocketAddress.ipv4: ${address.invalid}`)
  return address
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
  const address = Core.ipv6(host, port, options)
  if (Core.isInvalid(address)) throw new TypeError(`SocketAddress.ipv6: ${address.invalid}`)
  return address
}

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
  Effect.suspend(() => {
    const address = Core.parse(text)
    return Core.isInvalid(address)
      ? Effect.fail(new WSAEINVAL({ operation: "parse", detail: address.invalid }))
      : Effect.succeed(address)
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
): Effect.Effect<SocketAddress, WSAEINVAL | WSAEAFNOSUPPORT> =>
  Effect.suspend(() => {
    const result = validateSync(address, operation)
    return result instanceof WSAEINVAL || result instanceof WSAEAFNOSUPPORT ? Effect.fail(result) : Effect.succeed(result)
  })

/** @internal `validate` without the Effect, for hot paths. An unknown family is WSAEAFNOSUPPORT, as Windows
 * answers a bad sa_family. */
export const validateSync = (address: unknown, operation: Operation): SocketAddress | WSAEINVAL | WSAEAFNOSUPPORT => {
  const result = Core.validate(address)
  if (!Core.isInvalid(result)) return result
  return result.unknownFamily === true
    ? new WSAEAFNOSUPPORT({ operation, detail: result.invalid })
    : new WSAEINVAL({ operation, detail: result.invalid })
}

/**
 * The text form: `127.0.0.1:80`, `[::1]:80`, `[fe80::1%2]:80`. `parse(format(a))` equals `a` (flow info aside).
 *
 * @example
 * SocketAddress.format(SocketAddress.ipv6("::1", 80)) // "[::1]:80"
 * @since 0.1.0
 * @category formatting
 */
export const format = (address: SocketAddress): string => Core.format(address)

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
export const toBytes = (address: SocketAddress): Uint8Array => Core.toBytes(address)

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
): SocketAddress => Core.fromBytes(bytes, port, options)

/**
 * Whether the IP is the unspecified address (0.0.0.0 or ::): fine to bind, never a destination.
 *
 * @example
 * SocketAddress.isUnspecified(SocketAddress.ipv4("0.0.0.0", 0)) // true
 * @since 0.1.0
 * @category predicates
 */
export const isUnspecified = (address: SocketAddress): boolean => Core.isUnspecified(address)

/**
 * The wildcard address of a family, port 0: what `dial` binds when no local address is given.
 *
 * @example
 * yield* Socket.bind(socket, SocketAddress.wildcard("ipv6")) // [::]:0
 * @since 0.1.0
 * @category constructors
 */
export const wildcard = (family: Family): SocketAddress => Core.wildcard(family)