import { Data, Predicate } from "effect"
import type { YieldableError } from "effect/Cause"
import { describeAddress, nameByCode, retryableNames, type SocketAddress, type WsaName, wsaCodes } from "@effect-connectex/core"

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
  | "listen"
  | "accept"
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
  | "parse"
  | "resolve"

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
  const where = context.address === undefined ? "" : ` (${describeAddress(context.address)})`
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

/**
 * The `WSA_OPERATION_ABORTED` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSA_OPERATION_ABORTED", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSA_OPERATION_ABORTED extends WsaErrorClass("WSA_OPERATION_ABORTED") {}
/**
 * The `WSAEINTR` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEINTR", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEINTR extends WsaErrorClass("WSAEINTR") {}
/**
 * The `WSAEACCES` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEACCES", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEACCES extends WsaErrorClass("WSAEACCES") {}
/**
 * The `WSAEFAULT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEFAULT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEFAULT extends WsaErrorClass("WSAEFAULT") {}
/**
 * The `WSAEINVAL` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEINVAL", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEINVAL extends WsaErrorClass("WSAEINVAL") {}
/**
 * The `WSAEMFILE` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEMFILE", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEMFILE extends WsaErrorClass("WSAEMFILE") {}
/**
 * The `WSAEWOULDBLOCK` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEWOULDBLOCK", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEWOULDBLOCK extends WsaErrorClass("WSAEWOULDBLOCK") {}
/**
 * The `WSAEINPROGRESS` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEINPROGRESS", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEINPROGRESS extends WsaErrorClass("WSAEINPROGRESS") {}
/**
 * The `WSAEALREADY` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEALREADY", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEALREADY extends WsaErrorClass("WSAEALREADY") {}
/**
 * The `WSAENOTSOCK` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENOTSOCK", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENOTSOCK extends WsaErrorClass("WSAENOTSOCK") {}
/**
 * The `WSAEDESTADDRREQ` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEDESTADDRREQ", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEDESTADDRREQ extends WsaErrorClass("WSAEDESTADDRREQ") {}
/**
 * The `WSAEMSGSIZE` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEMSGSIZE", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEMSGSIZE extends WsaErrorClass("WSAEMSGSIZE") {}
/**
 * The `WSAEPROTOTYPE` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEPROTOTYPE", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEPROTOTYPE extends WsaErrorClass("WSAEPROTOTYPE") {}
/**
 * The `WSAENOPROTOOPT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENOPROTOOPT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENOPROTOOPT extends WsaErrorClass("WSAENOPROTOOPT") {}
/**
 * The `WSAEPROTONOSUPPORT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEPROTONOSUPPORT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEPROTONOSUPPORT extends WsaErrorClass("WSAEPROTONOSUPPORT") {}
/**
 * The `WSAESOCKTNOSUPPORT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAESOCKTNOSUPPORT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAESOCKTNOSUPPORT extends WsaErrorClass("WSAESOCKTNOSUPPORT") {}
/**
 * The `WSAEOPNOTSUPP` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEOPNOTSUPP", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEOPNOTSUPP extends WsaErrorClass("WSAEOPNOTSUPP") {}
/**
 * The `WSAEPFNOSUPPORT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEPFNOSUPPORT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEPFNOSUPPORT extends WsaErrorClass("WSAEPFNOSUPPORT") {}
/**
 * The `WSAEAFNOSUPPORT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEAFNOSUPPORT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEAFNOSUPPORT extends WsaErrorClass("WSAEAFNOSUPPORT") {}
/**
 * The `WSAEADDRINUSE` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEADDRINUSE", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEADDRINUSE extends WsaErrorClass("WSAEADDRINUSE") {}
/**
 * The `WSAEADDRNOTAVAIL` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEADDRNOTAVAIL", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEADDRNOTAVAIL extends WsaErrorClass("WSAEADDRNOTAVAIL") {}
/**
 * The `WSAENETDOWN` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENETDOWN", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENETDOWN extends WsaErrorClass("WSAENETDOWN") {}
/**
 * The `WSAENETUNREACH` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENETUNREACH", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENETUNREACH extends WsaErrorClass("WSAENETUNREACH") {}
/**
 * The `WSAENETRESET` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENETRESET", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENETRESET extends WsaErrorClass("WSAENETRESET") {}
/**
 * The `WSAECONNABORTED` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAECONNABORTED", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAECONNABORTED extends WsaErrorClass("WSAECONNABORTED") {}
/**
 * The `WSAECONNRESET` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAECONNRESET", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAECONNRESET extends WsaErrorClass("WSAECONNRESET") {}
/**
 * The `WSAENOBUFS` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENOBUFS", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENOBUFS extends WsaErrorClass("WSAENOBUFS") {}
/**
 * The `WSAEISCONN` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEISCONN", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEISCONN extends WsaErrorClass("WSAEISCONN") {}
/**
 * The `WSAENOTCONN` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAENOTCONN", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAENOTCONN extends WsaErrorClass("WSAENOTCONN") {}
/**
 * The `WSAESHUTDOWN` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAESHUTDOWN", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAESHUTDOWN extends WsaErrorClass("WSAESHUTDOWN") {}
/**
 * The `WSAETIMEDOUT` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAETIMEDOUT", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAETIMEDOUT extends WsaErrorClass("WSAETIMEDOUT") {}
/**
 * The `WSAECONNREFUSED` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAECONNREFUSED", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAECONNREFUSED extends WsaErrorClass("WSAECONNREFUSED") {}
/**
 * The `WSAEHOSTDOWN` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEHOSTDOWN", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEHOSTDOWN extends WsaErrorClass("WSAEHOSTDOWN") {}
/**
 * The `WSAEHOSTUNREACH` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEHOSTUNREACH", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEHOSTUNREACH extends WsaErrorClass("WSAEHOSTUNREACH") {}
/**
 * The `WSAEPROCLIM` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEPROCLIM", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEPROCLIM extends WsaErrorClass("WSAEPROCLIM") {}
/**
 * The `WSASYSNOTREADY` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSASYSNOTREADY", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSASYSNOTREADY extends WsaErrorClass("WSASYSNOTREADY") {}
/**
 * The `WSAVERNOTSUPPORTED` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAVERNOTSUPPORTED", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAVERNOTSUPPORTED extends WsaErrorClass("WSAVERNOTSUPPORTED") {}
/**
 * The `WSANOTINITIALISED` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSANOTINITIALISED", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSANOTINITIALISED extends WsaErrorClass("WSANOTINITIALISED") {}
/**
 * The `WSAEDISCON` error.
 *
 * @example
 * program.pipe(Effect.catchTag("WSAEDISCON", (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category errors
 */
