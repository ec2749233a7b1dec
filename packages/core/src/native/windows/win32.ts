/**
 * ws2_32 and kernel32 bindings for the Windows driver, declared once and loaded on demand (`loadWin32`)
 * so that importing this module on another OS costs nothing. Handles (SOCKET, HANDLE) are passed as
 * `intptr_t` numbers: INVALID_SOCKET / INVALID_HANDLE_VALUE come back as -1. Memory is passed as `void *`:
 * a Buffer for the duration of one synchronous call, or a `koffi.alloc` pointer (BigInt) when the kernel
 * keeps it (OVERLAPPED, sockaddr, data of an overlapped operation).
 */
import koffi from "koffi"

/** A `void *` argument: native memory (`koffi.alloc`, BigInt), a Buffer for one synchronous call, or NULL. */
export type Pointer = bigint | Uint8Array | null

type BOOL = number

export interface Ws2_32 {
  readonly WSAStartup: (version: number, data: Pointer) => number
  readonly WSACleanup: () => number
  readonly WSAGetLastError: () => number
  readonly WSASocketW: (af: number, type: number, protocol: number, info: Pointer, group: number, flags: number) => number
  readonly bind: (socket: number, name: Pointer, length: number) => number
  readonly closesocket: (socket: number) => number
  readonly listen: (socket: number, backlog: number) => number
  readonly shutdown: (socket: number, how: number) => number
  readonly connect: (socket: number, name: Pointer, length: number) => number
  readonly getsockname: (socket: number, name: Pointer, length: Pointer) => number
  readonly getpeername: (socket: number, name: Pointer, length: Pointer) => number
  readonly setsockopt: (socket: number, level: number, name: number, value: Pointer, length: number) => number
  readonly getsockopt: (socket: number, level: number, name: number, value: Pointer, length: Pointer) => number
  readonly WSAIoctl: (
    socket: number,
    code: number,
    input: Pointer,
    inputLength: number,
    output: Pointer,
    outputLength: number,
    bytesReturned: Pointer,
    overlapped: Pointer,
    routine: Pointer
  ) => number
  readonly WSASend: (
    socket: number,
    buffers: Pointer,
    count: number,
    bytesSent: Pointer,
    flags: number,
    overlapped: Pointer,
    routine: Pointer
  ) => number
  readonly WSARecv: (
    socket: number,
    buffers: Pointer,
    count: number,
    bytesReceived: Pointer,
    flags: Pointer,
    overlapped: Pointer,
    routine: Pointer
  ) => number
  readonly WSAGetOverlappedResult: (socket: number, overlapped: Pointer, bytes: Pointer, wait: BOOL, flags: Pointer) => BOOL
  /** `int ioctlsocket(SOCKET, long cmd, u_long *argp)`: FIONBIO puts the socket in non-blocking mode. */
  readonly ioctlsocket: (socket: number, command: number, argument: Pointer) => number
  /**
   * `int send(SOCKET, const char *, int, int)`: WSASend of one buffer with no OVERLAPPED (the same AFD
   * send), taking the caller's bytes as a plain argument for the one synchronous call.
   */
  readonly send: (socket: number, data: Pointer, length: number, flags: number) => number
  /** `int recv(SOCKET, char *, int, int)`: WSARecv of one buffer with no OVERLAPPED. */
  readonly recv: (socket: number, data: Pointer, length: number, flags: number) => number
}

/** Callback of a koffi `.async` call: an exception from koffi itself, or the function's result. */
export type AsyncCallback<A> = (error: unknown, result: A) => void

