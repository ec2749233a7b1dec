/**
 * The POSIX driver's bytes, checked byte for byte on 127.0.0.1: a send larger than the socket buffers goes
 * on from where the kernel stopped (never from the start again), through every path (copy-free send, owned
 * send, connect data); an error the kernel reported early is owed to the next receive or send, once.
 */
import { describe, expect, it } from "vitest"
import { wsa } from "../src/errors/codes.js"
import type { Completion, NativeSocket } from "../src/native/Driver.js"
import { completionOf, loopbackDriver } from "./support/posixLoopback.js"

const { driver, pair } = loopbackDriver()

/** Bytes that tell their position: a resend from the start would not match. */
const pattern = (size: number, seed: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed + (i >> 8)) & 0xff
  return bytes
}

/** Receives `size` bytes through the driver; all of them, in order. */
const receiveExactly = async (socket: NativeSocket, size: number): Promise<Uint8Array> => {
  const all = new Uint8Array(size)
  let got = 0
  while (got < size) {
    const c = await completionOf((done) => driver.receive(socket, 256 * 1024, done))
    expect(c.status).toBe(0)
    if (c.bytes === 0) throw new Error(`the peer ended after ${got} of ${size} bytes`)
    all.set(c.data!, got)
    got += c.bytes
  }
  return all
}

const SIZE = 6 * 1024 * 1024

/** Byte for byte (a deep equality over megabytes would take the test's whole time). */
const expectSame = (got: Uint8Array, want: Uint8Array): void => {
  const at = got.findIndex((byte, i) => byte !== want[i])
  expect([got.length, at]).toEqual([want.length, -1])
}

describe("POSIX driver: a send larger than the buffers", () => {
  it("copy-free: what the kernel took at once, then the rest, every byte in order", async () => {
    const { client, server } = await pair()
    const data = pattern(SIZE, 1)
    const sent = completionOf((done) => driver.send(client, data, done))
    expectSame(await receiveExactly(server, SIZE), data)
    expect(await sent).toEqual({ status: 0, bytes: SIZE })
  })

  it("owned bytes: the same, from the first byte", async () => {
    const { client, server } = await pair()
    const data = pattern(SIZE, 2)
    const sent = completionOf((done) => driver.send(client, data, done, true))
    expectSame(await receiveExactly(server, SIZE), data)
    expect(await sent).toEqual({ status: 0, bytes: SIZE })
  })

  it("connect data larger than the buffers: all of it, counted", async () => {
    const data = pattern(SIZE, 3)
    const { server, connected } = await pair(data)
    expectSame(await receiveExactly(server, SIZE), data)
    expect(await connected).toEqual({ status: 0, bytes: SIZE })
  })
})

describe("POSIX driver: an error reported early is owed to the next call, once", () => {
  /** What connect keeps when the peer reset the connection as it was made (SO_ERROR read it out of the kernel). */
  const owe = (socket: NativeSocket, code: number) => void ((socket as NativeSocket & { deferredError: number }).deferredError = code)

  it("tryReceive and trySend report it, then go on as the socket is", async () => {
    const { client } = await pair()
    owe(client, wsa.WSAECONNRESET)
    expect(driver.tryReceive!(client, 16)).toMatchObject({ status: wsa.WSAECONNRESET, bytes: 0 })
    expect(driver.tryReceive!(client, 16)).toBeUndefined()
    owe(client, wsa.WSAECONNRESET)
    expect(driver.trySend!(client, new Uint8Array([1]))).toEqual({ status: wsa.WSAECONNRESET, bytes: 0 })
    expect(driver.trySend!(client, new Uint8Array([1]))).toEqual({ status: 0, bytes: 1 })
  })

  it("a receive after a short read still reports it at once, not after a wait", async () => {
    const { client, server } = await pair()
    expect(await completionOf((done) => driver.send(server, new Uint8Array([9]), done))).toEqual({ status: 0, bytes: 1 })
    // a short read: the next receive would go straight to its wait
    expect((await completionOf((done) => driver.receive(client, 16, done))).bytes).toBe(1)
    owe(client, wsa.WSAECONNRESET)
    let now: Completion | undefined
    driver.receive(client, 16, (c) => (now = c))
    expect(now).toMatchObject({ status: wsa.WSAECONNRESET, bytes: 0 })
  })

  it("an owned send reports it before sending anything; the next one sends", async () => {
    const { client, server } = await pair()
    owe(client, wsa.WSAECONNRESET)
    let now: Completion | undefined
    driver.send(client, new Uint8Array([1, 2]), (c) => (now = c), true)
    expect(now).toEqual({ status: wsa.WSAECONNRESET, bytes: 0 })
    expect(await completionOf((done) => driver.send(client, new Uint8Array([3]), done, true))).toEqual({ status: 0, bytes: 1 })
    expect(Array.from(await receiveExactly(server, 1))).toEqual([3])
  })
})
