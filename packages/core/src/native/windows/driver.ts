/**
 * The Windows driver: ws2_32 sockets created with WSA_FLAG_OVERLAPPED, every one associated with one I/O
 * completion port and put in non-blocking mode (FIONBIO, as libuv does; overlapped operations are not
 * affected by it); ConnectEx / DisconnectEx / AcceptEx (fetched once per address family with
 * SIO_GET_EXTENSION_FUNCTION_POINTER), WSASend and WSARecv started with an OVERLAPPED the operation owns.
 * The data path tries synchronously first, as libuv's `uv_try_write` does: `trySend` is a non-overlapped
 * send of the caller's bytes that copies only what the kernel did not take, straight into the block the
 * overlapped WSASend then owns; `tryReceive` a non-overlapped recv into a pooled buffer. Only when they
 * would block does an overlapped WSASend / WSARecv go through the port.
 *
 * Laid out by concern:
 * - `overlapped.ts`: the one path of every overlapped operation (start, pending, cancel, completion of one
 *   OVERLAPPED block); each operation here is a `submit` and a `finish` on top of it.
 * - `options.ts`: the socket option table and setsockopt / getsockopt.
 * - `wine.ts`: every workaround for Wine, each saying what Wine does and what Windows does.
 * - `hooks.ts`: what the Windows-only tests look at (`windowsTestHooks(driver)`), off the driver type.
 * - `port.ts` (the completion port and its poller), `socket.ts` (the socket record), `win32.ts` (the FFI).
 */
import { type Family, isLoopback, type SocketAddress } from "../../address.js"
import { wsa } from "../../errors/codes.js"
import {
  type Completion,
  type Done,
  type Driver,
  fail,
  type NativeSocket,
  ok,
  OPERATION_ABORTED,
  type PartialSend,
  type Result
} from "../Driver.js"
import { makeReceiveScratch } from "../scratch.js"
import { registerTestHooks } from "./hooks.js"
import { makeOptions } from "./options.js"
import { Chain, makeOverlapped, type Prepared, type WindowsInFlight } from "./overlapped.js"
import { CompletionPort, type Entry } from "./port.js"
import * as Sockaddr from "./sockaddr.js"
import { socketOf, WindowsSocket } from "./socket.js"
import * as Wine from "./wine.js"
import {
  ACCEPT_ADDRESS_LENGTH,
  type AcceptExFn,
  type GetAcceptExSockaddrsFn,
  BLOCK_BYTES,
  BLOCK_DATA,
  BLOCK_FLAGS,
  BLOCK_SOCKADDR,
  BLOCK_WSABUF,
  type ConnectExFn,
  type DisconnectExFn,
  FIONBIO,
  INVALID_SOCKET,
  IPPROTO_TCP,
  loadWin32,
  SIO_GET_EXTENSION_FUNCTION_POINTER,
  SIO_TCP_INITIAL_RTO,
  SO_CONNECT_TIME,
  SO_LINGER,
  SO_REUSE_UNICASTPORT,
  SO_SNDBUF,
  SO_UPDATE_ACCEPT_CONTEXT,
  SO_UPDATE_CONNECT_CONTEXT,
  SOCK_STREAM,
  SOCKET_ERROR,
  SOL_SOCKET,
  TCP_INITIAL_RTO_NO_RETRANSMISSIONS,
  TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS,
  TF_REUSE_SOCKET,
  type Win32,
  WSA_FLAG_NO_HANDLE_INHERIT,
  WSA_FLAG_OVERLAPPED,
  WSADATA_SIZE,
  WSAEWOULDBLOCK,
  WSAID_ACCEPTEX,
  WSAID_CONNECTEX,
  WSAID_GETACCEPTEXSOCKADDRS,
  WSAID_DISCONNECTEX
} from "./win32.js"

const {
  WSAEAFNOSUPPORT,
  WSAECONNABORTED,
  WSAECONNRESET,
  WSAEINVAL,
  WSAENOBUFS,
  WSAENOTSOCK,
  WSAETIMEDOUT,
  WSANOTINITIALISED
} = wsa

