import { nameByCode, retryableNames, type SocketAddress, type WsaName, wsaCodes } from "@effect-connectex/core"
import { Predicate } from "effect"
import { classes, Unknown, type WSAECONNREFUSED, type WSAENETUNREACH, type WSAETIMEDOUT, type WsaError } from "./classes.js"

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

export * from "./classes.js"

/**
 * The `_tag` of every WSA error, `Unknown` included.
 *
 * @since 0.1.0
 * @category models
 */
export type Tag = WsaError["_tag"]

/**
 * The error class of a tag: `ErrorOf<"WSAECONNREFUSED">` is `WSAECONNREFUSED`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorOf<T extends Tag> = Extract<WsaError, { readonly _tag: T }>

// Each function's error union is a list of tags (checked at run time) and the type made from it, so that
// the two cannot drift apart. `Unknown` is in every union: it is the documented catch-all for a status the
// kernel reports that the call is not expected to produce (see `narrowing`).

/** Every call on a socket: a value that is not one of ours or was closed, or a released layer. */
const usableTags = ["WSAENOTSOCK", "WSANOTINITIALISED"] as const

/**
 * The tags of `OpenError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.openTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const openTags = [
  "WSAEAFNOSUPPORT", "WSANOTINITIALISED", "WSAENETDOWN", "WSAEMFILE", "WSAENOBUFS", "WSAEACCES", "WSAEINVAL",
  "WSAEPROTONOSUPPORT", "WSAESOCKTNOSUPPORT", "WSAEPROTOTYPE"
] as const
/**
 * What `Socket.open` can fail with: a bad family, a released layer, or what the system says (out of sockets
 * or buffers, no permission, no network).
 *
 * @since 0.1.0
 * @category models
 */
export type OpenError = ErrorOf<(typeof openTags)[number]> | Unknown

/**
 * The tags of `BindError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.bindTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const bindTags = [
  ...usableTags, "WSAEINVAL", "WSAEAFNOSUPPORT", "WSAEADDRINUSE", "WSAEADDRNOTAVAIL", "WSAEACCES", "WSAEFAULT",
  "WSAENOBUFS", "WSAENETDOWN"
] as const
/**
 * What `Socket.bind` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type BindError = ErrorOf<(typeof bindTags)[number]> | Unknown

/**
 * The tags of `SetOptionError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.setOptionTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const setOptionTags = [...usableTags, "WSAENOPROTOOPT", "WSAEINVAL", "WSAEFAULT", "WSAENETDOWN", "WSAENOTCONN", "WSAENETRESET", "WSAEOPNOTSUPP"] as const
/**
 * What `Socket.setOption` can fail with: an unknown option (`WSAENOPROTOOPT`), a bad value (`WSAEINVAL`), or
 * what the system says.
 *
 * @since 0.1.0
 * @category models
 */
export type SetOptionError = ErrorOf<(typeof setOptionTags)[number]> | Unknown

/**
 * The tags of `AddressError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.addressTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const addressTags = [...usableTags, "WSAEINVAL", "WSAENOTCONN", "WSAEFAULT", "WSAENETDOWN", "WSAENOBUFS", "WSAEAFNOSUPPORT"] as const
/**
 * What `Socket.localAddress` and `Socket.peerAddress` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type AddressError = ErrorOf<(typeof addressTags)[number]> | Unknown

/**
 * The tags of `ConnectTimeError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.connectTimeTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const connectTimeTags = [...usableTags, "WSAENOPROTOOPT", "WSAEINVAL", "WSAEFAULT", "WSAENETDOWN"] as const
/**
 * What `Socket.connectTime` can fail with (Windows reads SO_CONNECT_TIME; elsewhere only the first two).
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectTimeError = ErrorOf<(typeof connectTimeTags)[number]> | Unknown

/** A broken connection, as send and receive report it. */
const brokenTags = ["WSAECONNRESET", "WSAECONNABORTED", "WSAENETRESET", "WSAENETDOWN", "WSAETIMEDOUT", "WSAENOBUFS", "WSA_OPERATION_ABORTED"] as const

