/**
 * The POSIX (Linux) driver: non-blocking libc sockets whose readiness comes from a libuv poll handle
 * (no thread), turned into the exactly-once completions the Driver contract promises.
 *
 * A connect first checks readiness synchronously (`poll(fd, POLLOUT, 0)`): on loopback the handshake has
 * almost always finished inside connect(), so no wait is needed at all.
 */
import { once, type Once } from "../../completion.js"
import { wsa } from "../../errors/codes.js"
import { type Family, isUnspecified, type SocketAddress } from "../../address.js"
import {
  type Accepted,
  type Completion,
  type Done,
  type Driver,
  fail,
  isPartialSend,
  type NativeSocket,
  ok,
  OPERATION_ABORTED,
  type InFlight,
  type PartialSend,
  type Reading,
  type Result,
  type SocketOption,
  type SocketOptions
} from "../Driver.js"
import { makeReceiveScratch } from "../scratch.js"
import { errno, wsaFromErrno } from "./errno.js"
import {
  IP_BIND_ADDRESS_NO_PORT,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  libc,
  MSG_NOSIGNAL,
  type PollHandle,
  POLLOUT,
  restart,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SHUT_WR,
  SOL_SOCKET,
  TCP_FASTOPEN_CONNECT,
  TCP_NODELAY,
  watch
} from "./libc.js"
import { decode, encode, familyCode, SOCKADDR_MAX, unspecified } from "./sockaddr.js"

const EINPROGRESS = errno.EINPROGRESS
const ECONNABORTED = errno.ECONNABORTED
const EINTR = errno.EINTR
const ENOTCONN = errno.ENOTCONN
const EAGAIN = errno.EAGAIN
const EWOULDBLOCK = errno.EWOULDBLOCK
const IPV6_V6ONLY = 26
const WSAECONNRESET = wsa.WSAECONNRESET

const wouldBlock = (e: number) => e === EAGAIN || e === EWOULDBLOCK

const remove = <A>(list: Array<A>, item: A): void => {
  const i = list.indexOf(item)
  if (i >= 0) list.splice(i, 1)
}

type Wake = () => void

class PosixSocket implements NativeSocket {
  handle: PollHandle | undefined = undefined
  /** what the poll handle is armed for now (one start/stop only when this changes) */
  armedRead = false
  armedWrite = false
  /** the poll handle's callback, made once per socket */
  onEvent: ((status: number, ready: { readonly readable: boolean; readonly writable: boolean }) => void) | undefined =
    undefined
  // Arrays, not Sets: they hold zero or one entry nearly always, and a Set's table is a few hundred bytes per
  // socket that a busy server's young generation copies for every connection still open.
  readers: Array<Wake> = []
  writers: Array<Wake> = []
  readonly operations: Array<PosixOperation> = []
  fastOpen = false
  closed = false
  /** false after `setRef(false)`: the poll handle (made now or later) does not hold the event loop open */
  referenced = true
  /** the streaming read in progress (`readStart`), if any: a reader that stays registered */
  stream: StreamRead | undefined = undefined
  /**
   * The peer of a connection ended by disconnect without reuse: Windows still answers getpeername then,
   * Linux says ENOTCONN once both sides have closed.
   */
  lastPeer: SocketAddress | undefined = undefined
  /** an error the kernel reported early, owed to the next receive or send */
  deferredError = 0
  /**
   * The last recv left the receive queue empty (EAGAIN, or a short read): the next receive may go straight
   * to its wait, as the poll handle is level-triggered (bytes that arrived since wake it at once). Saves
   * the second EAGAIN of a front-end's try-then-wait.
   */
  drained = false
  constructor(readonly fd: number, readonly family: Family) {}
}

/**
 * A streaming read: delivered to from readiness events while it is not paused. Its own `Reading` (methods on
 * the prototype: an idle connection keeps one alive).
 */
class StreamRead implements Reading {
  paused = false
  constructor(
    readonly socket: PosixSocket,
    readonly chunkSize: number,
    readonly onChunk: (completion: Completion) => boolean,
    private readonly rearm: (socket: PosixSocket, keepReading: boolean) => void
  ) {}
  resume(): void {
    if (this.socket.stream !== this || !this.paused) return
    this.paused = false
    this.rearm(this.socket, true)
  }
  stop(): void {
    if (this.socket.stream !== this) return
    this.socket.stream = undefined
    this.rearm(this.socket, true)
  }
}

