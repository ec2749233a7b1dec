/**
 * The Windows driver: ws2_32 sockets created with WSA_FLAG_OVERLAPPED, every one associated with one I/O
 * completion port; ConnectEx / DisconnectEx (fetched once per address family with
 * SIO_GET_EXTENSION_FUNCTION_POINTER), WSASend and WSARecv started with an OVERLAPPED the operation owns.
 *
 * Every overlapped operation goes through `start` (one path, as Go's `execIO`): its native block
 * (OVERLAPPED, bytes DWORD, WSABUF, sockaddr, data) is allocated with koffi.alloc, the call either fails at
 * once (no packet will come: `done` is called synchronously and the block freed) or is pending / succeeded
 * (a packet will come: completion-port skipping is not enabled, so success also arrives through the port).
 * The block is freed only once its packet was dequeued. `cancel` is CancelIoEx on that OVERLAPPED;
 * `close` is closesocket, after which pending operations complete through the port with 995.
 */
import { type Family, makeIpv4, makeIpv6, type SocketAddress } from "../../address.js"
import { wsa } from "../../errors/codes.js"
import { ntStatusTable } from "../../errors/ntstatus.js"
import {
  type Completion,
  type Done,
  type Driver,
  fail,
  type NativeSocket,
  ok,
  OPERATION_ABORTED,
  type Operation,
  type Result,
  type SocketOption,
  type SocketOptions
} from "../Driver.js"
import { CompletionPort, type Entry, type PortStats } from "./port.js"
import * as Sockaddr from "./sockaddr.js"
import {
  ACCEPT_ADDRESS_LENGTH,
  type AcceptExFn,
  type GetAcceptExSockaddrsFn,
  allocate,
  BLOCK_BYTES,
  BLOCK_DATA,
  BLOCK_FLAGS,
  BLOCK_SOCKADDR,
  BLOCK_WSABUF,
  type ConnectExFn,
  type DisconnectExFn,
  INVALID_SOCKET,
  IPPROTO_TCP,
  loadWin32,
  release,
  SIO_GET_EXTENSION_FUNCTION_POINTER,
  SIO_TCP_INITIAL_RTO,
  SO_CONNECT_TIME,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_UPDATE_ACCEPT_CONTEXT,
  SO_UPDATE_CONNECT_CONTEXT,
  SOCK_STREAM,
  SOCKET_ERROR,
  SOL_SOCKET,
  TCP_FASTOPEN,
  TCP_INITIAL_RTO_NO_RETRANSMISSIONS,
  TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS,
  TCP_NODELAY,
  TF_REUSE_SOCKET,
  viewOf,
  type Win32,
  WSA_FLAG_OVERLAPPED,
  WSA_IO_PENDING,
  WSADATA_SIZE,
  WSAID_ACCEPTEX,
  WSAID_CONNECTEX,
  WSAID_GETACCEPTEXSOCKADDRS,
  WSAID_DISCONNECTEX
} from "./win32.js"

const WSAEINVAL = 10022
const WSAENOTSOCK = 10038
const WSAEOPNOTSUPP = 10045
const WSAEAFNOSUPPORT = 10047
const WSAENOBUFS = 10055
const WSAENOPROTOOPT = 10042
const WSANOTINITIALISED = 10093
const WSAECONNABORTED = 10053
const WSAECONNRESET = 10054

export type OperationKind = "connect" | "send" | "receive" | "disconnect" | "accept"

/**
 * The most connect data ConnectEx itself carries: the socket's send buffer (SO_SNDBUF, read at connect), at
 * most this; larger data follows with WSASend (see connectThenSend).
 */
const CONNECT_DATA_MAX = 64 * 1024

/** A started overlapped operation, with the address of its OVERLAPPED (for tests and tracing). */
export interface WindowsOperation extends Operation {
  readonly kind: OperationKind
  /** the OVERLAPPED's address; 0n when the call failed at once (nothing was queued) */
  readonly overlapped: bigint
}

