/**
 * ws2_32 and kernel32 answering as Windows documents them, in memory: the `Win32` bindings the Windows driver
 * takes (`makeWindowsDriver({ win32 })`), for the paths Wine cannot produce (Wine implements ws2_32 on Linux
 * sockets). The driver under test is the production one; only its bindings are these. Native memory is real:
 * the driver's OVERLAPPED blocks and poll buffers (koffi.alloc) are read and written here as the kernel would
 * (OVERLAPPED.Internal / InternalHigh, OVERLAPPED_ENTRY, WSABUF), so it runs on Linux too.
 *
 * What it models, each as documented (learn.microsoft.com, the function's page):
 * - one completion packet for every overlapped operation that did not fail at once, also when the call
 *   returned TRUE / 0 (no FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set), with the NTSTATUS in Internal and
 *   the WSA code WSAGetOverlappedResult then reports;
 * - closesocket: WSAEWOULDBLOCK for a non-blocking socket with SO_LINGER on and a nonzero time, the handle
 *   kept; otherwise pending operations complete with STATUS_CANCELLED and the handle is gone;
 * - CancelIoEx: STATUS_CANCELLED packets for the matching pending operations, ERROR_NOT_FOUND when none;
 * - WSARecv with a zero-length buffer: completes when data (or the end) is there, taking none of it;
 * - GetAcceptExSockaddrs: pointers into the AcceptEx output buffer (its layout is Windows' own; the driver
 *   follows the pointers).
 * Each socket operation answers what the test scripts (`onConnectEx`, `onAcceptEx`, `onDisconnectEx`).
 */
import { type SocketAddress, withPort } from "../../../src/address.js"
import * as Sockaddr from "../../../src/native/windows/sockaddr.js"
import {
  type AcceptExFn,
  type ConnectExFn,
  type DisconnectExFn,
  FIONBIO,
  type GetAcceptExSockaddrsFn,
  INVALID_HANDLE_VALUE,
  type Kernel32,
  OVERLAPPED_ENTRY_SIZE,
  type Pointer,
  SIO_GET_EXTENSION_FUNCTION_POINTER,
  SO_CONNECT_TIME,
  SO_LINGER,
  SO_SNDBUF,
  SOL_SOCKET,
  viewOf,
  type Win32,
  type Ws2_32,
  WSAID_ACCEPTEX,
  WSAID_CONNECTEX,
  WSAID_DISCONNECTEX,
  WSAID_GETACCEPTEXSOCKADDRS
} from "../../../src/native/windows/win32.js"

export const STATUS_SUCCESS = 0
export const STATUS_CANCELLED = 0xc0000120
export const WSA_IO_PENDING = 997
export const WSA_OPERATION_ABORTED = 995
export const ERROR_NOT_FOUND = 1168
export const WSAEWOULDBLOCK = 10035
export const WSAENOTSOCK = 10038
export const WSAEINVAL = 10022
export const WSAENOTCONN = 10057
const SOCKET_ERROR = -1

/** How the model answers one call that starts an overlapped operation. */
export type Answer =
  /** FALSE / SOCKET_ERROR with WSA_IO_PENDING; the test completes it later (`complete`), or a cancel does */
  | { readonly kind: "pending" }
  /** TRUE / 0 at once; its packet is queued all the same */
  | { readonly kind: "now"; readonly bytes?: number }
  /** FALSE / SOCKET_ERROR with this WSA code; no packet */
  | { readonly kind: "fail"; readonly code: number }

export interface ModelSocket {
  readonly handle: number
  readonly family: number
  /** WSASocketW's dwFlags */
  readonly flags: number
  nonBlocking: boolean
  linger: { on: boolean; seconds: number }
  /** setsockopt values by `level:name` */
  readonly options: Map<string, number>
  local: SocketAddress | undefined
  peer: SocketAddress | undefined
  listening: boolean
  readonly incoming: Array<Uint8Array>
  peerEnded: boolean
  readonly sent: Array<Uint8Array>
  port: number | undefined
  key: number
  /** how closesocket released it: "graceful" (SO_DONTLINGER or lingering) or "hard" (SO_LINGER 0) */
  closed: "graceful" | "hard" | undefined
}

