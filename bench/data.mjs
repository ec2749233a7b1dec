#!/usr/bin/env node
// Using a connection on loopback: round trips, bulk send, bulk receive, for every client, in one run.
//
//   npm run bench:data                    build, then the full sizes (20,000 round trips, 256 MiB each way)
//   node bench/data.mjs --quick           small sizes (after a build), well under 15 s, both front-ends
//   node bench/data.mjs --no-effect4      the Effect 3 front-end only
//   options: --rtt N  --mib M  --runs R (median of R runs by throughput)  --clients a,b,...
//
// Cases, each on one fresh connection to the peer:
//   rtt      N round trips of 32 bytes to an echo (send 32, wait until 32 came back, again)
//   send     M MiB in 64 KiB writes to a sink; done when the sink acknowledges the last byte
//   receive  M MiB from a source, read until the last byte arrived
// Clients:
//   node:net         net.createConnection, write / "data" events (the reference)
//   NodeSocket       @effect/platform-node NodeSocket.makeNet: writer + run
//   Socket           this library's ConnectEx.dial + Socket.send / Socket.receive (64 KiB receives)
//   PlatformSocket   this library's PlatformSocket.fromSocket: writer + run (same code as NodeSocket)
//   Duplex           this library's NodeStream.toDuplex: the node:net client's code over our connection
// The peer is a node:net server in its own child process. The first byte a client sends picks the case
// ("e" echo, "s" sink, "r" source); sink and source then read an 8-byte big-endian byte count.
// CPU is process.cpuUsage() of this (client) process around each run: per round trip, and per 64 KiB
// for the bulk cases. The last line printed is one JSON object with every figure. Nothing here asserts
// timings.
// The Effect 4 front-end runs in the same run: after the clients above, bench/data-effect4.mjs under Node 22
// (BENCH_NODE22, else scripts/install-node22.sh) against the same peer, with the same sizes; its JSON is
// under `effect4` (or `effect4: { skipped: reason }`; --no-effect4 leaves it out), with the ratios
// effect4{Rtt,Send,Receive}VsNet (against node:net in that Node 22 process) and effect4*VsEffect3.

import { fork } from "node:child_process"
import { realpathSync } from "node:fs"
import { once } from "node:events"
import * as net from "node:net"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { dialDuplex, fmt, runUnderNode22, stopPeer } from "./measure.mjs"

export const HOST = "127.0.0.1"
export const RTT_BYTES = 32
export const CHUNK = 64 * 1024

// ---------------------------------------------------------------------------------------------------------
// The peer, in its own process

export function runPeer() {
  const server = net.createServer({ noDelay: true }, (socket) => {
    let header = Buffer.alloc(0)
    let mode
    let total = 0
    let seen = 0
    const source = () => {
      const chunk = Buffer.alloc(CHUNK, 0x62)
      const pump = () => {
        while (seen < total) {
          const n = Math.min(CHUNK, total - seen)
          seen += n
          if (!socket.write(n === CHUNK ? chunk : chunk.subarray(0, n))) return void socket.once("drain", pump)
        }
        socket.end()
      }
      pump()
    }
    const onData = (chunk) => {
      if (mode === "e") return void socket.write(chunk)
      if (mode === "s") {
        seen += chunk.length
        if (seen >= total) socket.write("k")
        return
      }
      if (mode === "r") return
      header = Buffer.concat([header, chunk])
      const kind = String.fromCharCode(header[0])
      if (kind === "e") {
        mode = "e"
        if (header.length > 1) socket.write(header.subarray(1))
        return
      }
      if (header.length < 9) return
      total = Number(header.readBigUInt64BE(1))
      mode = kind
      const rest = header.subarray(9)
      if (mode === "s") {
        onData(rest)
      } else {
        source()
      }
    }
    socket.on("data", onData)
    socket.on("end", () => socket.end())
    socket.on("error", () => socket.destroy())
  })
  server.listen({ host: HOST, port: 0, backlog: 512 }, () => process.send?.({ port: server.address().port }))
  process.on("disconnect", () => process.exit(0))
}

export const startPeer = (execPath = process.execPath) =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--peer"], { execPath, stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the peer exited early with code ${code}`)))
    child.once("message", (message) => resolve({ child, port: message.port }))
  })

