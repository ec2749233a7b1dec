#!/usr/bin/env node
// Servers at scale: what an idle connection costs a server, how fast N connections are accepted, and one small
// request on every one of them.
//
//   npm run bench:scale                  build, then N = 1,000, 10,000 and 50,000 (where descriptors allow)
//   node bench/scale.mjs --quick         N = 200, every server once (after a build)
//   options: --n 1000,10000  --servers node:net,Listener.serve,...  --clients P (client processes)
//            --window W (requests in flight per client process in the round; default 0: all at once)
//            --churn-n N  --churn-concurrency 64,256,1024  --no-churn
//            --profile DIR (heap snapshots before and with the N idle connections, a CPU profile of the round)
//            --analyze DIR (the per-connection breakdown of what --profile wrote; no servers are started)
//
// Servers, each in its own child process (node --expose-gc), fresh for every N:
//   node:net              net.createServer: "data" -> write the chunk back
//   Listener.serve        this library's Listener.serve (Effect 3, ConnectEx.layer): a handler that waits on
//                         Socket.receive(socket, 4096) and sends the chunk back, in a loop, until the end
//   PlatformSocketServer  this library's @effect/platform SocketServer: socket.run(write), echoing through the writer
//   NodeSocketServer      @effect/platform-node's NodeSocketServer: the same handler
// Peer clients: raw node:net sockets in their own processes (several for large N: one event loop is the limit),
// connected (at most 128 connects in flight per process), then silent until the round. Every client binds a
// loopback source address of its own group (127.a.b.c, at most 10,000 connections each: all of 127.0.0.0/8 is
// loopback on Linux), so that 50,000 connections to one port fit in the ephemeral port range.
//
// Per server and N: a warm-up (200 connections, one round, closed; the server's descriptors back at their
// count), then the baseline (the server's heap after forced GCs, and its RSS), then N connections: the time
// until the server's handler has run for all of them (acceptMs), the heap and RSS per idle connection (after
// forced GCs, minus the baseline, divided by N), then one round: every client sends 16 bytes on every
// connection and waits for the echo (latency p50 / p99 from the clients' clocks; server CPU per connection from
// the server process's own process.cpuUsage around the round), and how many were served (nothing lost: every
// connection echoed). The server is stopped first, so that TIME_WAIT stays on its side.
// The churn section runs bench/serve-cost.mjs (connect + 64 bytes + close, node:net clients) at each
// concurrency for node:net, the driver alone and Listener.serve, for the server CPU per connection against
// node:net's as concurrency grows.
// The last line printed is one JSON object with every figure. Nothing here asserts timings.

import { execFile, fork } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { fileLimits, fmt, percentile, raiseFileLimit, stopPeer, systemFacts } from "./measure.mjs"

const HOST = "127.0.0.1"
const REQUEST_BYTES = 16
const RECEIVE_BYTES = 4096
const WARM = 200
const PER_ADDRESS = 10_000
const CONNECTS_IN_FLIGHT = 128
const SERVERS = ["node:net", "Listener.serve", "PlatformSocketServer", "NodeSocketServer"]
const self = fileURLToPath(import.meta.url)
const root = fileURLToPath(new URL("..", import.meta.url))

// ---------------------------------------------------------------------------------------------------------
// The servers, each in its own process. `served()` is called once per connection as its handler starts.

