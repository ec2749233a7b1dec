/**
 * Test peers that node:net cannot make, on Windows (the counterpart of `../posix/testing.ts`, same shape):
 * a listener that never accepts, with a backlog of 0. Once one connection sits in its accept queue, later
 * SYNs are dropped, so a ConnectEx to it stays pending until it is cancelled.
 */
import type { SocketAddress } from "../../../../packages/core/src/address.js"
import * as Sockaddr from "../../../../packages/core/src/native/windows/sockaddr.js"
import { INVALID_SOCKET, IPPROTO_TCP, loadWin32, SOCK_STREAM, SOCKET_ERROR, WSADATA_SIZE } from "../../../../packages/core/src/native/windows/win32.js"

export interface SilentListener {
  readonly address: SocketAddress
  readonly close: () => void
}

/** A listener on `address` (port 0: any) with backlog 0 that never accepts. Throws with the WSA code on failure. */
export const silentListener = (address: SocketAddress): SilentListener => holdPort(address, 0)

/**
 * A loopback port that refuses: held by a bound socket that never listens, so no other process can listen
 * there and no connect can pick it as its own local port.
 */
export const refusingPort = (address: SocketAddress): SilentListener => holdPort(address, undefined)

const holdPort = (address: SocketAddress, backlog: number | undefined): SilentListener => {
  const { ws2 } = loadWin32()
  const started = ws2.WSAStartup(0x0202, Buffer.alloc(WSADATA_SIZE))
  if (started !== 0) throw new Error(`WSAStartup: WSA ${started}`)
  const s = ws2.WSASocketW(Sockaddr.familyCode(address.family), SOCK_STREAM, IPPROTO_TCP, null, 0, 0)
  if (s === INVALID_SOCKET) {
    const code = ws2.WSAGetLastError()
    ws2.WSACleanup()
    throw new Error(`WSASocketW: WSA ${code}`)
  }
  const name = Sockaddr.encode(address)
  if (ws2.bind(s, name, name.length) === SOCKET_ERROR || (backlog !== undefined && ws2.listen(s, backlog) === SOCKET_ERROR)) {
    const code = ws2.WSAGetLastError()
    ws2.closesocket(s)
    ws2.WSACleanup()
    throw new Error(`bind/listen: WSA ${code}`)
  }
  const local = Buffer.alloc(Sockaddr.SOCKADDR_MAX)
  const length = Buffer.alloc(4)
  length.writeInt32LE(Sockaddr.SOCKADDR_MAX, 0)
  ws2.getsockname(s, local, length)
  const bound = Sockaddr.decode(local)
  if (bound === undefined) {
    ws2.closesocket(s)
    ws2.WSACleanup()
    throw new Error("getsockname: WSA 10047")
  }
  let open = true
  return {
    address: bound,
    close: () => {
      if (!open) return
      open = false
      ws2.closesocket(s)
      ws2.WSACleanup()
    }
  }
}

/** Wine's version when the Windows driver runs under Wine (Linux socket semantics show through), else undefined. */
export const wineVersion = (): string | undefined => loadWin32().wine
