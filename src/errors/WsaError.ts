import { Data, Predicate } from "effect"
import type { YieldableError } from "effect/Cause"
import type { SocketAddress } from "../SocketAddress.js"
import { codeOf, nameByCode, type WsaName, wsaCodes } from "./codes.js"

/**
 * Which call failed: the name a user sees in the error and in spans.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation =
  | "startup"
  | "socket"
  | "bind"
  | "connect"
  | "send"
  | "receive"
  | "disconnect"
  | "close"
  | "getsockopt"
  | "setsockopt"
  | "localAddress"
  | "peerAddress"
  | "connectTime"
  | "layer"

/**
 * What every WSA error carries besides its code: the operation that failed and, where known, the address
 * involved and a detail in plain words.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  readonly operation: Operation
  readonly address?: SocketAddress | undefined
  readonly detail?: string | undefined
}

const describe = (name: string, meaning: string, advice: string, context: Context): string => {
  const where = context.address === undefined ? "" : ` (${context.address.family === "ipv6" ? `[${context.address.host}]` : context.address.host}:${context.address.port})`
  const detail = context.detail === undefined ? "" : ` ${context.detail}.`
  return `${context.operation}${where} failed with ${name}: ${meaning}${detail} ${advice}`
}

/**
 * What every WSA error instance looks like: a yieldable tagged error with the WSA number and context.
 *
 * @since 0.1.0
 * @category models
 */
export interface WsaErrorShape<Tag extends string> extends YieldableError, Context {
  readonly _tag: Tag
  readonly code: number
  readonly message: string
}

const WsaErrorClass = <Tag extends WsaName>(tag: Tag): new (context: Context) => WsaErrorShape<Tag> => {
  const [code, meaning, advice] = wsaCodes[tag]
  return class extends Data.TaggedError(tag)<Context & { readonly code: number; readonly message: string }> {
    constructor(context: Context) {
      super({ ...context, code, message: describe(tag, meaning, advice, context) })
    }
  }
}

