/**
 * The interface one operating system implements: plain TypeScript, no Effect inside.
 *
 * Results are WSA numbers (0 = success), never thrown exceptions: every argument has been validated by
 * the layers above, so a driver only reports what the kernel said. Long operations (connect, send,
 * receive, disconnect) are started with a `done` callback that the driver calls exactly once, possibly
 * synchronously from inside the start call; `cancel()` asks the kernel to stop, and the operation still
 * completes, once, with `WSA_OPERATION_ABORTED` (995) unless it had already finished.
 *
 * @since 0.1.0
 */
import type { Family, SocketAddress } from "../address.js"
import { wsa } from "../errors/codes.js"

/** `WSA_OPERATION_ABORTED`: the status of a cancelled operation. */
export const OPERATION_ABORTED = wsa.WSA_OPERATION_ABORTED

/** A driver's socket: opaque to the layers above, which only hand it back. */
export interface NativeSocket {
  readonly family: Family
}

/**
 * What a successful accept hands over: a connected socket the caller now owns (it must `close` it, even when
 * it no longer wants it), and the peer's address as the kernel saw it.
 */
export interface Accepted {
  readonly socket: NativeSocket
  readonly peer: SocketAddress
}

/** The single completion of an operation: `status` 0 or a WSA code, `bytes` transferred. */
export interface Completion {
  readonly status: number
  readonly bytes: number
  /** receive, and accept with `receiveBytes`: the bytes received (a copy the caller owns) */
  readonly data?: Uint8Array
  /** accept only, and only with status 0: the new connection (ownership passes with the completion) */
  readonly accepted?: Accepted
}

/**
 * A started operation, in flight until its single completion (not to be confused with the name of a failed
 * call the front-ends report, `WsaError.Operation`).
 */
export interface InFlight {
  /** Idempotent; the completion still follows (995, or the real result if it won the race). */
  readonly cancel: () => void
}

export type Done = (completion: Completion) => void

/** A streaming read in progress (`readStart`). */
export interface Reading {
  /** Continues a paused read (a no-op otherwise). */
  readonly resume: () => void
  /** Ends the read; nothing more is delivered. Idempotent. */
  readonly stop: () => void
}

/** What `trySend` could not send at once: `sent` bytes went, `rest` (a copy) is still to send. */
export interface PartialSend {
  readonly sent: number
  readonly rest: Uint8Array
}

export const isPartialSend = (u: Completion | PartialSend): u is PartialSend => "rest" in u

/** The result of a synchronous call: a value, or the WSA code it failed with. */
export type Result<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly code: number }

export const ok = <A>(value: A): Result<A> => ({ ok: true, value })
export const fail = <A = never>(code: number): Result<A> => ({ ok: false, code })

/** Options users can set, with the value type each takes. */
export interface SocketOptions {
  readonly TCP_FASTOPEN: boolean
  readonly TCP_NODELAY: boolean
  readonly SO_KEEPALIVE: boolean
  readonly SO_REUSEADDR: boolean
  readonly SO_SNDBUF: number
  readonly SO_RCVBUF: number
  /** seconds; 0 = hard close (RST) */
  readonly SO_LINGER: number | false
}

export type SocketOption = keyof SocketOptions

export type DriverName = "posix" | "windows" | "simulated"

/**
 * What a driver can do, asked by the layers above instead of testing its name, so that a new driver (an
 * io_uring one, say) plugs in without touching the front-ends.
 */
export interface Capabilities {
  /**
   * Accepts a server keeps posted at once by default: several where each accept is a posted operation
   * (Windows' AcceptEx, as IIS and .NET keep several pending under load); 1 where a wake-up drains the
   * kernel's queue with `tryAccept`.
   */
  readonly postedAccepts: number
  /**
   * Whether a listener sets SO_REUSEADDR by default, so that a restarted server binds a port whose old
   * connections are in TIME_WAIT. Not on Windows, where SO_REUSEADDR lets another socket take a port in use
   * (and TIME_WAIT never blocks a listener's bind anyway).
   */
  readonly reuseAddressByDefault: boolean
}

/** What a driver that says nothing can do: one posted accept, SO_REUSEADDR on listeners. */
export const defaultCapabilities: Capabilities = { postedAccepts: 1, reuseAddressByDefault: true }

export interface Driver {
  readonly name: DriverName
  /** What it can do; `defaultCapabilities` when left out. */
  readonly capabilities?: Capabilities
  /** Once per layer build (WSAStartup on Windows); 0 or a WSA code. */
  readonly startup: () => number
  /** Once at layer release, after every socket was closed (WSACleanup on Windows). */
  readonly cleanup: () => void

