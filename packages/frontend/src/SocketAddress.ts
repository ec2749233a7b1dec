/**
 * IPv4 and IPv6 socket addresses: validated values with structural equality (`Equal.equals`, `HashSet`), the
 * same records on both front-ends (the core makes them).
 *
 * @since 0.1.0
 */
import * as Core from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as WsaError from "./errors/WsaError.js"

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

/**
 * An IPv4 address from a literal. An invalid literal is a programmer error and throws; use `parse` for
 * untrusted text.
 *
 * @example
 * const target = SocketAddress.ipv4("127.0.0.1", 8080)
 * @since 0.1.0
 * @category constructors
 */
export const ipv4: (host: string, port: number) => Ipv4Address = Core.ipv4Literal

/**
 * An IPv6 address from a literal (no brackets, no zone: the scope goes in `scopeId`). Throws on an invalid
 * literal; use `parse` for untrusted text.
 *
 * @example
 * const target = SocketAddress.ipv6("::1", 8080)
 * @since 0.1.0
 * @category constructors
 */
export const ipv6: (host: string, port: number, options?: { readonly flowInfo?: number; readonly scopeId?: number }) => Ipv6Address =
  Core.ipv6Literal

const settled = <N extends "WSAEINVAL" | "WSAEAFNOSUPPORT">(
  result: SocketAddress | Core.Io.Rejected<N>
): Effect.Effect<SocketAddress, WsaError.ErrorOf<N>> =>
  Core.Io.isRejected(result) ? Effect.fail(WsaError.fromName(result.name, result.context)) : Effect.succeed(result)

/**
 * Parses untrusted text: `"127.0.0.1:80"`, `"[::1]:80"`, `"[fe80::1%2]:80"` (numeric scope id).
 * Anything malformed is a `WSAEINVAL` value.
 *
 * @example
 * const address = yield* SocketAddress.parse("[::1]:8080")
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): Effect.Effect<SocketAddress, WsaError.WSAEINVAL> =>
  Effect.suspend(() => settled(Core.Io.parseAddress(text)))

/**
 * Validates an address value that may not have come from the constructors (a user's object literal, a
 * value from JSON): a `WSAEINVAL` unless it is a well-formed address (`WSAEAFNOSUPPORT` for an unknown
 * family, as Windows answers a bad sa_family). Returns the canonical value.
 *
 * @example
 * const address = yield* SocketAddress.validate(JSON.parse(text), "connect")
 * @since 0.1.0
 * @category parsing
 */
export const validate = (
  address: unknown,
  operation: "bind" | "connect"
): Effect.Effect<SocketAddress, WsaError.WSAEINVAL | WsaError.WSAEAFNOSUPPORT> =>
  Effect.suspend(() => settled(Core.Io.checkAddress(address, operation)))

/**
 * The text form: `127.0.0.1:80`, `[::1]:80`, `[fe80::1%2]:80`. `parse(format(a))` equals `a` (flow info aside).
 *
 * @example
 * SocketAddress.format(SocketAddress.ipv6("::1", 80)) // "[::1]:80"
 * @since 0.1.0
 * @category formatting
 */
export const format: (address: SocketAddress) => string = Core.format

/**
 * Structural equality (also what `Equal.equals` and a `HashSet` of addresses use); a plain object that is a
 * valid address compares by its fields too.
 *
 * @example
 * SocketAddress.equals(SocketAddress.ipv6("0::1", 80), SocketAddress.ipv6("::1", 80)) // true
 * @since 0.1.0
 * @category equivalence
 */
export const equals: (a: SocketAddress, b: SocketAddress) => boolean = Core.equals

/**
 * The address's IP as network-order bytes (4 for IPv4, 16 for IPv6).
 *
 * @example
 * SocketAddress.toBytes(SocketAddress.ipv4("127.0.0.1", 80)) // Uint8Array [127, 0, 0, 1]
 * @since 0.1.0
 * @category conversions
 */
export const toBytes: (address: SocketAddress) => Uint8Array = Core.toBytes

/**
 * An address from network-order bytes, as the kernel returns them.
 *
 * @example
 * SocketAddress.fromBytes(new Uint8Array([127, 0, 0, 1]), 80) // 127.0.0.1:80
 * @since 0.1.0
 * @category conversions
 */
export const fromBytes: (bytes: Uint8Array, port: number, options?: { readonly flowInfo?: number; readonly scopeId?: number }) => SocketAddress =
  Core.fromBytes

/**
 * Whether the IP is the unspecified address (0.0.0.0 or ::): fine to bind, never a destination.
 *
 * @example
 * SocketAddress.isUnspecified(SocketAddress.ipv4("0.0.0.0", 0)) // true
 * @since 0.1.0
 * @category predicates
 */
export const isUnspecified: (address: SocketAddress) => boolean = Core.isUnspecified

/**
 * The wildcard address of a family, port 0: what `dial` binds when no local address is given.
 *
 * @example
 * yield* Socket.bind(socket, SocketAddress.wildcard("ipv6")) // [::]:0
 * @since 0.1.0
 * @category constructors
 */
export const wildcard: (family: Family) => SocketAddress = Core.wildcard
