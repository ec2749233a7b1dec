/**
 * Test peers that node:net cannot make, on Windows (the counterpart of `../posix/testing.ts`, same shape):
 * a listener that never accepts, with a backlog of 0. Once one connection sits in its accept queue, later
 * SYNs are dropped under Wine (Linux), so a ConnectEx to it stays pending until it is cancelled; Windows
 * refuses instead. The target that stays pending everywhere is `pendingAddress`: a host the Wine lane makes
 * in a network namespace, whose SYNs are dropped on the way (`scripts/test-windows.sh`). Also
 * `isInheritable` (GetHandleInformation).
 */
import koffi from "koffi"
import { ipv4, ipv6, isInvalid, type SocketAddress } from "../../../../packages/core/src/address.js"
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

type GetHandleInformation = (handle: number, flags: Uint8Array) => number
let getHandleInformation: GetHandleInformation | undefined

/**
 * Whether a child process would inherit `handle`: GetHandleInformation's HANDLE_FLAG_INHERIT (0x1).
 * Throws with the Win32 error when the call fails.
 */
export const isInheritable = (handle: number): boolean => {
  getHandleInformation ??= koffi
    .load("kernel32.dll")
    .func("int __stdcall GetHandleInformation(intptr_t handle, void *flags)") as GetHandleInformation
  const flags = Buffer.alloc(4)
  if (getHandleInformation(handle, flags) === 0) throw new Error(`GetHandleInformation: ${loadWin32().kernel32.GetLastError()}`)
  return (flags.readUInt32LE(0) & 0x1) !== 0
}

/** The environment variables the Wine lane sets to its blackholed host's addresses. */
export const pendingVariables = { ipv4: "CONNECTEX_PENDING_IPV4", ipv6: "CONNECTEX_PENDING_IPV6" } as const

/**
 * A destination a connect to which stays pending on every system until it is cancelled: an address of a test
 * host whose SYNs are dropped (`pendingVariables`). Undefined under Wine when the lane could not make that
 * host (then the backlog-0 listener serves: it stays pending under Wine). Throws on real Windows without it,
 * where a full accept queue refuses and a test of cancellation would test refusal.
 */
export const pendingAddress = (family: "ipv4" | "ipv6", port = 9): SocketAddress | undefined => {
  const host = process.env[pendingVariables[family]]
  if (host !== undefined && host !== "") {
    const address = family === "ipv4" ? ipv4(host, port) : ipv6(host, port)
    if (isInvalid(address)) throw new Error(`${pendingVariables[family]}=${host}: ${address.invalid}`)
    return address
  }
  if (wineVersion() !== undefined) return undefined
  throw new Error(
    `no ${family} host that drops SYNs: set ${pendingVariables[family]} to the address of a test host you made that ` +
      "never answers (Windows refuses a connect to a full accept queue, so the loopback target would not stay pending)"
  )
}