export { fmt, stopPeer }

export const header = (kind, total) => {
  const bytes = Buffer.alloc(kind === "e" ? 1 : 9)
  bytes[0] = kind.charCodeAt(0)
  if (kind !== "e") bytes.writeBigUInt64BE(BigInt(total), 1)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
}

// ---------------------------------------------------------------------------------------------------------
// Options

export function parseArgs(argv) {
  const value = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes("--quick")
  const rtt = Number(value("--rtt") ?? (quick ? 1_000 : 20_000))
  const mib = Number(value("--mib") ?? (quick ? 8 : 256))
  const runs = Number(value("--runs") ?? (quick ? 1 : 3))
  const only = value("--clients")?.split(",")
  // --port P: use a peer already listening there (the Effect 4 child uses its parent's peer)
  const port = value("--port") === undefined ? undefined : Number(value("--port"))
  const effect4 = !argv.includes("--no-effect4")
  for (const [name, x] of [["--rtt", rtt], ["--mib", mib], ["--runs", runs]]) {
    if (!Number.isInteger(x) || x < 1) {
      console.error(`bench: ${name} must be a positive integer`)
      process.exit(2)
    }
  }
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    console.error("bench: --port must be a TCP port")
    process.exit(2)
  }
  return { quick, rtt, mib, runs, only, port, effect4 }
}

// ---------------------------------------------------------------------------------------------------------
// The clients: each gives rtt(n), send(total), receive(total) as Promises

export function netClient(port, connect = () => net.createConnection({ host: HOST, port, noDelay: true })) {
  const open = async () => {
    const socket = await connect()
    if (socket.connecting) await once(socket, "connect")
    return socket
  }
  const finish = (socket) => socket.destroy()
  return {
    rtt: async (n) => {
      const socket = await open()
      const payload = Buffer.alloc(RTT_BYTES, 0x61)
      socket.write(header("e"))
      await new Promise((resolve, reject) => {
        let got = 0
        let done = 0
        socket.on("error", reject)
        socket.on("data", (chunk) => {
          got += chunk.length
          while (got >= RTT_BYTES) {
            got -= RTT_BYTES
            if (++done === n) return resolve()
            socket.write(payload)
          }
        })
        socket.write(payload)
      })
      finish(socket)
    },
    send: async (total) => {
      const socket = await open()
      const chunk = Buffer.alloc(CHUNK, 0x61)
      const acked = new Promise((resolve, reject) => {
        socket.once("error", reject)
        socket.once("data", resolve)
      })
      socket.write(header("s", total))
      for (let sent = 0; sent < total; sent += CHUNK) {
        if (!socket.write(chunk)) await once(socket, "drain")
      }
      await acked
      finish(socket)
    },
    receive: async (total) => {
      const socket = await open()
      await new Promise((resolve, reject) => {
        let got = 0
        socket.on("error", reject)
        socket.on("data", (chunk) => {
          got += chunk.length
          if (got >= total) resolve()
        })
        socket.write(header("r", total))
      })
      finish(socket)
    }
  }
}

/** A platform Socket (`@effect/platform/Socket`): NodeSocket and our PlatformSocket run this same code. */
function platformClient(make, runPromise, lib) {
  const { Effect } = lib
  // The run's handler counts bytes; the client waits (Effect.async) until the count reaches a target.
  const session = (kind, total, body) =>
    Effect.scoped(Effect.gen(function*() {
      const socket = yield* make
      const write = yield* socket.writer
      const state = { got: 0, target: Infinity, wake: undefined }
      const until = (target) =>
        Effect.async((resume) => {
          if (state.got >= target) return resume(Effect.void)
          state.target = target
          state.wake = () => resume(Effect.void)
        })
      yield* Effect.forkScoped(socket.run((chunk) => {
        state.got += chunk.length
        if (state.got >= state.target && state.wake !== undefined) {
          const wake = state.wake
          state.wake = undefined
          state.target = Infinity
          wake()
        }
      }))
      yield* write(header(kind, total))
      yield* body(write, until)
    }))
  const payload = new Uint8Array(RTT_BYTES).fill(0x61)
  const chunk = new Uint8Array(CHUNK).fill(0x61)
  return {
    rtt: (n) =>
      runPromise(session("e", 0, (write, until) =>
        Effect.gen(function*() {
          for (let i = 1; i <= n; i++) {
            yield* write(payload)
            yield* until(i * RTT_BYTES)
          }
        }))),
    send: (total) =>
      runPromise(session("s", total, (write, until) =>
        Effect.gen(function*() {
          for (let sent = 0; sent < total; sent += CHUNK) yield* write(chunk)
          yield* until(1)
        }))),
    receive: (total) => runPromise(session("r", total, (_write, until) => until(total)))
  }
}