export interface PendingOperation {
  readonly kind: "connect" | "accept" | "send" | "receive" | "disconnect"
  readonly socket: ModelSocket
  readonly overlapped: bigint
  /** WSARecv: the buffer's length (0: a zero read) and address */
  readonly length?: number
  readonly buffer?: bigint
  /** AcceptEx */
  readonly accepting?: ModelSocket
  readonly output?: bigint
  readonly receiveLength?: number
  readonly addressLength?: number
}

interface Packet {
  readonly key: number
  readonly overlapped: bigint
  readonly status: number
  readonly bytes: number
}

interface Port {
  readonly queue: Array<Packet>
  waiter: { readonly entries: bigint; readonly count: number; readonly removed: bigint; readonly callback: (error: unknown, result: number) => void } | undefined
}

const key = (level: number, name: number) => `${level}:${name}`

/** The function behind the pointer WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) gave for it. */
const extensionAt = <F>(expected: bigint, fn: F) => (pointer: bigint): F => {
  if (pointer !== expected) throw new Error(`no extension function at ${pointer}`)
  return fn
}

const bytesOf = (pointer: Pointer, length: number): Uint8Array => {
  if (pointer === null) throw new TypeError("NULL pointer")
  return typeof pointer === "bigint" ? new Uint8Array(viewOf(pointer, length)) : pointer.subarray(0, length)
}
const viewAt = (pointer: Pointer, length: number): DataView => {
  const bytes = bytesOf(pointer, length)
  return new DataView(bytes.buffer, bytes.byteOffset, length)
}

/** Some NTSTATUS -> WSA pairs Winsock applies (the model's own WSAGetOverlappedResult answers). */
const wsaOf = (status: number): number =>
  status === STATUS_CANCELLED ? WSA_OPERATION_ABORTED : status === STATUS_SUCCESS ? 0 : WSAEINVAL

export class Winsock {
  /** Every call that matters to the tests, in order, e.g. `setsockopt(65535:12295=1)`, `bind`, `closesocket`. */
  readonly calls: Array<string> = []
  readonly sockets = new Map<number, ModelSocket>()
  /** every socket WSASocketW made, closed or not */
  readonly created: Array<ModelSocket> = []
  readonly pending: Array<PendingOperation> = []
  cleanups = 0
  onConnectEx: (socket: ModelSocket, address: SocketAddress, dataLength: number) => Answer = () => ({ kind: "now" })
  onAcceptEx: (listener: ModelSocket) => Answer = () => ({ kind: "pending" })
  onDisconnectEx: (socket: ModelSocket, flags: number) => Answer = () => ({ kind: "now" })
  /** setsockopt(SO_LINGER) answers this WSA code (0: accepts) */
  lingerFails = 0
  /** WSAGetOverlappedResult's answer for a failed operation, by OVERLAPPED: the WSA code, or "success" */
  private readonly results = new Map<bigint, number | "success">()
  private readonly ports = new Map<number, Port>()
  private lastError = 0
  private nextHandle = 0x100
  private nextPort = 50000

  readonly win32: Win32

