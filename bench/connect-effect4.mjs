#!/usr/bin/env node
// The connect bench for the Effect 4 front-end (@effect-connectex/effect4), under Node 22.
//
//   npm run bench:effect4                 build, then N = 20,000 connections per run (Node 22 from .cache/node22)
//   .cache/node22/bin/node bench/connect-effect4.mjs --quick     N = 2,000 (after a build)
//   options: --n N  --runs R (median of R runs by conn/s)  --concurrency 1,64
//
// Effect 4 needs Node >= 22.19 and the root bench (bench/connect.mjs) runs on the root's Node 20 with Effect 3,
// and one process cannot load both front-ends' `effect` as the same library: so this is its own process with
// the same workload, the same peer (bench/connect.mjs --peer, by default run by the Node named in
// BENCH_PEER_NODE so that both benches can use the same peer runtime), the same measuring and the same JSON
// shape as bench/connect.mjs. Clients:
//   node:net               net.createConnection, write(64 bytes), destroy (the baseline, on this Node)
//   ConnectEx (Effect 4)   Effect.scoped(Socket.open, Socket.bind wildcard port 0, ConnectEx.connect with 64
//                          bytes), all under one ConnectEx.layer (the built @effect-connectex/effect4 package)
// Latency is measured as bench/connect.mjs says (bench/measure.mjs: from the moment a connection is asked for,
// queueing included, to its release by the client), with the same Little's-law check.
// `npm run bench` runs this as a child (under Node 22, against its own node:net peer, after its own clients) and
// puts this JSON under `effect4` in its own; `npm run bench:effect4` runs it alone.
// The last line printed is one JSON object with every figure. Nothing here asserts timings.

import { fork } from "node:child_process"
import { readFileSync } from "node:fs"
import * as net from "node:net"
import { fileURLToPath, pathToFileURL } from "node:url"
import { fmt, littleCheck, makeRoomFor, measureEffect, measurePromises, median, stopPeer, systemFacts } from "./measure.mjs"

const PAYLOAD_BYTES = 64
const HOST = "127.0.0.1"
const root = fileURLToPath(new URL("..", import.meta.url))

// ---------------------------------------------------------------------------------------------------------
// The peer: bench/connect.mjs's own, in its own process