/** This library's own calls: ConnectEx.dial, Socket.send, Socket.receive. */
function socketClient(target, runPromise, lib) {
  const { Effect, ConnectEx, Socket } = lib
  const dial = Effect.tap(
    Effect.map(ConnectEx.dial(target), ({ socket }) => socket),
    (socket) => Socket.setOption(socket, "TCP_NODELAY", true)
  )
  const payload = new Uint8Array(RTT_BYTES).fill(0x61)
  const chunk = new Uint8Array(CHUNK).fill(0x61)
  const receiveAtLeast = (socket, want) =>
    Effect.gen(function*() {
      let got = 0
      while (got < want) {
        const bytes = yield* Socket.receive(socket, CHUNK)
        if (bytes.byteLength === 0) return yield* Effect.dieMessage(`the peer closed after ${got} of ${want} bytes`)
        got += bytes.byteLength
      }
      return got
    })
  return {
    rtt: (n) =>
      runPromise(Effect.scoped(Effect.gen(function*() {
        const socket = yield* dial
        yield* Socket.send(socket, header("e"))
        let extra = 0
        for (let i = 0; i < n; i++) {
          yield* Socket.send(socket, payload)
          extra += (yield* receiveAtLeast(socket, RTT_BYTES - extra)) - RTT_BYTES
        }
      }))),
    send: (total) =>
      runPromise(Effect.scoped(Effect.gen(function*() {
        const socket = yield* dial
        yield* Socket.send(socket, header("s", total))
        for (let sent = 0; sent < total; sent += CHUNK) yield* Socket.send(socket, chunk)
        yield* receiveAtLeast(socket, 1)
      }))),
    receive: (total) =>
      runPromise(Effect.scoped(Effect.gen(function*() {
        const socket = yield* dial
        yield* Socket.send(socket, header("r", total))
        yield* receiveAtLeast(socket, total)
      })))
  }
}

function makeClients(port, lib, runtime) {
  const { Effect, NodeSocket, ConnectEx, PlatformSocket, SocketAddress, NodeStream } = lib
  const target = SocketAddress.ipv4(HOST, port)
  const run = (effect) => runtime.runPromise(effect)
  const clients = [
    { name: "node:net", ...netClient(port) },
    {
      name: "NodeSocket",
      ...platformClient(NodeSocket.makeNet({ host: HOST, port, noDelay: true }), Effect.runPromise, lib)
    },
    { name: "Socket", ...socketClient(target, run, lib) },
    {
      name: "PlatformSocket",
      ...platformClient(
        Effect.flatMap(ConnectEx.dial(target), ({ socket }) =>
          Effect.zipRight(lib.Socket.setOption(socket, "TCP_NODELAY", true), PlatformSocket.fromSocket(socket))),
        run,
        lib
      )
    }
  ]
  if (NodeStream !== undefined) {
    // The node:net client's own code over a Duplex on our connection, dialed in a scope kept until it closes.
    const connect = () => dialDuplex({ ...lib, ConnectEx, NodeStream }, run, target, { noDelay: true })
    clients.push({ name: "Duplex", ...netClient(port, connect) })
  }
  return clients
}

// ---------------------------------------------------------------------------------------------------------
// Measuring and reporting

export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits

export async function measure(fn) {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await fn()
  const elapsedMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { elapsedMs, cpuUs: used.user + used.system }
}

export async function medianOf(runs, fn, key) {
  const results = []
  for (let i = 0; i < runs; i++) results.push(await fn())
  results.sort((a, b) => a[key] - b[key])
  return results[Math.floor((results.length - 1) / 2)]
}

