/**
 * The Windows driver's socket record: the SOCKET handle (also its completion key) and the little state the
 * driver keeps beside the kernel's.
 */
import type { Family, SocketAddress } from "../../address.js"
import type { NativeSocket } from "../Driver.js"

export class WindowsSocket implements NativeSocket {
  closed = false
  /** DisconnectEx completed and no ConnectEx succeeded since (see `wine.ts`: Wine keeps counting SO_CONNECT_TIME) */
  disconnected = false
  /** status of the last ConnectEx completion (0 = connected) */
  lastConnect = 0
  /** the peer, read when a DisconnectEx starts: peerAddress answers with it afterwards if getpeername cannot */
  lastPeer: SocketAddress | undefined = undefined
  /** false after `setRef(false)`: its pending operations do not keep the process alive (the poller's wait is bounded) */
  referenced = true
  constructor(
    readonly family: Family,
    readonly handle: number
  ) {}
}

/** The driver's own socket, unless it is someone else's or closed. */
export const socketOf = (socket: NativeSocket): WindowsSocket | undefined =>
  socket instanceof WindowsSocket && !socket.closed ? socket : undefined
