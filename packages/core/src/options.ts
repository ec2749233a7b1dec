/**
 * The checks of a socket's arguments that both front-ends make before the driver is involved: which options
 * `setOption` knows and the values each takes, and the sizes a receive accepts.
 */
import { describe } from "./describe.js"
import type { SocketOption } from "./native/Driver.js"

/** The largest `maxBytes` (or `chunkSize`) a single receive accepts: 64 MiB. */
export const MAX_RECEIVE = 64 * 1024 * 1024

const isBufferSize = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v > 0 && v <= 0x7fffffff

/** The options `setOption` knows, each with the values it takes. */
export const optionKinds: { readonly [K in SocketOption]: (value: unknown) => boolean } = {
  TCP_FASTOPEN: (v) => typeof v === "boolean",
  TCP_NODELAY: (v) => typeof v === "boolean",
  SO_KEEPALIVE: (v) => typeof v === "boolean",
  SO_REUSEADDR: (v) => typeof v === "boolean",
  SO_SNDBUF: isBufferSize,
  SO_RCVBUF: isBufferSize,
  SO_LINGER: (v) => v === false || (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffff)
}

/** Why `setOption(option, value)` cannot be made: an unknown option or a bad value; undefined when it can. */
export const checkOption = (
  option: unknown,
  value: unknown
): { readonly name: "WSAENOPROTOOPT" | "WSAEINVAL"; readonly detail: string } | undefined => {
  const valid = typeof option === "string" && Object.hasOwn(optionKinds, option) ? optionKinds[option as SocketOption] : undefined
  if (valid === undefined) return { name: "WSAENOPROTOOPT", detail: `unknown option ${describe(option)}` }
  if (!valid(value)) return { name: "WSAEINVAL", detail: `invalid value for ${String(option)}: ${describe(value)}` }
  return undefined
}

/** Why `size` cannot be the most one receive takes (`maxBytes`, `chunkSize`), or undefined when it can. */
export const checkReceiveSize = (name: string, size: unknown): string | undefined =>
  typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > MAX_RECEIVE
    ? `${name} must be an integer from 1 to ${MAX_RECEIVE}, got ${describe(size)}`
    : undefined

/** The `receive` of an accept or a serve: 0 (no first bytes) to MAX_RECEIVE; the reason it is not, else undefined. */
export const checkAcceptReceive = (receive: unknown): string | undefined =>
  typeof receive !== "number" || !Number.isInteger(receive) || receive < 0 || receive > MAX_RECEIVE
    ? `receive must be an integer from 0 to ${MAX_RECEIVE}, got ${describe(receive)}`
    : undefined