const servers = {
  "node:net": async (served) => {
    const server = net.createServer({ noDelay: true }, (socket) => {
      served()
      socket.on("data", (chunk) => socket.write(chunk))
      socket.on("error", () => socket.destroy())
    })
    await new Promise((resolve) => server.listen({ host: HOST, port: 0, backlog: 4096 }, resolve))
    return server.address().port
  },
  "Listener.serve": async (served) => {
    const [{ Effect, ManagedRuntime }, { ConnectEx, Listener, Socket, SocketAddress }] = await Promise.all([
      import("effect"),
      import("effect-connectex")
    ])
    // The README's echo handler.
    const echo = ({ socket }) =>
      Effect.gen(function*() {
        served()
        for (let chunk = yield* Socket.receive(socket, RECEIVE_BYTES); chunk.length > 0; chunk = yield* Socket.receive(socket, RECEIVE_BYTES)) {
          yield* Socket.send(socket, chunk)
        }
      })
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    return new Promise((resolve) => {
      runtime.runFork(Effect.scoped(Effect.gen(function*() {
        const listener = yield* Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
        resolve((yield* Listener.address(listener)).port)
        return yield* Listener.serve(listener, echo)
      })))
    })
  },
  "PlatformSocketServer": async (served) => {
    const [{ Effect, ManagedRuntime }, { ConnectEx, PlatformSocketServer, SocketAddress }] = await Promise.all([
      import("effect"),
      import("effect-connectex")
    ])
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    return new Promise((resolve) => {
      runtime.runFork(Effect.scoped(Effect.gen(function*() {
        const server = yield* PlatformSocketServer.make(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
        resolve(server.address.port)
        return yield* server.run(platformEcho(Effect, served))
      })))
    })
  },
  "NodeSocketServer": async (served) => {
    const [{ Effect }, NodeSocketServer] = await Promise.all([import("effect"), import("@effect/platform-node/NodeSocketServer")])
    return new Promise((resolve) => {
      Effect.runFork(Effect.scoped(Effect.gen(function*() {
        const server = yield* NodeSocketServer.make({ host: HOST, port: 0, backlog: 4096 })
        resolve(server.address.port)
        return yield* server.run(platformEcho(Effect, served))
      })))
    })
  }
}

/** The platform servers' handler: every chunk read is written back (PlatformSocketServer's own example). */
const platformEcho = (Effect, served) => (socket) =>
  Effect.suspend(() => {
    served()
    return Effect.scoped(Effect.flatMap(socket.writer, (write) => socket.run(write)))
  })

const settle = () => new Promise((resolve) => setImmediate(resolve))

/** The descriptors this process has open now (Linux; -1 elsewhere). */
const openDescriptors = () => {
  try {
    return readdirSync("/proc/self/fd").length
  } catch {
    return -1
  }
}

async function runServer(name) {
  let served = 0
  let expected = Infinity
  const onServed = () => {
    if (++served === expected) process.send?.({ type: "served", served })
  }
  let profiler
  const handlers = {
    expect: (message) => {
      expected = message.count
      if (served >= expected) process.send?.({ type: "served", served })
    },
    cpu: () => process.send?.({ type: "cpu", usage: process.cpuUsage() }),
    fds: () => process.send?.({ type: "fds", fds: openDescriptors() }),
    memory: async () => {
      // Full collections, with a turn of the event loop between them for weak callbacks and finalizers.
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.()
        await settle()
      }
      const usage = process.memoryUsage()
      process.send?.({ type: "memory", heapUsed: usage.heapUsed, rss: usage.rss, external: usage.external, served, fds: openDescriptors() })
    },
    snapshot: async (message) => {
      const v8 = await import("node:v8")
      globalThis.gc?.()
      v8.writeHeapSnapshot(message.path)
      process.send?.({ type: "snapshot" })
    },
    profileStart: async () => {
      const { Session } = await import("node:inspector")
      profiler = new Session()
      profiler.connect()
      const post = (method, params) => new Promise((resolve, reject) => profiler.post(method, params, (e, r) => (e ? reject(e) : resolve(r))))
      await post("Profiler.enable")
      await post("Profiler.setSamplingInterval", { interval: 100 })
      await post("Profiler.start")
      profiler.stopTo = async (path) => {
        const { profile } = await post("Profiler.stop")
        const { writeFileSync } = await import("node:fs")
        writeFileSync(path, JSON.stringify(profile))
        profiler.disconnect()
      }
      process.send?.({ type: "profileStart" })
    },
    profileStop: async (message) => {
      await profiler?.stopTo(message.path)
      process.send?.({ type: "profileStop" })
    }
  }
  process.on("message", (message) => void handlers[message?.type]?.(message))
  process.on("disconnect", () => process.exit(0))
  const port = await servers[name](onServed)
  process.send?.({ type: "ready", port })
}

