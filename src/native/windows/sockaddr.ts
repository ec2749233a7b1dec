/**
 * SOCKADDR_IN (16 bytes) and SOCKADDR_IN6 (28 bytes) as Winsock lays them out: family and scope id in host
 * order (little-endian), port and flow info in network order.
 */
import { type Family, fromBytes, type SocketAddress, toBytes } from "../../SocketAddress.js"
import { AF_INET, AF_INET6 } from "./win32.js"

export const SOCKADDR_MAX = 28

export const familyCode = (family: Family): number => (family === "ipv4" ? AF_INET : AF_INET6)

/** Writes `address` at `offset` of `view`; returns its length. */
export const write = (view: DataView, offset: number, address: SocketAddress): number => {
  const ip = toBytes(address)
  new Uint8Array(view.buffer, view.byteOffset + offset, address.family === "ipv4" ? 16 : 28).fill(0)
  if (address.family === "ipv4") {
    view.setUint16(offset, AF_INET, true)
    view.setUint16(offset + 2, address.port, false)
    new Uint8Array(view.buffer, view.byteOffset + offset + 4, 4).set(ip)
    return 16
  }
  view.setUint16(offset, AF_INET6, true)
  view.setUint16(offset + 2, address.port, false)
  view.setUint32(offset + 4, address.flowInfo, false)
  new Uint8Array(view.buffer, view.byteOffset + offset + 8, 16).set(ip)
  view.setUint32(offset + 24, address.scopeId, true)
  return 28
}

/** An address in a Buffer for one synchronous call (bind). */
export const encode = (address: SocketAddress): Buffer => {
  const buffer = Buffer.alloc(address.family === "ipv4" ? 16 : 28)
  write(new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength), 0, address)
  return buffer
}

export const decode = (buffer: Buffer): SocketAddress | undefined => {
  const family = buffer.readUInt16LE(0)
  const port = buffer.readUInt16BE(2)
  if (family === AF_INET) return fromBytes(buffer.subarray(4, 8), port)
  if (family === AF_INET6) {
    return fromBytes(buffer.subarray(8, 24), port, {
      flowInfo: buffer.readUInt32BE(4),
      scopeId: buffer.readUInt32LE(24)
    })
  }
  return undefined
}
