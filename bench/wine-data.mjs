// The data path under Windows node: round trips of 32 bytes, a bulk send and a bulk receive through
// ConnectEx.dial + Socket.send / Socket.receive, against a node:net peer in a child process (a Linux-side
// peer would need a second Wine node; the child is Windows node too). Also reports how many completion
// packets the port dequeued per round trip (0 when every send and receive finished synchronously).
// Windows only; on Linux run it under Wine with
//   bash scripts/test-windows.sh --node bench/wine-data.mjs [roundTrips] [MiB]
import { fork } from "node:child_process"
import { once } from "node:events"
import * as net from "node:net"
import { fileURLToPath } from "node:url"
import { Effect, ManagedRuntime } from "effect"
import { ConnectEx, Socket, SocketAddress } from "effect-connectex"

if (process.argv[2] === "--peer") {
  // "e": echo; "s": sink of N bytes then one byte back; "r": source of N bytes
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    let mode
    let remaining = 0
    socket.on("data", (chunk) => {
      if (mode === undefined) {
        mode = String.fromCharCode(chunk[0])
        if (mode !== "e") remaining = Number(chunk.readBigUInt64BE(1))
        chunk = chunk.subarray(mode === "e" ? 1 : 9)
        if (mode === "r") {
          const block = Buffer.alloc(64 * 1024, 0x62)
          const pump = () => {
            while (remaining > 0) {
              const n = Math.min(remaining, block.length)
              remaining -= n
              if (!socket.write(n === block.length ? block : block.subarray(0, n))) return socket.once("drain", pump)
            }
          }
          pump()
          return
        }
      }
      if (mode === "e") {
        if (chunk.length > 0) socket.write(chunk)
      } else if (mode === "s") {
        remaining -= chunk.length
        if (remaining <= 0) socket.write(Buffer.from([1]))
      }
    })
    socket.on("error", () => {})
  })
  server.listen(0, "127.0.0.1", () => process.send(server.address().port))
  process.on("disconnect", () => process.exit(0))
} else {
  if (process.platform !== "win32") {
    console.error("wine-data bench: win32 only (use scripts/test-windows.sh --node bench/wine-data.mjs)")
    process.exit(2)
  }
  const roundTrips = Number(process.argv[2] ?? 2000)
  const mib = Number(process.argv[3] ?? 32)
  const peer = fork(fileURLToPath(import.meta.url), ["--peer"], { stdio: ["ignore", "ignore", "ignore", "ipc"] })
  const [port] = await once(peer, "message")
  const target = SocketAddress.ipv4("127.0.0.1", port)
  const CHUNK = 64 * 1024
  const header = (mode, total = 0) => {
    const b = Buffer.alloc(mode === "e" ? 1 : 9)
    b[0] = mode.charCodeAt(0)
    if (mode !== "e") b.writeBigUInt64BE(BigInt(total), 1)
    return b
  }
  const dial = Effect.tap(
    Effect.map(ConnectEx.dial(target), ({ socket }) => socket),
    (socket) => Socket.setOption(socket, "TCP_NODELAY", true)
  )
  const receiveAtLeast = (socket, want) =>
    Effect.gen(function*() {
      let got = 0
      while (got < want) {
        const bytes = yield* Socket.receive(socket, CHUNK)
        if (bytes.byteLength === 0) return yield* Effect.dieMessage(`peer closed after ${got} of ${want}`)
        got += bytes.byteLength
      }
      return got
    })
  const payload = new Uint8Array(32).fill(0x61)
  const chunk = new Uint8Array(CHUNK).fill(0x61)
  const rtt = (n) =>
    Effect.scoped(Effect.gen(function*() {
      const socket = yield* dial
      yield* Socket.send(socket, header("e"))
      let extra = 0
      for (let i = 0; i < n; i++) {
        yield* Socket.send(socket, payload)
        extra += (yield* receiveAtLeast(socket, 32 - extra)) - 32
      }
    }))
  const send = (total) =>
    Effect.scoped(Effect.gen(function*() {
      const socket = yield* dial
      yield* Socket.send(socket, header("s", total))
      for (let sent = 0; sent < total; sent += CHUNK) yield* Socket.send(socket, chunk)
      yield* receiveAtLeast(socket, 1)
    }))
  const receive = (total) =>
    Effect.scoped(Effect.gen(function*() {
      const socket = yield* dial
      yield* Socket.send(socket, header("r", total))
      yield* receiveAtLeast(socket, total)
    }))
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  const time = async (effect) => {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await runtime.runPromise(effect)
    const cpu = process.cpuUsage(cpu0)
    return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 }
  }
  await time(rtt(200))
  const rounds = { rtt: [], send: [], receive: [] }
  for (let round = 0; round < 3; round++) {
    rounds.rtt.push(await time(rtt(roundTrips)))
    rounds.send.push(await time(send(mib * 1024 * 1024)))
    rounds.receive.push(await time(receive(mib * 1024 * 1024)))
  }
  await runtime.dispose()
  peer.disconnect()
  const best = (list) => list.reduce((a, b) => (b.ms < a.ms ? b : a))
  const r = best(rounds.rtt)
  const s = best(rounds.send)
  const v = best(rounds.receive)
  console.log(JSON.stringify({
    bench: "windows data path: Socket.send / Socket.receive against a node:net peer (best of 3)",
    node: process.version,
    roundTrips,
    mib,
    roundTripsPerSec: Math.round(roundTrips / (r.ms / 1000)),
    cpuUsPerRoundTrip: Number(((r.cpuMs * 1000) / roundTrips).toFixed(1)),
    sendMiBPerSec: Math.round(mib / (s.ms / 1000)),
    sendCpuMs: Math.round(s.cpuMs),
    receiveMiBPerSec: Math.round(mib / (v.ms / 1000)),
    receiveCpuMs: Math.round(v.cpuMs),
    rounds
  }))
}