/** The Windows driver, plus what the Windows-only tests look at. */
export interface WindowsDriver extends Driver {
  readonly name: "windows"
  /** Wine's version when running under Wine (where DisconnectEx cannot reuse a socket), else undefined. */
  readonly wine: string | undefined
  readonly connect: (
    socket: NativeSocket,
    address: SocketAddress,
    data: Uint8Array | undefined,
    done: Done
  ) => WindowsOperation
  readonly send: (socket: NativeSocket, data: Uint8Array, done: Done) => WindowsOperation
  readonly receive: (socket: NativeSocket, maxBytes: number, done: Done) => WindowsOperation
  readonly disconnect: (socket: NativeSocket, reuse: boolean, done: Done) => WindowsOperation
  readonly accept: (listening: NativeSocket, receiveBytes: number, done: Done) => WindowsOperation
  /** The SOCKET handle, which is also the socket's completion key. */
  readonly handleOf: (socket: NativeSocket) => number
  /** SO_CONNECT_TIME as the kernel returns it (0xFFFFFFFF = not connected). */
  readonly rawConnectTime: (socket: NativeSocket) => Result<number>
  /** Called with every OVERLAPPED_ENTRY the poller dequeues, before it is dispatched. */
  readonly onEntry: (listener: ((entry: Entry) => void) | undefined) => void
  readonly stats: () => PortStats & { readonly pending: number; readonly polling: boolean }
  /** The completion port's handle (undefined before startup and after cleanup). */
  readonly portHandle: () => number | undefined
}

export type { Entry, PortStats } from "./port.js"

class WindowsSocket implements NativeSocket {
  closed = false
  /** DisconnectEx completed and no ConnectEx succeeded since (Wine keeps counting SO_CONNECT_TIME) */
  disconnected = false
  /** status of the last ConnectEx completion (0 = connected) */
  lastConnect = 0
  /** the peer, read when a DisconnectEx starts: peerAddress answers with it afterwards if getpeername cannot */
  lastPeer: SocketAddress | undefined = undefined
  constructor(
    readonly family: Family,
    readonly handle: number
  ) {}
}

const socketOf = (socket: NativeSocket): WindowsSocket | undefined =>
  socket instanceof WindowsSocket && !socket.closed ? socket : undefined

const wsaByNtStatus = new Map(ntStatusTable.map((row) => [row.ntStatus >>> 0, wsa[row.wsa]] as const))

/** NTSTATUS values below 0x80000000 are success or information. */
const ntSuccess = (status: number): boolean => status >>> 0 < 0x80000000

interface OptionSpec {
  readonly level: number
  readonly name: number
}
const optionSpecs: Record<SocketOption, OptionSpec> = {
  TCP_FASTOPEN: { level: IPPROTO_TCP, name: TCP_FASTOPEN },
  TCP_NODELAY: { level: IPPROTO_TCP, name: TCP_NODELAY },
  SO_KEEPALIVE: { level: SOL_SOCKET, name: SO_KEEPALIVE },
  SO_REUSEADDR: { level: SOL_SOCKET, name: SO_REUSEADDR },
  SO_SNDBUF: { level: SOL_SOCKET, name: SO_SNDBUF },
  SO_RCVBUF: { level: SOL_SOCKET, name: SO_RCVBUF },
  SO_LINGER: { level: SOL_SOCKET, name: SO_LINGER }
}

const isLoopback = (address: SocketAddress): boolean =>
  address.family === "ipv4" ? address.host.startsWith("127.") : address.host === "::1"

/**
 * Makes the Windows driver. Loads ws2_32 and kernel32 here, not at import. `startup` runs WSAStartup(2.2)
 * and creates the completion port; `cleanup` closes the port once no completion is pending and then runs
 * WSACleanup.
 */
