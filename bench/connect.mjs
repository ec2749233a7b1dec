#!/usr/bin/env node
// Connection set-up on loopback: throughput, latency and client CPU for three clients.
//
//   npm run bench                         build, then N = 20,000 connections per run
//   node bench/connect.mjs --quick        N = 2,000 (after a build)
//   options: --n N  --runs R (median of R runs by conn/s)  --concurrency 1,64
//
// Each connection: connect to the peer, send 64 bytes, close (the client closes first). Clients:
//   node:net       net.createConnection, write(64 bytes), destroy
//   NodeSocket     @effect/platform-node NodeSocket.makeNet, writer(64 bytes), CloseEvent
//   ConnectEx      Effect.scoped(Socket.open, Socket.bind wildcard port 0, ConnectEx.connect with 64 bytes),
//                  all under one ConnectEx.layer (the built effect-connectex package)
// The peer is a server in its own child process: accepts, reads the 64 bytes, closes. Two servers:
//   node:net       net.createServer (every client row runs against it)
//   Listener       this library's Listener.serve (accept4 / AcceptEx), ConnectEx.layer; the server column
//                  runs node:net and ConnectEx clients against it (the latter: both ends ours)
//   driver only    the same handler on the core's POSIX driver with no Effect (Linux; node:net clients at the
//                  ratio's concurrency): what the Listener's server CPU costs below the Effect front-end
// Latency (p50, p99, mean), the same clock for every client and both front-ends (bench/measure.mjs): C slots
// each ask for their next connection the instant their previous one ended (the first C at the run's start),
// and a connection's latency runs from that instant to the moment the client has seen it done (connected, 64
// bytes written, closed) and released its socket. Queueing is included: node:net's wait for the event loop's
// connect and write callbacks, and the fibers' wait for Effect's scheduler, in the same way. So the figures obey
// Little's law, C = conn/s x mean latency: the "conn/s x mean" column, checked on a line of its own (a row
// well under its C would mean time left out). At C > 1, latency therefore follows throughput: a client's p50
// is lower than another's only as far as its conn/s is higher (or its spread narrower).
// CPU is process.cpuUsage() of this (client) process around each run, divided by N; server CPU is the peer
// process's own process.cpuUsage() around the same run (asked over IPC), divided by N.
// The last line printed is one JSON object with every figure. Nothing here asserts timings.
// The Effect 4 front-end runs in the same run: after the rows above, bench/connect-effect4.mjs under Node 22
// (BENCH_NODE22, else scripts/install-node22.sh) against the same node:net peer with the same N; its JSON is
// under `effect4` (or `effect4: { skipped: reason }`; --no-effect4 leaves it out), with effect4RatioVsNet,
// effect4CpuRatioVsNet (against node:net in that Node 22 process) and effect4{ConnPerSec,Cpu}VsEffect3.

import { fork } from "node:child_process"
import * as net from "node:net"
import { fileURLToPath } from "node:url"
import { fmt, littleCheck, makeRoomFor, measureEffect, measurePromises, median, runUnderNode22, stopPeer, systemFacts } from "./measure.mjs"
import { driverServer, readAllWith } from "./serve-cost.mjs"

const PAYLOAD_BYTES = 64
const HOST = "127.0.0.1"

// ---------------------------------------------------------------------------------------------------------
// The peer, in its own process

/** Answers the parent's CPU questions: the peer process's cumulative cpuUsage. */
const answerCpu = () =>
  process.on("message", (message) => {
    if (message?.type === "cpu") process.send?.({ type: "cpu", usage: process.cpuUsage() })
  })

async function runListenerPeer() {
  const [{ Effect, ManagedRuntime }, { ConnectEx, Listener, Socket, SocketAddress }] = await Promise.all([
    import("effect"),
    import("effect-connectex")
  ])
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  const handler = readAllWith(Effect, Socket)
  const program = Effect.scoped(
    Effect.gen(function*() {
      const listener = yield* Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
      const { port } = yield* Listener.address(listener)
      process.send?.({ port })
      return yield* Listener.serve(listener, handler, process.env.BENCH_ACCEPTS === undefined ? undefined : { accepts: Number(process.env.BENCH_ACCEPTS) })
    })
  )
  answerCpu()
  process.on("disconnect", () => process.exit(0))
  runtime.runFork(program)
}

/**
 * The POSIX driver alone, no Effect: the Listener's bench handler written against the core's driver (accept,
 * drain the queue with tryAccept, one receive until the 64 bytes, close). What the server costs below the
 * Effect front-end, so the Listener's figure splits into driver and per-connection fiber.
 */