/** @since 0.1.0 @category errors */
export class WSA_OPERATION_ABORTED extends WsaErrorClass("WSA_OPERATION_ABORTED") {}
/** @since 0.1.0 @category errors */
export class WSAEINTR extends WsaErrorClass("WSAEINTR") {}
/** @since 0.1.0 @category errors */
export class WSAEACCES extends WsaErrorClass("WSAEACCES") {}
/** @since 0.1.0 @category errors */
export class WSAEFAULT extends WsaErrorClass("WSAEFAULT") {}
/** @since 0.1.0 @category errors */
export class WSAEINVAL extends WsaErrorClass("WSAEINVAL") {}
/** @since 0.1.0 @category errors */
export class WSAEMFILE extends WsaErrorClass("WSAEMFILE") {}
/** @since 0.1.0 @category errors */
export class WSAEWOULDBLOCK extends WsaErrorClass("WSAEWOULDBLOCK") {}
/** @since 0.1.0 @category errors */
export class WSAEINPROGRESS extends WsaErrorClass("WSAEINPROGRESS") {}
/** @since 0.1.0 @category errors */
export class WSAEALREADY extends WsaErrorClass("WSAEALREADY") {}
/** @since 0.1.0 @category errors */
export class WSAENOTSOCK extends WsaErrorClass("WSAENOTSOCK") {}
/** @since 0.1.0 @category errors */
export class WSAEDESTADDRREQ extends WsaErrorClass("WSAEDESTADDRREQ") {}
/** @since 0.1.0 @category errors */
export class WSAEMSGSIZE extends WsaErrorClass("WSAEMSGSIZE") {}
/** @since 0.1.0 @category errors */
export class WSAEPROTOTYPE extends WsaErrorClass("WSAEPROTOTYPE") {}
/** @since 0.1.0 @category errors */
export class WSAENOPROTOOPT extends WsaErrorClass("WSAENOPROTOOPT") {}
/** @since 0.1.0 @category errors */
export class WSAEPROTONOSUPPORT extends WsaErrorClass("WSAEPROTONOSUPPORT") {}
/** @since 0.1.0 @category errors */
export class WSAESOCKTNOSUPPORT extends WsaErrorClass("WSAESOCKTNOSUPPORT") {}
/** @since 0.1.0 @category errors */
export class WSAEOPNOTSUPP extends WsaErrorClass("WSAEOPNOTSUPP") {}
/** @since 0.1.0 @category errors */
export class WSAEPFNOSUPPORT extends WsaErrorClass("WSAEPFNOSUPPORT") {}
/** @since 0.1.0 @category errors */
export class WSAEAFNOSUPPORT extends WsaErrorClass("WSAEAFNOSUPPORT") {}
/** @since 0.1.0 @category errors */
export class WSAEADDRINUSE extends WsaErrorClass("WSAEADDRINUSE") {}
/** @since 0.1.0 @category errors */
export class WSAEADDRNOTAVAIL extends WsaErrorClass("WSAEADDRNOTAVAIL") {}
/** @since 0.1.0 @category errors */
export class WSAENETDOWN extends WsaErrorClass("WSAENETDOWN") {}
/** @since 0.1.0 @category errors */
export class WSAENETUNREACH extends WsaErrorClass("WSAENETUNREACH") {}
/** @since 0.1.0 @category errors */
export class WSAENETRESET extends WsaErrorClass("WSAENETRESET") {}
/** @since 0.1.0 @category errors */
export class WSAECONNABORTED extends WsaErrorClass("WSAECONNABORTED") {}
/** @since 0.1.0 @category errors */
export class WSAECONNRESET extends WsaErrorClass("WSAECONNRESET") {}
/** @since 0.1.0 @category errors */
export class WSAENOBUFS extends WsaErrorClass("WSAENOBUFS") {}
/** @since 0.1.0 @category errors */
export class WSAEISCONN extends WsaErrorClass("WSAEISCONN") {}
/** @since 0.1.0 @category errors */
export class WSAENOTCONN extends WsaErrorClass("WSAENOTCONN") {}
/** @since 0.1.0 @category errors */
export class WSAESHUTDOWN extends WsaErrorClass("WSAESHUTDOWN") {}
/** @since 0.1.0 @category errors */
export class WSAETIMEDOUT extends WsaErrorClass("WSAETIMEDOUT") {}
/** @since 0.1.0 @category errors */
export class WSAECONNREFUSED extends WsaErrorClass("WSAECONNREFUSED") {}
/** @since 0.1.0 @category errors */
export class WSAEHOSTDOWN extends WsaErrorClass("WSAEHOSTDOWN") {}
/** @since 0.1.0 @category errors */
export class WSAEHOSTUNREACH extends WsaErrorClass("WSAEHOSTUNREACH") {}
/** @since 0.1.0 @category errors */
export class WSAEPROCLIM extends WsaErrorClass("WSAEPROCLIM") {}
/** @since 0.1.0 @category errors */
export class WSASYSNOTREADY extends WsaErrorClass("WSASYSNOTREADY") {}
/** @since 0.1.0 @category errors */
export class WSAVERNOTSUPPORTED extends WsaErrorClass("WSAVERNOTSUPPORTED") {}
/** @since 0.1.0 @category errors */
export class WSANOTINITIALISED extends WsaErrorClass("WSANOTINITIALISED") {}
/** @since 0.1.0 @category errors */
export class WSAEDISCON extends WsaErrorClass("WSAEDISCON") {}

/**
 * A code outside the table: the number is kept so that nothing is lost.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unknown extends Data.TaggedError("Unknown")<Context & { readonly code: number; readonly message: string }> {
  constructor(context: Context & { readonly code: number }) {
    super({ ...context, message: describe(`WSA error ${context.code}`, "An error this library has no name for.", "See the Windows Sockets error code list for this number.", context) })
  }
}

/**
 * Every error the library reports.
 *
 * @since 0.1.0
 * @category models
 */
