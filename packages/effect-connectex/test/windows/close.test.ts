/**
 * Closing sockets over the real Windows driver: with a send in flight, and with a child process started
 * while they were open. Windows only: run on Linux with `npm run test:windows` (Wine).
 *
 * Found by the shutdown soak under Wine 8: a socket closed while its overlapped WSASend was still feeding a
 * peer that reads nothing (the receiver's buffers still growing) now and then never got the send's
 * completion packet, so the operation stayed pending for ever and the layer's close, which waits for every
 * pending operation, hung (about one close in a hundred). Windows completes every pending operation of a
 * socket it closes; the driver now cancels them (CancelIoEx) before closesocket under Wine.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, ManagedRuntime, Scope } from "effect"
import { spawn } from "node:child_process"
import * as net from "node:net"
import { ConnectEx, Iocp, Socket, SocketAddress } from "../../src/index.js"

const isWindows = process.platform === "win32"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe.skipIf(!isWindows)("closing a socket with a send in flight (win32 only)", () => {
  it("the send completes (aborted) every time, and the layer closes", async () => {
    const peers = new Set<net.Socket>()
    // a peer that reads nothing: the 4 MiB sends stay in flight while its buffers fill
    const server = net.createServer((peer) => {
      peers.add(peer)
      peer.on("error", () => {})
      peer.pause()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = SocketAddress.ipv4("127.0.0.1", (server.address() as net.AddressInfo).port)
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const bytes = new Uint8Array(4 << 20)
    const stuck: Array<string> = []
    try {
      // 8 connections at a time, each closed 0-29 ms after its send started: 480 closes
      for (let round = 0; round < 60 && stuck.length === 0; round++) {
        await Promise.all(Array.from({ length: 8 }, async (_, i) => {
          const scope = await runtime.runPromise(Scope.make())
          const { socket } = await runtime.runPromise(Scope.extend(ConnectEx.dial(address), scope))
          const sending = runtime.runFork(Socket.send(socket, bytes))
          await sleep((round * 8 + i) % 30)
          await runtime.runPromise(Scope.close(scope, Exit.void))
          const outcome = await Promise.race([runtime.runPromise(Fiber.await(sending)).then(() => "completed"), sleep(2_000).then(() => "stuck")])
          if (outcome === "stuck") stuck.push(`round ${round}, connection ${i}: the send never completed`)
        }))
        for (const peer of peers) peer.destroy()
        peers.clear()
      }
      expect(stuck).toEqual([])
      const after = await runtime.runPromise(Iocp.stats)
      expect(after.pending).toBe(0)
      expect(after.sockets).toBe(0)
    } finally {
      const closed = await Promise.race([runtime.dispose().then(() => "closed"), sleep(5_000).then(() => "hung")])
      for (const peer of peers) peer.destroy()
      server.close()
      expect(closed).toBe("closed")
    }
  }, 120_000)

  // Found by the soak's idle section under Wine: a serve's posted accepts were made before the soak started its
  // clients' process, which inherited their handles (WSASocketW makes inheritable handles unless told not
  // to), so those connections stayed open after the server closed them: their clients never saw the close.
  // As libuv (and POSIX's SOCK_CLOEXEC), the driver's sockets are not inherited.
  it("a socket closed while a child process started after it lives: its peer sees the close (the handle is not inherited)", async () => {
    const ends: Array<Promise<string>> = []
    const server = net.createServer((peer) => {
      peer.on("error", () => {})
      ends.push(new Promise((resolve) => peer.once("close", () => resolve("closed"))))
      peer.resume()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = SocketAddress.ipv4("127.0.0.1", (server.address() as net.AddressInfo).port)
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const scope = await runtime.runPromise(Scope.make())
    let child: ReturnType<typeof spawn> | undefined
    try {
      await runtime.runPromise(Scope.extend(ConnectEx.dial(address), scope))
      for (let i = 0; i < 100 && ends.length === 0; i++) await sleep(10)
      // a child process that outlives the close, started while the connection is open
      child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" })
      await new Promise((resolve) => child!.once("spawn", resolve))
      await runtime.runPromise(Scope.close(scope, Exit.void))
      const seen = await Promise.race([ends[0]!, sleep(3_000).then(() => "still open")])
      expect(seen).toBe("closed")
    } finally {
      child?.kill()
      await runtime.runPromise(Scope.close(scope, Exit.void))
      await runtime.dispose()
      server.close()
    }
  }, 60_000)
})
