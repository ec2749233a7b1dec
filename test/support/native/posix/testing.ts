/**
 * Test peers that node:net cannot make: a listener that never accepts, with a backlog of 0. Once one
 * connection sits in its accept queue, the kernel drops every later SYN, so a connect to it stays pending
 * (on loopback, with no other address involved) until it is cancelled or the SYN retries run out.
 */
import { wsa } from "../../../../packages/core/src/errors/codes.js"
import type { SocketAddress } from "../../../../packages/core/src/address.js"
import type { NativeSocket } from "../../../../packages/core/src/native/Driver.js"
import { wsaFromErrno } from "../../../../packages/core/src/native/posix/errno.js"
import { IPPROTO_TCP, libc, SOCK_CLOEXEC, SOCK_STREAM } from "../../../../packages/core/src/native/posix/libc.js"
import { decode, encode, familyCode, SOCKADDR_MAX } from "../../../../packages/core/src/native/posix/sockaddr.js"


export interface SilentListener {
  readonly address: SocketAddress
  readonly close: () => void
}

/** A socket bound to `address`, listening with `backlog` or not listening at all. Throws on failure. */
const holdPort = (address: SocketAddress, backlog: number | undefined): SilentListener => {
  const fd = libc.socket(familyCode(address.family), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP)
  if (fd < 0) throw new Error(`socket: WSA ${wsaFromErrno(libc.errno())}`)
  const sockaddr = encode(address)
  if (libc.bind(fd, sockaddr, sockaddr.length) !== 0 || (backlog !== undefined && libc.listen(fd, backlog) !== 0)) {
    const code = wsaFromErrno(libc.errno())
    libc.close(fd)
    throw new Error(`bind/listen: WSA ${code}`)
  }
  const local = Buffer.alloc(SOCKADDR_MAX)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(SOCKADDR_MAX, 0)
  libc.getsockname(fd, local, length)
  const bound = decode(local)
  if (bound === undefined) throw new Error(`getsockname: WSA ${wsa.WSAEAFNOSUPPORT}`)
  let open = true
  return { address: bound, close: () => void (open && ((open = false), libc.close(fd))) }
}

/** A listener on `address` (port 0: any) with backlog 0 that never accepts. */
export const silentListener = (address: SocketAddress): SilentListener => holdPort(address, 0)

/**
 * A loopback port that refuses: held by a bound socket that never listens, so no other process can listen
 * there and no connect can pick it as its own local port (a freed port could be reused, or self-connect).
 */
export const refusingPort = (address: SocketAddress): SilentListener => holdPort(address, undefined)

/** Linux <netinet/tcp.h>: the number of SYN retransmissions of this socket's connects (1..127). */
const TCP_SYNCNT = 7

/**
 * Sets TCP_SYNCNT on one POSIX socket (1: the SYN at 0 s, again at 1 s, given up at about 3 s, instead of
 * about 127 s with the default of 6), then reads it back, so that a test can meet a real SYN timeout quickly
 * without changing anything machine-wide. Throws when it did not take.
 */
export const setSynRetries = (native: NativeSocket, count: number): void => {
  const fd = (native as NativeSocket & { readonly fd?: unknown }).fd
  if (typeof fd !== "number") throw new Error("not a POSIX socket")
  const value = Buffer.alloc(4)
  value.writeInt32LE(count, 0)
  if (libc.setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, value, 4) !== 0) throw new Error(`setsockopt TCP_SYNCNT: WSA ${wsaFromErrno(libc.errno())}`)
  const read = Buffer.alloc(4)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(4, 0)
  if (libc.getsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, read, length) !== 0 || read.readInt32LE(0) !== count) {
    throw new Error(`TCP_SYNCNT did not read back as ${count}`)
  }
}
