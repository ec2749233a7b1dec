/**
 * The error tags of each public function, one table for both front-ends: packages/frontend/test/types.ts builds the
 * same record from each front-end's own functions (run by each front-end's test/types.test.ts) and checks it
 * equals this one, so a function typed with a wider or narrower union on either front-end fails to compile.
 * Written out (not derived from the core tag lists the front-ends use), so that a change to a function's union
 * is a change made here on purpose. A timeout is not in the table: Effect 3 calls it TimeoutException, Effect 4
 * TimeoutError (the type test leaves out the front-end's own `timeoutTag`).
 */
export interface ErrorTags {
  readonly "Socket.open":
    "Unknown" | "WSAEACCES" | "WSAEAFNOSUPPORT" | "WSAEINVAL" | "WSAEMFILE" | "WSAENETDOWN" | "WSAENOBUFS"
    | "WSAEPROTONOSUPPORT" | "WSAEPROTOTYPE" | "WSAESOCKTNOSUPPORT" | "WSANOTINITIALISED"
  readonly "Socket.bind":
    "Unknown" | "WSAEACCES" | "WSAEADDRINUSE" | "WSAEADDRNOTAVAIL" | "WSAEAFNOSUPPORT" | "WSAEFAULT" | "WSAEINVAL"
    | "WSAENETDOWN" | "WSAENOBUFS" | "WSAENOTSOCK" | "WSANOTINITIALISED"
  readonly "Socket.setOption":
    "Unknown" | "WSAEFAULT" | "WSAEINVAL" | "WSAENETDOWN" | "WSAENETRESET" | "WSAENOPROTOOPT" | "WSAENOTCONN"
    | "WSAENOTSOCK" | "WSAEOPNOTSUPP" | "WSANOTINITIALISED"
  readonly "Socket.send":
    "Unknown" | "WSAECONNABORTED" | "WSAECONNRESET" | "WSAEFAULT" | "WSAEHOSTUNREACH" | "WSAENETDOWN" | "WSAENETRESET"
    | "WSAENETUNREACH" | "WSAENOBUFS" | "WSAENOTCONN" | "WSAENOTSOCK" | "WSAESHUTDOWN" | "WSAETIMEDOUT"
    | "WSANOTINITIALISED" | "WSA_OPERATION_ABORTED"
  readonly "Socket.receive":
    "Unknown" | "WSAECONNABORTED" | "WSAECONNRESET" | "WSAEDISCON" | "WSAEFAULT" | "WSAEINVAL" | "WSAENETDOWN"
    | "WSAENETRESET" | "WSAENOBUFS" | "WSAENOTCONN" | "WSAENOTSOCK" | "WSAETIMEDOUT" | "WSANOTINITIALISED"
    | "WSA_OPERATION_ABORTED"
  readonly "Socket.shutdown":
    "Unknown" | "WSAECONNABORTED" | "WSAECONNRESET" | "WSAEINVAL" | "WSAENETDOWN" | "WSAENOTCONN" | "WSAENOTSOCK"
    | "WSANOTINITIALISED"
  readonly "Socket.disconnect":
    "Unknown" | "WSAECONNABORTED" | "WSAECONNRESET" | "WSAEINVAL" | "WSAENETDOWN" | "WSAENOBUFS" | "WSAENOTCONN"
    | "WSAENOTSOCK" | "WSAEOPNOTSUPP" | "WSAETIMEDOUT" | "WSANOTINITIALISED" | "WSA_OPERATION_ABORTED"
  readonly "Socket.localAddress":
    "Unknown" | "WSAEAFNOSUPPORT" | "WSAEFAULT" | "WSAEINVAL" | "WSAENETDOWN" | "WSAENOBUFS" | "WSAENOTCONN"
    | "WSAENOTSOCK" | "WSANOTINITIALISED"
  readonly "Socket.peerAddress":
    "Unknown" | "WSAEAFNOSUPPORT" | "WSAEFAULT" | "WSAEINVAL" | "WSAENETDOWN" | "WSAENOBUFS" | "WSAENOTCONN"
    | "WSAENOTSOCK" | "WSANOTINITIALISED"
  readonly "Socket.connectTime":
    "Unknown" | "WSAEFAULT" | "WSAEINVAL" | "WSAENETDOWN" | "WSAENOPROTOOPT" | "WSAENOTSOCK" | "WSANOTINITIALISED"
  readonly "ConnectEx.connect":
    "Unknown" | "WSAEACCES" | "WSAEADDRINUSE" | "WSAEADDRNOTAVAIL" | "WSAEAFNOSUPPORT" | "WSAEALREADY"
    | "WSAECONNABORTED" | "WSAECONNREFUSED" | "WSAECONNRESET" | "WSAEFAULT" | "WSAEHOSTDOWN" | "WSAEHOSTUNREACH"
    | "WSAEINVAL" | "WSAEISCONN" | "WSAENETDOWN" | "WSAENETRESET" | "WSAENETUNREACH" | "WSAENOBUFS" | "WSAENOTSOCK"
    | "WSAEOPNOTSUPP" | "WSAETIMEDOUT" | "WSANOTINITIALISED" | "WSA_OPERATION_ABORTED"
  readonly "ConnectEx.dial":
    "Unknown" | "WSAEACCES" | "WSAEADDRINUSE" | "WSAEADDRNOTAVAIL" | "WSAEAFNOSUPPORT" | "WSAEALREADY"
    | "WSAECONNABORTED" | "WSAECONNREFUSED" | "WSAECONNRESET" | "WSAEFAULT" | "WSAEHOSTDOWN" | "WSAEHOSTUNREACH"
    | "WSAEINVAL" | "WSAEISCONN" | "WSAEMFILE" | "WSAENETDOWN" | "WSAENETRESET" | "WSAENETUNREACH" | "WSAENOBUFS"
    | "WSAENOTSOCK" | "WSAEOPNOTSUPP" | "WSAEPROTONOSUPPORT" | "WSAEPROTOTYPE" | "WSAESOCKTNOSUPPORT" | "WSAETIMEDOUT"
    | "WSANOTINITIALISED" | "WSA_OPERATION_ABORTED"
  readonly "Listener.listen":
    "Unknown" | "WSAEACCES" | "WSAEADDRINUSE" | "WSAEADDRNOTAVAIL" | "WSAEAFNOSUPPORT" | "WSAEFAULT" | "WSAEINVAL"
    | "WSAEISCONN" | "WSAEMFILE" | "WSAENETDOWN" | "WSAENOBUFS" | "WSAENOTSOCK" | "WSAEOPNOTSUPP"
    | "WSAEPROTONOSUPPORT" | "WSAEPROTOTYPE" | "WSAESOCKTNOSUPPORT" | "WSANOTINITIALISED"
  readonly "Listener.accept":
    "Unknown" | "WSAECONNABORTED" | "WSAECONNRESET" | "WSAEFAULT" | "WSAEINVAL" | "WSAEMFILE" | "WSAENETDOWN"
    | "WSAENOBUFS" | "WSAENOTSOCK" | "WSAEOPNOTSUPP" | "WSANOTINITIALISED" | "WSA_OPERATION_ABORTED"
  /** every attempt failed alike: that failure; attempts that differ: DialError; bad arguments: WSAEINVAL */
  readonly "ConnectEx.dialName": ErrorTags["ConnectEx.dial"] | "DialError" | "ResolveError" | "WSAEINVAL"
  readonly "ConnectEx.dialList": ErrorTags["ConnectEx.dial"] | "DialError" | "WSAEINVAL" | "WSAEAFNOSUPPORT"
}
