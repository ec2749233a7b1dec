/**
 * sockaddr_in (16 bytes) and sockaddr_in6 (28 bytes), as Linux and Winsock both lay them out: family and
 * scope id in host order (little-endian on every supported CPU), port and flow info in network order. Only
 * the family numbers differ (AF_INET6 is 10 on Linux, 23 on Windows), so each driver makes its own codec.
 */
import { type Family, fromBytes, type SocketAddress, toBytes } from "../address.js"

export const SOCKADDR_MAX = 28

export interface SockaddrCodec {
  readonly familyCode: (family: Family) => number
  /** Writes `address` at `offset` of `view` (native memory that outlives the call); returns its length. */
  readonly write: (view: DataView, offset: number, address: SocketAddress) => number
  /** The address in a buffer for calls that only read it (bind, connect): one encoding per address value. */
  readonly encode: (address: SocketAddress) => Buffer
  readonly decode: (buffer: Buffer) => SocketAddress | undefined
}

export const makeSockaddrCodec = (families: { readonly inet: number; readonly inet6: number }): SockaddrCodec => {
  const familyCode = (family: Family): number => (family === "ipv4" ? families.inet : families.inet6)

  const write = (view: DataView, offset: number, address: SocketAddress): number => {
    const ip = toBytes(address)
    const length = address.family === "ipv4" ? 16 : 28
    new Uint8Array(view.buffer, view.byteOffset + offset, length).fill(0)
    view.setUint16(offset, familyCode(address.family), true)
    view.setUint16(offset + 2, address.port, false)
    if (address.family === "ipv4") {
      new Uint8Array(view.buffer, view.byteOffset + offset + 4, 4).set(ip)
    } else {
      view.setUint32(offset + 4, address.flowInfo, false)
      new Uint8Array(view.buffer, view.byteOffset + offset + 8, 16).set(ip)
      view.setUint32(offset + 24, address.scopeId, true)
    }
    return length
  }

  // The kernel only reads a sockaddr passed to bind/connect, so one encoding per address value serves all.
  const encoded = new WeakMap<SocketAddress, Buffer>()
  const encode = (address: SocketAddress): Buffer => {
    const cached = encoded.get(address)
    if (cached !== undefined) return cached
    const buffer = Buffer.alloc(address.family === "ipv4" ? 16 : 28)
    write(new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength), 0, address)
    encoded.set(address, buffer)
    return buffer
  }

  const decode = (buffer: Buffer): SocketAddress | undefined => {
    const family = buffer.readUInt16LE(0)
    const port = buffer.readUInt16BE(2)
    if (family === families.inet) return fromBytes(buffer.subarray(4, 8), port)
    if (family === families.inet6) {
      return fromBytes(buffer.subarray(8, 24), port, { flowInfo: buffer.readUInt32BE(4), scopeId: buffer.readUInt32LE(24) })
    }
    return undefined
  }

  return { familyCode, write, encode, decode }
}
