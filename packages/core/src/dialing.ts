/**
 * The checks of `dial`'s arguments, made before anything is opened, in the same order on both front-ends: the
 * options (from untyped callers: a WSAEINVAL naming the option, never a defect deep inside a timeout or a
 * schedule), the destination, the local address. What a duration or a schedule is, is the front-end's Effect's
 * to say: it passes the two predicates.
 */
import { type SocketAddress, wildcard } from "./address.js"
import { describe } from "./describe.js"
import { argumentFailure, type Failure, isFailure } from "./failure.js"
import { validAddress } from "./io.js"

/** What a front-end's Effect takes as a duration and as a schedule. */
export interface Kinds {
  readonly isDuration: (u: unknown) => boolean
  readonly isSchedule: (u: unknown) => boolean
}

/** dial's options: an object (or nothing), a `timeout` that is a duration, a `retry` that is a schedule. */
export const checkDialOptions = (options: unknown, kinds: Kinds): Failure | undefined => {
  if (options === undefined) return undefined
  if (typeof options !== "object" || options === null) {
    return argumentFailure("WSAEINVAL", "connect", `dial options must be an object, got ${describe(options)}`)
  }
  const { retry, timeout } = options as { readonly retry?: unknown; readonly timeout?: unknown }
  if (timeout !== undefined && !kinds.isDuration(timeout)) return argumentFailure("WSAEINVAL", "connect", `timeout is not a duration: ${describe(timeout)}`)
  if (retry !== undefined && !kinds.isSchedule(retry)) return argumentFailure("WSAEINVAL", "connect", `retry is not a Schedule: ${describe(retry)}`)
  return undefined
}

/** What a dial goes on with: the destination, and the local address to bind (the wildcard of its family by default). */
export interface DialChecked {
  readonly target: SocketAddress
  readonly local: SocketAddress
}

/** Every check of a dial: the options, the destination, then the local address. */
export const checkDial = (address: unknown, options: unknown, kinds: Kinds): DialChecked | Failure => {
  const badOptions = checkDialOptions(options, kinds)
  if (badOptions !== undefined) return badOptions
  const target = validAddress(address, "connect")
  if (isFailure(target)) return target
  const bind = (options as { readonly bind?: unknown } | undefined)?.bind
  const local = bind === undefined ? wildcard(target.family) : validAddress(bind, "bind", "bind address")
  return isFailure(local) ? local : { target, local }
}
