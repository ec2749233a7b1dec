/**
 * What a call that cannot proceed reports, before any front-end turns it into its own tagged error: the WSA
 * name (and number), which call failed, and where known the address and a detail in plain words. Every check
 * and every machine of the core speaks in these; each front-end has one function that makes its error from one.
 */
import type { SocketAddress } from "./address.js"
import { nameByCode, type WsaName, wsaCodes } from "./errors/codes.js"

/** Which call failed: the name a user sees in the error and in spans. */
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

export interface Failure {
  readonly _tag: "Failure"
  /** the WSA number (a code outside the table keeps its number; its name is then undefined) */
  readonly code: number
  readonly operation: Operation
  readonly address?: SocketAddress | undefined
  readonly detail?: string | undefined
  /**
   * The library's own check of an argument failed: `detail` names the argument and says why, and the message
   * gives no generic advice (the table's advice is for what the kernel reports).
   */
  readonly argument?: true | undefined
}

export const isFailure = (u: unknown): u is Failure =>
  typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "Failure"

/** A failure by WSA name: a check of the library's own. */
export const failure = (name: WsaName, operation: Operation, address?: SocketAddress, detail?: string): Failure => ({
  _tag: "Failure",
  code: wsaCodes[name][0],
  operation,
  address,
  detail
})

/** A bad argument, found by the library's own checks: `detail` says which argument and why. */
export const argumentFailure = (name: WsaName, operation: Operation, detail: string, address?: SocketAddress): Failure => ({
  _tag: "Failure",
  code: wsaCodes[name][0],
  operation,
  address,
  detail,
  argument: true
})

/** A failure by number: what the kernel reported. */
export const statusFailure = (code: number, operation: Operation, address?: SocketAddress, detail?: string): Failure => ({
  _tag: "Failure",
  code,
  operation,
  address,
  detail
})

/** The WSA name of a failure's code, undefined outside the table. */
export const nameOf = (failure: Failure): WsaName | undefined => nameByCode.get(failure.code)

/** What an error made from a failure carries besides its code (the context a front-end's error classes take). */
export const contextOf = (failure: Failure): ErrorContext =>
  failure.argument === true
    ? { operation: failure.operation, address: failure.address, detail: failure.detail, argument: true }
    : { operation: failure.operation, address: failure.address, detail: failure.detail }

/**
 * What every WSA error carries besides its code: the operation that failed and, where known, the address
 * involved and a detail in plain words. `argument` (not kept on the error) marks the library's own check of an
 * argument: the message then says which argument and why, and no generic advice.
 */
export interface ErrorContext extends ErrorFields {
  readonly argument?: boolean | undefined
}

/** What every WSA error keeps besides its tag, code and message. */
export interface ErrorFields {
  readonly operation: Operation
  readonly address?: SocketAddress | undefined
  readonly detail?: string | undefined
}

/** The fields an error keeps of its context: all but the `argument` mark (which only shapes the message). */
export const fieldsOf = (context: ErrorContext): ErrorFields => {
  if (!("argument" in context)) return context
  const { argument: _argument, ...fields } = context
  return fields
}
