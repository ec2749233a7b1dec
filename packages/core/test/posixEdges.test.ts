/**
 * The POSIX driver's edges on 127.0.0.1: what a cancelled accept leaves in the listener's queue, a closed
 * listener whose descriptor number was taken again, a socket that does not listen; a reusing disconnect that
 * ends at the peer's FIN or reset (not at its bound) and leaves no timer behind; options read back where a
 * default would hide a wrong one.
 */
import { describe, expect, it } from "vitest"
import { wsa } from "../src/errors/codes.js"
import { OPERATION_ABORTED } from "../src/native/Driver.js"
import { libc, SO_LINGER, SO_RCVBUF, SO_SNDBUF, SOL_SOCKET } from "../src/native/posix/libc.js"
import { makeIpv4 } from "../src/address.js"
import type { NativeSocket } from "../src/native/Driver.js"
import { completionOf, loopbackDriver } from "./support/posixLoopback.js"

const { driver, open, adopt, listening, pair } = loopbackDriver()
// A bound far beyond a test's time: a disconnect that completes did so because of the peer, not the bound.
const patient = loopbackDriver({ finWaitMs: 60_000 })

const fdOf = (socket: NativeSocket): number => (socket as NativeSocket & { readonly fd: number }).fd

const intOption = (socket: NativeSocket, name: number, size = 4): Buffer => {
  const value = Buffer.alloc(size)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(size, 0)
  expect(libc.getsockopt(fdOf(socket), SOL_SOCKET, name, value, length)).toBe(0)
  return value
}

describe("POSIX driver: accept, at its edges", () => {
  it("an accept with first bytes, cancelled: 995, and the connections still queued stay queued", async () => {
    const listener = listening()
    for (let i = 0; i < 2; i++) {
      const client = open()
      expect((await completionOf((done) => driver.connect(client, listener.address, undefined, done))).status).toBe(0)
    }
    let cancelled: unknown
    const accept = driver.accept(listener.socket, 8, (c) => (cancelled = c))
    accept.cancel()
    expect(cancelled).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    // the second client is still there for the next accept
    const next = driver.tryAccept!(listener.socket)
    expect(next?.status).toBe(0)
    adopt(next!)
  })

  it("an accept with first bytes that skipped a reset client and waits on the next: cancelled, that one is closed", async () => {
    const listener = listening()
    const resetting = open()
    await completionOf((done) => driver.connect(resetting, listener.address, undefined, done))
    expect(driver.setOption(resetting, "SO_LINGER", 0)).toBe(0)
    driver.close(resetting)
    const quiet = open()
    await completionOf((done) => driver.connect(quiet, listener.address, undefined, done))
    const before = driver.liveAllocations()
    let cancelled: unknown
    const accept = driver.accept(listener.socket, 8, (c) => (cancelled = c))
    accept.cancel()
    expect(cancelled).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    // the half-accepted socket is closed: the quiet client reads its end, and the driver holds what it held
    expect((await completionOf((done) => driver.receive(quiet, 4, done))).bytes).toBe(0)
    expect(driver.liveAllocations()).toBe(before)
  })

  it("a closed listener whose descriptor number another socket took: tryAccept says WSAENOTSOCK, never looks", () => {
    const listener = listening()
    driver.close(listener.socket)
    const successor = open()
    expect(fdOf(successor)).toBe(fdOf(listener.socket))
    expect(driver.tryAccept!(listener.socket)).toEqual({ status: wsa.WSAENOTSOCK, bytes: 0 })
  })

  it("tryAccept on a socket that does not listen is the kernel's WSAEINVAL, not an empty queue", () => {
    const socket = open()
    expect(driver.bind(socket, makeIpv4("127.0.0.1", 0), false)).toBe(0)
    expect(driver.tryAccept!(socket)).toEqual({ status: wsa.WSAEINVAL, bytes: 0 })
  })
})

describe("POSIX driver: a reusing disconnect ends with the peer, not at its bound", () => {
  it("the peer's data, then its FIN: complete at the FIN, the socket free to connect again", async () => {
    const { client, server, listener } = await patient.pair()
    const disconnect = completionOf((done) => patient.driver.disconnect(client, true, done))
    let settled = false
    void disconnect.then(() => (settled = true))
    await completionOf((done) => patient.driver.send(server, new Uint8Array(64 * 1024).fill(1), done))
    // data is read and dropped; only the FIN ends the wait
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    expect(patient.driver.shutdownSend(server)).toBe(0)
    expect(await disconnect).toEqual({ status: 0, bytes: 0 })
    expect((await completionOf((done) => patient.driver.connect(client, listener.address, undefined, done))).status).toBe(0)
    patient.adopt(await completionOf((done) => patient.driver.accept(listener.socket, 0, done)))
  })

  it("the peer's reset: complete at once", async () => {
    const { client, server } = await patient.pair()
    const disconnect = completionOf((done) => patient.driver.disconnect(client, true, done))
    expect(patient.driver.setOption(server, "SO_LINGER", 0)).toBe(0)
    patient.driver.close(server)
    expect(await disconnect).toEqual({ status: 0, bytes: 0 })
  })

  it("complete in the call (the peer had closed): no bound left to fire on the socket's next connection", async () => {
    const { client, server, listener } = await pair()
    driver.close(server)
    // the FIN is there: the disconnect completes in the call
    await new Promise((resolve) => setTimeout(resolve, 10))
    let now: unknown
    driver.disconnect(client, true, (c) => (now = c))
    expect(now).toEqual({ status: 0, bytes: 0 })
    expect((await completionOf((done) => driver.connect(client, listener.address, undefined, done))).status).toBe(0)
    const again = adopt(await completionOf((done) => driver.accept(listener.socket, 0, done)))
    // past the bound (30 ms): a stray timer would have aborted this connection
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await completionOf((done) => driver.send(client, new Uint8Array([5]), done))).toEqual({ status: 0, bytes: 1 })
    const got = await completionOf((done) => driver.receive(again, 4, done))
    expect([got.status, Array.from(got.data ?? [])]).toEqual([0, [5]])
  })
})

describe("POSIX driver: options read back", () => {
  it("SO_SNDBUF and SO_RCVBUF each set their own buffer (values away from the defaults)", () => {
    const socket = open()
    const rcvbuf = intOption(socket, SO_RCVBUF).readInt32LE(0)
    expect(driver.setOption(socket, "SO_SNDBUF", 48 * 1024)).toBe(0)
    // Linux doubles the size it is given
    expect(intOption(socket, SO_SNDBUF).readInt32LE(0)).toBe(96 * 1024)
    expect(intOption(socket, SO_RCVBUF).readInt32LE(0)).toBe(rcvbuf)
    expect(driver.setOption(socket, "SO_RCVBUF", 40 * 1024)).toBe(0)
    expect(intOption(socket, SO_RCVBUF).readInt32LE(0)).toBe(80 * 1024)
    expect(intOption(socket, SO_SNDBUF).readInt32LE(0)).toBe(96 * 1024)
  })

  it("SO_LINGER 0 is on with no time (the hard close); false is off", () => {
    const socket = open()
    expect(driver.setOption(socket, "SO_LINGER", 0)).toBe(0)
    const linger = intOption(socket, SO_LINGER, 8)
    expect([linger.readInt32LE(0), linger.readInt32LE(4)]).toEqual([1, 0])
    expect(driver.setOption(socket, "SO_LINGER", false)).toBe(0)
    expect(intOption(socket, SO_LINGER, 8).readInt32LE(0)).toBe(0)
  })
})