export interface Kernel32 {
  readonly GetLastError: () => number
  readonly CreateIoCompletionPort: (file: number, existing: number, key: number, threads: number) => number
  readonly GetQueuedCompletionStatusEx: {
    (port: number, entries: Pointer, count: number, removed: Pointer, timeout: number, alertable: BOOL): BOOL
    readonly async: (
      port: number,
      entries: Pointer,
      count: number,
      removed: Pointer,
      timeout: number,
      alertable: BOOL,
      callback: AsyncCallback<BOOL>
    ) => void
  }
  readonly PostQueuedCompletionStatus: (port: number, bytes: number, key: number, overlapped: Pointer) => BOOL
  readonly CancelIoEx: (file: number, overlapped: Pointer) => BOOL
  readonly CloseHandle: (handle: number) => BOOL
}

/** `BOOL ConnectEx(SOCKET, const sockaddr *, int, PVOID, DWORD, LPDWORD, LPOVERLAPPED)` */
export type ConnectExFn = (
  socket: number,
  name: Pointer,
  length: number,
  data: Pointer,
  dataLength: number,
  bytesSent: Pointer,
  overlapped: Pointer
) => BOOL

/** `BOOL AcceptEx(SOCKET listen, SOCKET accept, PVOID out, DWORD receive, DWORD local, DWORD remote, LPDWORD, LPOVERLAPPED)` */
export type AcceptExFn = (
  listen: number,
  accept: number,
  output: Pointer,
  receiveLength: number,
  localLength: number,
  remoteLength: number,
  bytesReceived: Pointer,
  overlapped: Pointer
) => BOOL

/**
 * `void GetAcceptExSockaddrs(PVOID out, DWORD receive, DWORD local, DWORD remote, LPSOCKADDR *localAddr,
 * LPINT localLength, LPSOCKADDR *remoteAddr, LPINT remoteLength)`: the two pointers it writes point into `out`.
 */
export type GetAcceptExSockaddrsFn = (
  output: Pointer,
  receiveLength: number,
  localLength: number,
  remoteLength: number,
  local: Pointer,
  localNameLength: Pointer,
  remote: Pointer,
  remoteNameLength: Pointer
) => void

/** `BOOL DisconnectEx(SOCKET, LPOVERLAPPED, DWORD, DWORD)` */
export type DisconnectExFn = (socket: number, overlapped: Pointer, flags: number, reserved: number) => BOOL

export interface Win32 {
  /** Running under Wine (ntdll exports wine_get_version): some Linux socket semantics show through. */
  readonly wine: string | undefined
  readonly ws2: Ws2_32
  readonly kernel32: Kernel32
  /** A function pointer fetched with WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) as a callable. */
  readonly connectExAt: (pointer: bigint) => ConnectExFn
  readonly disconnectExAt: (pointer: bigint) => DisconnectExFn
  readonly acceptExAt: (pointer: bigint) => AcceptExFn
  readonly getAcceptExSockaddrsAt: (pointer: bigint) => GetAcceptExSockaddrsFn
}

let loaded: Win32 | undefined

