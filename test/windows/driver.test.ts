/**
 * The Windows driver used directly (no Effect layers): real ws2_32 ConnectEx, DisconnectEx, WSASend/WSARecv
 * and a real I/O completion port, against a loopback node:net server. Windows only: run on Linux with
 * `npm run test:windows` (Wine).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as net from "node:net"
import type { Completion, NativeSocket } from "../../packages/core/src/native/Driver.js"
import type { Entry, WindowsDriver, WindowsInFlight, WindowsTestHooks } from "../../packages/core/src/native/windows/driver.js"
import * as SocketAddress from "../../packages/effect-connectex/src/SocketAddress.js"

const isWindows = process.platform === "win32"

const WSAECONNREFUSED = 10061
const OPERATION_ABORTED = 995
const NOT_CONNECTED = 0xffffffff

interface Started {
  readonly operation: WindowsInFlight
  readonly completion: Promise<Completion>
}

const started = (start: (done: (completion: Completion) => void) => WindowsInFlight): Started => {
  let resolve: (completion: Completion) => void = () => {}
  let calls = 0
  const completion = new Promise<Completion>((r) => {
    resolve = r
  })
  const operation = start((c) => {
    calls++
    if (calls > 1) throw new Error("done called twice")
    resolve(c)
  })
  return { operation, completion }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resolves with "timeout" when the completion did not come within `ms`. */
const within = <A>(promise: Promise<A>, ms: number): Promise<A | "timeout"> =>
  Promise.race([promise, sleep(ms).then(() => "timeout" as const)])