// ---------------------------------------------------------------------------------------------------------
// The clients, each in its own process: connect, stay silent, one round, close.

function runClient() {
  /** per connection: the socket, when its request went, how many echoed bytes came back */
  let sockets = []
  let sentAt = new Float64Array(0)
  let echoed = new Int32Array(0)
  let round
  const payload = Buffer.alloc(REQUEST_BYTES, 0x61)

  const onData = (i, bytes) => {
    if (round === undefined || echoed[i] >= REQUEST_BYTES) return
    echoed[i] += bytes
    if (echoed[i] >= REQUEST_BYTES) round.finish(i, performance.now() - sentAt[i])
  }
  const onGone = (i) => round?.fail(i)

  const connect = ({ port, groups }) =>
    new Promise((resolve) => {
      const total = groups.reduce((sum, g) => sum + g.count, 0)
      const first = sockets.length
      sockets = sockets.concat(new Array(total))
      const queue = groups.flatMap((g) => Array.from({ length: g.count }, () => g.localAddress))
      let next = 0
      let connected = 0
      let errors = 0
      let firstError
      const one = () => {
        if (next >= queue.length) return
        const i = first + next
        const localAddress = queue[next++]
        const socket = net.createConnection({ host: HOST, port, localAddress, noDelay: true })
        let settled = false
        const settle = (ok, error) => {
          if (settled) return
          settled = true
          if (ok) connected++
          else {
            errors++
            firstError ??= String(error?.code ?? error?.message ?? error)
          }
          if (connected + errors === total) resolve({ type: "connected", connected, errors, firstError })
          else one()
        }
        socket.once("connect", () => settle(true))
        socket.on("error", (error) => settle(false, error))
        socket.on("close", () => (settled ? onGone(i) : settle(false, "closed")))
        socket.on("data", (chunk) => onData(i, chunk.length))
        sockets[i] = socket
      }
      if (total === 0) resolve({ type: "connected", connected, errors })
      for (let k = 0; k < Math.min(CONNECTS_IN_FLIGHT, total); k++) one()
    })

  const runRound = ({ window, timeoutMs }) =>
    new Promise((resolve) => {
      const n = sockets.length
      sentAt = new Float64Array(n)
      echoed = new Int32Array(n)
      const latencies = []
      const done = new Uint8Array(n)
      let finished = 0
      let failed = 0
      let next = 0
      const limit = window > 0 ? window : n
      let reported = false
      const report = () => {
        if (reported) return
        reported = true
        clearTimeout(timer)
        round = undefined
        resolve({ type: "round", latenciesMs: latencies, served: latencies.length, failed: n - latencies.length })
      }
      const sendNext = () => {
        while (next < n) {
          const i = next++
          const socket = sockets[i]
          if (socket === undefined || socket.destroyed || socket.readyState !== "open") {
            done[i] = 1
            failed++
            continue
          }
          sentAt[i] = performance.now()
          socket.write(payload)
          return
        }
        if (finished + failed === n) report()
      }
      round = {
        finish: (i, ms) => {
          if (done[i]) return
          done[i] = 1
          finished++
          latencies.push(ms)
          if (finished + failed === n) report()
          else if (window > 0) sendNext()
        },
        fail: (i) => {
          if (done[i] || i >= next) return
          done[i] = 1
          failed++
          if (finished + failed === n) report()
          else if (window > 0) sendNext()
        }
      }
      const timer = setTimeout(report, timeoutMs)
      for (let k = 0; k < Math.min(limit, n) && next < n; k++) sendNext()
      if (n === 0 || finished + failed === n) report()
    })

  const handlers = {
    connect: async (message) => process.send?.(await connect(message)),
    round: async (message) => process.send?.(await runRound(message)),
    close: () => {
      for (const socket of sockets) socket?.destroy()
      sockets = []
      process.send?.({ type: "closed" })
    }
  }
  process.on("message", (message) => void handlers[message?.type]?.(message))
  process.on("disconnect", () => {
    for (const socket of sockets) socket?.destroy()
    process.exit(0)
  })
  process.send?.({ type: "ready" })
}

