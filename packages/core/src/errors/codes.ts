/**
 * The Windows Sockets error codes the library can report, with what each means and what a caller can do.
 * One row per code: the tagged error classes, `fromCode` and the documentation are all generated from it.
 *
 * @example
 * const [code, meaning, advice] = WsaError.wsaCodes.WSAECONNREFUSED // 10061, ...
 * @since 0.1.0
 */
export const wsaCodes = {
  WSA_OPERATION_ABORTED: [995, "The operation was cancelled before it completed (interrupted, timed out, or its socket or layer was closed).", "Nothing to undo: the socket was cleaned up. Run the operation again if it is still wanted."],
  WSAEINTR: [10004, "A blocking call was interrupted.", "Run the operation again."],
  WSAEACCES: [10013, "Permission denied: the address or option needs privileges the process lacks, or the address is reserved.", "Use another address or port, or grant the permission."],
  WSAEFAULT: [10014, "An address or buffer argument is malformed or too short.", "Check the address and buffer passed to the call."],
  WSAEINVAL: [10022, "An argument is invalid or the socket is in the wrong state for this call (for example not bound before connect, or bound twice).", "Check the arguments and the order of calls: open, bind, then connect."],
  WSAEMFILE: [10024, "Too many sockets are open in this process.", "Close sockets you no longer need, or raise the descriptor limit."],
  WSAEWOULDBLOCK: [10035, "The operation would block on a non-blocking socket.", "Wait for readiness and run it again."],
  WSAEINPROGRESS: [10036, "A blocking operation is already in progress.", "Wait for it to finish."],
  WSAEALREADY: [10037, "A connect is already pending on this socket.", "Wait for the pending connect, or interrupt it, before connecting again."],
  WSAENOTSOCK: [10038, "The handle is not an open socket (it was closed, or is not a stream socket).", "Open a new socket; a closed socket cannot be used again."],
  WSAEDESTADDRREQ: [10039, "A destination address is required.", "Pass a destination address."],
  WSAEMSGSIZE: [10040, "The message is larger than the transport allows.", "Send less data at once."],
  WSAEPROTOTYPE: [10041, "The protocol does not fit the socket type.", "Open a stream socket for TCP."],
  WSAENOPROTOOPT: [10042, "The socket option or level is unknown or not supported here.", "Check the option name, or do without it on this platform."],
  WSAEPROTONOSUPPORT: [10043, "The protocol is not supported.", "Use TCP over IPv4 or IPv6."],
  WSAESOCKTNOSUPPORT: [10044, "The socket type is not supported for this address family.", "Use a stream socket."],
  WSAEOPNOTSUPP: [10045, "The operation is not supported on this socket or platform.", "Use another operation, or check the platform's support."],
  WSAEPFNOSUPPORT: [10046, "The protocol family is not supported.", "Use IPv4 or IPv6."],
  WSAEAFNOSUPPORT: [10047, "The address family is not supported, or does not match the socket's family.", "Use an address of the socket's family (ipv4 with ipv4, ipv6 with ipv6), or open a socket of the other family."],
  WSAEADDRINUSE: [10048, "The local address is already in use.", "Bind to port 0 to let the system choose, or to another port."],
  WSAEADDRNOTAVAIL: [10049, "The address is not valid here: not a local address for bind, or not a reachable destination (such as 0.0.0.0 or port 0) for connect.", "Use a local address for bind and a concrete destination address and port for connect."],
  WSAENETDOWN: [10050, "The network subsystem has failed.", "Check the network interface, then retry later."],
  WSAENETUNREACH: [10051, "No route to the destination network.", "Check the address and routing; retrying may help once the network is back."],
  WSAENETRESET: [10052, "The connection was broken because keep-alive detected a failure.", "Reconnect."],
  WSAECONNABORTED: [10053, "The connection was aborted by this host (timeout or protocol error).", "Reconnect on a fresh socket."],
  WSAECONNRESET: [10054, "The connection was reset by the peer.", "Reconnect; the peer closed or crashed."],
  WSAENOBUFS: [10055, "No buffer space or ephemeral ports are available.", "Close idle connections or wait for TIME_WAIT ports to be released, then retry."],
  WSAEISCONN: [10056, "The socket is already connected.", "Use the connection, or open a new socket for another one."],
  WSAENOTCONN: [10057, "The socket is not connected.", "Connect before sending or receiving."],
  WSAESHUTDOWN: [10058, "The socket has been shut down in this direction.", "Open a new connection."],
  WSAETIMEDOUT: [10060, "The connection attempt timed out: the peer did not answer.", "Check the peer is up and reachable; retrying may help."],
  WSAECONNREFUSED: [10061, "The connection was refused: nothing is listening at the destination.", "Check the port and that the server runs; retrying may help once it is up."],
  WSAEHOSTDOWN: [10064, "The destination host is down.", "Retry once the host is up."],
  WSAEHOSTUNREACH: [10065, "No route to the destination host.", "Check the address and that the host is up."],
  WSAEPROCLIM: [10067, "Too many processes are using Windows Sockets.", "Retry later."],
  WSASYSNOTREADY: [10091, "The network subsystem is not ready.", "Retry later."],
  WSAVERNOTSUPPORTED: [10092, "The requested Windows Sockets version is not supported.", "Use a system with Winsock 2.2."],
  WSANOTINITIALISED: [10093, "Windows Sockets is not initialised: the socket is used outside a built ConnectEx layer (or after it was released).", "Use sockets only inside Effect.provide(ConnectEx.layer)."],
  WSAEDISCON: [10101, "The peer is gracefully shutting down.", "Finish reading, then close."]
} as const satisfies Record<string, readonly [number, string, string]>

/**
 * The name of a WSA error, which is also the `_tag` of its error class.
 *
 * @since 0.1.0
 */
export type WsaName = keyof typeof wsaCodes

/** The WSA number of each name: the one way code refers to a WSA code (`wsa.WSAECONNREFUSED` is 10061). */
export const wsa = Object.fromEntries(
  (Object.keys(wsaCodes) as Array<WsaName>).map((name) => [name, wsaCodes[name][0]])
) as { readonly [K in WsaName]: (typeof wsaCodes)[K][0] }

/** The name of a WSA number in the table, or undefined. */
export const nameByCode: ReadonlyMap<number, WsaName> = new Map(
  (Object.keys(wsaCodes) as Array<WsaName>).map((name) => [wsaCodes[name][0], name] as const)
)

/**
 * The codes after which the same socket may connect again and `dial` retries: refused, network unreachable,
 * timed out.
 */
export const retryableNames = ["WSAECONNREFUSED", "WSAENETUNREACH", "WSAETIMEDOUT"] as const satisfies ReadonlyArray<WsaName>

export type RetryableName = (typeof retryableNames)[number]

const retryableCodes: ReadonlySet<number> = new Set(retryableNames.map((name) => wsa[name]))

export const isRetryableCode = (code: number): boolean => retryableCodes.has(code)
