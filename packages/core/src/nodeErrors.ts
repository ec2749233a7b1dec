/**
 * Errors in Node's shape, for the code that receives our connections as node:net sockets: an `Error` with the
 * `code` node:net would give (`"ECONNRESET"`, ...), the platform's `errno` for it, the `syscall` that failed,
 * and the library's typed WSA error as `cause`, so that retry logic written for node:net recognises them.
 */
import { getSystemErrorMap } from "node:util"
import { nameByCode, type WsaName } from "./errors/codes.js"

/** The errno name node:net reports for the same situation, by WSA name. */
const nodeCodes: Partial<Record<WsaName, string>> = {
  WSA_OPERATION_ABORTED: "ECANCELED",
  WSAEINTR: "EINTR",
  WSAEACCES: "EACCES",
  WSAEFAULT: "EFAULT",
  WSAEINVAL: "EINVAL",
  WSAEMFILE: "EMFILE",
  WSAEWOULDBLOCK: "EAGAIN",
  WSAEALREADY: "EALREADY",
  WSAENOTSOCK: "EBADF",
  WSAEMSGSIZE: "EMSGSIZE",
  WSAENOPROTOOPT: "ENOPROTOOPT",
  WSAEOPNOTSUPP: "EOPNOTSUPP",
  WSAEAFNOSUPPORT: "EAFNOSUPPORT",
  WSAEADDRINUSE: "EADDRINUSE",
  WSAEADDRNOTAVAIL: "EADDRNOTAVAIL",
  WSAENETDOWN: "ENETDOWN",
  WSAENETUNREACH: "ENETUNREACH",
  WSAENETRESET: "ENETRESET",
  WSAECONNABORTED: "ECONNABORTED",
  WSAECONNRESET: "ECONNRESET",
  WSAENOBUFS: "ENOBUFS",
  WSAEISCONN: "EISCONN",
  WSAENOTCONN: "ENOTCONN",
  // node:net answers a write after the end of the connection with EPIPE
  WSAESHUTDOWN: "EPIPE",
  WSAETIMEDOUT: "ETIMEDOUT",
  WSAECONNREFUSED: "ECONNREFUSED",
  WSAEHOSTDOWN: "EHOSTDOWN",
  WSAEHOSTUNREACH: "EHOSTUNREACH",
  WSANOTINITIALISED: "ECANCELED"
}

/** The Node errno name of a WSA code ("UNKNOWN" outside the table, as libuv says). */
export const nodeCodeOf = (code: number): string => {
  const name = nameByCode.get(code)
  return (name === undefined ? undefined : nodeCodes[name]) ?? "UNKNOWN"
}

let errnos: Map<string, number> | undefined

/** The platform's errno for a Node code (negative, as libuv's), or undefined. */
export const errnoOf = (code: string): number | undefined => {
  if (errnos === undefined) {
    errnos = new Map()
    for (const [errno, [name]] of getSystemErrorMap()) if (!errnos.has(name)) errnos.set(name, errno)
  }
  return errnos.get(code)
}

export interface NodeError extends Error {
  readonly code: string
  readonly errno: number | undefined
  readonly syscall: string
  readonly address?: string
  readonly port?: number
}

/**
 * The error node:net would emit for a WSA code (or a Node code as it is, such as a resolver's `ENOTFOUND`):
 * `"<syscall> <CODE>"` (and the peer's address for a connect), with `code`, `errno`, `syscall`, and `cause`,
 * the library's typed error.
 */
export const nodeError = (
  code: number | string,
  syscall: string,
  cause: unknown,
  peer?: { readonly host: string; readonly port: number }
): NodeError => {
  const name = typeof code === "string" ? code : nodeCodeOf(code)
  const where = peer === undefined ? "" : ` ${peer.host}:${peer.port}`
  const error = new Error(`${syscall} ${name}${where}`, { cause }) as Error & {
    code: string
    errno: number | undefined
    syscall: string
    address?: string
    port?: number
  }
  error.code = name
  error.errno = errnoOf(name)
  error.syscall = syscall
  if (peer !== undefined) {
    error.address = peer.host
    error.port = peer.port
  }
  return error
}