// ---------------------------------------------------------------------------------------------------------
// The parent: processes, the measurement, the report

const children = new Set()
const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}

const start = (args, execArgv) =>
  new Promise((resolve, reject) => {
    const child = fork(self, args, { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] })
    children.add(child)
    child.once("exit", () => children.delete(child))
    child.once("error", reject)
    const early = (code, signal) => reject(new Error(`${args.join(" ")} exited early (${code ?? signal})`))
    child.once("exit", early)
    child.once("message", (message) => {
      child.off("exit", early)
      resolve({ child, port: message.port })
    })
  })

/** Sends `message` and resolves with the child's next message of `type` (`undefined` after `timeoutMs`). */
const ask = (child, message, type = message.type, timeoutMs = 600_000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(undefined), timeoutMs)
    const onExit = (code, signal) => {
      clearTimeout(timer)
      child.off("message", onMessage)
      reject(new Error(`a child exited while asked for ${type} (${code ?? signal})`))
    }
    const done = (value) => {
      clearTimeout(timer)
      child.off("message", onMessage)
      child.off("exit", onExit)
      resolve(value)
    }
    const onMessage = (reply) => reply?.type === type && done(reply)
    child.on("message", onMessage)
    child.once("exit", onExit)
    if (message !== undefined) child.send(message)
  })

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The source address of connection group `k` in run `run` (127.0.0.0/8 is loopback on Linux). */
const sourceAddress = (base, run, k) => (process.platform === "linux" ? `127.${base}.${run}.${k + 1}` : HOST)

/** Splits `n` connections over the client processes in groups of at most PER_ADDRESS, one address each. */
const plan = (n, processes, base, run) => {
  const perProcess = Array.from({ length: processes }, (_, p) => Math.floor(n / processes) + (p < n % processes ? 1 : 0))
  let k = 1 // address 0 is the warm-up's
  return perProcess.map((count) => {
    const groups = []
    for (let left = count; left > 0; left -= PER_ADDRESS) groups.push({ localAddress: sourceAddress(base, run, k++), count: Math.min(PER_ADDRESS, left) })
    return groups
  })
}

const serverCpuUs = async (child) => {
  const { usage } = await ask(child, { type: "cpu" })
  return usage.user + usage.system
}

/** Waits until the server's descriptors are back at `count` (the warm-up's connections closed). */
async function descriptorsBackTo(child, count) {
  for (let i = 0; i < 200; i++) {
    const { fds } = await ask(child, { type: "fds" })
    if (fds <= count || fds < 0) return
    await sleep(25)
  }
}

const round1 = (x) => Math.round(x * 10) / 10
const round3 = (x) => Math.round(x * 1_000) / 1_000

