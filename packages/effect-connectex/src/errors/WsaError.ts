import * as Core from "@effect-connectex/core"
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
// the two cannot drift apart. The lists are the core's (shared with the Effect 4 front-end), re-exported here. `Unknown` is in every union: it is the documented catch-all for a status the
// kernel reports that the call is not expected to produce (see `narrowing`).

/**
 * What `Socket.open` can fail with: a bad family, a released layer, or what the system says (out of sockets
 * or buffers, no permission, no network).
 *
 * @since 0.1.0
 * @category models
 */
export type OpenError = ErrorOf<(typeof Core.openTags)[number]> | Unknown

/**
 * What `Socket.bind` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type BindError = ErrorOf<(typeof Core.bindTags)[number]> | Unknown

/**
 * What `Socket.setOption` can fail with: an unknown option (`WSAENOPROTOOPT`), a bad value (`WSAEINVAL`), or
 * what the system says.
 *
 * @since 0.1.0
 * @category models
 */
export type SetOptionError = ErrorOf<(typeof Core.setOptionTags)[number]> | Unknown

/**
 * What `Socket.localAddress` and `Socket.peerAddress` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type AddressError = ErrorOf<(typeof Core.addressTags)[number]> | Unknown

/**
 * What `Socket.connectTime` can fail with (Windows reads SO_CONNECT_TIME; elsewhere only the first two).
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectTimeError = ErrorOf<(typeof Core.connectTimeTags)[number]> | Unknown

/**
 * What `Socket.send` can fail with: not connected, shut down, bytes that are not a `Uint8Array` (`WSAEFAULT`),
 * or a broken connection (reset, aborted, timed out, no buffers, cancelled).
 *
 * @since 0.1.0
 * @category models
 */
export type SendError = ErrorOf<(typeof Core.sendTags)[number]> | Unknown

/**
 * What `Socket.receive` can fail with: not connected, a bad `maxBytes` (`WSAEINVAL`), or a broken connection.
 * The peer's graceful end is not an error: an empty result.
 *
 * @since 0.1.0
 * @category models
 */
export type ReceiveError = ErrorOf<(typeof Core.receiveTags)[number]> | Unknown

/**
 * What `Socket.shutdown` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ShutdownError = ErrorOf<(typeof Core.shutdownTags)[number]> | Unknown

/**
 * What `Socket.disconnect` can fail with (`WSAEOPNOTSUPP`: a reuse the platform cannot do, as under Wine).
 *
 * @since 0.1.0
 * @category models
 */
export type DisconnectError = ErrorOf<(typeof Core.disconnectTags)[number]> | Unknown

/**
 * What `ConnectEx.connect` can fail with: the fifteen codes the ConnectEx documentation lists, and what a
 * completed or cancelled connect, or the send of its first data, adds.
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectError = ErrorOf<(typeof Core.connectTags)[number]> | Unknown

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
  const narrow = narrowingError(tags)
  return (code: number, context: Context): ErrorOf<N> | Unknown => narrow(fromCode(code, context))
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

export {
  acceptTags,
  addressTags,
  bindTags,
  connectTags,
  dialTags,
  connectTimeTags,
  disconnectTags,
  listenTags,
  openTags,
  receiveTags,
  sendTags,
  setOptionTags,
  shutdownTags
} from "@effect-connectex/core"
export { type WsaName, wsaCodes }

// -- Listener ---------------------------------------------------------------------------------------------


/**
 * What `Listener.listen` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ListenError = ErrorOf<(typeof Core.listenTags)[number]> | Unknown


/**
 * What `Listener.accept` can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type AcceptError = ErrorOf<(typeof Core.acceptTags)[number]> | Unknown

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