async function runDriverPeer() {
  answerCpu()
  process.on("disconnect", () => process.exit(0))
  process.send?.({ port: await driverServer(true) })
}

function runPeer() {
  answerCpu()
  const server = net.createServer({ noDelay: true }, (socket) => {
    let received = 0
    socket.on("data", (chunk) => {
      received += chunk.length
      if (received >= PAYLOAD_BYTES) socket.destroy()
    })
    socket.on("end", () => socket.destroy())
    socket.on("error", () => socket.destroy())
  })
  server.listen({ host: HOST, port: 0, backlog: 4096 }, () => {
    process.send?.({ port: server.address().port })
  })
  // The parent going away (or asking us to stop) ends the peer.
  process.on("disconnect", () => process.exit(0))
}

const startPeer = (kind = "node:net") =>
  new Promise((resolve, reject) => {
    const args = kind === "node:net" ? ["--peer"] : kind === "Driver" ? ["--peer", "--driver"] : ["--peer", "--listener"]
    const child = fork(fileURLToPath(import.meta.url), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the peer exited early with code ${code}`)))
    child.once("message", (message) => resolve({ child, port: message.port }))
  })

/** The peer process's cumulative CPU (us), asked over IPC. */
const peerCpu = (child) =>
  new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== "cpu") return
      child.off("message", onMessage)
      resolve(message.usage.user + message.usage.system)
    }
    child.on("message", onMessage)
    child.send({ type: "cpu" })
  })

/** Runs `run` and adds the peer's CPU per connection over the same interval. */
const withServerCpu = async (child, server, n, run) => {
  const before = await peerCpu(child)
  const result = await run()
  const after = await peerCpu(child)
  return { ...result, server, serverCpuUsPerConn: Math.round(((after - before) / n) * 10) / 10 }
}


// ---------------------------------------------------------------------------------------------------------
// Options and system facts

function parseArgs(argv) {
  const value = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes("--quick")
  const n = Number(value("--n") ?? (quick ? 2_000 : 20_000))
  const runs = Number(value("--runs") ?? 1)
  const concurrency = (value("--concurrency") ?? "1,64").split(",").map(Number)
  for (const [name, x] of [["--n", n], ["--runs", runs], ...concurrency.map((c) => ["--concurrency", c])]) {
    if (!Number.isInteger(x) || x < 1) {
      console.error(`bench: ${name} must be a positive integer`)
      process.exit(2)
    }
  }
  return { quick, n, runs, concurrency, effect4: !argv.includes("--no-effect4") }
}

// ---------------------------------------------------------------------------------------------------------
// The three clients

function makeClients(port, lib) {
  const { Effect, ManagedRuntime, NodeSocket, PlatformSocket, ConnectEx, Socket, SocketAddress } = lib
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

  const isCleanClose = PlatformSocket.SocketCloseError.isClean((code) => code === 1000)
  const nodeSocketOnce = Effect.scoped(
    Effect.gen(function*() {
      const socket = yield* NodeSocket.makeNet({ host: HOST, port, noDelay: true })
      const write = yield* socket.writer
      yield* socket.runRaw(() => {}, {
        onOpen: Effect.zipRight(write(payload), write(new PlatformSocket.CloseEvent(1000)))
      })
    })
  ).pipe(Effect.catchIf(isCleanClose, () => Effect.void))

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

  return {
    clients: [
      { name: "node:net", run: (n, c) => measurePromises("node:net", n, c, netOnce) },
      { name: "NodeSocket", run: (n, c) => measureEffect("NodeSocket", n, c, nodeSocketOnce, Effect.runPromise, Effect) },
      {
        name: "ConnectEx",
        run: (n, c) => measureEffect("ConnectEx", n, c, connectExOnce, (e) => runtime.runPromise(e), Effect)
      }
    ],
    dispose: () => runtime.dispose()
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

function table(results) {
  const header = ["client", "server", "C", "conn/s", "p50 us", "p99 us", "mean us", "conn/s x mean", "CPU us/conn", "server CPU us/conn", "errors"]
  const rows = results.map((r) => [
    r.client,
    r.server,
    String(r.concurrency),
    fmt(r.connPerSec),
    fmt(r.p50Us, 1),
    fmt(r.p99Us, 1),
    fmt(r.meanUs, 1),
    fmt(r.littleC, 1),
    fmt(r.cpuUsPerConn, 1),
    fmt(r.serverCpuUsPerConn, 1),
    String(r.errors)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}


// ---------------------------------------------------------------------------------------------------------

/**
 * Runs bench/connect-effect4.mjs under Node 22 (BENCH_NODE22, else scripts/install-node22.sh) against `port`
 * with the same N, runs and concurrencies, and returns its JSON; `{ skipped: reason }` when it cannot.
 */
async function runEffect4(port, options) {
  const run = await runUnderNode22("bench/connect-effect4.mjs", ["--port", String(port), "--n", String(options.n),
    "--runs", String(options.runs), "--concurrency", options.concurrency.join(","), ...(options.quick ? ["--quick"] : [])])
  if (run.skipped !== undefined) return run
  try {
    return { ...JSON.parse(run.stdout.trimEnd().split("\n").pop() ?? ""), table: run.stdout.split("\n").filter((l) => /^(client|-|node:net|ConnectEx|Little's law)/.test(l)) }
  } catch {
    return { skipped: "bench/connect-effect4.mjs printed no JSON line" }
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const system = systemFacts()
  const range = system.range

  const [{ Effect, ManagedRuntime }, NodeSocket, PlatformSocket, { ConnectEx, Socket, SocketAddress }] = await Promise.all([
    import("effect"),
    import("@effect/platform-node/NodeSocket"),
    import("@effect/platform/Socket"),
    import("effect-connectex")
  ])

  const lib = { Effect, ManagedRuntime, NodeSocket, PlatformSocket, ConnectEx, Socket, SocketAddress }
  const { child, port } = await startPeer()
  const { clients, dispose } = makeClients(port, lib)
  const ours = await startPeer("Listener")
  const onOurs = makeClients(ours.port, lib)
  const serverClients = onOurs.clients.filter((client) => client.name !== "NodeSocket")
  // The driver-only server (Linux): node:net clients at the ratio's concurrency, for the split of the server's CPU.
  const driverPeer = process.platform === "linux" ? await startPeer("Driver") : undefined
  const onDriver = driverPeer === undefined ? undefined : makeClients(driverPeer.port, lib)
  try {
    console.log(
      `connect set-up on ${HOST}: ${PAYLOAD_BYTES} bytes per connection, N = ${fmt(options.n)} per run, ` +
        `${options.runs} run(s) (median by conn/s), peer pid ${child.pid} in its own process`
    )
    console.log(
      `node ${process.version}, ephemeral ports ${range?.join("-") ?? "unknown"}, tcp_tw_reuse ${system.twReuse}\n`
    )

    // Warm-up: JIT, the layer, the peer's accept path. Not reported.
    const warm = Math.max(20, Math.min(500, Math.floor(options.n / 10)))
    for (const client of clients) await client.run(warm, 8)
    for (const client of serverClients) await client.run(warm, 8)

    const results = []
    for (const concurrency of options.concurrency) {
      for (const client of clients) {
        const runs = []
        for (let r = 0; r < options.runs; r++) {
          await makeRoomFor(options.n, port, system)
          runs.push(await withServerCpu(child, "node:net", options.n, () => client.run(options.n, concurrency)))
        }
        const result = median(runs)
        results.push(result)
        process.stderr.write(`bench: ${client.name} C=${concurrency}: ${fmt(result.connPerSec)} conn/s\n`)
      }
    }
    // The server column: the same clients against our Listener (ConnectEx -> Listener: both ends ours).
    const serverResults = []
    for (const concurrency of options.concurrency) {
      for (const client of serverClients) {
        const runs = []
        for (let r = 0; r < options.runs; r++) {
          await makeRoomFor(options.n, ours.port, system)
          runs.push(await withServerCpu(ours.child, "Listener", options.n, () => client.run(options.n, concurrency)))
        }
        const result = median(runs)
        serverResults.push(result)
        process.stderr.write(`bench: ${client.name} -> Listener C=${concurrency}: ${fmt(result.connPerSec)} conn/s\n`)
      }
    }

    const at = (client, c) => results.find((r) => r.client === client && r.concurrency === c)
    const ratioC = options.concurrency.includes(64) ? 64 : options.concurrency[options.concurrency.length - 1]
    if (onDriver !== undefined) {
      const netClient = onDriver.clients.find((client) => client.name === "node:net")
      await makeRoomFor(options.n, driverPeer.port, system)
      const result = await withServerCpu(driverPeer.child, "driver only", options.n, () => netClient.run(options.n, ratioC))
      serverResults.push(result)
      process.stderr.write(`bench: node:net -> driver only C=${ratioC}: ${fmt(result.connPerSec)} conn/s\n`)
    }
    const net64 = at("node:net", ratioC)
    const cx64 = at("ConnectEx", ratioC)
    const round3 = (x) => Math.round(x * 1_000) / 1_000
    const ratioVsNet = round3(cx64.connPerSec / net64.connPerSec)
    const cpuRatioVsNet = round3(cx64.cpuUsPerConn / net64.cpuUsPerConn)

    const netOnOurs = serverResults.find((r) => r.client === "node:net" && r.concurrency === ratioC)
    const serverAcceptRatio = round3(netOnOurs.connPerSec / net64.connPerSec)
    const serverCpuRatio = round3(netOnOurs.serverCpuUsPerConn / net64.serverCpuUsPerConn)
    const driverOnly = serverResults.find((r) => r.server === "driver only")
    const driverServerCpuRatio = driverOnly === undefined ? null : round3(driverOnly.serverCpuUsPerConn / net64.serverCpuUsPerConn)

    const little = littleCheck([...results, ...serverResults])
    console.log("latency: from the moment a connection is asked for (its slot frees) to its release by the client, queueing included")
    console.log(table([...results, ...serverResults]))
    console.log(little.text)
    console.log(
      `\nConnectEx vs node:net at C=${ratioC}: ${ratioVsNet}x the connections per second, ${cpuRatioVsNet}x the CPU per connection`
    )
    console.log(
      `Listener vs node:net server (node:net clients, C=${ratioC}): ${serverAcceptRatio}x the accepts per second, ` +
        `${serverCpuRatio}x the server CPU per connection` +
        (driverServerCpuRatio === null ? "" : `; the driver alone (no Effect): ${driverServerCpuRatio}x`)
    )
    // The Effect 4 front-end: its own process under Node 22, against the same node:net peer, after ours.
    const { table: effect4Table, ...effect4 } = options.effect4 ? await runEffect4(port, options) : { skipped: "--no-effect4" }
    const e4 = effect4.results?.find((r) => r.client === "ConnectEx (Effect 4)" && r.concurrency === ratioC)
    const effect4Ratios = {
      effect4RatioVsNet: effect4.ratioVsNet ?? null,
      effect4CpuRatioVsNet: effect4.cpuRatioVsNet ?? null,
      effect4ConnPerSecVsEffect3: e4 === undefined ? null : round3(e4.connPerSec / cx64.connPerSec),
      effect4CpuVsEffect3: e4 === undefined ? null : round3(e4.cpuUsPerConn / cx64.cpuUsPerConn)
    }
    if (effect4Table !== undefined) {
      console.log(`\nEffect 4 front-end (effect ${effect4.effect}, node ${effect4.node}, its own process, same node:net peer):`)
      console.log(effect4Table.join("\n"))
      console.log(
        `ConnectEx (Effect 4) vs ConnectEx (Effect 3) at C=${ratioC}: ${effect4Ratios.effect4ConnPerSecVsEffect3}x the connections ` +
          `per second, ${effect4Ratios.effect4CpuVsEffect3}x the CPU per connection`
      )
    } else {
      console.log(`\nEffect 4 front-end skipped: ${effect4.skipped}`)
    }
    const errors = [...results, ...serverResults].reduce((sum, r) => sum + r.errors, 0)
    if (errors > 0) console.log(`errors: ${errors} connection(s) failed (see firstError in the JSON)`)
    console.log(
      JSON.stringify({
        bench: "connect",
        n: options.n,
        runs: options.runs,
        quick: options.quick,
        payloadBytes: PAYLOAD_BYTES,
        node: process.version,
        results,
        ratioConcurrency: ratioC,
        ratioVsNet,
        cpuRatioVsNet,
        serverResults,
        littleLawWorst: little.worst,
        serverAcceptRatio,
        serverCpuRatio,
        driverServerCpuRatio,
        ...effect4Ratios,
        effect4
      })
    )
  } finally {
    await dispose()
    await onOurs.dispose()
    await stopPeer(child)
    await stopPeer(ours.child)
    if (onDriver !== undefined) await onDriver.dispose()
    if (driverPeer !== undefined) await stopPeer(driverPeer.child)
  }
}

// Last, so that every declaration above is initialised.
if (process.argv.includes("--listener")) {
  await runListenerPeer()
} else if (process.argv.includes("--driver")) {
  await runDriverPeer()
} else if (process.argv.includes("--peer")) {
  runPeer()
} else {
  await main()
}