/** At most this many chunks of one socket per readiness event (libuv reads at most 32): the others get a turn. */
const STREAM_BATCH = 16

/** One started operation: completes once (the core's `once`), forgets its readiness wait when cancelled. */
class PosixOperation implements InFlight {
  stopWaiting: (() => void) | undefined = undefined
  /** a bound on the operation (the disconnect's wait for the peer's FIN), cleared when it completes */
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  /** the exactly-once latch: the first completion releases what the operation holds, then calls `done` */
  private readonly completion: Once
  constructor(private readonly socket: PosixSocket, done: Done, private readonly counter: Counter) {
    socket.operations.push(this)
    counter.live++
    this.completion = once((completion) => {
      this.stopWaiting?.()
      this.stopWaiting = undefined
      if (this.timer !== undefined) clearTimeout(this.timer)
      this.timer = undefined
      remove(this.socket.operations, this)
      this.counter.live--
      done(completion)
    })
  }
  complete(status: number, bytes: number, data?: Uint8Array, accepted?: Accepted): void {
    if (this.completion.completed()) return
    this.completion.complete(
      accepted !== undefined
        ? (data === undefined ? { status, bytes, accepted } : { status, bytes, data, accepted })
        : data === undefined
        ? { status, bytes }
        : { status, bytes, data }
    )
  }
  readonly cancel = (): void => this.complete(OPERATION_ABORTED, 0)
}

interface Counter {
  live: number
}

const intValue = (n: number): Buffer => {
  const buffer = Buffer.alloc(4)
  buffer.writeInt32LE(n, 0)
  return buffer
}

const setInt = (fd: number, level: number, name: number, value: number): number =>
  libc.setsockopt(fd, level, name, intValue(value), 4) === 0 ? 0 : wsaFromErrno(libc.errno())

/**
 * How long `disconnect({ reuse: true })` waits for the peer's FIN (2 s) before it aborts the connection
 * (an RST) to free the socket anyway.
 */
export const DISCONNECT_FIN_WAIT_MS = 2000

export interface PosixDriverOptions {
  /** the bound on the wait for the peer's FIN in a reusing disconnect; default `DISCONNECT_FIN_WAIT_MS` */
  readonly finWaitMs?: number
}

