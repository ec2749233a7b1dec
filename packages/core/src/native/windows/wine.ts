/**
 * Every workaround the Windows driver carries because it also runs under Wine (8.0: the Windows lane runs
 * real ws2_32 on Linux), each with what Wine does and what Windows does. `win32.wine` (Wine's version, read
 * from ntdll's `wine_get_version` in `win32.ts`) tells them apart. Two kinds:
 * - Wine only: does nothing on Windows (the function checks `win32.wine`).
 * - Everywhere: harmless on Windows, kept on every run so that both give the same answer.
 *
 * Also because Wine answers differently, but done outside the Windows driver (every backend gives Windows'
 * documented answer there, before a driver is asked):
 * - destination 0.0.0.0 / :: or port 0: Wine connects to loopback, Windows fails with WSAEADDRNOTAVAIL;
 *   the socket state machine (`../../socket.ts`, `checkConnect`) refuses it.
 * - a second ConnectEx while one is pending: Wine says WSAEINVAL, Windows WSAEALREADY; `checkConnect` again.
 * - a too-short sockaddr length: Wine says WSAEADDRNOTAVAIL, Windows WSAEFAULT; the driver writes every
 *   sockaddr itself with its exact length (`sockaddr.ts`), so none reaches ConnectEx.
 * - send() on a socket that is not connected: Wine says WSAECONNRESET (Linux's EPIPE shows through),
 *   Windows WSAENOTCONN; the socket state machine (`checkSend`) refuses such a send before `trySend` runs.
 * - Wine writes ConnectEx's `lpdwBytesSent` when the operation completes, after ConnectEx returned pending
 *   (Windows only when it returns TRUE): it points into the operation's block, which lives until the packet
 *   is dequeued (`overlapped.ts`).
 * - closesocket of a non-blocking socket with SO_LINGER on and a nonzero time: Wine closes, Windows fails
 *   with WSAEWOULDBLOCK and keeps the handle; the driver's `closeSocket` handles both.
 *
 * Not a Wine workaround, though first seen under Wine: the wake-up packet the port posts on "exit" (`port.ts`);
 * Node joins its threadpool at exit on Windows too. Where Wine and Windows differ, and which lane tests what:
 * `docs/windows.md`.
 */
import { makeIpv4, makeIpv6, type SocketAddress } from "../../address.js"
import { type Done, ok, OPERATION_ABORTED, type NativeSocket, type Result, type SocketOption } from "../Driver.js"
import { Chain, type WindowsInFlight } from "./overlapped.js"
import * as Sockaddr from "./sockaddr.js"
import { WindowsSocket } from "./socket.js"
import type { Win32 } from "./win32.js"

const WSAEOPNOTSUPP = 10045
const WSAENOPROTOOPT = 10042

/**
 * Wine only. After a failed (refused / unreachable / timed-out) ConnectEx, before the socket connects again.
 * Windows: the socket is left bound and reusable; nothing to do.
 * Wine: the socket is a non-blocking Linux one, and Linux answers the next connect() after an asynchronous
 * failure with ECONNABORTED (resetting itself on the way), so the next ConnectEx would fail once more with
 * 10053. This takes that hit with a throwaway connect() to an address of the other family: in the failed
 * state Linux returns ECONNABORTED and resets, in a clean state it rejects the address at once
 * (EAFNOSUPPORT / EINVAL); either way Wine's own socket state is left unconnected. (connect(AF_UNSPEC)
 * would reset Linux too, but Wine then believes the socket connected.)
 */
export const resetAfterFailedConnect = (win32: Win32, socket: WindowsSocket): void => {
  if (win32.wine === undefined) return
  const other = Sockaddr.encode(socket.family === "ipv4" ? makeIpv6("::1", 9, 0, 0) : makeIpv4("127.0.0.1", 9))
  win32.ws2.connect(socket.handle, other, other.length)
}

/**
 * Wine only. Before closesocket.
 * Windows: closesocket completes every overlapped operation still pending on the socket (995 through the
 * port).
 * Wine 8: a WSASend still feeding a peer whose buffers are filling, closed at the wrong moment, now and then
 * never completes: its packet never comes, and the port's shutdown, which waits for every pending operation,
 * waits for ever (about one such close in a hundred; `packages/effect-connectex/test/windows/close.test.ts`). CancelIoEx(handle, NULL)
 * first ends every operation pending on the handle while it is still valid; their packets come as on Windows.
 */
export const cancelBeforeClose = (win32: Win32, socket: WindowsSocket): void => {
  if (win32.wine === undefined) return
  win32.kernel32.CancelIoEx(socket.handle, null)
}

