/**
 * libc bindings for the POSIX driver (Linux x86_64 / arm64), declared once. Buffers are passed as
 * `void *` (cheaper than typed out-parameters, see shared/notes/koffi.md) and errno is read by the caller
 * immediately after a failing call.
 */
import koffi, { type node } from "koffi"

const lib = koffi.load("libc.so.6")

export const libc = {
  socket: lib.func("int socket(int domain, int type, int protocol)") as (domain: number, type: number, protocol: number) => number,
  bind: lib.func("int bind(int fd, const void *addr, uint32_t len)") as (fd: number, addr: Uint8Array, len: number) => number,
  connect: lib.func("int connect(int fd, const void *addr, uint32_t len)") as (fd: number, addr: Uint8Array, len: number) => number,
  getsockopt: lib.func("int getsockopt(int fd, int level, int name, void *value, void *len)") as (
    fd: number,
    level: number,
    name: number,
    value: Uint8Array,
    len: Uint8Array
  ) => number,
  setsockopt: lib.func("int setsockopt(int fd, int level, int name, const void *value, uint32_t len)") as (
    fd: number,
    level: number,
    name: number,
    value: Uint8Array,
    len: number
  ) => number,
  send: lib.func("intptr_t send(int fd, const void *buf, size_t len, int flags)") as (fd: number, buf: Uint8Array, len: number, flags: number) => number,
  recv: lib.func("intptr_t recv(int fd, void *buf, size_t len, int flags)") as (fd: number, buf: Uint8Array, len: number, flags: number) => number,
  getsockname: lib.func("int getsockname(int fd, void *addr, void *len)") as (fd: number, addr: Uint8Array, len: Uint8Array) => number,
  getpeername: lib.func("int getpeername(int fd, void *addr, void *len)") as (fd: number, addr: Uint8Array, len: Uint8Array) => number,
  accept4: lib.func("int accept4(int fd, void *addr, void *len, int flags)") as (fd: number, addr: Uint8Array, len: Uint8Array, flags: number) => number,
  listen: lib.func("int listen(int fd, int backlog)") as (fd: number, backlog: number) => number,
  shutdown: lib.func("int shutdown(int fd, int how)") as (fd: number, how: number) => number,
  close: lib.func("int close(int fd)") as (fd: number) => number,
  poll: lib.func("int poll(void *fds, unsigned long nfds, int timeout)") as (fds: Uint8Array, nfds: number, timeout: number) => number,
  errno: (): number => koffi.errno()
}

/** Linux constants (the same on x86_64 and arm64). */
export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_INET6 = 10
export const SOCK_STREAM = 1
export const SOCK_NONBLOCK = 0o4000
export const SOCK_CLOEXEC = 0o2000000
export const IPPROTO_IP = 0
export const IPPROTO_TCP = 6
export const IPPROTO_IPV6 = 41
export const SOL_SOCKET = 1
export const SO_REUSEADDR = 2
export const SO_ERROR = 4
export const SO_SNDBUF = 7
export const SO_RCVBUF = 8
export const SO_KEEPALIVE = 9
export const SO_LINGER = 13
export const TCP_NODELAY = 1
export const TCP_FASTOPEN_CONNECT = 30
export const IP_BIND_ADDRESS_NO_PORT = 24
export const MSG_NOSIGNAL = 0x4000
export const SHUT_WR = 1
export const POLLOUT = 0x4

export type PollHandle = node.PollHandle

/** A libuv poll handle on `fd`; the runtime passes (status, events) although the typings say (events). */
export const watch = (
  fd: number,
  events: { readonly readable: boolean; readonly writable: boolean },
  onEvent: (status: number, events: { readonly readable: boolean; readonly writable: boolean }) => void
): PollHandle =>
  koffi.node.poll(fd, events, onEvent as unknown as (events: node.PollEvents) => void)

export const restart = (
  handle: PollHandle,
  events: { readonly readable: boolean; readonly writable: boolean },
  onEvent: (status: number, events: { readonly readable: boolean; readonly writable: boolean }) => void
): void => handle.start(events, onEvent as unknown as (events: node.PollEvents) => void)