/** One server at one N: fresh server and client processes; every figure of the row. */
async function measure(name, n, options, run) {
  const processes = options.clients ?? Math.min(4, Math.max(1, Math.ceil(n / 2_500)))
  const server = await start(["--server", name], ["--expose-gc", "--max-old-space-size=8192"])
  const clients = []
  const profile = options.profile !== undefined && options.profileServers.includes(name)
  const file = (what) => Path.join(options.profile, `${name.replace(/[^A-Za-z0-9]+/g, "-")}-${n}-${what}`)
  try {
    for (let p = 0; p < processes; p++) clients.push((await start(["--client"], ["--max-old-space-size=4096"])).child)
    const { fds: idleFds } = await ask(server.child, { type: "fds" })
    // Warm-up, not reported: JIT, the layer, the accept path. Closed, and waited for, before the baseline.
    const warm = Math.min(WARM, n)
    await ask(clients[0], { type: "connect", port: server.port, groups: [{ localAddress: sourceAddress(options.base, run, 0), count: warm }] }, "connected")
    await ask(clients[0], { type: "round", window: 0, timeoutMs: 30_000 })
    await ask(clients[0], { type: "close" }, "closed")
    await descriptorsBackTo(server.child, idleFds)
    const baseline = await ask(server.child, { type: "memory" })
    if (profile) await ask(server.child, { type: "snapshot", path: file("baseline.heapsnapshot") })

    // N connections, then silence.
    const servedAll = ask(server.child, { type: "expect", count: baseline.served + n }, "served", 600_000)
    const started = performance.now()
    const connecting = Promise.all(clients.map((client, p) =>
      ask(client, { type: "connect", port: server.port, groups: plan(n, processes, options.base, run)[p] }, "connected")
    ))
    let acceptMs
    const settled = await Promise.race([
      servedAll.then(() => (acceptMs = performance.now() - started)),
      connecting.then(() => sleep(5_000))
    ])
    void settled
    const connects = await connecting
    const connected = connects.reduce((sum, c) => sum + c.connected, 0)
    const connectErrors = connects.reduce((sum, c) => sum + c.errors, 0)
    const idle = await ask(server.child, { type: "memory" })
    if (profile) await ask(server.child, { type: "snapshot", path: file("idle.heapsnapshot") })

    // One round: 16 bytes out and back on every connection.
    if (profile) await ask(server.child, { type: "profileStart" })
    const cpuBefore = await serverCpuUs(server.child)
    const roundStarted = performance.now()
    const rounds = await Promise.all(clients.map((client) => ask(client, { type: "round", window: options.window, timeoutMs: 120_000 })))
    const roundMs = performance.now() - roundStarted
    const cpuAfter = await serverCpuUs(server.child)
    if (profile) await ask(server.child, { type: "profileStop", path: file("round.cpuprofile") })
    const latencies = Float64Array.from(rounds.flatMap((r) => r.latenciesMs)).sort()
    const served = latencies.length
    const accepted = idle.served - baseline.served
    return {
      server: name,
      n,
      clientProcesses: processes,
      connected,
      connectErrors,
      firstConnectError: connects.find((c) => c.firstError !== undefined)?.firstError ?? null,
      accepted,
      acceptMs: acceptMs === undefined ? null : Math.round(acceptMs),
      acceptsPerSec: acceptMs === undefined ? null : Math.round((n / acceptMs) * 1_000),
      heapPerConnBytes: Math.round((idle.heapUsed - baseline.heapUsed) / n),
      rssPerConnBytes: Math.round((idle.rss - baseline.rss) / n),
      baselineHeapBytes: baseline.heapUsed,
      idleHeapBytes: idle.heapUsed,
      baselineRssBytes: baseline.rss,
      idleRssBytes: idle.rss,
      roundMs: Math.round(roundMs),
      p50Us: round1(percentile(latencies, 0.5) * 1_000),
      p99Us: round1(percentile(latencies, 0.99) * 1_000),
      maxUs: round1((latencies[latencies.length - 1] ?? NaN) * 1_000),
      serverCpuUsPerConn: round1((cpuAfter - cpuBefore) / n),
      served,
      lost: n - served
    }
  } finally {
    // The server first: its side keeps the TIME_WAITs, the clients' source ports are free at once.
    await stopPeer(server.child)
    for (const client of clients) await stopPeer(client)
  }
}

/** bench/serve-cost.mjs at one concurrency (its JSON), for the connect + 64 bytes + close workload. */
const serveCost = (n, concurrency) =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [Path.join(root, "bench", "serve-cost.mjs"), "--n", String(n), "--concurrency", String(concurrency), "--servers", "node:net,driver/receive,Listener/receive"],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout.trimEnd().split("\n").pop() ?? ""))
        } catch {
          resolve({ skipped: `bench/serve-cost.mjs failed: ${String(error?.message ?? stderr).split("\n")[0]}` })
        }
      }
    )
  })

