/** SOCKADDR_IN / SOCKADDR_IN6 with Winsock's family numbers (the layout is shared with Linux). */
import { makeSockaddrCodec } from "../sockaddr.js"
import { AF_INET, AF_INET6 } from "./win32.js"

export { SOCKADDR_MAX } from "../sockaddr.js"
export const { decode, encode, familyCode, write } = makeSockaddrCodec({ inet: AF_INET, inet6: AF_INET6 })