export type { OperationKind, WindowsInFlight } from "./overlapped.js"
/** @deprecated The old name of `WindowsInFlight`. */
export type WindowsOperation = WindowsInFlight
export { type WindowsTestHooks, windowsTestHooks } from "./hooks.js"
export type { Entry, PortStats } from "./port.js"

/** The Windows driver: the `Driver` contract, its operations telling their OVERLAPPED. */
export interface WindowsDriver extends Driver {
  readonly name: "windows"
  readonly connect: (
    socket: NativeSocket,
    address: SocketAddress,
    data: Uint8Array | undefined,
    done: Done
  ) => WindowsInFlight
  readonly send: (socket: NativeSocket, data: Uint8Array, done: Done, owned?: boolean) => WindowsInFlight
  readonly trySend: (socket: NativeSocket, data: Uint8Array) => Completion | PartialSend
  readonly tryReceive: (socket: NativeSocket, maxBytes: number) => Completion | undefined
  readonly receive: (socket: NativeSocket, maxBytes: number, done: Done) => WindowsInFlight
  readonly disconnect: (socket: NativeSocket, reuse: boolean, done: Done) => WindowsInFlight
  readonly accept: (listening: NativeSocket, receiveBytes: number, done: Done) => WindowsInFlight
}

/**
 * How long `disconnect({ reuse: true })` lets DisconnectEx(TF_REUSE_SOCKET) run (2 s, the Linux driver's bound
 * on its wait for the peer's FIN) before it cancels it: Windows may hold the completion while the connection
 * waits out TIME_WAIT (DisconnectEx's documentation; about 2 minutes by default). The disconnect then fails
 * with WSAETIMEDOUT and the socket is spent.
 */
export const DISCONNECT_REUSE_WAIT_MS = 2000

export interface WindowsDriverOptions {
  /**
   * The ws2_32 / kernel32 bindings; by default the real ones (`loadWin32`). Tests pass bindings that answer as
   * Windows documents where Wine answers otherwise.
   */
  readonly win32?: Win32
  /** the bound on a reusing DisconnectEx; default `DISCONNECT_REUSE_WAIT_MS` */
  readonly disconnectWaitMs?: number
}

/**
 * Makes the Windows driver. Loads ws2_32 and kernel32 here, not at import (unless `options.win32` gives the
 * bindings). `startup` runs WSAStartup(2.2) and creates the completion port; `cleanup` closes the port once
 * no completion is pending and then runs WSACleanup.
 */
