/**
 * The POSIX driver's defaults, each seen from a driver made inside the test (a driver made at import time is
 * no test's to the mutation run's per-test coverage): its capabilities, the disconnect bound it is given, and
 * Fast Open asked for only when a socket was told to use it and a connect has bytes to send.
 */
import { describe, expect, it } from "vitest"
import { makeIpv4 } from "../src/address.js"
import type { Driver, NativeSocket } from "../src/native/Driver.js"
import { makePosixDriver } from "../src/native/posix/driver.js"
import { IPPROTO_TCP, libc, TCP_FASTOPEN_CONNECT } from "../src/native/posix/libc.js"
import { completionOf, must } from "./support/posixLoopback.js"

/** Runs `body` with a driver of its own, closing what it opened; the driver must hold nothing after. */
const withDriver = async (driver: Driver, body: (open: () => NativeSocket) => Promise<void>): Promise<void> => {
  const opened: Array<NativeSocket> = []
  try {
    await body(() => {
      const socket = must(driver.open("ipv4"))
      opened.push(socket)
      return socket
    })
  } finally {
    for (const socket of opened) driver.close(socket)
  }
  expect(driver.liveAllocations()).toBe(0)
}

const connectedPair = async (driver: Driver, open: () => NativeSocket, data?: Uint8Array) => {
  const listener = open()
  expect(driver.bind(listener, makeIpv4("127.0.0.1", 0), false)).toBe(0)
  expect(driver.listen(listener, 16)).toBe(0)
  const client = open()
  const connected = await completionOf((done) => driver.connect(client, must(driver.localAddress(listener)), data, done))
  expect(connected.status).toBe(0)
  const accepted = await completionOf((done) => driver.accept(listener, 0, done))
  const server = accepted.accepted?.socket
  if (server === undefined) throw new Error(`accept: ${accepted.status}`)
  return { client, server }
}

const fastOpenAsked = (socket: NativeSocket): number => {
  const value = Buffer.alloc(4)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(4, 0)
  expect(libc.getsockopt((socket as NativeSocket & { readonly fd: number }).fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, value, length)).toBe(0)
  return value.readInt32LE(0)
}

describe("POSIX driver: its defaults", () => {
  it("says what it can do: one posted accept, SO_REUSEADDR by default", () => {
    const driver = makePosixDriver()
    expect(driver.capabilities).toEqual({ postedAccepts: 1, reuseAddressByDefault: true })
  })

  it("the disconnect bound it is given: a reusing disconnect from a silent peer ends after it, not after 2 s", async () => {
    const driver = makePosixDriver({ finWaitMs: 40 })
    await withDriver(driver, async (open) => {
      const { client, server } = await connectedPair(driver, open)
      const started = Date.now()
      expect(await completionOf((done) => driver.disconnect(client, true, done))).toEqual({ status: 0, bytes: 0 })
      expect(Date.now() - started).toBeGreaterThanOrEqual(35)
      expect(Date.now() - started).toBeLessThan(1_500)
      driver.close(server)
    })
  })

  it("Fast Open only for a socket told to use it, and only for a connect with bytes to send", async () => {
    const driver = makePosixDriver()
    await withDriver(driver, async (open) => {
      const { client: untold, server: a } = await connectedPair(driver, open, new Uint8Array([1, 2]))
      expect(fastOpenAsked(untold)).toBe(0)
      const told = open()
      expect(driver.setOption(told, "TCP_FASTOPEN", true)).toBe(0)
      const listener = open()
      expect(driver.bind(listener, makeIpv4("127.0.0.1", 0), false)).toBe(0)
      expect(driver.listen(listener, 4)).toBe(0)
      const connected = await completionOf((done) => driver.connect(told, must(driver.localAddress(listener)), new Uint8Array(0), done))
      expect(connected).toEqual({ status: 0, bytes: 0 })
      expect(fastOpenAsked(told)).toBe(0)
      const b = await completionOf((done) => driver.accept(listener, 0, done))
      for (const socket of [a, b.accepted?.socket]) if (socket !== undefined) driver.close(socket)
    })
  })
})
