/**
 * sockaddr_in (16 bytes) and sockaddr_in6 (28 bytes) encoded once per call into a buffer the kernel reads
 * synchronously. Family and scope id are in host order (little-endian on the supported CPUs), port and
 * flow info in network order.
 */
import { type Family, fromBytes, type SocketAddress, toBytes } from "../../SocketAddress.js"
import { AF_INET, AF_INET6, AF_UNSPEC } from "./libc.js"

export const SOCKADDR_MAX = 28

export const familyCode = (family: Family): number => (family === "ipv4" ? AF_INET : AF_INET6)

// The kernel only reads a sockaddr passed to bind/connect, so one encoding per address value serves every call.
const encoded = new WeakMap<SocketAddress, Buffer>()

export const encode = (address: SocketAddress): Buffer => {
  const cached = encoded.get(address)
  if (cached !== undefined) return cached
  const buffer = encodeNew(address)
  encoded.set(address, buffer)
  return buffer
}

const encodeNew = (address: SocketAddress): Buffer => {
  const ip = toBytes(address)
  if (address.family === "ipv4") {
    const buffer = Buffer.alloc(16)
    buffer.writeUInt16LE(AF_INET, 0)
    buffer.writeUInt16BE(address.port, 2)
    buffer.set(ip, 4)
    return buffer
  }
  const buffer = Buffer.alloc(28)
  buffer.writeUInt16LE(AF_INET6, 0)
  buffer.writeUInt16BE(address.port, 2)
  buffer.writeUInt32BE(address.flowInfo, 4)
  buffer.set(ip, 8)
  buffer.writeUInt32LE(address.scopeId, 24)
  return buffer
}

/** An AF_UNSPEC address: connect() with it dissolves a TCP association. */
export const unspecified = (): Buffer => {
  const buffer = Buffer.alloc(16)
  buffer.writeUInt16LE(AF_UNSPEC, 0)
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