async function churn(options) {
  if (!options.churn) return { skipped: "--no-churn" }
  const rows = []
  for (const concurrency of options.churnConcurrency) {
    const report = await serveCost(options.churnN, concurrency)
    if (report.skipped !== undefined) return { skipped: report.skipped }
    const net = report.results.find((r) => r.server === "node:net")
    for (const r of report.results) {
      rows.push({
        concurrency,
        server: r.server,
        connPerSec: r.connPerSec,
        serverCpuUsPerConn: r.serverCpuUsPerConn,
        serverCpuPerConnVsNet: round3(r.serverCpuUsPerConn / net.serverCpuUsPerConn),
        errors: r.errors
      })
    }
    process.stderr.write(`bench: churn C=${concurrency}: ${rows.filter((r) => r.concurrency === concurrency).map((r) => `${r.server} ${r.serverCpuUsPerConn} us`).join(", ")}\n`)
  }
  return { n: options.churnN, bench: "bench/serve-cost.mjs", results: rows }
}

// ---------------------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const value = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const list = (name, fallback) => (value(name) ?? fallback).split(",").filter((x) => x !== "")
  const quick = argv.includes("--quick")
  const ns = list("--n", quick ? "200" : "1000,10000,50000").map(Number)
  const servers = list("--servers", SERVERS.join(","))
  const clients = value("--clients") === undefined ? undefined : Number(value("--clients"))
  const window = Number(value("--window") ?? 0)
  const churnN = Number(value("--churn-n") ?? (quick ? 300 : 20_000))
  const churnConcurrency = list("--churn-concurrency", quick ? "64" : "64,256,1024").map(Number)
  const bad = (name, x, min = 1) => !Number.isInteger(x) || x < min ? name : undefined
  const problem = [...ns.map((n) => bad("--n", n)), bad("--window", window, 0), clients === undefined ? undefined : bad("--clients", clients),
    bad("--churn-n", churnN), ...churnConcurrency.map((c) => bad("--churn-concurrency", c))].find((x) => x !== undefined)
    ?? servers.find((s) => !SERVERS.includes(s))
  if (problem !== undefined) {
    console.error(`bench: bad ${problem} (servers: ${SERVERS.join(", ")}; numbers are positive integers)`)
    process.exit(2)
  }
  const profile = value("--profile")
  return {
    quick,
    ns,
    servers,
    clients,
    window,
    churn: !argv.includes("--no-churn"),
    churnN,
    churnConcurrency,
    profile: profile === undefined ? undefined : Path.resolve(profile),
    profileServers: list("--profile-servers", "Listener.serve"),
    // the second octet of this invocation's source addresses: another run's TIME_WAITs are on other addresses
    base: 16 + (process.pid % 200)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

function table(rows) {
  const header = ["server", "N", "heap B/conn", "RSS B/conn", "accept ms", "accepts/s", "p50 us", "p99 us", "CPU us/conn", "x net heap", "x net CPU", "served", "lost"]
  const cells = rows.map((r) => [r.server, fmt(r.n), fmt(r.heapPerConnBytes), fmt(r.rssPerConnBytes), fmt(r.acceptMs), fmt(r.acceptsPerSec),
    fmt(r.p50Us, 1), fmt(r.p99Us, 1), fmt(r.serverCpuUsPerConn, 1), fmt(r.heapPerConnVsNet, 2), fmt(r.serverCpuPerConnVsNet, 2), fmt(r.served), fmt(r.lost)])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) => c.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n")
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (process.argv.includes("--analyze")) return analyze(Path.resolve(process.argv[process.argv.indexOf("--analyze") + 1]))
  // Descriptors: the server holds N, each client process its share; a few hundred more for everything else.
  const needed = Math.max(...options.ns) + 1_000
  await raiseFileLimit(needed)
  const limits = fileLimits()
  process.on("exit", killAll)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => process.exit(130))
  if (options.profile !== undefined) mkdirSync(options.profile, { recursive: true })
  const system = systemFacts()
  console.log(
    `servers at scale on ${HOST}: N idle connections, then ${REQUEST_BYTES} bytes echoed on each; node ${process.version}, ` +
      `${os.cpus().length} cores, descriptors ${limits?.soft ?? "unknown"} (hard ${limits?.hard ?? "unknown"}), ` +
      `ephemeral ports ${system.range?.join("-") ?? "unknown"}\n`
  )
  const results = []
  const skipped = []
  let run = 0
  for (const n of options.ns) {
    if (limits !== undefined && n + 1_000 > limits.soft) {
      const hard = limits.root ? `, a hard limit this root process may not raise (no CAP_SYS_RESOURCE)` : ", the hard limit"
      skipped.push({ n, reason: `the server needs N + 1,000 descriptors; the limit is ${limits.soft}${limits.soft === limits.hard ? hard : ""}` })
      process.stderr.write(`bench: N=${n} skipped: descriptor limit ${limits.soft}\n`)
      continue
    }
    for (const name of options.servers) {
      const row = await measure(name, n, options, run++)
      results.push(row)
      process.stderr.write(`bench: ${name} N=${n}: ${row.heapPerConnBytes} B heap/conn, accept ${row.acceptMs} ms, ` +
        `round p50 ${row.p50Us} us, ${row.serverCpuUsPerConn} us CPU/conn, lost ${row.lost}\n`)
    }
  }
  for (const row of results) {
    const net = results.find((r) => r.server === "node:net" && r.n === row.n)
    row.heapPerConnVsNet = net === undefined ? null : round3(row.heapPerConnBytes / net.heapPerConnBytes)
    row.rssPerConnVsNet = net === undefined ? null : round3(row.rssPerConnBytes / net.rssPerConnBytes)
    row.serverCpuPerConnVsNet = net === undefined ? null : round3(row.serverCpuUsPerConn / net.serverCpuUsPerConn)
  }
  const churnReport = await churn(options)
  console.log(table(results))
  if (churnReport.results !== undefined) {
    console.log(`\nserver CPU per connection, connect + 64 bytes + close (bench/serve-cost.mjs, N = ${fmt(churnReport.n)}, node:net clients):`)
    for (const r of churnReport.results) {
      console.log(`  C=${String(r.concurrency).padEnd(5)} ${r.server.padEnd(17)} ${fmt(r.serverCpuUsPerConn, 1).padStart(7)} us  ${fmt(r.serverCpuPerConnVsNet, 2).padStart(5)}x node:net  ${fmt(r.connPerSec)} conn/s`)
    }
  } else {
    console.log(`\nchurn section skipped: ${churnReport.skipped}`)
  }
  for (const s of skipped) console.log(`N = ${fmt(s.n)} skipped: ${s.reason}`)
  console.log(JSON.stringify({
    bench: "scale",
    quick: options.quick,
    node: process.version,
    cores: os.cpus().length,
    requestBytes: REQUEST_BYTES,
    window: options.window,
    ns: options.ns,
    servers: options.servers,
    descriptorLimit: limits?.soft ?? null,
    results,
    skipped,
    churn: churnReport
  }))
}

// ---------------------------------------------------------------------------------------------------------
// --analyze: what --profile wrote, per connection

async function analyze(dir) {
  void dir
  throw new Error("not yet")
}

// Last, so that every declaration above is initialised.
const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(self)
if (isMain && process.argv.includes("--server")) {
  await runServer(process.argv[process.argv.indexOf("--server") + 1])
} else if (isMain && process.argv.includes("--client")) {
  runClient()
} else if (isMain) {
  await main()
}