export const makePosixDriver = (options: PosixDriverOptions = {}): Driver => {
  const finWaitMs = options.finWaitMs ?? DISCONNECT_FIN_WAIT_MS
  const counter: Counter = { live: 0 }
  const pollfd = Buffer.alloc(8)
  const errorValue = Buffer.alloc(4)
  const errorLength = Buffer.alloc(4)
  // accept4's peer address: filled and decoded synchronously, so one pair serves every accept
  const name = Buffer.alloc(SOCKADDR_MAX)
  const nameLength = Buffer.alloc(4)

  /** Readiness right now, without waiting: POLLOUT, POLLERR or POLLHUP all mean "look at SO_ERROR". */
  const writableNow = (fd: number): boolean => {
    pollfd.writeInt32LE(fd, 0)
    pollfd.writeInt16LE(POLLOUT, 4)
    pollfd.writeInt16LE(0, 6)
    return libc.poll(pollfd, 1, 0) > 0
  }

  const pendingError = (fd: number): number => {
    errorLength.writeUInt32LE(4, 0)
    if (libc.getsockopt(fd, SOL_SOCKET, SO_ERROR, errorValue, errorLength) !== 0) return wsaFromErrno(libc.errno())
    const e = errorValue.readInt32LE(0)
    return e === 0 ? 0 : wsaFromErrno(e)
  }

  /** Completes `operation` with the socket's deferred error, if it has one (once). */
  const takeDeferredError = (socket: PosixSocket, operation: PosixOperation, data?: Uint8Array): boolean => {
    if (socket.deferredError === 0) return false
    const status = socket.deferredError
    socket.deferredError = 0
    operation.complete(status, 0, data)
    return true
  }

  // One libuv poll handle per socket (libuv allows one per fd), armed for the union of what waiters need.
  // Reading is disarmed lazily, as libuv keeps a stream that is being read armed: when the last reader is
  // woken the handle stays armed for reading, because the next receive usually follows at once; only an
  // event that finds no reader disarms it. Writability is disarmed at once (it is nearly always true).
  // The handle is started or stopped only when what it is armed for changes.
  const rearm = (socket: PosixSocket, keepReading: boolean): void => {
    if (socket.closed) return
    const readable = socket.readers.length > 0 || (socket.stream !== undefined && !socket.stream.paused) || (keepReading && socket.armedRead)
    const writable = socket.writers.length > 0
    if (readable === socket.armedRead && writable === socket.armedWrite) return
    socket.armedRead = readable
    socket.armedWrite = writable
    if (!readable && !writable) {
      socket.handle?.stop()
    } else if (socket.handle === undefined) {
      const onEvent = (socket.onEvent ??= (status, ready) => onReady(socket, status, ready))
      socket.handle = watch(socket.fd, { readable, writable }, onEvent)
      if (!socket.referenced) socket.handle.unref()
      counter.live++
    } else {
      restart(socket.handle, { readable, writable }, socket.onEvent!)
    }
  }

  // An error status (a refused connect arrives as UV_EBADF with no bits) wakes everyone: the call each
  // waiter retries, or SO_ERROR, reports what really happened.
  const onReady = (socket: PosixSocket, status: number, ready: { readonly readable: boolean; readonly writable: boolean }) => {
    // On an error libuv has already stopped the handle itself (uv__poll_io on POLLERR): forget what it was
    // armed for, so that a waiter added from here on starts it again.
    if (status < 0) socket.armedRead = socket.armedWrite = false
    const readEvent = status < 0 || ready.readable
    const idleRead = readEvent && socket.readers.length === 0 && (socket.stream === undefined || socket.stream.paused)
    let woken: Array<Wake> | undefined
    if (readEvent && socket.readers.length > 0) woken = socket.readers, socket.readers = []
    if ((status < 0 || ready.writable) && socket.writers.length > 0) {
      woken = woken === undefined ? socket.writers : woken.concat(socket.writers)
      socket.writers = []
    }
    if (woken !== undefined) for (const wake of woken) wake()
    if (readEvent && socket.stream !== undefined && !socket.stream.paused) pump(socket)
    // An error, or readiness nobody waited for: stop reading (a level-triggered handle would fire again).
    rearm(socket, !(idleRead || status < 0))
  }

  /**
   * Calls `wake` once the socket is ready for `kind` (or reports an error); cancelling `operation` forgets
   * the wait. Used by every operation that waits for readiness (connect, send, receive, disconnect, accept).
   */
  const waitFor = (socket: PosixSocket, operation: PosixOperation, kind: "read" | "write", wake: Wake): void => {
    const once: Wake = () => {
      operation.stopWaiting = undefined
      wake()
    }
    ;(kind === "read" ? socket.readers : socket.writers).push(once)
    operation.stopWaiting = () => {
      // the socket's current list: a wake-up replaces the list it emptied
      remove(kind === "read" ? socket.readers : socket.writers, once)
      rearm(socket, true)
    }
    rearm(socket, true)
  }

  /** Sends `payload` from `offset` until all of it is out, waiting for writability as needed; `base` bytes went before. */
  const sendAll = (socket: PosixSocket, operation: PosixOperation, payload: Uint8Array, offset: number, base = 0): void => {
    if (takeDeferredError(socket, operation)) return
    let sent = offset
    while (sent < payload.length) {
      const n = libc.send(socket.fd, sent === 0 ? payload : payload.subarray(sent), payload.length - sent, MSG_NOSIGNAL)
      if (n >= 0) {
        sent += n
        continue
      }
      const e = libc.errno()
      if (wouldBlock(e)) return waitFor(socket, operation, "write", () => sendAll(socket, operation, payload, sent, base))
      return operation.complete(wsaFromErrno(e), base + sent)
    }
    operation.complete(0, base + sent)
  }

  // Receives go through one pooled scratch buffer: only the bytes received are copied out.
  const scratch = makeReceiveScratch()
  const empty = new Uint8Array(0)

  const tryReceive = (native: NativeSocket, maxBytes: number): Completion | undefined => {
    const socket = native as PosixSocket
    if (socket.deferredError !== 0) {
      const status = socket.deferredError
      socket.deferredError = 0
      return { status, bytes: 0, data: empty }
    }
    const buffer = scratch.bufferFor(maxBytes)
    const n = libc.recv(socket.fd, buffer, maxBytes, 0)
    socket.drained = n > 0 && n < maxBytes
    if (n >= 0) return { status: 0, bytes: n, data: scratch.take(buffer, n, maxBytes) }
    const e = libc.errno()
    if (wouldBlock(e)) {
      socket.drained = true
      return undefined
    }
    return { status: wsaFromErrno(e), bytes: 0, data: empty }
  }

  const trySend = (native: NativeSocket, data: Uint8Array): Completion | PartialSend => {
    const socket = native as PosixSocket
    if (socket.deferredError !== 0) {
      const status = socket.deferredError
      socket.deferredError = 0
      return { status, bytes: 0 }
    }
    let sent = 0
    while (sent < data.length) {
      const n = libc.send(socket.fd, sent === 0 ? data : data.subarray(sent), data.length - sent, MSG_NOSIGNAL)
      if (n >= 0) {
        sent += n
        continue
      }
      const e = libc.errno()
      // Only what the kernel did not take is copied, now, before control goes back to the caller.
      if (wouldBlock(e)) return { sent, rest: Uint8Array.prototype.slice.call(data, sent) as Uint8Array }
      return { status: wsaFromErrno(e), bytes: sent }
    }
    return { status: 0, bytes: sent }
  }

  const connect: Driver["connect"] = (native, address, data, done) => {
    const socket = native as PosixSocket
    const operation = new PosixOperation(socket, done, counter)
    // The operation's own copy: the caller's buffer may change or be detached while we wait.
    const payload = data === undefined || data.length === 0 ? undefined : Buffer.from(data)
    const tfo = socket.fastOpen && payload !== undefined
    if (tfo) setInt(socket.fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
    const sockaddr = encode(address)
    const r = libc.connect(socket.fd, sockaddr, sockaddr.length)
    const e = r < 0 ? libc.errno() : 0
    let early = 0
    if (r === 0 && tfo && payload !== undefined) {
      // With a Fast Open cookie, connect() returned at once and this send rides in the SYN.
      const n = libc.send(socket.fd, payload, payload.length, MSG_NOSIGNAL)
      if (n > 0) early = n
    } else if (r < 0 && e !== EINPROGRESS) {
      operation.complete(wsaFromErrno(e), 0)
      return operation
    }
    const established = () => {
      const status = pendingError(socket.fd)
      // A refusal arrives as ECONNREFUSED; a reset means the connection was made and the peer reset it at
      // once. Windows' ConnectEx succeeds then and the reset comes with the next receive or send: keep it
      // for that call (reading SO_ERROR cleared it from the kernel).
      if (status === WSAECONNRESET) socket.deferredError = status
      else if (status !== 0) return operation.complete(status, 0)
      if (payload === undefined) return operation.complete(0, 0)
      sendAll(socket, operation, payload, early)
    }
    if (writableNow(socket.fd)) established()
    else waitFor(socket, operation, "write", established)
    return operation
  }

  /**
   * Delivers what a streaming read finds now: up to STREAM_BATCH chunks, until the kernel has no more (the
   * level-triggered poll handle reports the rest at the next turn of the loop), the reader pauses, or the end.
   */
  const pump = (socket: PosixSocket): void => {
    const stream = socket.stream
    for (let i = 0; i < STREAM_BATCH && stream !== undefined && socket.stream === stream && !stream.paused; i++) {
      const completion = tryReceive(socket, stream.chunkSize)
      if (completion === undefined) return
      const final = completion.status !== 0 || completion.bytes === 0
      if (final) socket.stream = undefined
      if (!stream.onChunk(completion) && !final) stream.paused = true
      if (final || socket.drained) break
    }
    // A paused or ended read lets go of readability at once (a level-triggered handle would fire again).
    rearm(socket, socket.stream !== undefined && !socket.stream.paused)
  }

  const readStart: NonNullable<Driver["readStart"]> = (native, chunkSize, onChunk) => {
    const socket = native as PosixSocket
    const stream = new StreamRead(socket, chunkSize, onChunk, rearm)
    socket.stream = stream
    // What is there already is delivered at the next readiness event, as anything arriving later: the poll
    // handle is level-triggered, so a socket with data waiting reports it at once.
    rearm(socket, true)
    return stream
  }

  const receive: Driver["receive"] = (native, maxBytes, done) => {
    const socket = native as PosixSocket
    const operation = new PosixOperation(socket, done, counter)
    const attempt = (): void => {
      const completion = tryReceive(socket, maxBytes)
      if (completion === undefined) return waitFor(socket, operation, "read", attempt)
      operation.complete(completion.status, completion.bytes, completion.data)
    }
    if (socket.drained && socket.deferredError === 0) {
      socket.drained = false
      waitFor(socket, operation, "read", attempt)
    } else {
      attempt()
    }
    return operation
  }

  // Copy-free where the kernel takes the bytes at once (libuv's uv_try_write): only the rest is copied,
  // in this same synchronous step, so the caller's buffer is never read after this call returns.
  const send: Driver["send"] = (native, data, done, owned = false) => {
    const socket = native as PosixSocket
    const operation = new PosixOperation(socket, done, counter)
    if (owned) {
      sendAll(socket, operation, data, 0)
      return operation
    }
    const first = trySend(socket, data)
    if (isPartialSend(first)) sendAll(socket, operation, first.rest, 0, first.sent)
    else operation.complete(first.status, first.bytes)
    return operation
  }

  /**
   * AcceptEx's equivalent. accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) is tried at once (a queued connection needs no
   * wait); otherwise the listening fd is watched for readability through the same readiness machinery as a
   * receive, and accept4 is tried again. A connection that was aborted or reset while it sat in the queue
   * (ECONNABORTED, or a reset seen by the first receive) is dropped and the next one taken.
   *
   * With `receiveBytes` this waits, like AcceptEx with a receive, for the client's first bytes (or its end:
   * empty data) before completing; no bound of its own: the front-end's timeout / interruption cancels it,
   * which closes the half-accepted socket (Windows' guidance is the same: watch SO_CONNECT_TIME and drop
   * clients that connect and send nothing).
   */
  /**
   * One accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) now: a connection that was aborted while it sat in the queue
   * (ECONNABORTED) is dropped and the next one taken; `undefined` when the queue is empty.
   */
  const tryAccept = (native: NativeSocket): Completion | undefined => {
    const listener = native as PosixSocket
    // A closed listener's fd number may already belong to another socket: never call accept4 on it.
    if (listener.closed) return { status: wsa.WSAENOTSOCK, bytes: 0 }
    while (true) {
      nameLength.writeUInt32LE(SOCKADDR_MAX, 0)
      const fd = libc.accept4(listener.fd, name, nameLength, SOCK_NONBLOCK | SOCK_CLOEXEC)
      if (fd >= 0) {
        counter.live++
        const socket = new PosixSocket(fd, listener.family)
        const peer = decode(name)
        if (peer === undefined) {
          close(socket)
          return { status: wsa.WSAEAFNOSUPPORT, bytes: 0 }
        }
        return { status: 0, bytes: 0, accepted: { socket, peer } }
      }
      const e = libc.errno()
      if (e === ECONNABORTED || e === EINTR) continue
      if (wouldBlock(e)) return undefined
      return { status: wsaFromErrno(e), bytes: 0 }
    }
  }

  /**
   * AcceptEx's equivalent. `tryAccept` first (a queued connection needs no wait); otherwise the listening fd
   * is watched for readability through the same readiness machinery as a receive (it stays armed while
   * accepts keep coming, as a receive's does), and accept4 is tried again. A connection reset while it sat
   * in the queue (seen by the first receive) is dropped and the next one taken.
   *
   * With `receiveBytes` this waits, like AcceptEx with a receive, for the client's first bytes (or its end:
   * empty data) before completing; no bound of its own: the front-end's timeout / interruption cancels it,
   * which closes the half-accepted socket (Windows' guidance is the same: watch SO_CONNECT_TIME and drop
   * clients that connect and send nothing).
   */
  const accept: Driver["accept"] = (native, receiveBytes, done) => {
    const listener = native as PosixSocket
    const operation = new PosixOperation(listener, done, counter)
    const attempt = (): void => {
      const now = tryAccept(listener)
      if (now === undefined) return waitFor(listener, operation, "read", attempt)
      if (now.accepted === undefined) return operation.complete(now.status, 0)
      accepted(now.accepted.socket as PosixSocket, now.accepted.peer)
    }
    const accepted = (socket: PosixSocket, peer: SocketAddress): void => {
      if (receiveBytes <= 0) return operation.complete(0, 0, undefined, { socket, peer })
      // The first bytes: a receive on the new socket, cancelled (and the socket closed) with the accept.
      let settled = false
      const first = receive(socket, receiveBytes, (completion) => {
        settled = true
        operation.stopWaiting = undefined
        if (completion.status !== 0) {
          close(socket)
          // Cancelled with the accept; or the client reset before sending: take the next connection.
          if (completion.status !== OPERATION_ABORTED) attempt()
          return
        }
        const data = completion.data ?? new Uint8Array(0)
        operation.complete(0, data.length, data, { socket, peer })
      })
      // Still waiting: cancelling the accept cancels this receive. Settled in the call, the accept has moved on
      // (completed, or waiting on the next connection with a cancel of its own that must not be replaced).
      if (!settled) operation.stopWaiting = () => first.cancel()
    }
    attempt()
    return operation
  }

  const resetConnect = (native: NativeSocket): number => {
    const socket = native as PosixSocket
    socket.deferredError = 0
    socket.lastPeer = undefined
    const sockaddr = unspecified()
    return libc.connect(socket.fd, sockaddr, sockaddr.length) === 0 ? 0 : wsaFromErrno(libc.errno())
  }

  /**
   * DisconnectEx's equivalent, graceful as Windows' is: shutdown(SHUT_WR) queues the FIN behind every byte
   * already sent (the front-end lets sends in progress finish first), so the peer reads all of it and then
   * a normal end of stream. Without reuse that is all: the socket keeps receiving until the peer's end.
   * With reuse the association must be dissolved before the socket can connect again, and connect(AF_UNSPEC)
   * on a live connection is an abort (RST): so first read and discard until the peer's FIN (recv 0), through
   * the poll handle, for at most `finWaitMs`; a peer that never closes is then aborted. Cancelling
   * completes with 995 at once (the socket is then spent).
   */
  const disconnect: Driver["disconnect"] = (native, reuse, done) => {
    const socket = native as PosixSocket
    const operation = new PosixOperation(socket, done, counter)
    if (libc.shutdown(socket.fd, SHUT_WR) !== 0) {
      const e = libc.errno()
      // The peer reset the connection (Linux has already closed it: ENOTCONN): nothing is left to end
      // gracefully; with reuse, free the socket for its next connect as after any other disconnect.
      operation.complete(reuse && e === ENOTCONN ? resetConnect(socket) : wsaFromErrno(e), 0)
      return operation
    }
    if (!reuse) {
      const peer = peerAddress(socket)
      if (peer.ok) socket.lastPeer = peer.value
      operation.complete(0, 0)
      return operation
    }
    const scratch = Buffer.allocUnsafe(16 * 1024)
    const dissolve = () => operation.complete(resetConnect(socket), 0)
    const drain = (): void => {
      while (true) {
        const n = libc.recv(socket.fd, scratch, scratch.length, 0)
        if (n > 0) continue
        if (n === 0) return dissolve()
        const e = libc.errno()
        if (wouldBlock(e)) return waitFor(socket, operation, "read", drain)
        // The peer reset or the connection broke: the association is gone either way; free the socket.
        return dissolve()
      }
    }
    drain()
    // Still waiting: bound the wait, then abort (connect(AF_UNSPEC) sends the RST) so the socket is free.
    if (socket.operations.includes(operation)) operation.timer = setTimeout(dissolve, finWaitMs)
    return operation
  }

  const close = (native: NativeSocket): void => {
    const socket = native as PosixSocket
    if (socket.closed) return
    socket.closed = true
    for (const operation of socket.operations.slice()) operation.cancel()
    const stream = socket.stream
    socket.stream = undefined
    stream?.onChunk({ status: OPERATION_ABORTED, bytes: 0 })
    // The poll handle goes first: libuv tracks watchers by fd number, and numbers are reused.
    if (socket.handle !== undefined) {
      socket.handle.close()
      socket.handle = undefined
      counter.live--
    }
    libc.close(socket.fd)
    counter.live--
  }

  const address = (call: typeof libc.getsockname) => (native: NativeSocket): Result<SocketAddress> => {
    const socket = native as PosixSocket
    const buffer = Buffer.alloc(SOCKADDR_MAX)
    const length = Buffer.alloc(4)
    length.writeUInt32LE(SOCKADDR_MAX, 0)
    if (call(socket.fd, buffer, length) !== 0) return fail(wsaFromErrno(libc.errno()))
    const decoded = decode(buffer)
    return decoded === undefined ? fail(wsa.WSAEAFNOSUPPORT) : ok(decoded)
  }

  const localAddress = address(libc.getsockname)
  const connectedPeer = address(libc.getpeername)
  const peerAddress = (native: NativeSocket): Result<SocketAddress> => {
    const socket = native as PosixSocket
    const result = connectedPeer(socket)
    return !result.ok && socket.lastPeer !== undefined ? ok(socket.lastPeer) : result
  }

  const setOption = <K extends SocketOption>(native: NativeSocket, option: K, value: SocketOptions[K]): number => {
    const socket = native as PosixSocket
    const flag = value === true ? 1 : 0
    switch (option) {
      case "TCP_FASTOPEN": {
        // Applied at connect time (TCP_FASTOPEN_CONNECT), and only when there is data to send: with no data
        // the kernel would hold the SYN back until the first write.
        const probe = setInt(socket.fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 0)
        if (probe !== 0) return probe
        socket.fastOpen = value === true
        return 0
      }
      case "TCP_NODELAY":
        return setInt(socket.fd, IPPROTO_TCP, TCP_NODELAY, flag)
      case "SO_KEEPALIVE":
        return setInt(socket.fd, SOL_SOCKET, SO_KEEPALIVE, flag)
      case "SO_REUSEADDR":
        return setInt(socket.fd, SOL_SOCKET, SO_REUSEADDR, flag)
      case "SO_SNDBUF":
        return setInt(socket.fd, SOL_SOCKET, SO_SNDBUF, value as number)
      case "SO_RCVBUF":
        return setInt(socket.fd, SOL_SOCKET, SO_RCVBUF, value as number)
      case "SO_LINGER": {
        const linger = Buffer.alloc(8)
        linger.writeInt32LE(value === false ? 0 : 1, 0)
        linger.writeInt32LE(value === false ? 0 : (value as number), 4)
        return libc.setsockopt(socket.fd, SOL_SOCKET, SO_LINGER, linger, 8) === 0 ? 0 : wsaFromErrno(libc.errno())
      }
    }
    return wsa.WSAENOPROTOOPT
  }

  const setRef = (native: NativeSocket, ref: boolean): void => {
    const socket = native as PosixSocket
    if (socket.closed || socket.referenced === ref) return
    socket.referenced = ref
    if (ref) socket.handle?.ref()
    else socket.handle?.unref()
  }

  return {
    name: "posix",
    capabilities: { postedAccepts: 1, reuseAddressByDefault: true },
    setRef,
    readStart,
    startup: () => 0,
    cleanup: () => {},
    open: (family) => {
      const fd = libc.socket(familyCode(family), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP)
      if (fd < 0) return fail(wsaFromErrno(libc.errno()))
      counter.live++
      // Windows' default: an IPv6 socket is IPv6 only, so binding [::]:port leaves IPv4's port alone.
      if (family === "ipv6") setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)
      return ok(new PosixSocket(fd, family))
    },
    bind: (native, address, deferPort) => {
      const socket = native as PosixSocket
      // The wildcard with port 0 and a deferred port leaves the kernel nothing to record: connect chooses
      // address and port, exactly as after IP_BIND_ADDRESS_NO_PORT + bind. Two syscalls saved per dial.
      if (deferPort && isUnspecified(address)) return 0
      // Best effort: the port is then chosen at connect, per destination, so ports last longer under load.
      if (deferPort) setInt(socket.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
      const sockaddr = encode(address)
      return libc.bind(socket.fd, sockaddr, sockaddr.length) === 0 ? 0 : wsaFromErrno(libc.errno())
    },
    connect,
    resetConnect,
    listen: (native, backlog) => (libc.listen((native as PosixSocket).fd, backlog) === 0 ? 0 : wsaFromErrno(libc.errno())),
    accept,
    tryAccept,
    send,
    trySend,
    receive,
    tryReceive,
    shutdownSend: (native) =>
      libc.shutdown((native as PosixSocket).fd, SHUT_WR) === 0 ? 0 : wsaFromErrno(libc.errno()),
    disconnect,
    close,
    localAddress,
    peerAddress,
    setOption,
    liveAllocations: () => counter.live
  }
}