/** Loads ws2_32.dll and kernel32.dll (once per process). Call only on win32. */
export const loadWin32 = (): Win32 => {
  if (loaded !== undefined) return loaded
  const ws2 = koffi.load("ws2_32.dll")
  const k32 = koffi.load("kernel32.dll")
  // anonymous prototypes: koffi's type names are process-wide, and two copies of this module (src and
  // dist in one test run) must not collide
  const connectExProto = koffi.proto("__stdcall", null, "int", [
    "intptr_t", // SOCKET s
    "void *", // const sockaddr *name
    "int", // int namelen
    "void *", // PVOID lpSendBuffer
    "uint32_t", // DWORD dwSendDataLength
    "void *", // LPDWORD lpdwBytesSent
    "void *" // LPOVERLAPPED lpOverlapped
  ])
  const disconnectExProto = koffi.proto("__stdcall", null, "int", [
    "intptr_t", // SOCKET s
    "void *", // LPOVERLAPPED lpOverlapped
    "uint32_t", // DWORD dwFlags
    "uint32_t" // DWORD reserved
  ])
  const acceptExProto = koffi.proto("__stdcall", null, "int", [
    "intptr_t", // SOCKET sListenSocket
    "intptr_t", // SOCKET sAcceptSocket
    "void *", // PVOID lpOutputBuffer
    "uint32_t", // DWORD dwReceiveDataLength
    "uint32_t", // DWORD dwLocalAddressLength
    "uint32_t", // DWORD dwRemoteAddressLength
    "void *", // LPDWORD lpdwBytesReceived
    "void *" // LPOVERLAPPED lpOverlapped
  ])
  const getAcceptExSockaddrsProto = koffi.proto("__stdcall", null, "void", [
    "void *", // PVOID lpOutputBuffer
    "uint32_t", // DWORD dwReceiveDataLength
    "uint32_t", // DWORD dwLocalAddressLength
    "uint32_t", // DWORD dwRemoteAddressLength
    "void *", // LPSOCKADDR *LocalSockaddr
    "void *", // LPINT LocalSockaddrLength
    "void *", // LPSOCKADDR *RemoteSockaddr
    "void *" // LPINT RemoteSockaddrLength
  ])
  let wine: string | undefined
  try {
    const getVersion = koffi.load("ntdll.dll").func("const char *wine_get_version()") as () => string
    wine = getVersion()
  } catch {
    wine = undefined
  }
  loaded = {
    wine,
    ws2: {
      WSAStartup: ws2.func("int __stdcall WSAStartup(uint16_t version, void *data)") as Ws2_32["WSAStartup"],
      WSACleanup: ws2.func("int __stdcall WSACleanup()") as Ws2_32["WSACleanup"],
      WSAGetLastError: ws2.func("int __stdcall WSAGetLastError()") as Ws2_32["WSAGetLastError"],
      WSASocketW: ws2.func(
        "intptr_t __stdcall WSASocketW(int af, int type, int protocol, void *info, uint32_t group, uint32_t flags)"
      ) as Ws2_32["WSASocketW"],
      bind: ws2.func("int __stdcall bind(intptr_t s, void *name, int namelen)") as Ws2_32["bind"],
      closesocket: ws2.func("int __stdcall closesocket(intptr_t s)") as Ws2_32["closesocket"],
      listen: ws2.func("int __stdcall listen(intptr_t s, int backlog)") as Ws2_32["listen"],
      shutdown: ws2.func("int __stdcall shutdown(intptr_t s, int how)") as Ws2_32["shutdown"],
      connect: ws2.func("int __stdcall connect(intptr_t s, void *name, int namelen)") as Ws2_32["connect"],
      getsockname: ws2.func("int __stdcall getsockname(intptr_t s, void *name, void *namelen)") as Ws2_32["getsockname"],
      getpeername: ws2.func("int __stdcall getpeername(intptr_t s, void *name, void *namelen)") as Ws2_32["getpeername"],
      setsockopt: ws2.func(
        "int __stdcall setsockopt(intptr_t s, int level, int name, void *value, int length)"
      ) as Ws2_32["setsockopt"],
      getsockopt: ws2.func(
        "int __stdcall getsockopt(intptr_t s, int level, int name, void *value, void *length)"
      ) as Ws2_32["getsockopt"],
      WSAIoctl: ws2.func(
        "int __stdcall WSAIoctl(intptr_t s, uint32_t code, void *input, uint32_t inputLength, void *output, uint32_t outputLength, void *bytesReturned, void *overlapped, void *routine)"
      ) as Ws2_32["WSAIoctl"],
      WSASend: ws2.func(
        "int __stdcall WSASend(intptr_t s, void *buffers, uint32_t count, void *sent, uint32_t flags, void *overlapped, void *routine)"
      ) as Ws2_32["WSASend"],
      WSARecv: ws2.func(
        "int __stdcall WSARecv(intptr_t s, void *buffers, uint32_t count, void *received, void *flags, void *overlapped, void *routine)"
      ) as Ws2_32["WSARecv"],
      WSAGetOverlappedResult: ws2.func(
        "int __stdcall WSAGetOverlappedResult(intptr_t s, void *overlapped, void *bytes, int wait, void *flags)"
      ) as Ws2_32["WSAGetOverlappedResult"],
      ioctlsocket: ws2.func(
        "int __stdcall ioctlsocket(intptr_t s, uint32_t cmd, void *argp)"
      ) as Ws2_32["ioctlsocket"],
      send: ws2.func("int __stdcall send(intptr_t s, void *buf, int len, int flags)") as Ws2_32["send"],
      recv: ws2.func("int __stdcall recv(intptr_t s, void *buf, int len, int flags)") as Ws2_32["recv"]
    },
    kernel32: {
      GetLastError: k32.func("uint32_t __stdcall GetLastError()") as Kernel32["GetLastError"],
      CreateIoCompletionPort: k32.func(
        "intptr_t __stdcall CreateIoCompletionPort(intptr_t file, intptr_t existing, uintptr_t key, uint32_t threads)"
      ) as Kernel32["CreateIoCompletionPort"],
      GetQueuedCompletionStatusEx: k32.func(
        "int __stdcall GetQueuedCompletionStatusEx(intptr_t port, void *entries, uint32_t count, void *removed, uint32_t timeout, int alertable)"
      ) as unknown as Kernel32["GetQueuedCompletionStatusEx"],
      PostQueuedCompletionStatus: k32.func(
        "int __stdcall PostQueuedCompletionStatus(intptr_t port, uint32_t bytes, uintptr_t key, void *overlapped)"
      ) as Kernel32["PostQueuedCompletionStatus"],
      CancelIoEx: k32.func("int __stdcall CancelIoEx(intptr_t file, void *overlapped)") as Kernel32["CancelIoEx"],
      CloseHandle: k32.func("int __stdcall CloseHandle(intptr_t handle)") as Kernel32["CloseHandle"]
    },
    connectExAt: (pointer) => koffi.decode(pointer, connectExProto) as ConnectExFn,
    disconnectExAt: (pointer) => koffi.decode(pointer, disconnectExProto) as DisconnectExFn,
    acceptExAt: (pointer) => koffi.decode(pointer, acceptExProto) as AcceptExFn,
    getAcceptExSockaddrsAt: (pointer) => koffi.decode(pointer, getAcceptExSockaddrsProto) as GetAcceptExSockaddrsFn
  }
  return loaded
}

