/** sockaddr encoding with Linux's family numbers, and the AF_UNSPEC address that dissolves a connection. */
import { makeSockaddrCodec } from "../sockaddr.js"
import { AF_INET, AF_INET6, AF_UNSPEC } from "./libc.js"

export { SOCKADDR_MAX } from "../sockaddr.js"
export const { decode, encode, familyCode } = makeSockaddrCodec({ inet: AF_INET, inet6: AF_INET6 })

/** An AF_UNSPEC address: connect() with it dissolves a TCP association. */
export const unspecified = (): Buffer => {
  const buffer = Buffer.alloc(16)
  buffer.writeUInt16LE(AF_UNSPEC, 0)
  return buffer
}