/**
 * Wine only. The status a successful DisconnectEx reports.
 * Windows: with TF_REUSE_SOCKET the socket may connect again: 0.
 * Wine: DisconnectEx is shutdown(SD_SEND) ("Reusing socket not supported yet"); the socket stays connected,
 * so a reuse that cannot happen is said at once (WSAEOPNOTSUPP) instead of by the next ConnectEx.
 */
export const disconnectStatus = (win32: Win32, status: number, reuse: boolean): number =>
  status === 0 && reuse && win32.wine !== undefined ? WSAEOPNOTSUPP : status

/**
 * Wine only. The result of setsockopt for `option`.
 * Windows (10 1607 and later): TCP_FASTOPEN exists.
 * Wine 8: it does not (WSAENOPROTOOPT). There the option is a no-op, and the connect data is sent right
 * after the handshake, which is what callers observe either way.
 */
export const optionResult = (win32: Win32, option: SocketOption, result: number): number =>
  result === WSAENOPROTOOPT && option === "TCP_FASTOPEN" && win32.wine !== undefined ? 0 : result

/**
 * Everywhere. SO_CONNECT_TIME after DisconnectEx.
 * Windows: answers 0xFFFFFFFF (not connected) once the socket is disconnected.
 * Wine: keeps counting (its DisconnectEx leaves the Linux socket connected), so a disconnected socket's
 * count is ignored: `connectTime` says "not connected" after a completed DisconnectEx on both.
 */
export const countsAfterDisconnect = (socket: NativeSocket): boolean =>
  socket instanceof WindowsSocket && socket.disconnected

/**
 * Everywhere. getpeername after DisconnectEx without reuse (the socket still drains what the peer sends,
 * and the front-end still asks for the peer).
 * Windows: still answers with the peer.
 * Wine: Linux says ENOTCONN once both sides have closed. So the peer is read when a DisconnectEx starts
 * (`rememberPeer`) and answered with when getpeername fails afterwards.
 */
export const rememberPeer = (socket: WindowsSocket, peer: Result<SocketAddress>): void => {
  socket.lastPeer = peer.ok ? peer.value : undefined
}

/** See `rememberPeer`: getpeername's answer, or the remembered peer when it failed after a disconnect. */
export const peerAfterDisconnect = (
  socket: WindowsSocket | undefined,
  peer: Result<SocketAddress>
): Result<SocketAddress> =>
  !peer.ok && socket?.disconnected === true && socket.lastPeer !== undefined ? ok(socket.lastPeer) : peer

/**
 * Everywhere. The most connect data one ConnectEx carries: the socket's send buffer (SO_SNDBUF, read at
 * connect), at most this; larger data follows with WSASend (`connectThenSend`).
 */
export const CONNECT_DATA_MAX = 64 * 1024

/**
 * Everywhere. What one ConnectEx may carry on a socket whose SO_SNDBUF read gave `sendBuffer`.
 * Windows: takes any size.
 * Wine 8: never completes a ConnectEx whose data exceeds SO_SNDBUF (1 MiB did, 4 MiB did not).
 */
export const connectDataMax = (sendBuffer: Result<number>): number =>
  sendBuffer.ok ? Math.min(sendBuffer.value, CONNECT_DATA_MAX) : CONNECT_DATA_MAX

/**
 * Everywhere. Connect data larger than `connectDataMax`: ConnectEx without data, then one WSASend of all of
 * it, and the connect completes (bytes = all of it) once both have.
 * Windows: takes either way.
 * Wine 8: a ConnectEx carrying more than the send buffer never completed, and with its first part in
 * ConnectEx and the rest in a WSASend the peer once received them out of order (Wine completes ConnectEx
 * before its own send is out). So every run gets the same answer. One cancel covers whichever of the two is
 * in flight.
 */
export const connectThenSend = (
  connect: (socket: NativeSocket, destination: SocketAddress, data: undefined, done: Done) => WindowsInFlight,
  send: (socket: NativeSocket, data: Uint8Array, done: Done) => WindowsInFlight,
  socket: NativeSocket,
  destination: SocketAddress,
  data: Uint8Array,
  done: Done
): WindowsInFlight => {
  const copy = data.slice() // the operation's own copy: the caller may reuse its buffer at once
  const chain = new Chain("connect")
  chain.current = connect(socket, destination, undefined, (connected) => {
    if (connected.status !== 0) return done(connected)
    if (chain.cancelled) return done({ status: OPERATION_ABORTED, bytes: 0 })
    chain.current = send(socket, copy, (sent) => done(sent.status !== 0 ? { status: sent.status, bytes: 0 } : sent))
  })
  return chain
}