/** Native memory that outlives one call (an operation's OVERLAPPED and buffers, the poller's entries). */
export const allocate = (size: number): bigint => koffi.alloc("uint8_t", size) as bigint
export const release = (pointer: bigint): void => koffi.free(pointer)
/** A view of native memory: no copy; valid until `release`. */
export const viewOf = (pointer: bigint, size: number): ArrayBuffer => koffi.view(pointer, size)

// Winsock constants (winsock2.h, ws2def.h, mswsock.h, ws2ipdef.h)
export const AF_INET = 2
export const AF_INET6 = 23
export const SOCK_STREAM = 1
export const IPPROTO_TCP = 6
export const WSA_FLAG_OVERLAPPED = 0x01
/** The handle is not inherited by child processes (Windows 7 SP1 and later; Go's sysSocket sets it too). */
export const WSA_FLAG_NO_HANDLE_INHERIT = 0x80
export const INVALID_SOCKET = -1
export const SOCKET_ERROR = -1
export const SOL_SOCKET = 0xffff
export const SO_REUSEADDR = 0x0004
export const SO_KEEPALIVE = 0x0008
export const SO_LINGER = 0x0080
export const SO_SNDBUF = 0x1001
export const SO_RCVBUF = 0x1002
export const SO_CONNECT_TIME = 0x700c
export const SO_UPDATE_CONNECT_CONTEXT = 0x7010
export const SO_UPDATE_ACCEPT_CONTEXT = 0x700b
/**
 * Ephemeral port chosen at connect for a socket bound explicitly to port 0 (ConnectEx needs a bound socket):
 * Windows' counterpart of Linux's IP_BIND_ADDRESS_NO_PORT (Windows 10 1703 / Server 2016 and later).
 */