describe.skipIf(!isWindows)("Windows driver (win32 only: real ws2_32 + IOCP)", () => {
  let driver: WindowsDriver
  let hooks: WindowsTestHooks
  let server: net.Server
  let serverAddress: SocketAddress.SocketAddress
  const received: Array<string> = []
  const serverSockets = new Set<net.Socket>()

  beforeAll(async () => {
    const { makeWindowsDriver, windowsTestHooks } = await import("../../packages/core/src/native/windows/driver.js")
    driver = makeWindowsDriver()
    hooks = windowsTestHooks(driver)
    expect(driver.startup()).toBe(0)
    server = net.createServer((socket) => {
      serverSockets.add(socket)
      socket.on("close", () => serverSockets.delete(socket))
      socket.on("error", () => {})
      socket.on("data", (chunk) => {
        const text = chunk.toString("latin1")
        received.push(text)
        if (text.startsWith("echo:")) socket.write(text.slice(5))
        if (text === "bye") socket.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const info = server.address() as net.AddressInfo
    serverAddress = SocketAddress.ipv4("127.0.0.1", info.port)
  })

  afterAll(async () => {
    for (const socket of serverSockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    driver.cleanup()
  })

  const openBound = (): NativeSocket => {
    const opened = driver.open("ipv4")
    if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
    expect(driver.bind(opened.value, SocketAddress.ipv4("127.0.0.1", 0), true)).toBe(0)
    return opened.value
  }

  /** A listener with backlog 0 that never accepts, with one connection queued: the next ConnectEx pends. */
  const saturatedListener = async (): Promise<{ readonly address: SocketAddress.SocketAddress; readonly close: () => void }> => {
    const listener = openBound()
    expect(driver.listen(listener, 0)).toBe(0)
    const local = driver.localAddress(listener)
    if (!local.ok) throw new Error(`getsockname failed: ${local.code}`)
    const first = openBound()
    const queued = started((done) => driver.connect(first, local.value, undefined, done))
    expect((await queued.completion).status).toBe(0)
    return {
      address: local.value,
      close: () => {
        driver.close(first)
        driver.close(listener)
      }
    }
  }

  it("ConnectEx completes through the port with the socket's key and the operation's OVERLAPPED", async () => {
    const baseline = driver.liveAllocations()
    const socket = openBound()
    const entries: Array<Entry> = []
    hooks.onEntry((entry) => entries.push(entry))
    const raw = hooks.rawConnectTime(socket)
    expect(raw).toEqual({ ok: true, value: NOT_CONNECTED })
    expect(driver.connectTime!(socket)).toEqual({ ok: true, value: undefined })

    const { operation, completion } = started((done) =>
      driver.connect(socket, serverAddress, new TextEncoder().encode("hello"), done)
    )
    expect(operation.overlapped).not.toBe(0n)
    expect(driver.liveAllocations()).toBe(baseline + 2) // the socket and the operation's block
    const result = await completion
    hooks.onEntry(undefined)
    expect(result).toEqual({ status: 0, bytes: 5 })

    const entry = entries.find((e) => e.overlapped === operation.overlapped)
    expect(entry).toBeDefined()
    expect(entry!.key).toBe(hooks.handleOf(socket))
    expect(entry!.bytes).toBe(5)
    expect(driver.liveAllocations()).toBe(baseline + 1) // the block was freed once dequeued

    // SO_UPDATE_CONNECT_CONTEXT was applied: getpeername and SO_CONNECT_TIME work at once
    const peer = driver.peerAddress(socket)
    expect(peer.ok && SocketAddress.format(peer.value)).toBe(SocketAddress.format(serverAddress))
    const connected = hooks.rawConnectTime(socket)
    expect(connected.ok).toBe(true)
    expect(connected.ok && connected.value).not.toBe(NOT_CONNECTED)
    expect(connected.ok && connected.value).toBeLessThan(5)

    for (let i = 0; i < 50 && !received.includes("hello"); i++) await sleep(10)
    expect(received).toContain("hello")
    driver.close(socket)
    expect(driver.liveAllocations()).toBe(baseline)
  })

  it("a refused ConnectEx completes with WSAECONNREFUSED, and the socket may connect again", async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve))
    const port = (closed.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))

    const socket = openBound()
    const refused = started((done) => driver.connect(socket, SocketAddress.ipv4("127.0.0.1", port), undefined, done))
    expect((await refused.completion).status).toBe(WSAECONNREFUSED)
    expect(driver.resetConnect(socket)).toBe(0)
    const again = started((done) => driver.connect(socket, serverAddress, undefined, done))
    expect((await again.completion).status).toBe(0)
    driver.close(socket)
  })

  it("CancelIoEx on a pending ConnectEx completes it once with 995 and frees its memory", async () => {
    const listener = await saturatedListener()
    const baseline = driver.liveAllocations()
    const socket = openBound()
    const pending = started((done) => driver.connect(socket, listener.address, undefined, done))
    expect(await within(pending.completion, 300)).toBe("timeout")
    expect(hooks.stats().pending).toBe(1)
    pending.operation.cancel()
    pending.operation.cancel() // idempotent
    expect((await pending.completion).status).toBe(OPERATION_ABORTED)
    expect(driver.liveAllocations()).toBe(baseline + 1)
    driver.close(socket)
    listener.close()
    expect(driver.liveAllocations()).toBe(baseline - 2)
  })

  it("closesocket while a ConnectEx is pending completes it with 995", async () => {
    const listener = await saturatedListener()
    const baseline = driver.liveAllocations()
    const socket = openBound()
    const pending = started((done) => driver.connect(socket, listener.address, undefined, done))
    expect(await within(pending.completion, 200)).toBe("timeout")
    driver.close(socket)
    expect((await pending.completion).status).toBe(OPERATION_ABORTED)
    expect(driver.liveAllocations()).toBe(baseline)
    listener.close()
  })

  it("WSASend and WSARecv through the port; an empty receive when the peer closes", async () => {
    const socket = openBound()
    expect((await started((done) => driver.connect(socket, serverAddress, undefined, done)).completion).status).toBe(0)
    const sent = await started((done) => driver.send(socket, new TextEncoder().encode("echo:ping"), done)).completion
    expect(sent).toEqual({ status: 0, bytes: 9 })
    const echoed = await started((done) => driver.receive(socket, 64, done)).completion
    expect(echoed.status).toBe(0)
    expect(new TextDecoder().decode(echoed.data)).toBe("ping")
    await started((done) => driver.send(socket, new TextEncoder().encode("bye"), done)).completion
    const end = await started((done) => driver.receive(socket, 64, done)).completion
    expect(end.status).toBe(0)
    expect(end.data?.length).toBe(0)
    driver.close(socket)
  })

  it("a pending WSARecv is cancelled with 995", async () => {
    const socket = openBound()
    expect((await started((done) => driver.connect(socket, serverAddress, undefined, done)).completion).status).toBe(0)
    const pending = started((done) => driver.receive(socket, 64, done))
    expect(await within(pending.completion, 100)).toBe("timeout")
    pending.operation.cancel()
    expect((await pending.completion).status).toBe(OPERATION_ABORTED)
    driver.close(socket)
  })

  it("DisconnectEx(TF_REUSE_SOCKET) then ConnectEx again on the same socket (Wine: no reuse)", async () => {
    const socket = openBound()
    expect((await started((done) => driver.connect(socket, serverAddress, undefined, done)).completion).status).toBe(0)
    const before = serverSockets.size
    const disconnected = await started((done) => driver.disconnect(socket, true, done)).completion
    expect(driver.connectTime!(socket)).toEqual({ ok: true, value: undefined })
    if (hooks.wine !== undefined) {
      // Wine's DisconnectEx is shutdown(SD_SEND) ("Reusing socket not supported yet"): the socket stays
      // connected, so the driver says at once that the reuse cannot happen (WSAEOPNOTSUPP)
      expect(disconnected.status).toBe(10045)
      const again = await started((done) => driver.connect(socket, serverAddress, undefined, done)).completion
      expect(again.status).toBe(10056)
      expect(before).toBeGreaterThan(0)
    } else {
      expect(disconnected.status).toBe(0)
      const again = await started((done) => driver.connect(socket, serverAddress, new TextEncoder().encode("again"), done))
        .completion
      expect(again).toEqual({ status: 0, bytes: 5 })
      const peer = driver.peerAddress(socket)
      expect(peer.ok && SocketAddress.format(peer.value)).toBe(SocketAddress.format(serverAddress))
      expect(driver.connectTime!(socket)).toMatchObject({ ok: true, value: expect.any(Number) })
    }
    driver.close(socket)
  })

  it("GetQueuedCompletionStatusEx returns many completions per call", async () => {
    const before = hooks.stats()
    const count = 32
    const sockets = Array.from({ length: count }, openBound)
    const all = sockets.map((socket) => started((done) => driver.connect(socket, serverAddress, undefined, done)))
    const results = await Promise.all(all.map((s) => s.completion))
    expect(results.every((r) => r.status === 0)).toBe(true)
    const after = hooks.stats()
    const polls = after.polls - before.polls
    expect(after.entries - before.entries).toBeGreaterThanOrEqual(count)
    expect(polls).toBeLessThan(count)
    expect(after.maxBatch).toBeGreaterThan(1)
    for (const socket of sockets) driver.close(socket)
  })

  it("the poller stops when nothing is pending (an idle process can exit)", async () => {
    await sleep(20)
    const stats = hooks.stats()
    expect(stats.pending).toBe(0)
    expect(stats.polling).toBe(false)
  })
})

describe.skipIf(!isWindows)("Windows driver cleanup (win32 only)", () => {
  it("cleanup with a completion still queued closes the port only after draining it", async () => {
    const { makeWindowsDriver, windowsTestHooks } = await import("../../packages/core/src/native/windows/driver.js")
    const driver = makeWindowsDriver()
    expect(driver.startup()).toBe(0)
    const listener = driver.open("ipv4")
    if (!listener.ok) throw new Error("open")
    expect(driver.bind(listener.value, SocketAddress.ipv4("127.0.0.1", 0), true)).toBe(0)
    expect(driver.listen(listener.value, 0)).toBe(0)
    const local = driver.localAddress(listener.value)
    if (!local.ok) throw new Error("getsockname")
    const sockets: Array<NativeSocket> = []
    const results: Array<Promise<Completion>> = []
    for (let i = 0; i < 3; i++) {
      const opened = driver.open("ipv4")
      if (!opened.ok) throw new Error("open")
      expect(driver.bind(opened.value, SocketAddress.ipv4("127.0.0.1", 0), true)).toBe(0)
      sockets.push(opened.value)
      results.push(started((done) => driver.connect(opened.value, local.value, undefined, done)).completion)
    }
    await sleep(100)
    for (const socket of sockets) driver.close(socket)
    driver.close(listener.value)
    driver.cleanup()
    const statuses = (await Promise.all(results)).map((r) => r.status)
    expect(statuses.filter((s) => s === OPERATION_ABORTED).length).toBeGreaterThanOrEqual(1)
    expect(driver.liveAllocations()).toBe(0)
    expect(windowsTestHooks(driver).portHandle()).toBeUndefined()
  })
})