  readonly open: (family: Family) => Result<NativeSocket>
  /**
   * Binds; `deferPort` (set when the port is 0 and a connect follows) lets the kernel choose the port at
   * connect time (IP_BIND_ADDRESS_NO_PORT on Linux), so that ports do not run out under load.
   */
  readonly bind: (socket: NativeSocket, address: SocketAddress, deferPort: boolean) => number
  /**
   * Connects and then sends all of `data`: bytes = bytes sent. With the TCP_FASTOPEN option set the data may
   * ride with the SYN.
   * The driver copies `data` into memory the operation owns before returning.
   */
  readonly connect: (
    socket: NativeSocket,
    address: SocketAddress,
    data: Uint8Array | undefined,
    done: Done
  ) => InFlight
  /**
   * After a failed or cancelled connect: puts the socket back in the bound, unconnected state so that it may
   * connect again (Linux: connect(AF_UNSPEC)). 0 or a WSA code.
   */
  readonly resetConnect: (socket: NativeSocket) => number
  /**
   * Puts a bound socket into the listening state (listen()); 0 or a WSA code. The front-end's state machine
   * has checked that the socket is bound and neither connecting nor connected.
   */
  readonly listen: (socket: NativeSocket, backlog: number) => number
  /**
   * Accepts one connection on a listening socket (AcceptEx). The driver opens the accepting socket itself
   * (Windows: in advance, overlapped, associated with the port; Linux: accept4 makes it), of the listening
   * socket's family. With `receiveBytes > 0` the operation also waits for the client's first bytes, as
   * AcceptEx with a receive does, and `data` holds up to that many (empty when the client closed without
   * sending). On success the completion carries `accepted`; the caller owns that socket from then on.
   *
   * The same contract as every long operation: `done` runs exactly once; `cancel` (and closing the
   * listening socket) completes it with 995 and closes the half-made socket; liveAllocations counts the
   * accepting socket and the operation's memory until then. A client that reset or aborted before the
   * accept completed (ECONNABORTED, AcceptEx's WSAECONNRESET) never completes the operation: the driver
   * accepts the next connection instead, so one bad client does not fail the listener.
   *
   * With `receiveBytes` an accepted client that sends nothing holds the operation (and, on Windows, the
   * connection) until it sends or closes: bound the accept with a timeout (Windows' documented remedy is
   * SO_CONNECT_TIME on the accepting socket; the front-end's interruption does the same job everywhere).
   */
  readonly accept: (listening: NativeSocket, receiveBytes: number, done: Done) => InFlight
  /**
   * Optional synchronous fast path for accept (no receive): the completion when a connection is already
   * queued (status 0 with `accepted`, ownership passing with it) or the accept failed, `undefined` when an
   * accept would have to wait. Nothing stays pending. A server drains its queue with it after each wake-up.
   */
  readonly tryAccept?: (listening: NativeSocket) => Completion | undefined
  /**
   * Sends all of `data`; bytes = data.length on success. The caller's bytes are read only during this call:
   * what must wait is copied into memory the operation owns before it returns (`owned`: `data` already is
   * such memory, no copy needed).
   */
  readonly send: (socket: NativeSocket, data: Uint8Array, done: Done, owned?: boolean) => InFlight
  /**
   * Optional synchronous fast path (libuv's uv_try_write): sends what the kernel takes now, straight from
   * `data`. Either the finished completion (all sent, or the failure), or how much went and a copy of the
   * rest (owned by the caller now) to hand to `send(..., owned = true)`. Nothing stays pending. Only while
   * no send of the socket is in flight (the front-end orders sends), or the bytes would overtake it.
   * The rest may already sit in the memory that send's operation will own (Windows: the OVERLAPPED block),
   * so `send(..., owned = true)` takes it over without copying; do not read it once handed over.
   */
  readonly trySend?: (socket: NativeSocket, data: Uint8Array) => Completion | PartialSend
  /**
   * Optional synchronous fast path for receive: the completion when data (or the end, or an error) is
   * already there, `undefined` when a receive would have to wait. Nothing stays pending.
   */
  readonly tryReceive?: (socket: NativeSocket, maxBytes: number) => Completion | undefined
  /** Receives up to `maxBytes`; an empty `data` means the peer closed. */
  readonly receive: (socket: NativeSocket, maxBytes: number, done: Done) => InFlight
  /**
   * Optional streaming read (libuv's uv_read_start): while it lasts the socket stays registered for reading
   * and `onChunk` gets each completion from the driver's own callbacks: data (up to `chunkSize`, a copy the
   * caller owns), the peer's end (empty data) or an error status, after which nothing follows. `onChunk`
   * answering false pauses the read until `resume`. Closing the socket ends it with 995; `stop` ends it with
   * nothing more delivered. No operation per chunk: what an idle connection keeps is this registration.
   * Only one at a time per socket, and not beside a `receive` (the front-end's receive queue orders them).
   */
  readonly readStart?: (socket: NativeSocket, chunkSize: number, onChunk: (completion: Completion) => boolean) => Reading
  /**
   * Ends the sending direction (a FIN once the sent data is out): the peer sees the end of the stream while
   * this side may still receive. 0 or a WSA code.
   */
  readonly shutdownSend: (socket: NativeSocket) => number
  /**
   * Ends the connection gracefully (DisconnectEx): a FIN after every byte already sent, never a reset.
   * Without `reuse` the socket still receives until the peer's end and still answers `peerAddress`; with
   * `reuse` (TF_REUSE_SOCKET) it may connect again once this completes (Linux waits for the peer's FIN,
   * bounded, first).
   */
  readonly disconnect: (socket: NativeSocket, reuse: boolean, done: Done) => InFlight
  /**
   * Releases the socket. Pending operations on it complete with 995 first (the driver calls their `done`
   * before returning or soon after); the native handle is closed once no completion can touch it.
   */
  readonly close: (socket: NativeSocket) => void

  readonly localAddress: (socket: NativeSocket) => Result<SocketAddress>
  readonly peerAddress: (socket: NativeSocket) => Result<SocketAddress>
  /**
   * Seconds connected as the kernel counts it (Windows SO_CONNECT_TIME; undefined = not connected).
   * Drivers without such a counter leave it out, and the library counts with Effect's Clock.
   */
  readonly connectTime?: (socket: NativeSocket) => Result<number | undefined>
  readonly setOption: <K extends SocketOption>(socket: NativeSocket, option: K, value: SocketOptions[K]) => number

  /**
   * Whether the socket's pending operations keep the process alive (node:net's `ref` / `unref`): an unref'd
   * socket does not hold the event loop open by itself. Drivers whose waits cannot be unref'd leave it out.
   */
  readonly setRef?: (socket: NativeSocket, ref: boolean) => void

  /** Live native resources (sockets, buffers, poll handles, OVERLAPPEDs): for leak tests. */
  readonly liveAllocations: () => number
}