export const SO_REUSE_UNICASTPORT = 0x3007
/** AcceptEx's room for each address: the largest sockaddr (sockaddr_in6, 28) + 16, as documented. */
export const ACCEPT_ADDRESS_LENGTH = 28 + 16
export const TCP_NODELAY = 0x0001
export const TCP_FASTOPEN = 15
export const TF_REUSE_SOCKET = 0x02
export const SIO_GET_EXTENSION_FUNCTION_POINTER = 0xc8000006
/** `_WSAIOW(IOC_VENDOR, 17)`: per-socket initial RTO and SYN retransmissions (Windows 10 1709+). */
export const SIO_TCP_INITIAL_RTO = 0x98000011
export const TCP_INITIAL_RTO_NO_RETRANSMISSIONS = 0xffff
export const TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS = 0xfe
export const WSA_IO_PENDING = 997
/** WSAGetOverlappedResult: the operation has not completed (cannot be after its packet was dequeued). */
export const WSA_IO_INCOMPLETE = 996
export const WSAEWOULDBLOCK = 10035
/** `_IOW('f', 126, u_long)`: non-blocking mode on (argument 1) or off (0). */
export const FIONBIO = 0x8004667e
export const ERROR_NOT_FOUND = 1168
export const INVALID_HANDLE_VALUE = -1
export const INFINITE = 0xffffffff
export const WSADATA_SIZE = 512

/** `{25a207b9-ddf3-4660-8ee9-76e58c74063e}` */
export const WSAID_CONNECTEX = guid(0x25a207b9, 0xddf3, 0x4660, [0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e])
/** `{b5367df1-cbac-11cf-95ca-00805f48a192}` */
export const WSAID_ACCEPTEX = guid(0xb5367df1, 0xcbac, 0x11cf, [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92])
/** `{b5367df2-cbac-11cf-95ca-00805f48a192}` */
export const WSAID_GETACCEPTEXSOCKADDRS = guid(0xb5367df2, 0xcbac, 0x11cf, [0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92])
/** `{7fda2e11-8630-436f-a031-f536a6eec157}` */
export const WSAID_DISCONNECTEX = guid(0x7fda2e11, 0x8630, 0x436f, [0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57])

function guid(data1: number, data2: number, data3: number, data4: ReadonlyArray<number>): Buffer {
  const buffer = Buffer.alloc(16)
  buffer.writeUInt32LE(data1, 0)
  buffer.writeUInt16LE(data2, 4)
  buffer.writeUInt16LE(data3, 6)
  buffer.set(data4, 8)
  return buffer
}

/**
 * Layout of one operation's native block (all little-endian, x64):
 *   0   OVERLAPPED (32): Internal (NTSTATUS, ULONG_PTR) at 0, InternalHigh (bytes) at 8
 *   32  DWORD bytes (ConnectEx lpdwBytesSent)      36  DWORD flags (WSARecv lpFlags)
 *   40  WSABUF { ULONG len; CHAR *buf } (16)
 *   56  sockaddr_in / sockaddr_in6 (28, padded to 32)
 *   88  data (send copy / receive space)
 */
export const BLOCK_BYTES = 32
export const BLOCK_FLAGS = 36
export const BLOCK_WSABUF = 40
export const BLOCK_SOCKADDR = 56
export const BLOCK_DATA = 88

/** OVERLAPPED_ENTRY: lpCompletionKey 0, lpOverlapped 8, Internal 16, dwNumberOfBytesTransferred 24. */
export const OVERLAPPED_ENTRY_SIZE = 32
