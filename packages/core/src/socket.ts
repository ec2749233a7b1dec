/**
 * The socket's state machine (libuv-style: one record, every transition in this file). Each entry point of
 * a front-end asks it first, so every backend gives Windows' documented answer even where its kernel would
 * not (a second bind on Linux, 0.0.0.0 under Wine, a second connect while one is pending), and bad
 * arguments never reach native code.
 *
 *   open --connect--> connecting --0--> connected --disconnect(reuse)--> open
 *                        |  retryable code, reset ok --> open          --disconnect--> disconnected
 *                        |  any other code, cancelled --> spent         --close--> closed (from any state)
 *   open (bound) --listen--> listening --accept--> (a new socket, born connected and bound)
 *
 * A listening socket only accepts: connect on it is WSAEINVAL (as Windows answers; Linux would say EISCONN),
 * send / receive WSAENOTCONN. Accept on anything but a listening socket is WSAEINVAL. An accepted socket is
 * connected: ConnectEx on it is WSAEISCONN.
 */
import { type Family, isUnspecified, type SocketAddress } from "./address.js"
import { isRetryableCode, type WsaName } from "./errors/codes.js"
import type { NativeSocket } from "./native/Driver.js"

/**
 * open: not connected (bound or not); disconnected: after DisconnectEx without reuse (receive still drains,
 * send is shut down); spent: after a failure that leaves the socket unusable.
 */
export type State = "open" | "connecting" | "connected" | "disconnected" | "listening" | "spent" | "closed"

export interface SocketState {
  readonly family: Family
  readonly native: NativeSocket
  state: State
  bound: boolean
  /** Clock time (ms) the connection was established, for connectTime on drivers without a kernel counter */
  connectedAt: number | undefined
  /** the sending direction was shut down: later sends are WSAESHUTDOWN */
  sendShut: boolean
  /** why the socket is spent, for the message of later calls */
  spentBy: string | undefined
}

/** Why a call may not proceed: the WSA name to report and a detail in plain words. */
export interface Refusal<N extends WsaName = WsaName> {
  readonly refused: N
  readonly detail?: string
}

const refuse = <N extends WsaName>(refused: N, detail?: string): Refusal<N> => (detail === undefined ? { refused } : { refused, detail })

/** The refusals every state check shares: a closed socket, and one spent by an earlier failure. */
const closedRefusal: Refusal<"WSAENOTSOCK"> = refuse("WSAENOTSOCK", "the socket was closed")
const spentRefusal = (socket: SocketState): Refusal<"WSAEINVAL"> =>
  refuse("WSAEINVAL", `the socket is unusable after ${socket.spentBy ?? "an earlier failure"}; open a new one`)

export const makeSocketState = (family: Family, native: NativeSocket): SocketState => ({
  family,
  native,
  state: "open",
  bound: false,
  connectedAt: undefined,
  sendShut: false,
  spentBy: undefined
})

/** The first check of every call: a closed socket is WSAENOTSOCK. */
export const checkOpen = (socket: SocketState): Refusal<"WSAENOTSOCK"> | undefined =>
  socket.state === "closed" ? closedRefusal : undefined

export const checkBind = (socket: SocketState, address: SocketAddress): Refusal<"WSAEAFNOSUPPORT" | "WSAEINVAL"> | undefined => {
  if (address.family !== socket.family) {
    return refuse("WSAEAFNOSUPPORT", `an ${address.family} address on an ${socket.family} socket`)
  }
  if (socket.bound || socket.state !== "open") return refuse("WSAEINVAL", "the socket is already bound")
  return undefined
}

export const bound = (socket: SocketState): void => {
  socket.bound = true
}

export const checkConnect = (
  socket: SocketState,
  target: SocketAddress
): Refusal<"WSAEAFNOSUPPORT" | "WSAEALREADY" | "WSAEISCONN" | "WSAEINVAL" | "WSAENOTSOCK" | "WSAEADDRNOTAVAIL"> | undefined => {
  if (target.family !== socket.family) {
    return refuse("WSAEAFNOSUPPORT", `an ${target.family} destination on an ${socket.family} socket`)
  }
  switch (socket.state) {
    case "listening":
      return refuse("WSAEINVAL", "the socket is listening: it accepts connections, it cannot make one")
    case "connecting":
      return refuse("WSAEALREADY", "a connect is already pending on this socket")
    case "connected":
    case "disconnected":
      return refuse("WSAEISCONN", "the socket is (or was) connected; open a new socket, or disconnect with reuse")
    case "spent":
      return spentRefusal(socket)
    case "closed":
      return closedRefusal
  }
  if (!socket.bound) return refuse("WSAEINVAL", "the socket is not bound: call Socket.bind first")
  if (isUnspecified(target) || target.port === 0) {
    return refuse("WSAEADDRNOTAVAIL", "the destination must be a concrete address and port")
  }
  return undefined
}

export const connecting = (socket: SocketState): void => {
  socket.state = "connecting"
}

