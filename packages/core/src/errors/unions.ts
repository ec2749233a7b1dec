/**
 * Each public function's error union, as a list of WSA names: what the function maps a kernel status onto
 * (besides `Unknown`, the catch-all every front-end adds). Both front-ends re-export these lists under the
 * same names and derive their union types from them, so the lists are written once and cannot drift apart.
 */
import type { WsaName } from "./codes.js"

/** Every call on a socket: a value that is not one of ours or was closed, or a released layer. */
export const usableTags = ["WSAENOTSOCK", "WSANOTINITIALISED"] as const satisfies ReadonlyArray<WsaName>

/** A broken connection, as send and receive report it. */
export const brokenTags = [
  "WSAECONNRESET", "WSAECONNABORTED", "WSAENETRESET", "WSAENETDOWN", "WSAETIMEDOUT", "WSAENOBUFS", "WSA_OPERATION_ABORTED"
] as const satisfies ReadonlyArray<WsaName>

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
] as const satisfies ReadonlyArray<WsaName>

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
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `SetOptionError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.setOptionTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const setOptionTags = [
  ...usableTags, "WSAENOPROTOOPT", "WSAEINVAL", "WSAEFAULT", "WSAENETDOWN", "WSAENOTCONN", "WSAENETRESET", "WSAEOPNOTSUPP"
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `AddressError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.addressTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const addressTags = [
  ...usableTags, "WSAEINVAL", "WSAENOTCONN", "WSAEFAULT", "WSAENETDOWN", "WSAENOBUFS", "WSAEAFNOSUPPORT"
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `ConnectTimeError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.connectTimeTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const connectTimeTags = [
  ...usableTags, "WSAENOPROTOOPT", "WSAEINVAL", "WSAEFAULT", "WSAENETDOWN"
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `SendError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.sendTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const sendTags = [
  ...usableTags, "WSAENOTCONN", "WSAESHUTDOWN", "WSAEFAULT", "WSAEHOSTUNREACH", "WSAENETUNREACH", ...brokenTags
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `ReceiveError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.receiveTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const receiveTags = [
  ...usableTags, "WSAENOTCONN", "WSAEINVAL", "WSAEFAULT", "WSAEDISCON", ...brokenTags
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `ShutdownError` (besides `Unknown`), as a value: what the function maps a kernel status onto.
 *
 * @example
 * WsaError.shutdownTags.includes("WSAEINVAL")
 * @since 0.1.0
 * @category models
 */
export const shutdownTags = [
  ...usableTags, "WSAENOTCONN", "WSAEINVAL", "WSAENETDOWN", "WSAECONNRESET", "WSAECONNABORTED"
] as const satisfies ReadonlyArray<WsaName>

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
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `ConnectError` (besides `Unknown`), as a value: the fifteen codes the ConnectEx documentation
 * lists, and what a completed or cancelled connect, or the send of its first data, adds.
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
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of `ListenError` (besides `Unknown`), as a value: opening the socket (`openTags`), binding
 * (`bindTags`: the address is in use, not local, the wrong family, not allowed) and listen() itself, each
 * name once.
 *
 * @example
 * WsaError.listenTags.includes("WSAEADDRINUSE") // true
 * @since 0.1.0
 * @category models
 */
export const listenTags = [
  "WSAENOTSOCK", "WSANOTINITIALISED", "WSAEAFNOSUPPORT", "WSAEMFILE", "WSAENOBUFS", "WSAEPROTONOSUPPORT",
  "WSAEPROTOTYPE", "WSAESOCKTNOSUPPORT", "WSAEINVAL", "WSAENETDOWN", "WSAEACCES", "WSAEADDRINUSE",
  "WSAEADDRNOTAVAIL", "WSAEFAULT", "WSAEISCONN", "WSAEOPNOTSUPP"
] as const satisfies ReadonlyArray<WsaName>

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
  "WSANOTINITIALISED", "WSAENETDOWN", "WSAEFAULT", "WSAEINVAL", "WSAEMFILE", "WSAENOBUFS", "WSAENOTSOCK",
  "WSAEOPNOTSUPP", "WSAECONNRESET", "WSAECONNABORTED", "WSA_OPERATION_ABORTED"
] as const satisfies ReadonlyArray<WsaName>

/**
 * The tags of a dial's failure (`DialFailure`: open, bind and connect), besides `Unknown`.
 *
 * @example
 * WsaError.dialTags.includes("WSAECONNREFUSED")
 * @since 0.1.0
 * @category models
 */
export const dialTags = [...new Set([...openTags, ...bindTags, ...connectTags])] as ReadonlyArray<
  (typeof openTags)[number] | (typeof bindTags)[number] | (typeof connectTags)[number]
>