export const makeWindowsDriver = (options: WindowsDriverOptions = {}): WindowsDriver => {
  const win32: Win32 = options.win32 ?? loadWin32()
  const disconnectWaitMs = options.disconnectWaitMs ?? DISCONNECT_REUSE_WAIT_MS
  const { ws2 } = win32
  let port: CompletionPort | undefined
  let entryListener: ((entry: Entry) => void) | undefined
  let liveSockets = 0
  const connectEx = new Map<Family, ConnectExFn>()
  const disconnectEx = new Map<Family, DisconnectExFn>()
  const acceptEx = new Map<Family, AcceptExFn>()
  const getAcceptExSockaddrs = new Map<Family, GetAcceptExSockaddrsFn>()
  const int32 = Buffer.alloc(4)
  const optionValue = Buffer.alloc(8)
  const nameBuffer = Buffer.alloc(Sockaddr.SOCKADDR_MAX)
  const { start, prepare, discard, failedAtOnce, statusOf, liveBlocks } = makeOverlapped(win32, () => port)
  const { setOption, getUint32 } = makeOptions(win32)

  const lastError = (): number => ws2.WSAGetLastError()
  /** shutdown(): stop sending */
  const SD_SEND = 1

  /** A function pointer from WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) on `socket`, once per family. */
  const extension = <F>(
    cache: Map<Family, F>,
    socket: WindowsSocket,
    id: Buffer,
    make: (pointer: bigint) => F
  ): Result<F> => {
    const cached = cache.get(socket.family)
    if (cached !== undefined) return ok(cached)
    const cell = Buffer.alloc(8)
    const returned = Buffer.alloc(4)
    if (ws2.WSAIoctl(socket.handle, SIO_GET_EXTENSION_FUNCTION_POINTER, id, 16, cell, 8, returned, null, null) !== 0) {
      const code = lastError()
      return fail(code === 0 ? WSAEAFNOSUPPORT : code)
    }
    const pointer = cell.readBigUInt64LE(0)
    if (pointer === 0n) return fail(WSAEAFNOSUPPORT)
    const fn = make(pointer)
    cache.set(socket.family, fn)
    return ok(fn)
  }

  const address = (
    socket: NativeSocket,
    call: (handle: number, name: Buffer, length: Buffer) => number
  ): Result<SocketAddress> => {
    const own = socketOf(socket)
    if (own === undefined) return fail(WSAENOTSOCK)
    int32.writeInt32LE(Sockaddr.SOCKADDR_MAX, 0)
    nameBuffer.fill(0)
    if (call(own.handle, nameBuffer, int32) === SOCKET_ERROR) return fail(lastError())
    const decoded = Sockaddr.decode(nameBuffer)
    return decoded === undefined ? fail(WSAEAFNOSUPPORT) : ok(decoded)
  }

  const rawConnectTime = (socket: NativeSocket): Result<number> => {
    const own = socketOf(socket)
    if (own === undefined) return fail(WSAENOTSOCK)
    return getUint32(own, SOL_SOCKET, SO_CONNECT_TIME)
  }

  /** Windows 10 1709+: a refused loopback connect fails at once instead of after SYN retransmissions. */
  const noSynRetransmissions = (socket: WindowsSocket): void => {
    const parameters = Buffer.alloc(4)
    parameters.writeUInt16LE(TCP_INITIAL_RTO_NO_RETRANSMISSIONS, 0)
    parameters.writeUInt8(TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS, 2)
    ws2.WSAIoctl(socket.handle, SIO_TCP_INITIAL_RTO, parameters, 4, null, 0, int32, null, null)
  }

  /**
   * WSASocketW(WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT), associated with the port (key = the handle).
   * Not inheritable, as Go's sysSocket and libuv's uv__tcp_set_socket make theirs: Node spawns children with
   * bInheritHandles, and an inherited copy would keep a closed connection or a listening port open for as
   * long as the child runs. Accepting sockets are opened here too.
   */
  const openSocket = (family: Family): Result<WindowsSocket> => {
    const p = port
    if (p === undefined || p.isClosed) return fail(WSANOTINITIALISED)
    const handle = ws2.WSASocketW(
      Sockaddr.familyCode(family),
      SOCK_STREAM,
      IPPROTO_TCP,
      null,
      0,
      WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT
    )
    if (handle === INVALID_SOCKET) return fail(lastError())
    const associated = p.associate(handle, handle)
    if (associated !== 0) {
      ws2.closesocket(handle)
      return fail(WSAENOBUFS)
    }
    // Non-blocking, as libuv's uv__tcp_set_socket: the synchronous send / recv of the fast paths say
    // WSAEWOULDBLOCK instead of waiting; overlapped ConnectEx / AcceptEx / WSASend / WSARecv are not
    // affected (they pend whatever the mode).
    int32.writeUInt32LE(1, 0)
    if (ws2.ioctlsocket(handle, FIONBIO, int32) === SOCKET_ERROR) {
      const code = lastError()
      ws2.closesocket(handle)
      return fail(code)
    }
    liveSockets++
    return ok(new WindowsSocket(family, handle))
  }

  /**
   * closesocket. Pending operations complete through the port with 995; their blocks are freed when dequeued.
   * With SO_LINGER on and a nonzero time on a non-blocking socket, closesocket fails with WSAEWOULDBLOCK and
   * the handle stays open (closesocket's documentation; Wine always closes). Then, as .NET's
   * SafeSocketHandle.DoCloseHandle recovers from it, but without blocking the event loop or a threadpool
   * thread (.NET makes the socket blocking and closes again, waiting out the linger on its caller's thread):
   * every pending operation is cancelled (CancelIoEx(handle, NULL), .NET's TryUnblockSocket), the linger is
   * turned off and the socket closed again, so that Windows sends what is queued and then the FIN in the
   * background (a graceful close); should that fail too, the hard close .NET falls back to (linger 0: a
   * reset). Either way the handle is released now and the peer sees its end.
   */
  const closeSocket = (socket: WindowsSocket): void => {
    if (socket.closed) return
    socket.closed = true
    liveSockets--
    // pending operations complete through the port with 995; their blocks are freed when dequeued
    Wine.cancelBeforeClose(win32, socket)
    if (ws2.closesocket(socket.handle) !== SOCKET_ERROR || lastError() !== WSAEWOULDBLOCK) return
    win32.kernel32.CancelIoEx(socket.handle, null)
    if (setLinger(socket, false, 0) === 0 && ws2.closesocket(socket.handle) !== SOCKET_ERROR) return
    setLinger(socket, true, 0)
    ws2.closesocket(socket.handle)
  }

  /** struct linger { u_short l_onoff; u_short l_linger; }: 0 or the WSA code. */
  const setLinger = (socket: WindowsSocket, on: boolean, seconds: number): number => {
    optionValue.writeUInt16LE(on ? 1 : 0, 0)
    optionValue.writeUInt16LE(seconds, 2)
    return ws2.setsockopt(socket.handle, SOL_SOCKET, SO_LINGER, optionValue, 4) === SOCKET_ERROR ? lastError() : 0
  }

  /**
   * One AcceptEx: the accepting socket is opened first (overlapped, on the port); the block holds the
   * first-bytes space and both address slots (local, remote: 44 bytes each) until the packet is dequeued.
   * On success: SO_UPDATE_ACCEPT_CONTEXT (so that getpeername, shutdown and options work), the peer from
   * GetAcceptExSockaddrs (its pointers point into the block), and the socket is handed over. Any other end
   * closes the accepting socket.
   */
  const acceptOnce = (listening: NativeSocket, receiveBytes: number, done: Done): WindowsInFlight => {
    const listener = socketOf(listening)
    if (listener === undefined) return failedAtOnce("accept", WSAENOTSOCK, done)
    const fn = extension(acceptEx, listener, WSAID_ACCEPTEX, win32.acceptExAt)
    if (!fn.ok) return failedAtOnce("accept", fn.code, done)
    const sockaddrs = extension(getAcceptExSockaddrs, listener, WSAID_GETACCEPTEXSOCKADDRS, win32.getAcceptExSockaddrsAt)
    if (!sockaddrs.ok) return failedAtOnce("accept", sockaddrs.code, done)
    const opened = openSocket(listener.family)
    if (!opened.ok) return failedAtOnce("accept", opened.code, done)
    const accepting = opened.value
    let handedOver = false
    return start(
      "accept",
      listener,
      receiveBytes + 2 * ACCEPT_ADDRESS_LENGTH,
      (completion) => {
        if (!handedOver) closeSocket(accepting)
        done(completion)
      },
      (listener, block) => {
        const started = fn.value(
          listener.handle,
          accepting.handle,
          block + BigInt(BLOCK_DATA),
          receiveBytes,
          ACCEPT_ADDRESS_LENGTH,
          ACCEPT_ADDRESS_LENGTH,
          block + BigInt(BLOCK_BYTES),
          block
        )
        return { started: started !== 0 }
      },
      (listener, entry, view) => {
        const status = statusOf(listener, entry, view)
        if (status !== 0) return { status, bytes: 0 }
        optionValue.writeBigInt64LE(BigInt(listener.handle), 0)
        if (ws2.setsockopt(accepting.handle, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, optionValue, 8) === SOCKET_ERROR) {
          return { status: lastError(), bytes: 0 }
        }
        const pointers = Buffer.alloc(24)
        sockaddrs.value(
          entry.overlapped + BigInt(BLOCK_DATA),
          receiveBytes,
          ACCEPT_ADDRESS_LENGTH,
          ACCEPT_ADDRESS_LENGTH,
          pointers.subarray(0, 8),
          pointers.subarray(16, 20),
          pointers.subarray(8, 16),
          pointers.subarray(20, 24)
        )
        const offset = Number(pointers.readBigUInt64LE(8) - entry.overlapped)
        const length = pointers.readInt32LE(20)
        const inBlock = offset >= BLOCK_DATA && length >= 16 && offset + length <= view.byteLength
        const fromBlock = inBlock ? Sockaddr.decode(Buffer.from(view.buffer, offset, Math.min(length, Sockaddr.SOCKADDR_MAX))) : undefined
        // Should GetAcceptExSockaddrs not point into the block, ask the updated socket instead.
        const fallback = fromBlock === undefined ? address(accepting, ws2.getpeername) : ok(fromBlock)
        if (!fallback.ok) return { status: fallback.code, bytes: 0 }
        const bytes = Math.min(entry.bytes, receiveBytes)
        handedOver = true
        const accepted = { socket: accepting, peer: fallback.value }
        return receiveBytes > 0
          ? { status: 0, bytes, data: new Uint8Array(view.buffer, BLOCK_DATA, bytes).slice(), accepted }
          : { status: 0, bytes: 0, accepted }
      }
    )
  }

  /**
   * AcceptEx, posted again when a client reset or aborted before its accept completed (WSAECONNRESET /
   * WSAECONNABORTED), whether AcceptEx says so at once (documented for WSAECONNRESET) or through the port, as
   * Go's FD.Accept retries both: that error belongs to the client's connection, not to the listener, so one
   * bad client does not fail the listener. One cancel covers whichever AcceptEx is posted.
   */
  const accept = (listening: NativeSocket, receiveBytes: number, done: Done): WindowsInFlight => {
    const chain = new Chain("accept")
    const clientGone = (completion: Completion): boolean =>
      completion.status === WSAECONNRESET || completion.status === WSAECONNABORTED
    const attempt = (): WindowsInFlight => {
      // An immediate failure is looped over here, not recursed into: each one used up one reset connection.
      for (;;) {
        let immediate: Completion | undefined
        let starting = true
        const operation = acceptOnce(listening, receiveBytes, (completion) => {
          if (starting) {
            immediate = completion
            return
          }
          if (clientGone(completion) && !chain.cancelled && socketOf(listening) !== undefined) {
            chain.current = attempt()
            return
          }
          done(completion)
        })
        starting = false
        if (immediate === undefined) return operation
        if (!clientGone(immediate) || socketOf(listening) === undefined) {
          done(immediate)
          return operation
        }
      }
    }
    chain.current = attempt()
    return chain
  }


  /**
   * trySend's rests, by the view handed out as `rest`, until `send(..., owned = true)` takes one over. A
   * rest the caller drops without sending is freed once its view is garbage (the registry), so that the
   * block cannot outlive every reference to it nor be freed while one can still read it.
   */
  const rests = new WeakMap<Uint8Array, Prepared>()
  const unsent = new FinalizationRegistry<Prepared>((prepared) => discard(prepared))

  const claimRest = (data: Uint8Array): Prepared | undefined => {
    const prepared = rests.get(data)
    if (prepared === undefined || prepared.dataLength !== data.byteLength) return undefined
    rests.delete(data)
    unsent.unregister(data)
    return prepared
  }

  /** What the kernel did not take, copied once into the block its overlapped WSASend will own. */
  const restOf = (data: Uint8Array, sent: number): PartialSend => {
    const length = data.byteLength - sent
    const prepared = prepare(length)
    // out of native memory: a plain copy, which `send` copies into a block (and fails if it cannot)
    if (prepared === undefined) return { sent, rest: data.slice(sent) }
    const rest = new Uint8Array(prepared.view.buffer, BLOCK_DATA, length)
    rest.set(data.subarray(sent))
    rests.set(rest, prepared)
    unsent.register(rest, prepared, rest)
    return { sent, rest }
  }

  /**
   * uv_try_write: a non-overlapped send (WSASend of one buffer, lpOverlapped NULL) on the non-blocking
   * socket, repeated while the kernel takes bytes. All taken: the finished completion. WSAEWOULDBLOCK
   * (the send buffer is full) after none or some: how much went and the rest in its block. Any other
   * error: that error. Nothing stays pending, and `data` is not read after this returns.
   */
  const trySend = (socket: NativeSocket, data: Uint8Array): Completion | PartialSend => {
    const own = socketOf(socket)
    if (own === undefined) return { status: WSAENOTSOCK, bytes: 0 }
    let sent = 0
    while (sent < data.byteLength) {
      const n = ws2.send(own.handle, sent === 0 ? data : data.subarray(sent), data.byteLength - sent, 0)
      if (n > 0) {
        sent += n
        continue
      }
      const code = n === SOCKET_ERROR ? lastError() : WSAEWOULDBLOCK
      if (code === WSAEWOULDBLOCK) return restOf(data, sent)
      return { status: code, bytes: sent }
    }
    return { status: 0, bytes: sent }
  }

  const scratch = makeReceiveScratch()
  const empty = new Uint8Array(0)

  /**
   * A non-overlapped recv on the non-blocking socket into the pooled buffer: the bytes (copied out), the
   * end (empty data), the error, or undefined on WSAEWOULDBLOCK (then an overlapped WSARecv waits).
   */
  const tryReceive = (socket: NativeSocket, maxBytes: number): Completion | undefined => {
    const own = socketOf(socket)
    if (own === undefined) return { status: WSAENOTSOCK, bytes: 0, data: empty }
    const buffer = scratch.bufferFor(maxBytes)
    const n = ws2.recv(own.handle, buffer, maxBytes, 0)
    if (n !== SOCKET_ERROR) return { status: 0, bytes: n, data: scratch.take(buffer, n, maxBytes) }
    const code = lastError()
    return code === WSAEWOULDBLOCK ? undefined : { status: code, bytes: 0, data: empty }
  }

  /**
   * libuv's zero read (uv__tcp_queue_read): WSARecv with an empty buffer completes once data (or the end, or
   * an error) is there and takes none of it, so a connection that is only waiting holds no receive buffer,
   * just the OVERLAPPED block. Then `tryReceive` reads what is there into the pooled buffer; should nothing be
   * there after all, the zero read is posted again. A cancel leaves whatever arrived in the kernel for the
   * next receive. One cancel covers whichever zero read is posted.
   */
  const receive = (socket: NativeSocket, maxBytes: number, done: Done): WindowsInFlight => {
    const chain = new Chain("receive")
    const attempt = (): WindowsInFlight =>
      start(
        "receive",
        socket,
        0,
        (ready) => {
          if (ready.status !== 0) return done(ready)
          const now = chain.cancelled ? undefined : tryReceive(socket, maxBytes)
          if (now !== undefined) return done(now)
          if (chain.cancelled || socketOf(socket) === undefined) return done({ status: OPERATION_ABORTED, bytes: 0 })
          chain.current = attempt()
        },
        (receiving, block, view) => {
          // length 0 at a valid address (libuv points at a static empty array)
          view.setUint32(BLOCK_WSABUF, 0, true)
          view.setBigUint64(BLOCK_WSABUF + 8, block + BigInt(BLOCK_SOCKADDR), true)
          view.setUint32(BLOCK_FLAGS, 0, true)
          const result = ws2.WSARecv(receiving.handle, block + BigInt(BLOCK_WSABUF), 1, null, block + BigInt(BLOCK_FLAGS), block, null)
          return { started: result === 0 }
        },
        (receiving, entry, view) => ({ status: statusOf(receiving, entry, view), bytes: 0 })
      )
    chain.current = attempt()
    return chain
  }

  const driver: WindowsDriver = {
    name: "windows",
    capabilities: { postedAccepts: 4, reuseAddressByDefault: false },
    setRef: (native, ref) => {
      const socket = socketOf(native)
      if (socket === undefined || socket.referenced === ref) return
      socket.referenced = ref
      port?.referenceChanged()
    },

    startup: () => {
      const data = Buffer.alloc(WSADATA_SIZE)
      const result = ws2.WSAStartup(0x0202, data)
      if (result !== 0) return result
      if (port === undefined || port.isClosed) {
        const created = CompletionPort.create(win32, () => {
          ws2.WSACleanup()
        })
        if (typeof created === "number") {
          ws2.WSACleanup()
          return WSAENOBUFS
        }
        created.onEntry = (entry) => entryListener?.(entry)
        port = created
      } else {
        // a second startup on the same driver: the port is shared, WSAStartup is counted by Winsock
        ws2.WSACleanup()
      }
      return 0
    },

    cleanup: () => {
      const p = port
      port = undefined
      p?.close()
    },

    open: openSocket,

    bind: (socket, addr, deferPort) => {
      const own = socketOf(socket)
      if (own === undefined) return WSAENOTSOCK
      // Best effort, as the Linux driver's IP_BIND_ADDRESS_NO_PORT: the port is then chosen by ConnectEx, per
      // destination, so that ports last longer under load (unknown before Windows 10 1703: ignored).
      if (deferPort && addr.port === 0) {
        int32.writeUInt32LE(1, 0)
        ws2.setsockopt(own.handle, SOL_SOCKET, SO_REUSE_UNICASTPORT, int32, 4)
      }
      const name = Sockaddr.encode(addr)
      return ws2.bind(own.handle, name, name.length) === SOCKET_ERROR ? lastError() : 0
    },

    listen: (socket, backlog) => {
      const own = socketOf(socket)
      if (own === undefined) return WSAENOTSOCK
      return ws2.listen(own.handle, backlog) === SOCKET_ERROR ? lastError() : 0
    },

    accept,

    connect: (socket, destination, data, done) => {
      const own = socketOf(socket)
      if (own === undefined) return failedAtOnce("connect", WSAENOTSOCK, done)
      if (data !== undefined && data.length > Wine.connectDataMax(getUint32(own, SOL_SOCKET, SO_SNDBUF))) {
        return Wine.connectThenSend(driver.connect, driver.send, socket, destination, data, done)
      }
      const fn = extension(connectEx, own, WSAID_CONNECTEX, win32.connectExAt)
      if (!fn.ok) return failedAtOnce("connect", fn.code, done)
      if (isLoopback(destination)) noSynRetransmissions(own)
      const length = data?.length ?? 0
      return start(
        "connect",
        own,
        length,
        done,
        (connecting, block, view) => {
          const nameLength = Sockaddr.write(view, BLOCK_SOCKADDR, destination)
          if (data !== undefined && length > 0) new Uint8Array(view.buffer, BLOCK_DATA, length).set(data)
          const started = fn.value(
            connecting.handle,
            block + BigInt(BLOCK_SOCKADDR),
            nameLength,
            length > 0 ? block + BigInt(BLOCK_DATA) : null,
            length,
            block + BigInt(BLOCK_BYTES),
            block
          )
          return { started: started !== 0 }
        },
        (connecting, entry, view) => {
          const status = statusOf(connecting, entry, view)
          connecting.lastConnect = status
          if (status !== 0) return { status, bytes: 0 }
          // peer/local address, shutdown and options work only once the socket is updated
          const update = ws2.setsockopt(connecting.handle, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, null, 0)
          if (update === SOCKET_ERROR) return { status: lastError(), bytes: 0 }
          connecting.disconnected = false
          connecting.lastPeer = undefined
          return { status: 0, bytes: entry.bytes }
        }
      )
    },

    // Windows: a refused / unreachable / timed-out ConnectEx leaves the socket bound and reusable; a
    // cancelled one does not (the connect may still be in progress in the stack: Wine answers the next
    // ConnectEx with WSAEINVAL), so after 995 the socket is reported not resettable. Under Wine the
    // socket needs one more step first (`Wine.resetAfterFailedConnect`).
    resetConnect: (socket) => {
      const own = socketOf(socket)
      if (own === undefined) return WSAENOTSOCK
      if (own.lastConnect === OPERATION_ABORTED) return WSAEINVAL
      Wine.resetAfterFailedConnect(win32, own)
      return 0
    },

    send: (socket, data, done, owned = false) => {
      // trySend's rest already sits in its block: taken over, not copied again
      const prepared = owned ? claimRest(data) : undefined
      return start(
        "send",
        socket,
        data.length,
        done,
        (sending, block, view) => {
          if (prepared === undefined) new Uint8Array(view.buffer, BLOCK_DATA, data.length).set(data)
          view.setUint32(BLOCK_WSABUF, data.length, true)
          view.setBigUint64(BLOCK_WSABUF + 8, block + BigInt(BLOCK_DATA), true)
          const result = ws2.WSASend(sending.handle, block + BigInt(BLOCK_WSABUF), 1, null, 0, block, null)
          return { started: result === 0 }
        },
        (sending, entry, view) => {
          const status = statusOf(sending, entry, view)
          return status !== 0 ? { status, bytes: 0 } : { status: 0, bytes: entry.bytes }
        },
        prepared
      )
    },

    trySend,
    tryReceive,

    receive,

    shutdownSend: (socket) => {
      const own = socketOf(socket)
      if (own === undefined) return WSAENOTSOCK
      return ws2.shutdown(own.handle, SD_SEND) === SOCKET_ERROR ? lastError() : 0
    },

    disconnect: (socket, reuse, done) => {
      const own = socketOf(socket)
      if (own === undefined) return failedAtOnce("disconnect", WSAENOTSOCK, done)
      const fn = extension(disconnectEx, own, WSAID_DISCONNECTEX, win32.disconnectExAt)
      if (!fn.ok) return failedAtOnce("disconnect", fn.code, done)
      // A reusing DisconnectEx may wait out TIME_WAIT (its documentation): bounded, then cancelled, and the
      // cancel reported as its cause (WSAETIMEDOUT), as Go's execIO reports a deadline's cancel.
      let timer: ReturnType<typeof setTimeout> | undefined
      let timedOut = false
      const operation = start(
        "disconnect",
        own,
        0,
        (completion) => {
          if (timer !== undefined) clearTimeout(timer)
          done(timedOut && completion.status === OPERATION_ABORTED ? { status: WSAETIMEDOUT, bytes: 0 } : completion)
        },
        (disconnecting, block) => {
          Wine.rememberPeer(disconnecting, address(disconnecting, ws2.getpeername))
          return { started: fn.value(disconnecting.handle, block, reuse ? TF_REUSE_SOCKET : 0, 0) !== 0 }
        },
        (disconnecting, entry, view) => {
          const status = statusOf(disconnecting, entry, view)
          if (status === 0) disconnecting.disconnected = true
          return { status: Wine.disconnectStatus(win32, status, reuse), bytes: 0 }
        }
      )
      if (reuse && operation.overlapped !== 0n) {
        timer = setTimeout(() => {
          timedOut = true
          operation.cancel()
        }, disconnectWaitMs)
      }
      return operation
    },

    close: (socket) => {
      const own = socketOf(socket)
      if (own !== undefined) closeSocket(own)
    },

    localAddress: (socket) => address(socket, ws2.getsockname),
    peerAddress: (socket) => Wine.peerAfterDisconnect(socketOf(socket), address(socket, ws2.getpeername)),

    connectTime: (socket) => {
      const raw = rawConnectTime(socket)
      if (!raw.ok) return raw
      return ok(raw.value === 0xffffffff || Wine.countsAfterDisconnect(socket) ? undefined : raw.value)
    },

    setOption,

    liveAllocations: () => liveSockets + liveBlocks()
  }

  registerTestHooks(driver, {
    wine: win32.wine,
    handleOf: (socket) => (socket instanceof WindowsSocket ? socket.handle : INVALID_SOCKET),
    rawConnectTime,
    onEntry: (listener) => {
      entryListener = listener
    },
    stats: () => {
      const p = port
      const base = p?.stats() ?? { polls: 0, entries: 0, maxBatch: 0, wakeups: 0 }
      return { ...base, pending: p?.pendingCount ?? 0, polling: p?.isPolling ?? false }
    },
    portHandle: () => port?.handle
  })

  return driver
}
