/**
 * The Windows driver's data-path fast paths used directly (no Effect): `trySend` (a non-overlapped send on
 * the non-blocking socket, libuv's uv_try_write) and `tryReceive` (a non-overlapped recv), against real
 * ws2_32 and a loopback node:net peer. Windows only: run on Linux with `npm run test:windows` (Wine).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as net from "node:net"
import { type Completion, isPartialSend, type NativeSocket } from "../../src/native/Driver.js"
import type { WindowsDriver, WindowsInFlight } from "../../src/native/windows/driver.js"
import { makeIpv4, type SocketAddress } from "@effect-connectex/core"

const isWindows = process.platform === "win32"

const WSAENOTCONN = 10057
const WSAECONNRESET = 10054

const started = (start: (done: (completion: Completion) => void) => WindowsInFlight): Promise<Completion> =>
  new Promise<Completion>((resolve) => {
    start(resolve)
  })

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Bytes 0, 1, ..., 250, 0, 1, ...: a prime period, so that a lost or reordered chunk shows. */
const pattern = (length: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = i % 251
  return bytes
}

describe.skipIf(!isWindows)("Windows driver fast paths (win32 only: non-overlapped send / recv)", () => {
  let driver: WindowsDriver
  let wine: string | undefined
  /** a peer that echoes, and ends when it reads "bye" */
  let echo: net.Server
  let echoAddress: SocketAddress
  /** a peer that reads nothing until told (pauseOnConnect): the sender's buffers fill */
  let stalled: net.Server
  let stalledAddress: SocketAddress
  const stalledPeers: Array<net.Socket> = []
  const peers = new Set<net.Socket>()

  const listen = async (server: net.Server): Promise<SocketAddress> => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return makeIpv4("127.0.0.1", (server.address() as net.AddressInfo).port)
  }

  beforeAll(async () => {
    const { makeWindowsDriver, windowsTestHooks } = await import("../../src/native/windows/driver.js")
    driver = makeWindowsDriver()
    wine = windowsTestHooks(driver).wine
    expect(driver.startup()).toBe(0)
    echo = net.createServer((socket) => {
      peers.add(socket)
      socket.on("error", () => {})
      socket.on("data", (chunk) => {
        const text = chunk.toString("latin1")
        if (text === "bye") socket.end()
        else socket.write(chunk)
      })
    })
    echoAddress = await listen(echo)
    stalled = net.createServer({ pauseOnConnect: true }, (socket) => {
      peers.add(socket)
      socket.on("error", () => {})
      stalledPeers.push(socket)
    })
    stalledAddress = await listen(stalled)
  })

  afterAll(async () => {
    for (const socket of peers) socket.destroy()
    await new Promise<void>((resolve) => echo.close(() => resolve()))
    await new Promise<void>((resolve) => stalled.close(() => resolve()))
    driver.cleanup()
  })

  const connected = async (to: SocketAddress): Promise<NativeSocket> => {
    const opened = driver.open("ipv4")
    if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
    expect(driver.bind(opened.value, makeIpv4("127.0.0.1", 0), true)).toBe(0)
    expect((await started((done) => driver.connect(opened.value, to, undefined, done))).status).toBe(0)
    return opened.value
  }

  /** tryReceive until it has something (data, the end or an error), at most `ms`. */
  const receiveSoon = async (socket: NativeSocket, maxBytes: number, ms = 2000): Promise<Completion | undefined> => {
    for (let waited = 0; waited < ms; waited += 5) {
      const now = driver.tryReceive(socket, maxBytes)
      if (now !== undefined) return now
      await sleep(5)
    }
    return undefined
  }

  it("trySend: the kernel takes small data at once, a finished completion, nothing queued or allocated", async () => {
    const baseline = driver.liveAllocations()
    const socket = await connected(echoAddress)
    const sent = driver.trySend(socket, new TextEncoder().encode("ping"))
    expect(sent).toEqual({ status: 0, bytes: 4 })
    expect(driver.liveAllocations()).toBe(baseline + 1) // the socket only
    const echoed = await receiveSoon(socket, 64)
    expect(new TextDecoder().decode(echoed?.data)).toBe("ping")
    driver.close(socket)
    expect(driver.liveAllocations()).toBe(baseline)
  })

  it("trySend / tryReceive on a socket that is not connected fail with the WSA error, nothing pending", () => {
    const baseline = driver.liveAllocations()
    const opened = driver.open("ipv4")
    if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
    const result = driver.trySend(opened.value, new Uint8Array([1, 2, 3]))
    // Wine's send() on an unconnected socket says WSAECONNRESET (Linux's EPIPE shows through); Windows
    // WSAENOTCONN. The front-end's state machine refuses such a send before any driver is asked.
    expect(isPartialSend(result)).toBe(false)
    expect(result).toEqual({ status: wine === undefined ? WSAENOTCONN : WSAECONNRESET, bytes: 0 })
    const received = driver.tryReceive(opened.value, 16)
    expect(received?.status).toBe(WSAENOTCONN)
    expect(received?.data?.byteLength).toBe(0)
    driver.close(opened.value)
    expect(driver.liveAllocations()).toBe(baseline)
  })

  it(
    "trySend to a peer that does not read: a partial send whose rest is sent without a second copy, in order",
    async () => {
      const baseline = driver.liveAllocations()
      const socket = await connected(stalledAddress)
      for (let i = 0; i < 200 && stalledPeers.length === 0; i++) await sleep(5)
      const peer = stalledPeers.shift()!
      const total = 32 * 1024 * 1024
      const data = pattern(total)
      const first = driver.trySend(socket, data)
      if (!isPartialSend(first)) throw new Error(`expected a partial send, got ${JSON.stringify(first)}`)
      expect(first.sent).toBeLessThan(total)
      expect(first.rest.byteLength).toBe(total - first.sent)
      // the rest is already in its operation's block: the socket and that block
      expect(driver.liveAllocations()).toBe(baseline + 2)
      // the caller's bytes are not read after trySend returned
      data.fill(0xff)

      // in order (the front-end tries no other send meanwhile): the rest, taken over, no new block for its
      // overlapped WSASend, which pends while the peer does not read
      const rest = started((done) => driver.send(socket, first.rest, done, true))
      expect(driver.liveAllocations()).toBe(baseline + 2)

      let got = 0
      let mismatch = -1
      peer.on("data", (chunk: Buffer) => {
        for (let i = 0; i < chunk.length && mismatch < 0; i++) {
          const at = got + i
          if (at < total && chunk[i] !== at % 251) mismatch = at
        }
        got += chunk.length
      })
      peer.resume()
      expect(await rest).toEqual({ status: 0, bytes: total - first.sent })
      for (let i = 0; i < 400 && got < total; i++) await sleep(10)
      expect(got).toBe(total)
      expect(mismatch).toBe(-1)
      expect(driver.liveAllocations()).toBe(baseline + 1)
      driver.close(socket)
      expect(driver.liveAllocations()).toBe(baseline)
    },
    30_000
  )

  it("tryReceive: would block (undefined), then the data, then the end (empty); the overlapped receive still waits", async () => {
    const baseline = driver.liveAllocations()
    const socket = await connected(echoAddress)
    expect(driver.tryReceive(socket, 64)).toBeUndefined()

    // would block: the one overlapped WSARecv waits for the data
    const waiting = started((done) => driver.receive(socket, 64, done))
    expect(driver.trySend(socket, new TextEncoder().encode("first"))).toEqual({ status: 0, bytes: 5 })
    const overlapped = await waiting
    expect(new TextDecoder().decode(overlapped.data)).toBe("first")

    expect(driver.trySend(socket, new TextEncoder().encode("second"))).toEqual({ status: 0, bytes: 6 })
    const data = await receiveSoon(socket, 64 * 1024)
    expect(data?.status).toBe(0)
    expect(new TextDecoder().decode(data?.data)).toBe("second")
    expect(data?.bytes).toBe(6)
    // copied out of the pooled buffer: its own 6 bytes, not a view of 64 KiB
    expect(data?.data?.buffer.byteLength).toBe(6)
    expect(driver.tryReceive(socket, 64)).toBeUndefined()

    expect(driver.trySend(socket, new TextEncoder().encode("bye"))).toEqual({ status: 0, bytes: 3 })
    const end = await receiveSoon(socket, 64)
    expect(end?.status).toBe(0)
    expect(end?.bytes).toBe(0)
    expect(end?.data?.byteLength).toBe(0)
    expect(driver.liveAllocations()).toBe(baseline + 1)
    driver.close(socket)
    expect(driver.liveAllocations()).toBe(baseline)
  })
})
