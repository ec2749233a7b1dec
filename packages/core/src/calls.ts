/**
 * The synchronous calls on a socket, each checked first (the same checks in the same order for both
 * front-ends): open, bind, setOption, the addresses and the connect time. Each gives its value, or the
 * `Failure` a front-end turns into its error.
 */
import type { SocketAddress } from "./address.js"
import { describe } from "./describe.js"
import { argumentFailure, failure, type Failure, isFailure, statusFailure } from "./failure.js"
import { validAddress } from "./io.js"
import type { SocketOption, SocketOptions } from "./native/Driver.js"
import { checkOption } from "./options.js"
import type { Port } from "./port.js"
import * as SocketState from "./socket.js"
import { checked, refused, Socket, usable } from "./sockets.js"

/** Opens a TCP socket of `options.family` through the port (tracked: shutting the port down closes it). */
export const open = (port: Port, options: unknown): Socket | Failure => {
  const family = (options as { family?: unknown } | null | undefined)?.family
  if (family !== "ipv4" && family !== "ipv6") {
    return argumentFailure("WSAEAFNOSUPPORT", "socket", `family must be "ipv4" or "ipv6", got ${describe(family)}`)
  }
  if (!port.isOpen()) return failure("WSANOTINITIALISED", "socket")
  const result = port.driver.open(family)
  if (!result.ok) return statusFailure(result.code, "socket")
  port.track(result.value)
  return new Socket(family, result.value, port)
}

/**
 * Binds; a port-0 bind lets the kernel choose the port at connect time where the driver can (ports last
 * longer under load). A second bind is WSAEINVAL on every backend.
 */
export const bind = (u: unknown, address: unknown): Failure | undefined => {
  const socket = usable(u, "bind")
  if (isFailure(socket)) return socket
  const local = validAddress(address, "bind")
  if (isFailure(local)) return local
  const refusal = SocketState.checkBind(socket, local)
  if (refusal !== undefined) return refused(refusal, "bind", local)
  const status = socket.port.driver.bind(socket.native, local, local.port === 0)
  if (status !== 0) return statusFailure(status, "bind", local)
  SocketState.bound(socket)
  return undefined
}

/** The local address (after bind). */
export const localAddress = (u: unknown): SocketAddress | Failure => {
  const socket = checked(u, "localAddress", SocketState.checkLocalAddress)
  if (isFailure(socket)) return socket
  const result = socket.port.driver.localAddress(socket.native)
  return result.ok ? result.value : statusFailure(result.code, "localAddress")
}

/** The peer's address (connected, or disconnected and still draining). */
export const peerAddress = (u: unknown): SocketAddress | Failure => {
  const socket = checked(u, "peerAddress", SocketState.checkReceive)
  if (isFailure(socket)) return socket
  const result = socket.port.driver.peerAddress(socket.native)
  return result.ok ? result.value : statusFailure(result.code, "peerAddress")
}

/**
 * How long the socket has been connected, in milliseconds (undefined: not connected): the kernel's count
 * where the driver has one (Windows' SO_CONNECT_TIME, whole seconds), else from the front-end's clock (`now`).
 */
export const connectTime = (u: unknown, now: number): number | undefined | Failure => {
  const socket = usable(u, "connectTime")
  if (isFailure(socket)) return socket
  if (!SocketState.isConnected(socket)) return undefined
  const kernel = socket.port.driver.connectTime?.(socket.native)
  if (kernel === undefined) return Math.max(0, now - (socket.connectedAt ?? now))
  if (!kernel.ok) return statusFailure(kernel.code, "connectTime")
  return kernel.value === undefined ? undefined : kernel.value * 1000
}

/** Sets an option: an unknown one is WSAENOPROTOOPT, a bad value WSAEINVAL. */
export const setOption = <K extends SocketOption>(u: unknown, option: K, value: SocketOptions[K]): Failure | undefined => {
  const socket = usable(u, "setsockopt")
  if (isFailure(socket)) return socket
  const invalid = checkOption(option, value)
  if (invalid !== undefined) return argumentFailure(invalid.name, "setsockopt", invalid.detail)
  const status = socket.port.driver.setOption(socket.native, option, value)
  return status === 0 ? undefined : statusFailure(status, "setsockopt")
}
