/**
 * AcceptEx on the Windows driver used directly (no Effect): the accepting socket opened in advance and counted,
 * the completion through the port with the listener's key and the operation's OVERLAPPED, SO_UPDATE_ACCEPT_CONTEXT
 * (getpeername and SO_CONNECT_TIME work at once), GetAcceptExSockaddrs' peer, receive-with-accept, CancelIoEx and
 * closesocket with accepts pending (995, everything freed), several AcceptEx posted at once. Windows only: run
 * on Linux with `npm run test:windows` (Wine).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as net from "node:net"
import type { NativeSocket } from "../../src/native/Driver.js"
import type { Entry, WindowsDriver, WindowsTestHooks } from "../../src/native/windows/driver.js"
import { sleep, started, within } from "./support/operations.js"
import { makeIpv4 } from "@effect-connectex/core"

const isWindows = process.platform === "win32"
const OPERATION_ABORTED = 995
const NOT_CONNECTED = 0xffffffff

/** A node:net client: connects, optionally writes, and keeps the socket for the test to end. */
const client = (port: number, data?: string) =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      if (data !== undefined) socket.write(data)
      resolve(socket)
    })
    socket.on("error", reject)
  })

describe.skipIf(!isWindows)("AcceptEx (win32 only: real ws2_32 + IOCP)", () => {
  let driver: WindowsDriver
  let hooks: WindowsTestHooks

  beforeAll(async () => {
    const { makeWindowsDriver, windowsTestHooks } = await import("../../src/native/windows/driver.js")
    driver = makeWindowsDriver()
    hooks = windowsTestHooks(driver)
    expect(driver.startup()).toBe(0)
  })

  afterAll(() => driver.cleanup())

  const listening = (): { readonly socket: NativeSocket; readonly port: number } => {
    const opened = driver.open("ipv4")
    if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
    expect(driver.bind(opened.value, makeIpv4("127.0.0.1", 0), false)).toBe(0)
    expect(driver.listen(opened.value, 16)).toBe(0)
    const local = driver.localAddress(opened.value)
    if (!local.ok) throw new Error(`getsockname failed: ${local.code}`)
    return { socket: opened.value, port: local.value.port }
  }

  it("completes through the port with the listener's key; the accepted socket is updated and counted", async () => {
    const baseline = driver.liveAllocations()
    const listener = listening()
    const entries: Array<Entry> = []
    hooks.onEntry((entry) => entries.push(entry))
    const accept = started((done) => driver.accept(listener.socket, 0, done))
    expect(accept.operation.kind).toBe("accept")
    expect(accept.operation.overlapped).not.toBe(0n)
    // the listener, the accepting socket opened in advance, the operation's block
    expect(driver.liveAllocations()).toBe(baseline + 3)
    const peer = await client(listener.port)
    const result = await accept.completion
    hooks.onEntry(undefined)
    expect(result.status).toBe(0)
    const accepted = result.accepted!
    expect(accepted.peer.port).toBe(peer.localPort)
    expect(accepted.peer.host).toBe("127.0.0.1")
    const entry = entries.find((e) => e.overlapped === accept.operation.overlapped)
    expect(entry?.key).toBe(hooks.handleOf(listener.socket))
    expect(driver.liveAllocations()).toBe(baseline + 2) // the block freed once dequeued
    // SO_UPDATE_ACCEPT_CONTEXT applied: getpeername, getsockname and SO_CONNECT_TIME answer at once
    const peerAddress = driver.peerAddress(accepted.socket)
    expect(peerAddress.ok && peerAddress.value.port).toBe(peer.localPort)
    const local = driver.localAddress(accepted.socket)
    expect(local.ok && local.value.port).toBe(listener.port)
    const connectTime = hooks.rawConnectTime(accepted.socket)
    expect(connectTime.ok && connectTime.value).not.toBe(NOT_CONNECTED)
    peer.destroy()
    driver.close(accepted.socket)
    driver.close(listener.socket)
    expect(driver.liveAllocations()).toBe(baseline)
  })

  it("receive-with-accept: completes with the client's first bytes", async () => {
    const listener = listening()
    const accept = started((done) => driver.accept(listener.socket, 64, done))
    const peer = await client(listener.port)
    // AcceptEx with a receive waits for the data: the connection alone does not complete it
    expect(await within(accept.completion, 200)).toBe("timeout")
    peer.write("first bytes")
    const result = await accept.completion
    expect(result.status).toBe(0)
    expect(new TextDecoder().decode(result.data)).toBe("first bytes")
    expect(result.bytes).toBe(11)
    peer.destroy()
    driver.close(result.accepted!.socket)
    driver.close(listener.socket)
  })

  it("CancelIoEx on a pending AcceptEx: 995 once, the accepting socket closed, memory freed", async () => {
    const baseline = driver.liveAllocations()
    const listener = listening()
    const accept = started((done) => driver.accept(listener.socket, 16, done))
    expect(await within(accept.completion, 100)).toBe("timeout")
    accept.operation.cancel()
    accept.operation.cancel()
    expect((await accept.completion).status).toBe(OPERATION_ABORTED)
    expect(driver.liveAllocations()).toBe(baseline + 1) // the listener only
    driver.close(listener.socket)
    expect(driver.liveAllocations()).toBe(baseline)
  })

  it("closing the listener with several AcceptEx posted completes each with 995", async () => {
    const baseline = driver.liveAllocations()
    const listener = listening()
    const accepts = [0, 1, 2, 3].map(() => started((done) => driver.accept(listener.socket, 0, done)))
    expect(hooks.stats().pending).toBeGreaterThanOrEqual(4)
    // several posted at once: two clients are taken by two of them
    const peers = [await client(listener.port), await client(listener.port)]
    const firstTwo = await Promise.all(accepts.slice(0, 2).map((a) => a.completion))
    expect(firstTwo.map((c) => c.status)).toEqual([0, 0])
    driver.close(listener.socket)
    const rest = await Promise.all(accepts.slice(2).map((a) => a.completion))
    expect(rest.map((c) => c.status)).toEqual([OPERATION_ABORTED, OPERATION_ABORTED])
    for (const c of firstTwo) driver.close(c.accepted!.socket)
    for (const p of peers) p.destroy()
    for (let i = 0; i < 100 && driver.liveAllocations() !== baseline; i++) await sleep(5)
    expect(driver.liveAllocations()).toBe(baseline)
  })
})