/**
 * What the socket becomes when its connect completes. Runs in the completion itself, so it holds even when
 * the waiting fiber was interrupted a moment earlier. Refused, unreachable or timed out: the same socket
 * may connect again once `resetConnect` (the driver's) succeeds. Anything else, a cancellation included,
 * spends it: Windows cannot reuse a socket whose ConnectEx was cancelled (Go and .NET close it).
 */
export const settleConnect = (
  socket: SocketState,
  status: number,
  now: number,
  spentBy: () => string,
  resetConnect: () => number
): void => {
  if (socket.state !== "connecting") return
  if (status === 0) {
    socket.state = "connected"
    socket.connectedAt = now
    socket.sendShut = false
    return
  }
  if (isRetryableCode(status) && resetConnect() === 0) {
    socket.state = "open"
    return
  }
  socket.state = "spent"
  socket.spentBy = spentBy()
}

/**
 * listen: a bound socket that is not connected or connecting. Listening again is allowed (Windows changes the
 * backlog); a connected socket is WSAEISCONN.
 */
export const checkListen = (socket: SocketState): Refusal | undefined => {
  switch (socket.state) {
    case "open":
      return socket.bound ? undefined : refuse("WSAEINVAL", "the socket is not bound: bind it before listening")
    case "listening":
      return undefined
    case "connecting":
      return refuse("WSAEALREADY", "a connect is pending on this socket")
    case "connected":
    case "disconnected":
      return refuse("WSAEISCONN", "the socket is (or was) connected; listen on a fresh socket")
    case "spent":
      return spentRefusal(socket)
    case "closed":
      return closedRefusal
  }
}

export const listening = (socket: SocketState): void => {
  socket.state = "listening"
}

/** accept: only on a listening socket. */
export const checkAccept = (socket: SocketState): Refusal | undefined =>
  socket.state === "listening"
    ? undefined
    : socket.state === "closed"
    ? closedRefusal
    : refuse("WSAEINVAL", "the socket is not listening: call listen first")

/** The state of a socket an accept made: bound (to the listener's address) and connected since `now`. */
export const makeAcceptedState = (family: Family, native: NativeSocket, now: number): SocketState => {
  const state = makeSocketState(family, native)
  acceptedInto(state, now)
  return state
}

/** Turns a fresh record into an accepted connection (for front-ends whose socket value owns the record). */
export const acceptedInto = (socket: SocketState, now: number): void => {
  socket.state = "connected"
  socket.bound = true
  socket.connectedAt = now
}

/** send: connected and not shut down. After a disconnect the sending direction is shut down (WSAESHUTDOWN). */
export const checkSend = (socket: SocketState): Refusal<"WSAESHUTDOWN" | NotConnected> | undefined => {
  if (socket.state === "disconnected" || (socket.state === "connected" && socket.sendShut)) {
    return refuse("WSAESHUTDOWN", "the sending direction was shut down")
  }
  return socket.state === "connected" ? undefined : notConnected(socket)
}

/** receive and peerAddress: connected, or disconnected without reuse (what the peer still sends drains). */
export const checkReceive = (socket: SocketState): Refusal<NotConnected> | undefined =>
  socket.state === "connected" || socket.state === "disconnected" ? undefined : notConnected(socket)

/** shutdown("send"): connected; idempotent once shut down or disconnected. */
export const checkShutdown = (socket: SocketState): Refusal<NotConnected> | "done" | undefined =>
  socket.state === "disconnected" || (socket.state === "connected" && socket.sendShut)
    ? "done"
    : socket.state === "connected"
    ? undefined
    : notConnected(socket)

export const shutDown = (socket: SocketState): void => {
  socket.sendShut = true
}

export const checkDisconnect = (socket: SocketState): Refusal<NotConnected> | undefined =>
  socket.state === "connected" ? undefined : notConnected(socket)

/** The completion of a disconnect: with reuse the socket may connect again; without it, it drains. */
export const settleDisconnect = (socket: SocketState, status: number, reuse: boolean): void => {
  if (socket.state !== "connected") return
  socket.connectedAt = undefined
  if (status !== 0) {
    socket.state = "spent"
    socket.spentBy = "a failed disconnect"
  } else if (reuse) {
    socket.state = "open"
    socket.sendShut = false
  } else {
    socket.state = "disconnected"
    socket.sendShut = true
  }
}

export const checkLocalAddress = (socket: SocketState): Refusal<"WSAEINVAL"> | undefined =>
  socket.bound ? undefined : refuse("WSAEINVAL", "the socket is not bound")

/** Whether `connectTime` has something to count. */
export const isConnected = (socket: SocketState): boolean => socket.state === "connected"

/** The one transition to closed; false when the socket already was. */
export const close = (socket: SocketState): boolean => {
  if (socket.state === "closed") return false
  socket.state = "closed"
  socket.connectedAt = undefined
  return true
}

/** Whether a failed connect left the socket able to connect again (dial keeps it, or replaces it). */
export const canConnectAgain = (socket: SocketState): boolean => socket.state === "open"

/** What a call that needs a connection answers without one. */
export type NotConnected = "WSAENOTCONN" | "WSAENOTSOCK"

const notConnected = (socket: SocketState): Refusal<NotConnected> =>
  socket.state === "closed" ? closedRefusal : refuse("WSAENOTCONN")