export const makeWindowsDriver = (): WindowsDriver => {
  const win32: Win32 = loadWin32()
  const { ws2, kernel32 } = win32
  let port: CompletionPort | undefined
  let entryListener: ((entry: Entry) => void) | undefined
  let liveSockets = 0
  let liveBlocks = 0
  const connectEx = new Map<Family, ConnectExFn>()
  const disconnectEx = new Map<Family, DisconnectExFn>()
  const acceptEx = new Map<Family, AcceptExFn>()
  const getAcceptExSockaddrs = new Map<Family, GetAcceptExSockaddrsFn>()
  const int32 = Buffer.alloc(4)
  const optionValue = Buffer.alloc(8)
  const nameBuffer = Buffer.alloc(Sockaddr.SOCKADDR_MAX)

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

  /** The WSA code of a failed completion: the NTSTATUS table, else WSAGetOverlappedResult, else WSAEINVAL. */
  const failureCode = (socket: WindowsSocket, overlapped: bigint, status: number): number => {
    if (socket.closed) return OPERATION_ABORTED
    const known = wsaByNtStatus.get(status >>> 0)
    if (known !== undefined) return known
    if (ws2.WSAGetOverlappedResult(socket.handle, overlapped, int32, 0, optionValue) === 0) {
      const code = lastError()
      if (code !== 0) return code
    }
    return WSAEINVAL
  }

  const noop: WindowsOperation["cancel"] = () => {}
  const failedAtOnce = (kind: OperationKind, code: number, done: Done): WindowsOperation => {
    done({ status: code, bytes: 0 })
    return { kind, overlapped: 0n, cancel: noop }
  }

  /**
   * The one path of every overlapped operation: allocate its block, let `prepare` fill it, `submit` the
   * call (returns the BOOL/int result), and hand the completion to `finish`, which turns it into `done`.
   */
  const start = (
    kind: OperationKind,
    socket: NativeSocket,
    dataLength: number,
    done: Done,
    submit: (s: WindowsSocket, block: bigint, view: DataView) => { readonly started: boolean },
    finish: (s: WindowsSocket, entry: Entry, view: DataView) => Completion
  ): WindowsOperation => {
    const s = socketOf(socket)
    if (s === undefined) return failedAtOnce(kind, WSAENOTSOCK, done)
    const p = port
    if (p === undefined || p.isClosed) return failedAtOnce(kind, WSANOTINITIALISED, done)
    const size = BLOCK_DATA + dataLength
    let block: bigint
    try {
      block = allocate(size)
    } catch {
      return failedAtOnce(kind, WSAENOBUFS, done)
    }
    liveBlocks++
    const view = new DataView(viewOf(block, size))
    new Uint8Array(view.buffer, 0, BLOCK_DATA).fill(0)
    let completed = false
    const free = (): void => {
      release(block)
      liveBlocks--
    }
    const { started } = submit(s, block, view)
    if (!started) {
      const code = lastError()
      if (code !== WSA_IO_PENDING) {
        free()
        return failedAtOnce(kind, code === 0 ? WSAEINVAL : code, done)
      }
    }
    p.track({
      overlapped: block,
      complete: (entry) => {
        completed = true
        let completion: Completion
        try {
          completion = finish(s, entry, view)
        } finally {
          free()
        }
        done(completion)
      }
    })
    return {
      kind,
      overlapped: block,
      cancel: () => {
        // after closesocket the kernel has cancelled it already
        if (completed || s.closed) return
        // FALSE with ERROR_NOT_FOUND: it already completed and its packet is queued. Either way exactly
        // one packet comes, and `complete` runs once.
        kernel32.CancelIoEx(s.handle, block)
      }
    }
  }

  /** Status of a dequeued entry (NTSTATUS from the OVERLAPPED's Internal field) as 0 or a WSA code. */
  const statusOf = (s: WindowsSocket, entry: Entry, view: DataView): number => {
    // closed while pending: 995 whatever the kernel reported (the handle is gone, nothing can be updated)
    if (s.closed) return OPERATION_ABORTED
    const status = view.getUint32(0, true)
    return ntSuccess(status) ? 0 : failureCode(s, entry.overlapped, status)
  }

  const setInt = (s: WindowsSocket, level: number, name: number, value: number): number => {
    optionValue.writeInt32LE(value, 0)
    return ws2.setsockopt(s.handle, level, name, optionValue, 4) === SOCKET_ERROR ? lastError() : 0
  }

  const getUint32 = (s: WindowsSocket, level: number, name: number): Result<number> => {
    optionValue.writeUInt32LE(0, 0)
    int32.writeInt32LE(4, 0)
    if (ws2.getsockopt(s.handle, level, name, optionValue, int32) === SOCKET_ERROR) return fail(lastError())
    return ok(optionValue.readUInt32LE(0))
  }

  /** What one ConnectEx may carry on this socket: Wine 8 never completes one whose data exceeds SO_SNDBUF. */
  const connectDataMax = (s: WindowsSocket): number => {
    const sendBuffer = getUint32(s, SOL_SOCKET, SO_SNDBUF)
    return sendBuffer.ok ? Math.min(sendBuffer.value, CONNECT_DATA_MAX) : CONNECT_DATA_MAX
  }

  const address = (
    socket: NativeSocket,
    call: (handle: number, name: Buffer, length: Buffer) => number
  ): Result<SocketAddress> => {
    const s = socketOf(socket)
    if (s === undefined) return fail(WSAENOTSOCK)
    int32.writeInt32LE(Sockaddr.SOCKADDR_MAX, 0)
    nameBuffer.fill(0)
    if (call(s.handle, nameBuffer, int32) === SOCKET_ERROR) return fail(lastError())
    const decoded = Sockaddr.decode(nameBuffer)
    return decoded === undefined ? fail(WSAEAFNOSUPPORT) : ok(decoded)
  }

  const rawConnectTime = (socket: NativeSocket): Result<number> => {
    const s = socketOf(socket)
    if (s === undefined) return fail(WSAENOTSOCK)
    return getUint32(s, SOL_SOCKET, SO_CONNECT_TIME)
  }

  /** Windows 10 1709+: a refused loopback connect fails at once instead of after SYN retransmissions. */
  const noSynRetransmissions = (s: WindowsSocket): void => {
    const parameters = Buffer.alloc(4)
    parameters.writeUInt16LE(TCP_INITIAL_RTO_NO_RETRANSMISSIONS, 0)
    parameters.writeUInt8(TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS, 2)
    ws2.WSAIoctl(s.handle, SIO_TCP_INITIAL_RTO, parameters, 4, null, 0, int32, null, null)
  }

  /** WSASocketW(WSA_FLAG_OVERLAPPED), associated with the port (key = the handle). */
  const openSocket = (family: Family): Result<WindowsSocket> => {
    const p = port
    if (p === undefined || p.isClosed) return fail(WSANOTINITIALISED)
    const handle = ws2.WSASocketW(Sockaddr.familyCode(family), SOCK_STREAM, IPPROTO_TCP, null, 0, WSA_FLAG_OVERLAPPED)
    if (handle === INVALID_SOCKET) return fail(lastError())
    const associated = p.associate(handle, handle)
    if (associated !== 0) {
      ws2.closesocket(handle)
      return fail(WSAENOBUFS)
    }
    liveSockets++
    return ok(new WindowsSocket(family, handle))
  }

  const closeSocket = (s: WindowsSocket): void => {
    if (s.closed) return
    s.closed = true
    liveSockets--
    // pending operations complete through the port with 995; their blocks are freed when dequeued
    ws2.closesocket(s.handle)
  }

  /**
   * One AcceptEx: the accepting socket is opened first (overlapped, on the port); the block holds the
   * first-bytes space and both address slots (local, remote: 44 bytes each) until the packet is dequeued.
   * On success: SO_UPDATE_ACCEPT_CONTEXT (so that getpeername, shutdown and options work), the peer from
   * GetAcceptExSockaddrs (its pointers point into the block), and the socket is handed over. Any other end
   * closes the accepting socket.
   */
  const acceptOnce = (listening: NativeSocket, receiveBytes: number, done: Done): WindowsOperation => {
    const l = socketOf(listening)
    if (l === undefined) return failedAtOnce("accept", WSAENOTSOCK, done)
    const fn = extension(acceptEx, l, WSAID_ACCEPTEX, win32.acceptExAt)
    if (!fn.ok) return failedAtOnce("accept", fn.code, done)
    const sockaddrs = extension(getAcceptExSockaddrs, l, WSAID_GETACCEPTEXSOCKADDRS, win32.getAcceptExSockaddrsAt)
    if (!sockaddrs.ok) return failedAtOnce("accept", sockaddrs.code, done)
    const opened = openSocket(l.family)
    if (!opened.ok) return failedAtOnce("accept", opened.code, done)
    const accepting = opened.value
    let handedOver = false
    return start(
      "accept",
      l,
      receiveBytes + 2 * ACCEPT_ADDRESS_LENGTH,
      (completion) => {
        if (!handedOver) closeSocket(accepting)
        done(completion)
      },
      (l, block) => {
        const started = fn.value(
          l.handle,
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
      (l, entry, view) => {
        const status = statusOf(l, entry, view)
        if (status !== 0) return { status, bytes: 0 }
        optionValue.writeBigInt64LE(BigInt(l.handle), 0)
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
   * AcceptEx, re-posted when a client reset or aborted before its accept completed (WSAECONNRESET /
   * WSAECONNABORTED, as libuv does): one bad client does not fail the listener. One cancel covers whichever
   * AcceptEx is posted.
   */
  const accept = (listening: NativeSocket, receiveBytes: number, done: Done): WindowsOperation => {
    let cancelled = false
    let current: WindowsOperation
    const attempt = (): WindowsOperation => {
      let starting = true
      const operation = acceptOnce(listening, receiveBytes, (completion) => {
        const clientGone = completion.status === WSAECONNRESET || completion.status === WSAECONNABORTED
        if (clientGone && !starting && !cancelled && socketOf(listening) !== undefined) {
          current = attempt()
          return
        }
        done(completion)
      })
      starting = false
      return operation
    }
    current = attempt()
    return {
      kind: "accept",
      get overlapped() {
        return current.overlapped
      },
      cancel: () => {
        cancelled = true
        current.cancel()
      }
    }
  }

  const driver: WindowsDriver = {
    name: "windows",
    wine: win32.wine,

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

    bind: (socket, addr) => {
      const s = socketOf(socket)
      if (s === undefined) return WSAENOTSOCK
      const name = Sockaddr.encode(addr)
      return ws2.bind(s.handle, name, name.length) === SOCKET_ERROR ? lastError() : 0
    },

    listen: (socket, backlog) => {
      const s = socketOf(socket)
      if (s === undefined) return WSAENOTSOCK
      return ws2.listen(s.handle, backlog) === SOCKET_ERROR ? lastError() : 0
    },

    accept,

    connect: (socket, destination, data, done) => {
      const s = socketOf(socket)
      if (s === undefined) return failedAtOnce("connect", WSAENOTSOCK, done)
      if (data !== undefined && data.length > connectDataMax(s)) return connectThenSend(socket, destination, data, done)
      const fn = extension(connectEx, s, WSAID_CONNECTEX, win32.connectExAt)
      if (!fn.ok) return failedAtOnce("connect", fn.code, done)
      if (isLoopback(destination)) noSynRetransmissions(s)
      const length = data?.length ?? 0
      return start(
        "connect",
        s,
        length,
        done,
        (s, block, view) => {
          const nameLength = Sockaddr.write(view, BLOCK_SOCKADDR, destination)
          if (data !== undefined && length > 0) new Uint8Array(view.buffer, BLOCK_DATA, length).set(data)
          const started = fn.value(
            s.handle,
            block + BigInt(BLOCK_SOCKADDR),
            nameLength,
            length > 0 ? block + BigInt(BLOCK_DATA) : null,
            length,
            block + BigInt(BLOCK_BYTES),
            block
          )
          return { started: started !== 0 }
        },
        (s, entry, view) => {
          const status = statusOf(s, entry, view)
          s.lastConnect = status
          if (status !== 0) return { status, bytes: 0 }
          // peer/local address, shutdown and options work only once the socket is updated
          const update = ws2.setsockopt(s.handle, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, null, 0)
          if (update === SOCKET_ERROR) return { status: lastError(), bytes: 0 }
          s.disconnected = false
          s.lastPeer = undefined
          return { status: 0, bytes: entry.bytes }
        }
      )
    },

    // Windows: a refused / unreachable / timed-out ConnectEx leaves the socket bound and reusable; a
    // cancelled one does not (the connect may still be in progress in the stack: Wine answers the next
    // ConnectEx with WSAEINVAL), so after 995 the socket is reported not resettable.
    // Wine 8 maps the socket to a non-blocking Linux one, and Linux answers the next connect() after an
    // asynchronous failure with ECONNABORTED (resetting itself on the way), so ConnectEx would fail once
    // more with 10053. Under Wine this takes that hit with a throwaway connect() to an address of the other
    // family: in the failed state Linux returns ECONNABORTED and resets, in a clean state it rejects the
    // address at once (EAFNOSUPPORT / EINVAL); either way Wine's own socket state is left unconnected.
    // (connect(AF_UNSPEC) would reset Linux too, but Wine then believes the socket connected.)
    resetConnect: (socket) => {
      const s = socketOf(socket)
      if (s === undefined) return WSAENOTSOCK
      if (s.lastConnect === OPERATION_ABORTED) return WSAEINVAL
      if (win32.wine === undefined) return 0
      const other = Sockaddr.encode(s.family === "ipv4" ? makeIpv6("::1", 9, 0, 0) : makeIpv4("127.0.0.1", 9))
      ws2.connect(s.handle, other, other.length)
      return 0
    },

    send: (socket, data, done) =>
      start(
        "send",
        socket,
        data.length,
        done,
        (s, block, view) => {
          new Uint8Array(view.buffer, BLOCK_DATA, data.length).set(data)
          view.setUint32(BLOCK_WSABUF, data.length, true)
          view.setBigUint64(BLOCK_WSABUF + 8, block + BigInt(BLOCK_DATA), true)
          const result = ws2.WSASend(s.handle, block + BigInt(BLOCK_WSABUF), 1, null, 0, block, null)
          return { started: result === 0 }
        },
        (s, entry, view) => {
          const status = statusOf(s, entry, view)
          return status !== 0 ? { status, bytes: 0 } : { status: 0, bytes: entry.bytes }
        }
      ),

    receive: (socket, maxBytes, done) =>
      start(
        "receive",
        socket,
        maxBytes,
        done,
        (s, block, view) => {
          view.setUint32(BLOCK_WSABUF, maxBytes, true)
          view.setBigUint64(BLOCK_WSABUF + 8, block + BigInt(BLOCK_DATA), true)
          view.setUint32(BLOCK_FLAGS, 0, true)
          const result = ws2.WSARecv(s.handle, block + BigInt(BLOCK_WSABUF), 1, null, block + BigInt(BLOCK_FLAGS), block, null)
          return { started: result === 0 }
        },
        (s, entry, view) => {
          const status = statusOf(s, entry, view)
          if (status !== 0) return { status, bytes: 0 }
          const bytes = Math.min(entry.bytes, maxBytes)
          return { status: 0, bytes, data: new Uint8Array(view.buffer, BLOCK_DATA, bytes).slice() }
        }
      ),

    shutdownSend: (socket) => {
      const s = socketOf(socket)
      if (s === undefined) return WSAENOTSOCK
      return ws2.shutdown(s.handle, SD_SEND) === SOCKET_ERROR ? lastError() : 0
    },

    disconnect: (socket, reuse, done) => {
      const s = socketOf(socket)
      if (s === undefined) return failedAtOnce("disconnect", WSAENOTSOCK, done)
      const fn = extension(disconnectEx, s, WSAID_DISCONNECTEX, win32.disconnectExAt)
      if (!fn.ok) return failedAtOnce("disconnect", fn.code, done)
      return start(
        "disconnect",
        s,
        0,
        done,
        (s, block) => {
          const peer = address(s, ws2.getpeername)
          s.lastPeer = peer.ok ? peer.value : undefined
          return { started: fn.value(s.handle, block, reuse ? TF_REUSE_SOCKET : 0, 0) !== 0 }
        },
        (s, entry, view) => {
          const status = statusOf(s, entry, view)
          if (status === 0) s.disconnected = true
          // Wine's DisconnectEx is shutdown(SD_SEND) ("Reusing socket not supported yet"): the socket stays
          // connected, so a reuse that cannot happen is said at once instead of by the next ConnectEx.
          if (status === 0 && reuse && win32.wine !== undefined) return { status: WSAEOPNOTSUPP, bytes: 0 }
          return { status, bytes: 0 }
        }
      )
    },

    close: (socket) => {
      const s = socketOf(socket)
      if (s !== undefined) closeSocket(s)
    },

    localAddress: (socket) => address(socket, ws2.getsockname),
    // After DisconnectEx without reuse the front-end still asks (the socket drains what the peer sends).
    peerAddress: (socket) => {
      const peer = address(socket, ws2.getpeername)
      const s = socketOf(socket)
      return !peer.ok && s?.disconnected === true && s.lastPeer !== undefined ? ok(s.lastPeer) : peer
    },

    connectTime: (socket) => {
      const raw = rawConnectTime(socket)
      if (!raw.ok) return raw
      const disconnected = socket instanceof WindowsSocket && socket.disconnected
      return ok(raw.value === 0xffffffff || disconnected ? undefined : raw.value)
    },

    setOption: <K extends SocketOption>(socket: NativeSocket, option: K, value: SocketOptions[K]): number => {
      const s = socketOf(socket)
      if (s === undefined) return WSAENOTSOCK
      const spec = optionSpecs[option]
      if (option === "SO_LINGER") {
        // struct linger { u_short l_onoff; u_short l_linger; }
        optionValue.writeUInt16LE(value === false ? 0 : 1, 0)
        optionValue.writeUInt16LE(typeof value === "number" ? value : 0, 2)
        return ws2.setsockopt(s.handle, spec.level, spec.name, optionValue, 4) === SOCKET_ERROR ? lastError() : 0
      }
      const result = setInt(s, spec.level, spec.name, typeof value === "boolean" ? (value ? 1 : 0) : Number(value))
      // Wine 8 has no TCP_FASTOPEN (Windows has it since 10 1607): there the option is a no-op, and the
      // connect data is sent right after the handshake, which is what callers observe either way.
      if (result === WSAENOPROTOOPT && option === "TCP_FASTOPEN" && win32.wine !== undefined) return 0
      return result
    },

    liveAllocations: () => liveSockets + liveBlocks,

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
  }
  /**
   * Connect data larger than CONNECT_DATA_MAX: ConnectEx without data, then one WSASend of all of it, and the
   * connect completes (bytes = all of it) once both have. Under Wine 8 a ConnectEx whose send buffer is larger
   * than the socket's send buffer never completed (1 MiB did, 4 MiB did not), and with its first part in
   * ConnectEx and the rest in a WSASend the peer once received them out of order (Wine completes ConnectEx
   * before its own send is out). Windows takes either, so every backend gets the same answer. One cancel
   * covers whichever of the two is in flight.
   */
  const connectThenSend = (
    socket: NativeSocket,
    destination: SocketAddress,
    data: Uint8Array,
    done: Done
  ): WindowsOperation => {
    const copy = data.slice() // the operation's own copy: the caller may reuse its buffer at once
    let cancelled = false
    let current: WindowsOperation = driver.connect(socket, destination, undefined, (connected) => {
      if (connected.status !== 0) return done(connected)
      if (cancelled) return done({ status: OPERATION_ABORTED, bytes: 0 })
      current = driver.send(socket, copy, (sent) => done(sent.status !== 0 ? { status: sent.status, bytes: 0 } : sent))
    })
    return {
      kind: "connect",
      get overlapped() {
        return current.overlapped
      },
      cancel: () => {
        cancelled = true
        current.cancel()
      }
    }
  }

  return driver
}