export async function runClient(client, options) {
  const total = options.mib * 1024 * 1024
  const ops = total / CHUNK
  const rtt = await medianOf(options.runs, async () => {
    const m = await measure(() => client.rtt(options.rtt))
    return {
      perSec: Math.round((options.rtt / m.elapsedMs) * 1000),
      cpuUsPerRoundTrip: round(m.cpuUs / options.rtt)
    }
  }, "perSec")
  const bulk = (kind) =>
    medianOf(options.runs, async () => {
      const m = await measure(() => client[kind](total))
      return {
        mibPerSec: Math.round(options.mib / (m.elapsedMs / 1000)),
        cpuMs: Math.round(m.cpuUs / 1000),
        cpuUsPer64KiB: round(m.cpuUs / ops)
      }
    }, "mibPerSec")
  const send = await bulk("send")
  const receive = await bulk("receive")
  return { client: client.name, rtt, send, receive }
}


export function table(results, options) {
  const header = [
    "client",
    `rtt/s`,
    "us CPU/rtt",
    "send MiB/s",
    "send CPU ms",
    "recv MiB/s",
    "recv CPU ms"
  ]
  const rows = results.map((r) => [
    r.client,
    fmt(r.rtt.perSec),
    fmt(r.rtt.cpuUsPerRoundTrip, 1),
    fmt(r.send.mibPerSec),
    fmt(r.send.cpuMs),
    fmt(r.receive.mibPerSec),
    fmt(r.receive.cpuMs)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  return [
    `${fmt(options.rtt)} round trips of ${RTT_BYTES} bytes; ${options.mib} MiB each way in ${CHUNK / 1024} KiB writes`,
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line)
  ].join("\n")
}

/**
 * Runs bench/data-effect4.mjs under Node 22 (BENCH_NODE22, else scripts/install-node22.sh) against `port`
 * with the same sizes, and returns its JSON; `{ skipped: reason }` when Node 22 or the run is not there.
 */
async function runEffect4(port, options) {
  const run = await runUnderNode22("bench/data-effect4.mjs", ["--port", String(port), "--rtt", String(options.rtt),
    "--mib", String(options.mib), "--runs", String(options.runs), ...(options.quick ? ["--quick"] : [])])
  if (run.skipped !== undefined) return run
  try {
    return JSON.parse(run.stdout.trimEnd().split("\n").pop() ?? "")
  } catch {
    return { skipped: "bench/data-effect4.mjs printed no JSON line" }
  }
}

export async function main() {
  const options = parseArgs(process.argv.slice(2))
  const [effect, NodeSocket, library] = await Promise.all([
    import("effect"),
    import("@effect/platform-node/NodeSocket"),
    import("effect-connectex")
  ])
  const lib = { ...effect, NodeSocket, ...library }
  const runtime = effect.ManagedRuntime.make(library.ConnectEx.layer)
  const { child, port } = await startPeer()
  try {
    console.log(`data path on ${HOST}, peer pid ${child.pid} in its own process, node ${process.version}, ` +
      `${options.runs} run(s) per figure (median)`)
    const clients = makeClients(port, lib, runtime).filter((c) => options.only === undefined || options.only.includes(c.name))
    // Warm-up: JIT, the layer, the peer. Not reported.
    const warm = { ...options, rtt: Math.min(500, options.rtt), mib: Math.min(4, options.mib), runs: 1 }
    for (const client of clients) await runClient(client, warm)

    const results = []
    for (const client of clients) {
      const result = await runClient(client, options)
      results.push(result)
      process.stderr.write(
        `bench: ${client.name}: ${fmt(result.rtt.perSec)} rtt/s, send ${fmt(result.send.mibPerSec)} MiB/s, ` +
          `receive ${fmt(result.receive.mibPerSec)} MiB/s\n`
      )
    }
    const at = (name) => results.find((r) => r.client === name)
    const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 1000) / 1000)
    const net = at("node:net")
    const ours = at("Socket")
    const ratios = {
      rttVsNet: ratio(ours?.rtt.perSec, net?.rtt.perSec),
      platformRttVsNodeSocket: ratio(at("PlatformSocket")?.rtt.perSec, at("NodeSocket")?.rtt.perSec),
      sendVsNet: ratio(ours?.send.mibPerSec, net?.send.mibPerSec),
      receiveVsNet: ratio(ours?.receive.mibPerSec, net?.receive.mibPerSec),
      cpuPerRoundTripVsNet: ratio(ours?.rtt.cpuUsPerRoundTrip, net?.rtt.cpuUsPerRoundTrip),
      duplexRttVsNet: ratio(at("Duplex")?.rtt.perSec, net?.rtt.perSec),
      duplexCpuPerRoundTripVsNet: ratio(at("Duplex")?.rtt.cpuUsPerRoundTrip, net?.rtt.cpuUsPerRoundTrip),
      duplexSendVsNet: ratio(at("Duplex")?.send.mibPerSec, net?.send.mibPerSec),
      duplexReceiveVsNet: ratio(at("Duplex")?.receive.mibPerSec, net?.receive.mibPerSec)
    }
    // The Effect 4 front-end: its own process under Node 22, against this same peer, after ours (2 cores).
    const effect4 = options.effect4 ? await runEffect4(port, options) : { skipped: "--no-effect4" }
    const e4 = (name) => effect4.results?.find((r) => r.client === name)
    const effect4Ratios = {
      effect4RttVsNet: effect4.rttVsNet ?? null,
      effect4SendVsNet: effect4.sendVsNet ?? null,
      effect4ReceiveVsNet: effect4.receiveVsNet ?? null,
      effect4RttVsEffect3: ratio(e4("Socket (Effect 4)")?.rtt.perSec, ours?.rtt.perSec),
      effect4SendVsEffect3: ratio(e4("Socket (Effect 4)")?.send.mibPerSec, ours?.send.mibPerSec),
      effect4ReceiveVsEffect3: ratio(e4("Socket (Effect 4)")?.receive.mibPerSec, ours?.receive.mibPerSec),
      effect4PlatformRttVsEffect3: ratio(e4("PlatformSocket (Effect 4)")?.rtt.perSec, at("PlatformSocket")?.rtt.perSec)
    }
    console.log(table(results, options))
    if (effect4.results !== undefined) {
      console.log(`\nEffect 4 front-end (effect ${effect4.effect}, node ${effect4.node}, its own process, same peer):`)
      console.log(table(effect4.results, options).split("\n").slice(1).join("\n"))
    } else {
      console.log(`\nEffect 4 front-end skipped: ${effect4.skipped}`)
    }
    console.log(
      `\nSocket.send/receive vs node:net: round trips ${ratios.rttVsNet}x (target >= 0.8), ` +
        `send ${ratios.sendVsNet}x, receive ${ratios.receiveVsNet}x (targets >= 0.95), ` +
        `CPU per round trip ${ratios.cpuPerRoundTripVsNet}x (target <= 1.5); ` +
        `PlatformSocket vs NodeSocket round trips ${ratios.platformRttVsNodeSocket}x (target >= 1.3)`
    )
    if (effect4.results !== undefined) {
      console.log(
        `Effect 4 vs Effect 3 (Socket.send/receive): round trips ${effect4Ratios.effect4RttVsEffect3}x, ` +
          `send ${effect4Ratios.effect4SendVsEffect3}x, receive ${effect4Ratios.effect4ReceiveVsEffect3}x; ` +
          `PlatformSocket round trips ${effect4Ratios.effect4PlatformRttVsEffect3}x`
      )
    }
    console.log(JSON.stringify({
      bench: "data",
      quick: options.quick,
      roundTrips: options.rtt,
      rttBytes: RTT_BYTES,
      bulkMiB: options.mib,
      chunkBytes: CHUNK,
      runs: options.runs,
      node: process.version,
      ...ratios,
      ...effect4Ratios,
      results,
      effect4
    }))
  } finally {
    await runtime.dispose()
    await stopPeer(child)
  }
}

// Run only as a script: bench/data-effect4.mjs imports the peer, the options, the node:net client and the
// measuring from here.
const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (isMain && process.argv.includes("--peer")) {
  runPeer()
} else if (isMain) {
  await main()
}