/**
 * The tags of `SendError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.sendTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const sendTags = [...usableTags, "WSAENOTCONN", "WSAESHUTDOWN", "WSAEFAULT", "WSAEHOSTUNREACH", "WSAENETUNREACH", ...brokenTags] as const
/**
 * What `Socket.send` can fail with: not connected, shut down, bytes that are not a `Uint8Array` (`WSAEFAULT`),
 * or a broken connection (reset, aborted, timed out, no buffers, cancelled).
 *
 * @since 0.1.0
 * @category models
 */
export type SendError = ErrorOf<(typeof sendTags)[number]> | Unknown

/**
 * The tags of `ReceiveError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.receiveTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const receiveTags = [...usableTags, "WSAENOTCONN", "WSAEINVAL", "WSAEFAULT", "WSAEDISCON", ...brokenTags] as const
/**
 * What `Socket.receive` can fail with: not connected, a bad `maxBytes` (`WSAEINVAL`), or a broken connection.
 * The peer's graceful end is not an error: an empty result.
 *
 * @since 0.1.0
 * @category models
 */
export type ReceiveError = ErrorOf<(typeof receiveTags)[number]> | Unknown

/**
 * The tags of `ShutdownError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.shutdownTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const shutdownTags = [...usableTags, "WSAENOTCONN", "WSAEINVAL", "WSAENETDOWN", "WSAECONNRESET", "WSAECONNABORTED"] as const
/**
 * What `Socket.shutdown` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ShutdownError = ErrorOf<(typeof shutdownTags)[number]> | Unknown

/**
 * The tags of `DisconnectError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.disconnectTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const disconnectTags = [
  ...usableTags, "WSAENOTCONN", "WSAEINVAL", "WSAEOPNOTSUPP", "WSAENETDOWN", "WSAECONNRESET", "WSAECONNABORTED",
  "WSAETIMEDOUT", "WSAENOBUFS", "WSA_OPERATION_ABORTED"
] as const
/**
 * What `Socket.disconnect` can fail with (`WSAEOPNOTSUPP`: a reuse the platform cannot do, as under Wine).
 *
 * @since 0.1.0
 * @category models
 */
export type DisconnectError = ErrorOf<(typeof disconnectTags)[number]> | Unknown

/**
 * The tags of `ConnectError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.connectTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const connectTags = [
  "WSANOTINITIALISED", "WSAENETDOWN", "WSAEADDRINUSE", "WSAEALREADY", "WSAEADDRNOTAVAIL", "WSAEAFNOSUPPORT",
  "WSAECONNREFUSED", "WSAEFAULT", "WSAEINVAL", "WSAEISCONN", "WSAENETUNREACH", "WSAEHOSTUNREACH", "WSAENOBUFS",
  "WSAENOTSOCK", "WSAETIMEDOUT", "WSAEACCES", "WSAECONNRESET", "WSAECONNABORTED", "WSAENETRESET", "WSAEOPNOTSUPP",
  "WSAEHOSTDOWN", "WSA_OPERATION_ABORTED"
] as const
/**
 * What `ConnectEx.connect` can fail with: the fifteen codes the ConnectEx documentation lists, and what a
 * completed or cancelled connect, or the send of its first data, adds.
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectError = ErrorOf<(typeof connectTags)[number]> | Unknown

/**
 * What `ConnectEx.dial` can fail with (besides `TimeoutException` when it has a `timeout`): the connect's
 * errors, and those of opening and binding the socket it dials from.
 *
 * @since 0.1.0
 * @category models
 */
export type DialFailure = ConnectError | OpenError | BindError

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
 * The error of a WSA name, typed as that name's class.
 *
 * @example
 * WsaError.fromName("WSAETIMEDOUT", { operation: "connect" }).code // 10060
 * @since 0.1.0
 * @category constructors
 */
export const fromName = <N extends WsaName>(name: N, context: Context): ErrorOf<N> => new classes[name](context)

