/**
 * The socket option table: which (level, name) each option users can set is on Winsock, and the
 * setsockopt / getsockopt calls the driver makes with them.
 */
import { fail, type NativeSocket, ok, type Result, type SocketOption, type SocketOptions } from "../Driver.js"
import { socketOf, type WindowsSocket } from "./socket.js"
import * as Wine from "./wine.js"
import {
  IPPROTO_TCP,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SOCKET_ERROR,
  SOL_SOCKET,
  TCP_FASTOPEN,
  TCP_NODELAY,
  type Win32
} from "./win32.js"

const WSAENOTSOCK = 10038

interface OptionSpec {
  readonly level: number
  readonly name: number
}

export const optionSpecs: Record<SocketOption, OptionSpec> = {
  TCP_FASTOPEN: { level: IPPROTO_TCP, name: TCP_FASTOPEN },
  TCP_NODELAY: { level: IPPROTO_TCP, name: TCP_NODELAY },
  SO_KEEPALIVE: { level: SOL_SOCKET, name: SO_KEEPALIVE },
  SO_REUSEADDR: { level: SOL_SOCKET, name: SO_REUSEADDR },
  SO_SNDBUF: { level: SOL_SOCKET, name: SO_SNDBUF },
  SO_RCVBUF: { level: SOL_SOCKET, name: SO_RCVBUF },
  SO_LINGER: { level: SOL_SOCKET, name: SO_LINGER }
}

export interface Options {
  /** `Driver.setOption`: 0 or a WSA code. */
  readonly setOption: <K extends SocketOption>(socket: NativeSocket, option: K, value: SocketOptions[K]) => number
  /** getsockopt of a DWORD-sized option. */
  readonly getUint32: (socket: WindowsSocket, level: number, name: number) => Result<number>
}

export const makeOptions = (win32: Win32): Options => {
  const { ws2 } = win32
  const length = Buffer.alloc(4)
  const value = Buffer.alloc(8)
  const lastError = (): number => ws2.WSAGetLastError()

  const setInt = (socket: WindowsSocket, level: number, name: number, n: number): number => {
    value.writeInt32LE(n, 0)
    return ws2.setsockopt(socket.handle, level, name, value, 4) === SOCKET_ERROR ? lastError() : 0
  }

  const getUint32 = (socket: WindowsSocket, level: number, name: number): Result<number> => {
    value.writeUInt32LE(0, 0)
    length.writeInt32LE(4, 0)
    if (ws2.getsockopt(socket.handle, level, name, value, length) === SOCKET_ERROR) return fail(lastError())
    return ok(value.readUInt32LE(0))
  }

  const setOption = <K extends SocketOption>(socket: NativeSocket, option: K, optionValue: SocketOptions[K]): number => {
    const own = socketOf(socket)
    if (own === undefined) return WSAENOTSOCK
    const spec = optionSpecs[option]
    if (option === "SO_LINGER") {
      // struct linger { u_short l_onoff; u_short l_linger; }
      value.writeUInt16LE(optionValue === false ? 0 : 1, 0)
      value.writeUInt16LE(typeof optionValue === "number" ? optionValue : 0, 2)
      return ws2.setsockopt(own.handle, spec.level, spec.name, value, 4) === SOCKET_ERROR ? lastError() : 0
    }
    const n = typeof optionValue === "boolean" ? (optionValue ? 1 : 0) : Number(optionValue)
    return Wine.optionResult(win32, option, setInt(own, spec.level, spec.name, n))
  }

  return { setOption, getUint32 }
}