  constructor() {
    const fail = (code: number, result = SOCKET_ERROR): number => {
      this.lastError = code
      return result
    }
    const socketOf = (handle: number): ModelSocket | undefined => this.sockets.get(handle)
    const extensions = new Map<string, bigint>([
      [WSAID_CONNECTEX.toString("hex"), 0x1001n],
      [WSAID_ACCEPTEX.toString("hex"), 0x1002n],
      [WSAID_GETACCEPTEXSOCKADDRS.toString("hex"), 0x1003n],
      [WSAID_DISCONNECTEX.toString("hex"), 0x1004n]
    ])

    const ws2: Ws2_32 = {
      WSAStartup: () => 0,
      WSACleanup: () => {
        this.cleanups++
        return 0
      },
      WSAGetLastError: () => this.lastError,
      WSASocketW: (af, _type, _protocol, _info, _group, flags) => {
        const socket: ModelSocket = {
          handle: this.nextHandle,
          family: af,
          flags,
          nonBlocking: false,
          linger: { on: false, seconds: 0 },
          options: new Map(),
          local: undefined,
          peer: undefined,
          listening: false,
          incoming: [],
          peerEnded: false,
          sent: [],
          port: undefined,
          key: 0,
          closed: undefined
        }
        this.nextHandle += 4
        this.sockets.set(socket.handle, socket)
        this.created.push(socket)
        return socket.handle
      },
      bind: (handle, name, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (socket.local !== undefined) return fail(WSAEINVAL)
        const address = Sockaddr.decode(Buffer.from(bytesOf(name, length)))
        if (address === undefined) return fail(10047)
        this.calls.push("bind")
        socket.local = address.port === 0 ? withPort(address, this.nextPort++) : address
        return 0
      },
      closesocket: (handle) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        this.calls.push("closesocket")
        // closesocket: "If SO_LINGER is set with a nonzero time-out interval on a nonblocking socket, the
        // closesocket call will fail with an error of WSAEWOULDBLOCK" (and the socket stays open).
        if (socket.linger.on && socket.linger.seconds > 0 && socket.nonBlocking) return fail(WSAEWOULDBLOCK)
        for (const operation of this.pending.filter((o) => o.socket === socket)) this.finish(operation, STATUS_CANCELLED, 0)
        socket.closed = socket.linger.on && socket.linger.seconds === 0 ? "hard" : "graceful"
        this.sockets.delete(handle)
        return 0
      },
      listen: (handle) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        socket.listening = true
        return 0
      },
      shutdown: (handle) => (socketOf(handle) === undefined ? fail(WSAENOTSOCK) : 0),
      // only Wine's workaround calls connect(); on Windows nothing should
      connect: () => {
        this.calls.push("connect")
        return fail(WSAEINVAL)
      },
      getsockname: (handle, name, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (socket.local === undefined) return fail(WSAEINVAL)
        return this.writeName(socket.local, name, length)
      },
      getpeername: (handle, name, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (socket.peer === undefined) return fail(WSAENOTCONN)
        return this.writeName(socket.peer, name, length)
      },
      setsockopt: (handle, level, name, value, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (level === SOL_SOCKET && name === SO_LINGER) {
          this.calls.push(`setsockopt(linger)`)
          if (this.lingerFails !== 0) return fail(this.lingerFails)
          const linger = viewAt(value, 4)
          socket.linger = { on: linger.getUint16(0, true) !== 0, seconds: linger.getUint16(2, true) }
          return 0
        }
        const n = value === null || length < 4 ? 0 : viewAt(value, 4).getUint32(0, true)
        socket.options.set(key(level, name), n)
        this.calls.push(`setsockopt(${key(level, name)}=${n})`)
        return 0
      },
      getsockopt: (handle, level, name, value, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        const answer = level === SOL_SOCKET && name === SO_SNDBUF
          ? 65536
          : level === SOL_SOCKET && name === SO_CONNECT_TIME
          ? socket.peer === undefined ? 0xffffffff : 0
          : socket.options.get(key(level, name)) ?? 0
        viewAt(value, 4).setUint32(0, answer, true)
        viewAt(length, 4).setInt32(0, 4, true)
        return 0
      },
      WSAIoctl: (handle, code, input, inputLength, output) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (code === SIO_GET_EXTENSION_FUNCTION_POINTER) {
          const pointer = extensions.get(Buffer.from(bytesOf(input, 16)).toString("hex"))
          if (pointer === undefined) return fail(WSAEINVAL)
          viewAt(output, 8).setBigUint64(0, pointer, true)
          return 0
        }
        const parameters = inputLength >= 4 && input !== null ? viewAt(input, 4) : undefined
        this.calls.push(`WSAIoctl(${code.toString(16)}${parameters === undefined ? "" : `:${parameters.getUint16(0, true).toString(16)},${parameters.getUint8(2).toString(16)}`})`)
        return 0
      },
      WSASend: (handle, buffers, _count, _sent, _flags, overlapped) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        const wsabuf = viewAt(buffers, 16)
        const length = wsabuf.getUint32(0, true)
        socket.sent.push(bytesOf(wsabuf.getBigUint64(8, true), length).slice())
        this.start({ kind: "send", socket, overlapped: overlapped as bigint })
        this.finishLater(overlapped as bigint, STATUS_SUCCESS, length)
        return 0
      },
      WSARecv: (handle, buffers, _count, _received, _flags, overlapped) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        const wsabuf = viewAt(buffers, 16)
        const operation: PendingOperation = {
          kind: "receive",
          socket,
          overlapped: overlapped as bigint,
          length: wsabuf.getUint32(0, true),
          buffer: wsabuf.getBigUint64(8, true)
        }
        this.calls.push(`WSARecv(${operation.length})`)
        this.start(operation)
        if (socket.incoming.length > 0 || socket.peerEnded) {
          this.deliverTo(operation)
          return 0
        }
        return fail(WSA_IO_PENDING)
      },
      WSAGetOverlappedResult: (_handle, overlapped, bytes) => {
        const result = this.results.get(overlapped as bigint)
        if (result === undefined) return fail(996, 0)
        if (result === "success") {
          viewAt(bytes, 4).setUint32(0, 0, true)
          return 1
        }
        return fail(result, 0)
      },
      ioctlsocket: (handle, command, argument) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (command === FIONBIO) socket.nonBlocking = viewAt(argument, 4).getUint32(0, true) !== 0
        this.calls.push(`ioctlsocket(FIONBIO=${socket.nonBlocking ? 1 : 0})`)
        return 0
      },
      send: (handle, data, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (socket.peer === undefined) return fail(WSAENOTCONN)
        socket.sent.push(bytesOf(data, length).slice())
        return length
      },
      recv: (handle, data, length) => {
        const socket = socketOf(handle)
        if (socket === undefined) return fail(WSAENOTSOCK)
        if (socket.peer === undefined) return fail(WSAENOTCONN)
        const next = socket.incoming[0]
        if (next === undefined) return socket.peerEnded ? 0 : fail(WSAEWOULDBLOCK)
        const n = Math.min(length, next.byteLength)
        bytesOf(data, n).set(next.subarray(0, n))
        if (n === next.byteLength) socket.incoming.shift()
        else socket.incoming[0] = next.subarray(n)
        return n
      }
    }

    const kernel32: Kernel32 = {
      GetLastError: () => this.lastError,
      CreateIoCompletionPort: (file, existing, completionKey) => {
        if (file === INVALID_HANDLE_VALUE) {
          const handle = this.nextHandle
          this.nextHandle += 4
          this.ports.set(handle, { queue: [], waiter: undefined })
          return handle
        }
        const socket = socketOf(file)
        if (socket === undefined || !this.ports.has(existing)) return fail(6, 0)
        socket.port = existing
        socket.key = completionKey
        return existing
      },
      GetQueuedCompletionStatusEx: Object.assign(() => fail(258, 0), {
        async: (
          handle: number,
          entries: Pointer,
          count: number,
          removed: Pointer,
          _timeout: number,
          _alertable: number,
          callback: (error: unknown, result: number) => void
        ) => {
          const port = this.ports.get(handle)
          if (port === undefined) return setImmediate(() => callback(null, 0))
          port.waiter = { entries: entries as bigint, count, removed: removed as bigint, callback }
          this.dispatch(port)
        }
      }),
      PostQueuedCompletionStatus: (handle, bytes, completionKey) => {
        const port = this.ports.get(handle)
        if (port === undefined) return fail(6, 0)
        port.queue.push({ key: completionKey, overlapped: 0n, status: 0, bytes })
        this.dispatch(port)
        return 1
      },
      CancelIoEx: (handle, overlapped) => {
        this.calls.push(overlapped === null ? "CancelIoEx(all)" : "CancelIoEx")
        const matching = this.pending.filter((o) => o.socket.handle === handle && (overlapped === null || o.overlapped === overlapped))
        if (matching.length === 0) return fail(ERROR_NOT_FOUND, 0)
        for (const operation of matching) this.finish(operation, STATUS_CANCELLED, 0)
        return 1
      },
      CloseHandle: (handle) => (this.ports.delete(handle) ? 1 : fail(6, 0))
    }

    const connectEx: ConnectExFn = (handle, name, length, _data, dataLength, bytesSent, overlapped) => {
      const socket = socketOf(handle)
      if (socket === undefined) return fail(WSAENOTSOCK, 0)
      // ConnectEx: "The socket must be bound" (WSAEINVAL otherwise)
      if (socket.local === undefined) return fail(WSAEINVAL, 0)
      const address = Sockaddr.decode(Buffer.from(bytesOf(name, length)))
      if (address === undefined) return fail(10047, 0)
      this.calls.push("ConnectEx")
      const answer = this.onConnectEx(socket, address, dataLength)
      if (answer.kind === "fail") return fail(answer.code, 0)
      const operation: PendingOperation = { kind: "connect", socket, overlapped: overlapped as bigint }
      this.start(operation)
      socket.peer = address
      if (answer.kind === "pending") return fail(WSA_IO_PENDING, 0)
      // TRUE: "the number of bytes that were sent" is in lpdwBytesSent now, and the packet still comes
      viewAt(bytesSent, 4).setUint32(0, answer.bytes ?? dataLength, true)
      this.finishLater(operation.overlapped, STATUS_SUCCESS, answer.bytes ?? dataLength)
      return 1
    }

    const acceptEx: AcceptExFn = (listen, accept, output, receiveLength, localLength, remoteLength, _bytes, overlapped) => {
      const listener = socketOf(listen)
      const accepting = socketOf(accept)
      if (listener === undefined || accepting === undefined) return fail(WSAENOTSOCK, 0)
      if (!listener.listening) return fail(WSAEINVAL, 0)
      this.calls.push("AcceptEx")
      const answer = this.onAcceptEx(listener)
      if (answer.kind === "fail") return fail(answer.code, 0)
      this.start({
        kind: "accept",
        socket: listener,
        overlapped: overlapped as bigint,
        accepting,
        output: output as bigint,
        receiveLength,
        addressLength: Math.min(localLength, remoteLength)
      })
      return fail(WSA_IO_PENDING, 0)
    }

    const getAcceptExSockaddrs: GetAcceptExSockaddrsFn = (output, receiveLength, localLength, _remoteLength, local, localSize, remote, remoteSize) => {
      const base = output as bigint
      const localAt = base + BigInt(receiveLength)
      const remoteAt = localAt + BigInt(localLength)
      const sizeAt = (at: bigint) => (viewAt(at, 2).getUint16(0, true) === 23 ? 28 : 16)
      viewAt(local, 8).setBigUint64(0, localAt, true)
      viewAt(remote, 8).setBigUint64(0, remoteAt, true)
      viewAt(localSize, 4).setInt32(0, sizeAt(localAt), true)
      viewAt(remoteSize, 4).setInt32(0, sizeAt(remoteAt), true)
    }

    const disconnectEx: DisconnectExFn = (handle, overlapped, flags) => {
      const socket = socketOf(handle)
      if (socket === undefined) return fail(WSAENOTSOCK, 0)
      if (socket.peer === undefined) return fail(WSAENOTCONN, 0)
      this.calls.push(`DisconnectEx(${flags})`)
      const answer = this.onDisconnectEx(socket, flags)
      if (answer.kind === "fail") return fail(answer.code, 0)
      const operation: PendingOperation = { kind: "disconnect", socket, overlapped: overlapped as bigint }
      this.start(operation)
      if (answer.kind === "pending") return fail(WSA_IO_PENDING, 0)
      this.finishLater(operation.overlapped, STATUS_SUCCESS, 0)
      return 1
    }

    this.win32 = {
      wine: undefined,
      ws2,
      kernel32,
      connectExAt: extensionAt(0x1001n, connectEx),
      acceptExAt: extensionAt(0x1002n, acceptEx),
      getAcceptExSockaddrsAt: extensionAt(0x1003n, getAcceptExSockaddrs),
      disconnectExAt: extensionAt(0x1004n, disconnectEx)
    }
  }

  /** The socket behind a handle the driver reports (`windowsTestHooks(driver).handleOf`). */
  socket(handle: number): ModelSocket {
    const found = this.created.find((s) => s.handle === handle)
    if (found === undefined) throw new Error(`no socket ${handle}`)
    return found
  }

  /** The pending operation of `kind` on `socket` (the oldest). */
  pendingOf(socket: ModelSocket, kind: PendingOperation["kind"]): PendingOperation | undefined {
    return this.pending.find((o) => o.socket === socket && o.kind === kind)
  }

  /**
   * Completes a pending operation: `status` into OVERLAPPED.Internal, `bytes` into InternalHigh, and the packet
   * queued; `wsa` is what WSAGetOverlappedResult then answers for it (default: the model's own mapping).
   */
  complete(operation: PendingOperation, status: number, options: { readonly bytes?: number; readonly wsa?: number | "success" } = {}): void {
    this.finish(operation, status, options.bytes ?? 0, options.wsa)
  }

  /** A client connects from `peer`: the oldest pending AcceptEx on `listener` completes with it. */
  acceptArrives(listener: ModelSocket, peer: SocketAddress): void {
    const operation = this.pendingOf(listener, "accept")
    if (operation === undefined || operation.accepting === undefined) throw new Error("no AcceptEx pending")
    const localAt = operation.output! + BigInt(operation.receiveLength!)
    const remoteAt = localAt + BigInt(operation.addressLength!)
    Sockaddr.write(viewAt(localAt, 28), 0, listener.local!)
    Sockaddr.write(viewAt(remoteAt, 28), 0, peer)
    operation.accepting.peer = peer
    operation.accepting.local = listener.local
    this.finish(operation, STATUS_SUCCESS, 0)
  }

  /** Bytes (or the peer's end, `undefined`) arrive on `socket`: a pending WSARecv completes. */
  arrive(socket: ModelSocket, data: Uint8Array | undefined): void {
    if (data === undefined) socket.peerEnded = true
    else socket.incoming.push(data)
    const operation = this.pendingOf(socket, "receive")
    if (operation !== undefined) this.deliverTo(operation)
  }

  private deliverTo(operation: PendingOperation): void {
    const socket = operation.socket
    // a zero read takes nothing: the data stays for recv
    if (operation.length === 0) return this.finish(operation, STATUS_SUCCESS, 0)
    const next = socket.incoming.shift()
    if (next === undefined) return this.finish(operation, STATUS_SUCCESS, 0)
    const n = Math.min(operation.length!, next.byteLength)
    bytesOf(operation.buffer!, n).set(next.subarray(0, n))
    if (n < next.byteLength) socket.incoming.unshift(next.subarray(n))
    this.finish(operation, STATUS_SUCCESS, n)
  }

  private writeName(address: SocketAddress, name: Pointer, length: Pointer): number {
    const encoded = Sockaddr.encode(address)
    bytesOf(name, encoded.length).set(encoded)
    viewAt(length, 4).setInt32(0, encoded.length, true)
    return 0
  }

  private start(operation: PendingOperation): void {
    this.pending.push(operation)
  }

  private finishLater(overlapped: bigint, status: number, bytes: number): void {
    const operation = this.pending.find((o) => o.overlapped === overlapped)
    if (operation !== undefined) this.finish(operation, status, bytes)
  }

  private finish(operation: PendingOperation, status: number, bytes: number, wsa?: number | "success"): void {
    const at = this.pending.indexOf(operation)
    if (at < 0) return
    this.pending.splice(at, 1)
    const overlapped = viewAt(operation.overlapped, 16)
    overlapped.setBigUint64(0, BigInt(status >>> 0), true)
    overlapped.setBigUint64(8, BigInt(bytes), true)
    this.results.set(operation.overlapped, wsa ?? (status === STATUS_SUCCESS ? "success" : wsaOf(status)))
    const port = operation.socket.port === undefined ? undefined : this.ports.get(operation.socket.port)
    if (port === undefined) return
    port.queue.push({ key: operation.socket.key, overlapped: operation.overlapped, status: status >>> 0, bytes })
    this.dispatch(port)
  }

  /** As the threadpool thread's GetQueuedCompletionStatusEx returning: later, on the main thread. */
  private dispatch(port: Port): void {
    const waiter = port.waiter
    if (waiter === undefined || port.queue.length === 0) return
    port.waiter = undefined
    setImmediate(() => {
      const packets = port.queue.splice(0, waiter.count)
      const entries = viewAt(waiter.entries, packets.length * OVERLAPPED_ENTRY_SIZE || 1)
      packets.forEach((packet, i) => {
        const at = i * OVERLAPPED_ENTRY_SIZE
        entries.setBigUint64(at, BigInt(packet.key), true)
        entries.setBigUint64(at + 8, packet.overlapped, true)
        entries.setBigUint64(at + 16, BigInt(packet.status), true)
        entries.setUint32(at + 24, packet.bytes, true)
      })
      viewAt(waiter.removed, 4).setUint32(0, packets.length, true)
      waiter.callback(null, 1)
    })
  }
}
