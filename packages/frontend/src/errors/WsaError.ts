import * as Core from "@effect-connectex/core"
import { type WsaName, wsaCodes } from "@effect-connectex/core"
import { classes, Unknown, type WSAECONNREFUSED, type WSAENETUNREACH, type WSAETIMEDOUT, type WsaError } from "./classes.js"

/**
 * Which call failed: the name a user sees in the error and in spans.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = Core.Operation

/**
 * What every WSA error is made from besides its code: the operation that failed and, where known, the address
 * involved and a detail in plain words. `argument` marks the library's own check of an argument (the detail
 * names it and says why): the message then gives no generic advice. It is not kept on the error.
 *
 * @since 0.1.0
 * @category models
 */
export type Context = Core.ErrorContext

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

// fromCode, narrowing and the guards are the core's, over this front-end's classes.
const errors = Core.makeErrors<WsaError, Unknown>(classes, Unknown)

/**
 * The error for a WSA code (`Unknown` for a number outside the table).
 *
 * @example
 * WsaError.fromCode(10061, { operation: "connect" })._tag // "WSAECONNREFUSED"
 * @since 0.1.0
 * @category constructors
 */
export const fromCode: (code: number, context: Context) => WsaError = errors.fromCode

/**
 * The error of a WSA name, typed as that name's class.
 *
 * @example
 * WsaError.fromName("WSAETIMEDOUT", { operation: "connect" }).code // 10060
 * @since 0.1.0
 * @category constructors
 */
export const fromName: <N extends WsaName>(name: N, context: Context) => ErrorOf<N> = errors.fromName

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
export const narrowing: <N extends WsaName>(tags: ReadonlyArray<N>) => (code: number, context: Context) => ErrorOf<N> | Unknown =
  errors.narrowing

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
export const narrowingError: <N extends WsaName>(tags: ReadonlyArray<N>) => (error: WsaError) => ErrorOf<N> | Unknown =
  errors.narrowingError

/** @internal a core failure as one of a function's errors (`narrowing`: Unknown is the catch-all) */
export const failureOnto: <N extends WsaName>(tags: ReadonlyArray<N>) => (failure: Core.Failure) => ErrorOf<N> | Unknown =
  errors.failureOnto

/** @internal the error of any core failure (its full union) */
export const errorOf: (failure: Core.Failure) => WsaError = errors.errorOf

/**
 * The WSA tags, for matching: every `_tag` a `WsaError` can have.
 *
 * @example
 * WsaError.tags.includes("WSAEISCONN") // true
 * @since 0.1.0
 */
export const tags: ReadonlyArray<WsaName | "Unknown"> = Core.allTags

/**
 * Whether a value is one of the library's WSA errors (of this front-end or the other: the check is by tag and
 * code).
 *
 * @example
 * program.pipe(Effect.catchIf(WsaError.isWsaError, (error) => Effect.logWarning(error.message)))
 * @since 0.1.0
 * @category guards
 */
export const isWsaError: (u: unknown) => u is WsaError = errors.isWsaError

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
export const isRetryable: (error: unknown) => error is Retryable = errors.isRetryable

export {
  acceptTags,
  addressTags,
  bindTags,
  connectTags,
  connectTimeTags,
  dialTags,
  disconnectTags,
  listenTags,
  openTags,
  receiveTags,
  sendTags,
  setOptionTags,
  shutdownTags
} from "@effect-connectex/core"
export { type WsaName, wsaCodes }