export type WsaError =
  | WSA_OPERATION_ABORTED
  | WSAEINTR
  | WSAEACCES
  | WSAEFAULT
  | WSAEINVAL
  | WSAEMFILE
  | WSAEWOULDBLOCK
  | WSAEINPROGRESS
  | WSAEALREADY
  | WSAENOTSOCK
  | WSAEDESTADDRREQ
  | WSAEMSGSIZE
  | WSAEPROTOTYPE
  | WSAENOPROTOOPT
  | WSAEPROTONOSUPPORT
  | WSAESOCKTNOSUPPORT
  | WSAEOPNOTSUPP
  | WSAEPFNOSUPPORT
  | WSAEAFNOSUPPORT
  | WSAEADDRINUSE
  | WSAEADDRNOTAVAIL
  | WSAENETDOWN
  | WSAENETUNREACH
  | WSAENETRESET
  | WSAECONNABORTED
  | WSAECONNRESET
  | WSAENOBUFS
  | WSAEISCONN
  | WSAENOTCONN
  | WSAESHUTDOWN
  | WSAETIMEDOUT
  | WSAECONNREFUSED
  | WSAEHOSTDOWN
  | WSAEHOSTUNREACH
  | WSAEPROCLIM
  | WSASYSNOTREADY
  | WSAVERNOTSUPPORTED
  | WSANOTINITIALISED
  | WSAEDISCON
  | Unknown

/**
 * What `ConnectEx.connect` can fail with: the fifteen codes the ConnectEx documentation lists, and what a
 * completed or cancelled connect, or the send of its first data, adds.
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectError =
  | WSANOTINITIALISED
  | WSAENETDOWN
  | WSAEADDRINUSE
  | WSAEALREADY
  | WSAEADDRNOTAVAIL
  | WSAEAFNOSUPPORT
  | WSAECONNREFUSED
  | WSAEFAULT
  | WSAEINVAL
  | WSAEISCONN
  | WSAENETUNREACH
  | WSAEHOSTUNREACH
  | WSAENOBUFS
  | WSAENOTSOCK
  | WSAETIMEDOUT
  | WSAEACCES
  | WSAECONNRESET
  | WSAECONNABORTED
  | WSAENETRESET
  | WSAEOPNOTSUPP
  | WSA_OPERATION_ABORTED
  | Unknown

const classes: Record<WsaName, new (context: Context) => WsaError> = {
  WSA_OPERATION_ABORTED, WSAEINTR, WSAEACCES, WSAEFAULT, WSAEINVAL, WSAEMFILE, WSAEWOULDBLOCK, WSAEINPROGRESS, WSAEALREADY, WSAENOTSOCK, WSAEDESTADDRREQ, WSAEMSGSIZE, WSAEPROTOTYPE, WSAENOPROTOOPT, WSAEPROTONOSUPPORT, WSAESOCKTNOSUPPORT, WSAEOPNOTSUPP, WSAEPFNOSUPPORT, WSAEAFNOSUPPORT, WSAEADDRINUSE, WSAEADDRNOTAVAIL, WSAENETDOWN, WSAENETUNREACH, WSAENETRESET, WSAECONNABORTED, WSAECONNRESET, WSAENOBUFS, WSAEISCONN, WSAENOTCONN, WSAESHUTDOWN, WSAETIMEDOUT, WSAECONNREFUSED, WSAEHOSTDOWN, WSAEHOSTUNREACH, WSAEPROCLIM, WSASYSNOTREADY, WSAVERNOTSUPPORTED, WSANOTINITIALISED, WSAEDISCON
}

/**
 * The error for a WSA code (`Unknown` for a number outside the table).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCode = (code: number, context: Context): WsaError => {
  const name = nameByCode.get(code)
  return name === undefined ? new Unknown({ ...context, code }) : new classes[name](context)
}

/**
 * The error of a WSA name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromName = (name: WsaName, context: Context): WsaError => new classes[name](context)

/**
 * The WSA tags, for matching: every `_tag` a `WsaError` can have.
 *
 * @since 0.1.0
 */
export const tags: ReadonlyArray<WsaName | "Unknown"> = [...(Object.keys(wsaCodes) as Array<WsaName>), "Unknown"]

const tagSet = new Set<string>(tags)

/**
 * Whether a value is one of the library's WSA errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isWsaError = (u: unknown): u is WsaError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tagSet.has(u._tag) && Predicate.hasProperty(u, "code")

const retryable = new Set<string>(["WSAECONNREFUSED", "WSAENETUNREACH", "WSAETIMEDOUT"])

/**
 * Whether retrying the connect may help: exactly WSAECONNREFUSED, WSAENETUNREACH and WSAETIMEDOUT, after
 * which the same socket may connect again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: unknown): error is WSAECONNREFUSED | WSAENETUNREACH | WSAETIMEDOUT =>
  isWsaError(error) && retryable.has(error._tag)

export { codeOf, type WsaName, wsaCodes }