/**
 * A total function from any WSA code onto one function's error union: the code's own error when its tag is
 * one of `tags`; otherwise `Unknown` carrying the code, with a detail naming the tag the system reported.
 * `Unknown` is the documented catch-all of every union: a status the kernel reports that the call is not
 * expected to produce stays visible (code and name) without widening every function's type to all 40 tags.
 *
 * @example
 * const toSendError = WsaError.narrowing(["WSAECONNRESET", "WSAENOTCONN"])
 * toSendError(10054, { operation: "send" })._tag // "WSAECONNRESET"
 * toSendError(10048, { operation: "send" })._tag // "Unknown" (code 10048, detail names WSAEADDRINUSE)
 * @since 0.1.0
 * @category constructors
 */
export const narrowing = <N extends WsaName>(tags: ReadonlyArray<N>) => {
  const allowed: ReadonlySet<string> = new Set(tags)
  const isAllowed = (error: WsaError): error is ErrorOf<N> => allowed.has(error._tag)
  return (code: number, context: Context): ErrorOf<N> | Unknown => {
    const error = fromCode(code, context)
    if (isAllowed(error) || error._tag === "Unknown") return error
    return new Unknown({
      ...context,
      code,
      detail: `the system reported ${error._tag}, which this call is not expected to produce`
    })
  }
}

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
 * The tags of `ListenError` (besides `Unknown`), as a value: opening the socket, binding (the address is in
 * use, not local, the wrong family, not allowed) and listen() itself.
 *
 * @example
 * WsaError.listenTags.includes("WSAEADDRINUSE") // true
 * @since 0.1.0
 * @category models
 */
export const listenTags = [
  ...openTags,
  ...bindTags,
  "WSAEISCONN",
  "WSAEOPNOTSUPP",
  "WSAEFAULT",
  "WSAENOTSOCK"
] as const

/**
 * What `Listener.listen` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ListenError = ErrorOf<(typeof listenTags)[number]> | Unknown

/**
 * The tags of `AcceptError` (besides `Unknown`), as a value: not a listening socket (WSAEINVAL), closed
 * (WSAENOTSOCK, or WSA_OPERATION_ABORTED when the listener closed while the accept was pending), out of
 * descriptors or buffers (WSAEMFILE, WSAENOBUFS), and what AcceptEx reports.
 *
 * @example
 * WsaError.acceptTags.includes("WSA_OPERATION_ABORTED") // true
 * @since 0.1.0
 * @category models
 */
export const acceptTags = [
  "WSANOTINITIALISED",
  "WSAENETDOWN",
  "WSAEFAULT",
  "WSAEINVAL",
  "WSAEMFILE",
  "WSAENOBUFS",
  "WSAENOTSOCK",
  "WSAEOPNOTSUPP",
  "WSAECONNRESET",
  "WSAECONNABORTED",
  "WSA_OPERATION_ABORTED"
] as const

/**
 * What `Listener.accept` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type AcceptError = ErrorOf<(typeof acceptTags)[number]> | Unknown

/**
 * `narrowing` for an error already made (by an earlier step of a call): kept when its tag is in `tags`,
 * otherwise `Unknown` with its code, naming the tag. Total, so no cast claims a narrower union than the code
 * can produce.
 *
 * @example
 * const toAcceptError = WsaError.narrowingError(WsaError.acceptTags)
 * toAcceptError(new WsaError.WSAEADDRINUSE({ operation: "accept" }))._tag // "Unknown"
 * @since 0.1.0
 * @category constructors
 */
export const narrowingError = <N extends WsaName>(tags: ReadonlyArray<N>) => {
  const allowed: ReadonlySet<string> = new Set(tags)
  return (error: WsaError): ErrorOf<N> | Unknown =>
    allowed.has(error._tag) || error._tag === "Unknown"
      ? (error as ErrorOf<N> | Unknown)
      : new Unknown({
        operation: error.operation,
        address: error.address,
        code: error.code,
        detail: `the system reported ${error._tag}, which this call is not expected to produce`
      })
}