const startPeer = () =>
  new Promise((resolve, reject) => {
    const execPath = process.env.BENCH_PEER_NODE || process.execPath
    const child = fork(`${root}bench/connect.mjs`, ["--peer"], { execPath, stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the peer exited early with code ${code}`)))
    child.once("message", (message) => resolve({ child, port: message.port }))
  })

// ---------------------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const value = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes("--quick")
  const n = Number(value("--n") ?? (quick ? 2_000 : 20_000))
  const runs = Number(value("--runs") ?? 1)
  const concurrency = (value("--concurrency") ?? "1,64").split(",").map(Number)
  // --port P: use a peer already listening there (bench/connect.mjs passes its own node:net peer)
  const port = value("--port") === undefined ? undefined : Number(value("--port"))
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    console.error("bench: --port must be a TCP port")
    process.exit(2)
  }
  for (const [name, x] of [["--n", n], ["--runs", runs], ...concurrency.map((c) => ["--concurrency", c])]) {
    if (!Number.isInteger(x) || x < 1) {
      console.error(`bench: ${name} must be a positive integer`)
      process.exit(2)
    }
  }
  return { quick, n, runs, concurrency, port }
}

// ---------------------------------------------------------------------------------------------------------
// The clients

function makeClients(port, lib) {
  const { Effect, ManagedRuntime, ConnectEx, Socket, SocketAddress } = lib
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(0x61)

  const netOnce = () =>
    new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: HOST, port, noDelay: true })
      socket.once("error", reject)
      socket.once("connect", () => {
        socket.write(payload, (error) => {
          socket.destroy()
          if (error) reject(error)
          else resolve()
        })
      })
    })

  const target = SocketAddress.ipv4(HOST, port)
  const wildcard = SocketAddress.ipv4("0.0.0.0", 0)
  const connectExOnce = Effect.scoped(
    Effect.gen(function*() {
      const socket = yield* Socket.open({ family: "ipv4" })
      yield* Socket.bind(socket, wildcard)
      yield* ConnectEx.connect(socket, target, { data: payload })
    })
  )
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  const name = "ConnectEx (Effect 4)"

  return {
    clients: [
      { name: "node:net", run: (n, c) => measurePromises("node:net", n, c, netOnce) },
      { name, run: (n, c) => measureEffect(name, n, c, connectExOnce, (e) => runtime.runPromise(e), Effect) }
    ],
    dispose: () => runtime.dispose()
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

function table(results) {
  const header = ["client", "C", "conn/s", "p50 us", "p99 us", "mean us", "conn/s x mean", "CPU us/conn", "errors"]
  const rows = results.map((r) => [
    r.client,
    String(r.concurrency),
    fmt(r.connPerSec),
    fmt(r.p50Us, 1),
    fmt(r.p99Us, 1),
    fmt(r.meanUs, 1),
    fmt(r.littleC, 1),
    fmt(r.cpuUsPerConn, 1),
    String(r.errors)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const system = systemFacts()
  const range = system.range

  // The Effect this harness drives must be the library's own effect 4 (packages/effect4/node_modules), not the
  // root's effect 3 that a bare `import("effect")` from bench/ would find: load the very files the built
  // package resolves, and refuse to run with anything but 4.x.
  const effect4 = `${root}packages/effect4/node_modules/effect/`
  const effectVersion = JSON.parse(readFileSync(`${effect4}package.json`, "utf8")).version
  if (!effectVersion.startsWith("4.")) throw new Error(`bench: packages/effect4 has effect ${effectVersion}, not 4.x`)
  const [Effect, ManagedRuntime, { ConnectEx, Socket, SocketAddress }] = await Promise.all([
    import(pathToFileURL(`${effect4}dist/Effect.js`).href),
    import(pathToFileURL(`${effect4}dist/ManagedRuntime.js`).href),
    import(pathToFileURL(`${root}packages/effect4/dist/index.js`).href)
  ])

  const peer = options.port === undefined ? await startPeer() : undefined
  const port = options.port ?? peer.port
  const { clients, dispose } = makeClients(port, { Effect, ManagedRuntime, ConnectEx, Socket, SocketAddress })
  try {
    console.log(
      `connect set-up on ${HOST} (Effect 4 front-end, effect ${effectVersion}): ${PAYLOAD_BYTES} bytes per connection, ` +
        `N = ${fmt(options.n)} per run, ${options.runs} run(s) (median by conn/s), ` +
        (peer === undefined ? `the parent's peer on port ${port}` : `peer pid ${peer.child.pid} in its own process`)
    )
    console.log(
      `node ${process.version}, ephemeral ports ${range?.join("-") ?? "unknown"}, tcp_tw_reuse ${system.twReuse}\n`
    )

    const warm = Math.max(20, Math.min(500, Math.floor(options.n / 10)))
    for (const client of clients) await client.run(warm, 8)

    const results = []
    for (const concurrency of options.concurrency) {
      for (const client of clients) {
        const runs = []
        for (let r = 0; r < options.runs; r++) {
          await makeRoomFor(options.n, port, system)
          runs.push(await client.run(options.n, concurrency))
        }
        const result = median(runs)
        results.push(result)
        process.stderr.write(`bench: ${client.name} C=${concurrency}: ${fmt(result.connPerSec)} conn/s\n`)
      }
    }

    const at = (client, c) => results.find((r) => r.client === client && r.concurrency === c)
    const ratioC = options.concurrency.includes(64) ? 64 : options.concurrency[options.concurrency.length - 1]
    const net64 = at("node:net", ratioC)
    const cx64 = at("ConnectEx (Effect 4)", ratioC)
    const round3 = (x) => Math.round(x * 1_000) / 1_000
    const ratioVsNet = round3(cx64.connPerSec / net64.connPerSec)
    const cpuRatioVsNet = round3(cx64.cpuUsPerConn / net64.cpuUsPerConn)

    const little = littleCheck(results)
    console.log("latency: from the moment a connection is asked for (its slot frees) to its release by the client, queueing included")
    console.log(table(results))
    console.log(little.text)
    console.log(
      `\nConnectEx (Effect 4) vs node:net at C=${ratioC}: ${ratioVsNet}x the connections per second, ${cpuRatioVsNet}x the CPU per connection`
    )
    const errors = results.reduce((sum, r) => sum + r.errors, 0)
    if (errors > 0) console.log(`errors: ${errors} connection(s) failed (see firstError in the JSON)`)
    console.log(
      JSON.stringify({
        bench: "connect",
        n: options.n,
        runs: options.runs,
        quick: options.quick,
        payloadBytes: PAYLOAD_BYTES,
        node: process.version,
        effect: effectVersion,
        results,
        littleLawWorst: little.worst,
        ratioConcurrency: ratioC,
        ratioVsNet,
        cpuRatioVsNet
      })
    )
  } finally {
    await dispose()
    if (peer !== undefined) await stopPeer(peer.child)
  }
}

await main()