export class WSAEDISCON extends WsaErrorClass("WSAEDISCON") {}

/**
 * A code outside the table: the number is kept so that nothing is lost.
 *
 * @example
 * program.pipe(Effect.catchTag("Unknown", (error) => Effect.logError(`WSA ${error.code}`)))
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
 * @example
 * WsaError.fromCode(10061, { operation: "connect" })._tag // "WSAECONNREFUSED"
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
 * @example
 * WsaError.fromName("WSAETIMEDOUT", { operation: "connect" }).code // 10060
 * @since 0.1.0
 * @category constructors
 */
export const fromName = (name: WsaName, context: Context): WsaError => new classes[name](context)

/**
 * The WSA tags, for matching: every `_tag` a `WsaError` can have.
 *
 * @example
 * WsaError.tags.includes("WSAEISCONN") // true
 * @since 0.1.0
 */
export const tags: ReadonlyArray<WsaName | "Unknown"> = [...(Object.keys(wsaCodes) as Array<WsaName>), "Unknown"]

const tagSet = new Set<string>(tags)

/**
 * Whether a value is one of the library's WSA errors.
 *
 * @example
 * program.pipe(Effect.catchIf(WsaError.isWsaError, (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category guards
 */
export const isWsaError = (u: unknown): u is WsaError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tagSet.has(u._tag) && Predicate.hasProperty(u, "code")

const retryable = new Set<string>(retryableNames)

/**
 * The errors after which retrying may help (and the same socket may connect again): what `dial` feeds its
 * `retry` schedule.
 *
 * @since 0.1.0
 * @category models
 */
export type Retryable = WSAECONNREFUSED | WSAENETUNREACH | WSAETIMEDOUT

/**
 * Whether retrying the connect may help: exactly WSAECONNREFUSED, WSAENETUNREACH and WSAETIMEDOUT, after
 * which the same socket may connect again.
 *
 * @example
 * program.pipe(Effect.retry({ while: WsaError.isRetryable, times: 3 }))
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: unknown): error is Retryable =>
  isWsaError(error) && retryable.has(error._tag)

export { type WsaName, wsaCodes }

// -- Listener ---------------------------------------------------------------------------------------------

/**
 * What `Listener.listen` can fail with: opening the socket, binding (the address is in use, not local, the
 * wrong family, not allowed) and listen() itself.
 *
 * @since 0.1.0
 * @category models
 */
export type ListenError =
  | WSANOTINITIALISED
  | WSAENETDOWN
  | WSAEACCES
  | WSAEADDRINUSE
  | WSAEADDRNOTAVAIL
  | WSAEAFNOSUPPORT
  | WSAEFAULT
  | WSAEINVAL
  | WSAEISCONN
  | WSAEMFILE
  | WSAENOBUFS
  | WSAENOTSOCK
  | WSAEOPNOTSUPP
  | Unknown

/**
 * What `Listener.accept` can fail with: not a listening socket (WSAEINVAL), closed (WSAENOTSOCK, or
 * WSA_OPERATION_ABORTED when the listener closed while the accept was pending), out of descriptors or
 * buffers (WSAEMFILE, WSAENOBUFS), and what AcceptEx reports.
 *
 * @since 0.1.0
 * @category models
 */
export type AcceptError =
  | WSANOTINITIALISED
  | WSAENETDOWN
  | WSAEFAULT
  | WSAEINVAL
  | WSAEMFILE
  | WSAENOBUFS
  | WSAENOTSOCK
  | WSAEOPNOTSUPP
  | WSAECONNRESET
  | WSAECONNABORTED
  | WSA_OPERATION_ABORTED
  | Unknown
