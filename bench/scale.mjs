#!/usr/bin/env node
// Servers at scale: what an idle connection costs a server, how fast N connections are accepted, and one small
// request on every one of them.
//
//   npm run bench:scale                  build, then N = 1,000, 10,000 and 50,000 (where descriptors allow)
//   node bench/scale.mjs --quick         N = 200, every server once (after a build)
//   options: --n 1000,10000  --servers node:net,Listener.serve,...  --clients P (client processes)
//            --window W (requests in flight per client process in the round; default 0: all at once)
//            --churn-n N  --churn-concurrency 64,256,1024  --no-churn
//            --profile DIR [--profile-servers Listener.serve,...]: after the figures, for each of those servers
//              and N one run with heap snapshots (before the clients, and with the N idle connections) and one
//              with a CPU profile of the round; then bench/serve-cost.mjs (node:net and Listener/receive) at
//              each churn concurrency under --cpu-prof and --trace-gc-nvp
//            --analyze DIR: what --profile wrote, per connection (no servers are started; give node a large
//              --max-old-space-size for snapshots of 10,000 connections)
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
// the server process's own process.cpuUsage around the round, and its collections from performance "gc"
// entries), and how many were served (nothing lost: every connection echoed). The server is stopped first, so
// that TIME_WAIT stays on its side.
// The churn section runs bench/serve-cost.mjs (connect + 64 bytes + close, node:net clients) at each
// concurrency for node:net, the driver alone and Listener.serve, for the server CPU per connection against
// node:net's as concurrency grows.
// The last line printed is one JSON object with every figure. Nothing here asserts timings.

import { execFile, fork } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"
import { fileLimits, fmt, percentile, raiseFileLimit, stopPeer, systemFacts } from "./measure.mjs"

const HOST = "127.0.0.1"
const REQUEST_BYTES = 16
const RECEIVE_BYTES = 4096
const WARM = 200
const PER_ADDRESS = 10_000
const CONNECTS_IN_FLIGHT = 128
const SERVERS = ["node:net", "Listener.serve", "Listener.serveChunks", "Listener.serveChunks (Effect 4)", "PlatformSocketServer", "NodeSocketServer"]
const self = fileURLToPath(import.meta.url)
const root = fileURLToPath(new URL("..", import.meta.url))

// ---------------------------------------------------------------------------------------------------------
// The servers, each in its own process. `served()` is called once per connection as its handler starts.

/**
 * The serveChunks echo server, written once for both front-ends: `modules` gives an `effect` and a front-end
 * whose APIs used here are the same in Effect 3 and Effect 4.
 */
const chunkServer = async (served, modules) => {
  const [{ Effect, ManagedRuntime }, { ConnectEx, Iocp, Listener, Socket, SocketAddress }] = await modules
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  // No handler runs until a connection sends: a connection counts as served once the port holds its socket
  // (the listener is the port's first). Connections only open between the bench's closes, so each rise of
  // the open count is that many new ones.
  let open = 0
  return new Promise((resolve) => {
    runtime.runFork(Effect.scoped(Effect.gen(function*() {
      const stats = (yield* Iocp.Iocp).stats
      setInterval(() => {
        const now = Effect.runSync(stats).sockets - 1
        for (; open < now; open++) served()
        open = now
      }, 5).unref()
      const listener = yield* Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
      resolve((yield* Listener.address(listener)).port)
      return yield* Listener.serveChunks(listener, (chunk, { socket }) => Socket.send(socket, chunk), { readSize: RECEIVE_BYTES })
    })))
  })
}

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
  "Listener.serveChunks": (served) => chunkServer(served, Promise.all([import("effect"), import("effect-connectex")])),
  // The same server with the Effect 4 front-end, built (packages/effect4/dist) over its own effect 4, as a user of
  // @effect-connectex/effect4 runs it.
  "Listener.serveChunks (Effect 4)": (served) =>
    chunkServer(served, Promise.all([
      import(new URL("packages/effect4/node_modules/effect/dist/index.js", pathToFileURL(root)).href),
      import(new URL("packages/effect4/dist/index.js", pathToFileURL(root)).href)
    ])),
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
  // Collections by kind (performance "gc" entries), so that a round's CPU can be read against its GC.
  const { PerformanceObserver, constants } = await import("node:perf_hooks")
  const kindName = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb"
  }
  const gcKinds = {}
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const k = (gcKinds[kindName[entry.detail?.kind] ?? "other"] ??= { count: 0, ms: 0 })
      k.count++
      k.ms += entry.duration
    }
  }).observe({ entryTypes: ["gc"] })
  const handlers = {
    gc: async () => {
      await settle() // the observer's entries are delivered asynchronously
      process.send?.({ type: "gc", kinds: structuredClone(gcKinds) })
    },
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
  const profile = options.profileKind
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
    if (profile === "heap") await ask(server.child, { type: "snapshot", path: file("baseline.heapsnapshot") })

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
    if (profile === "heap") await ask(server.child, { type: "snapshot", path: file("idle.heapsnapshot") })

    // One round: 16 bytes out and back on every connection.
    if (profile === "cpu") await ask(server.child, { type: "profileStart" })
    const gcBefore = await ask(server.child, { type: "gc" })
    const cpuBefore = await serverCpuUs(server.child)
    const roundStarted = performance.now()
    const rounds = await Promise.all(clients.map((client) => ask(client, { type: "round", window: options.window, timeoutMs: 120_000 })))
    const roundMs = performance.now() - roundStarted
    const cpuAfter = await serverCpuUs(server.child)
    const gcAfter = await ask(server.child, { type: "gc" })
    if (profile === "cpu") await ask(server.child, { type: "profileStop", path: file("round.cpuprofile") })
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
      roundGc: Object.fromEntries(Object.entries(gcAfter.kinds).map(([kind, k]) => {
        const before = gcBefore.kinds[kind] ?? { count: 0, ms: 0 }
        return [kind, { count: k.count - before.count, ms: round1(k.ms - before.ms) }]
      })),
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
  const header = ["server", "N", "heap B/conn", "RSS B/conn", "accept ms", "accepts/s", "p50 us", "p99 us", "CPU us/conn", "GC ms", "x net heap", "x net CPU", "served", "lost"]
  const gcMs = (r) => Object.values(r.roundGc).reduce((sum, k) => sum + k.ms, 0)
  const cells = rows.map((r) => [r.server, fmt(r.n), fmt(r.heapPerConnBytes), fmt(r.rssPerConnBytes), fmt(r.acceptMs), fmt(r.acceptsPerSec),
    fmt(r.p50Us, 1), fmt(r.p99Us, 1), fmt(r.serverCpuUsPerConn, 1), fmt(gcMs(r), 1), fmt(r.heapPerConnVsNet, 2), fmt(r.serverCpuPerConnVsNet, 2), fmt(r.served), fmt(r.lost)])
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
  if (options.profile !== undefined) {
    // Separate runs, so that neither distorts the figures above nor the other: heap snapshots of the idle
    // connections, then a CPU profile of the round in a process that took no snapshot.
    const profiled = []
    for (const n of options.ns.filter((n) => limits === undefined || n + 1_000 <= limits.soft)) {
      for (const name of options.profileServers) {
        for (const profileKind of ["heap", "cpu"]) profiled.push({ profileKind, ...await measure(name, n, { ...options, profileKind }, run++) })
      }
    }
    writeFileSync(Path.join(options.profile, "runs.json"), JSON.stringify(profiled))
    await profileChurn(options)
    process.stderr.write(`bench: profiles written to ${options.profile}; read them with node bench/scale.mjs --analyze ${options.profile}\n`)
  }
  console.log(table(results))
  if (churnReport.results !== undefined) {
    console.log(`\nserver CPU per connection, connect + 64 bytes + close (bench/serve-cost.mjs, N = ${fmt(churnReport.n)}, node:net clients):`)
    for (const r of churnReport.results) {
      const cpu = `${fmt(r.serverCpuUsPerConn, 1).padStart(7)} us  ${fmt(r.serverCpuPerConnVsNet, 2).padStart(5)}x node:net`
      console.log(`  C=${String(r.concurrency).padEnd(5)} ${r.server.padEnd(17)} ${cpu}  ${fmt(r.connPerSec)} conn/s`)
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
// --analyze: what --profile wrote, per connection. Heap snapshots are read from their bytes (an idle snapshot
// at N = 10,000 is larger than the longest string V8 makes): the nodes and edges into typed arrays, the
// strings with JSON.parse.

/** A .heapsnapshot file: meta, nodes and edges (typed arrays), strings. */
function readSnapshot(path) {
  const bytes = readFileSync(path)
  const find = (text, from = 0) => {
    const at = bytes.indexOf(text, from, "latin1")
    if (at < 0) throw new Error(`${path}: no ${text}`)
    return at
  }
  const nodesAt = find('"nodes":[')
  const head = bytes.toString("utf8", 0, nodesAt).trim().replace(/,$/, "")
  const { snapshot } = JSON.parse(`${head}}`)
  const numbers = (from, count) => {
    const out = new Uint32Array(count)
    let i = from
    let k = 0
    let value = 0
    let inNumber = false
    for (; k < count; i++) {
      const c = bytes[i]
      if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48)
        inNumber = true
      } else if (inNumber) {
        out[k++] = value
        value = 0
        inNumber = false
      }
    }
    return { values: out, end: i }
  }
  const meta = snapshot.meta
  const nodes = numbers(nodesAt + 9, snapshot.node_count * meta.node_fields.length)
  const edgesAt = find('"edges":[', nodes.end)
  const edges = numbers(edgesAt + 9, snapshot.edge_count * meta.edge_fields.length)
  const locationFields = meta.location_fields?.length ?? 0
  const locationsAt = locationFields === 0 ? -1 : bytes.indexOf('"locations":[', edges.end, "latin1")
  let locations = new Uint32Array(0)
  if (locationsAt >= 0) {
    const close = bytes.indexOf("]", locationsAt, "latin1")
    let commas = 0
    for (let i = locationsAt + 13; i < close; i++) if (bytes[i] === 44) commas++
    const count = close > locationsAt + 13 ? commas + 1 : 0
    locations = numbers(locationsAt + 13, count).values
  }
  const stringsAt = find('"strings":[', edges.end)
  const end = bytes.lastIndexOf("]")
  const strings = JSON.parse(bytes.toString("utf8", stringsAt + 10, end + 1))
  return { meta, nodes: nodes.values, edges: edges.values, strings, locations, nodeCount: snapshot.node_count }
}

/**
 * The graph of a snapshot with each node's class (as DevTools groups them: an object's constructor, a
 * closure's function, "(array) ..." for V8's internal arrays, "(string)", ...), its self size and, from the
 * dominator tree (Cooper, Harvey and Kennedy's iteration over a post-order, weak edges left out, as DevTools
 * builds it), its retained size and immediate dominator.
 */
function heapGraph(snapshot) {
  const { meta, nodes, edges, strings, locations, nodeCount } = snapshot
  const NF = meta.node_fields.length
  const EF = meta.edge_fields.length
  const nodeTypes = meta.node_types[0]
  const edgeTypes = meta.edge_types[0]
  const [typeAt, nameAt, , sizeAt, edgeCountAt] = ["type", "name", "id", "self_size", "edge_count"].map((f) => meta.node_fields.indexOf(f))
  const [edgeTypeAt, edgeNameAt, toAt] = ["type", "name_or_index", "to_node"].map((f) => meta.edge_fields.indexOf(f))
  const WEAK = edgeTypes.indexOf("weak")
  const SHORTCUT = edgeTypes.indexOf("shortcut")
  const firstEdge = new Uint32Array(nodeCount + 1)
  for (let i = 0; i < nodeCount; i++) firstEdge[i + 1] = firstEdge[i] + nodes[i * NF + edgeCountAt] * EF
  const essential = (from, e) => {
    const type = edges[e + edgeTypeAt]
    return type !== WEAK && (type !== SHORTCUT || from === 0)
  }
  const selfSize = (i) => nodes[i * NF + sizeAt]
  const className = (i) => {
    const type = nodeTypes[nodes[i * NF + typeAt]]
    const name = strings[nodes[i * NF + nameAt]]
    switch (type) {
      case "object":
      case "native":
        return name
      case "closure":
        return `(closure) ${name === "" ? "anonymous" : name}`
      case "hidden":
      case "array":
      case "synthetic":
        return `(${type}) ${name.replace(/ \/ .*$/, "").slice(0, 60)}`
      case "string":
      case "concatenated string":
      case "sliced string":
        return "(string)"
      default:
        return `(${type})`
    }
  }
  // Post-order from the root over essential edges (iterative).
  const UNSET = 0xffffffff
  const postorder = new Uint32Array(nodeCount).fill(UNSET)
  const order = new Uint32Array(nodeCount)
  const visited = new Uint8Array(nodeCount)
  const stackNode = new Uint32Array(nodeCount)
  const stackEdge = new Uint32Array(nodeCount)
  let top = 0
  let count = 0
  stackNode[0] = 0
  stackEdge[0] = firstEdge[0]
  visited[0] = 1
  while (top >= 0) {
    const node = stackNode[top]
    const e = stackEdge[top]
    if (e < firstEdge[node + 1]) {
      stackEdge[top] = e + EF
      if (!essential(node, e)) continue
      const to = edges[e + toAt] / NF
      if (visited[to]) continue
      visited[to] = 1
      top++
      stackNode[top] = to
      stackEdge[top] = firstEdge[to]
    } else {
      postorder[node] = count
      order[count++] = node
      top--
    }
  }
  // Retainers over essential edges, as post-order numbers.
  const retainerCount = new Uint32Array(nodeCount + 1)
  for (let from = 0; from < nodeCount; from++) {
    if (postorder[from] === UNSET) continue
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += EF) if (essential(from, e)) retainerCount[edges[e + toAt] / NF + 1]++
  }
  for (let i = 0; i < nodeCount; i++) retainerCount[i + 1] += retainerCount[i]
  const retainers = new Uint32Array(retainerCount[nodeCount])
  const fill = retainerCount.slice(0, nodeCount)
  for (let from = 0; from < nodeCount; from++) {
    if (postorder[from] === UNSET) continue
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += EF) if (essential(from, e)) retainers[fill[edges[e + toAt] / NF]++] = postorder[from]
  }
  const rootPo = count - 1
  const dom = new Uint32Array(count).fill(UNSET)
  dom[rootPo] = rootPo
  for (let changed = true; changed;) {
    changed = false
    for (let po = rootPo - 1; po >= 0; po--) {
      const node = order[po]
      let idom = UNSET
      for (let r = retainerCount[node]; r < retainerCount[node + 1]; r++) {
        let a = retainers[r]
        if (dom[a] === UNSET) continue
        if (idom === UNSET) {
          idom = a
          continue
        }
        let b = idom
        while (a !== b) {
          while (a < b) a = dom[a]
          while (b < a) b = dom[b]
        }
        idom = a
      }
      if (idom !== UNSET && dom[po] !== idom) {
        dom[po] = idom
        changed = true
      }
    }
  }
  const retained = new Float64Array(count)
  for (let po = 0; po < count; po++) {
    retained[po] += selfSize(order[po])
    if (po !== rootPo) retained[dom[po]] += retained[po]
  }
  const edgeName = (e) => {
    const type = edgeTypes[edges[e + edgeTypeAt]]
    const name = edges[e + edgeNameAt]
    return type === "element" || type === "hidden" ? `[${name}]` : type === "context" ? `->${strings[name]}` : strings[name]
  }
  /** The name of an edge from `fromPo` to `toPo` when there is one (the dominator tree's label). */
  const linkName = (fromPo, toPo) => {
    const from = order[fromPo]
    const to = order[toPo]
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += EF) if (edges[e + toAt] / NF === to) return edgeName(e)
    return "(indirect)"
  }
  /** A node's outgoing edges: { name, to } (to: a node number). */
  const edgesOf = (node) => {
    const out = []
    for (let e = firstEdge[node]; e < firstEdge[node + 1]; e += EF) out.push({ name: edgeName(e), to: edges[e + toAt] / NF })
    return out
  }
  const property = (node, name) => edgesOf(node).find((e) => e.name === name)?.to
  // Where a closure's function is: its script's name (closure -> shared -> script_or_debug_info) and line.
  const LF = meta.location_fields?.length ?? 4
  const lineOf = new Map()
  for (let i = 0; i + LF <= locations.length; i += LF) lineOf.set(locations[i] / NF, locations[i + 2] + 1)
  const where = (node) => {
    const shared = property(node, "shared")
    const script = shared === undefined ? undefined : property(shared, "script_or_debug_info") ?? property(shared, "script")
    const file = script === undefined ? "?" : strings[nodes[script * NF + nameAt]].replace(/^.*\/(node_modules|packages)\//, "").replace(/^file:\/\/.*\//, "")
    return `${file}:${lineOf.get(node) ?? "?"}`
  }
  const stringValue = (node) => (nodeTypes[nodes[node * NF + typeAt]].includes("string") ? strings[nodes[node * NF + nameAt]] : undefined)
  const childStart = new Uint32Array(count + 1)
  for (let po = 0; po < count; po++) if (po !== rootPo) childStart[dom[po] + 1]++
  for (let po = 0; po < count; po++) childStart[po + 1] += childStart[po]
  const children = new Uint32Array(count)
  const childFill = childStart.slice(0, count)
  for (let po = 0; po < count; po++) if (po !== rootPo) children[childFill[dom[po]]++] = po
  return {
    count,
    edgesOf,
    property,
    where,
    stringValue,
    po: (node) => postorder[node],
    children: (po) => children.subarray(childStart[po], childStart[po + 1]),
    linkName,
    node: (po) => order[po],
    dominator: (po) => dom[po],
    retained: (po) => retained[po],
    rootPo,
    className,
    selfSize,
    edgeName: (e) => edges[e + edgeNameAt],
    nodeCount
  }
}

/** Count and self size per class of the nodes reachable from the root. */
function classTotals(graph) {
  const totals = new Map()
  for (let po = 0; po < graph.count; po++) {
    const node = graph.node(po)
    const name = graph.className(node)
    const t = totals.get(name) ?? { count: 0, self: 0 }
    t.count++
    t.self += graph.selfSize(node)
    totals.set(name, t)
  }
  return totals
}

/**
 * Classes that own a connection's objects in the breakdown: each reachable object's self size is charged to
 * the nearest of these among its dominators (itself included), so that the rows add up without counting
 * anything twice; whatever has none of them above it is charged to "(no owner)".
 */
const OWNERS = [
  "FiberRuntime",
  "SocketImpl",
  "PosixSocket",
  "PosixOperation",
  "Fifo",
  "Socket",
  "TCP",
  "TCPWrap",
  "WriteWrap"
]

/** Self sizes per owner and class: "owner\tclass" -> { count, self } (count: instances of the owner class). */
function ownerTotals(graph) {
  const owner = new Uint32Array(graph.count)
  const totals = new Map()
  // Dominators come after the nodes they dominate in post-order: walk from the root down.
  for (let po = graph.rootPo; po >= 0; po--) {
    const name = graph.className(graph.node(po))
    const isOwner = OWNERS.includes(name)
    owner[po] = isOwner ? po : po === graph.rootPo ? graph.rootPo : owner[graph.dominator(po)]
    const ownerName = owner[po] === graph.rootPo && !isOwner ? "(no owner)" : graph.className(graph.node(owner[po]))
    const key = `${ownerName}\t${name}`
    const t = totals.get(key) ?? { count: 0, self: 0 }
    t.count++
    t.self += graph.selfSize(graph.node(po))
    totals.set(key, t)
  }
  return totals
}

/**
 * The dominator subtree of one instance of `className` (the one of median retained size), children grouped by
 * the edge that leads to them and their class, down to `depth`: what one connection's object keeps alive.
 */
function dominatorTree(graph, className, depth = 5, minBytes = 64) {
  const instances = []
  for (let po = 0; po < graph.count; po++) if (graph.className(graph.node(po)) === className) instances.push(po)
  if (instances.length === 0) return []
  instances.sort((a, b) => graph.retained(a) - graph.retained(b))
  const lines = []
  const walk = (po, label, level) => {
    lines.push({ level, label, className: graph.className(graph.node(po)), self: graph.selfSize(graph.node(po)), retained: graph.retained(po) })
    if (level >= depth) return
    const groups = new Map()
    for (const child of graph.children(po)) {
      const key = `${graph.linkName(po, child)}\t${graph.className(graph.node(child))}`
      const g = groups.get(key) ?? { list: [], retained: 0 }
      g.list.push(child)
      g.retained += graph.retained(child)
      groups.set(key, g)
    }
    for (const [key, g] of [...groups].sort((a, b) => b[1].retained - a[1].retained)) {
      if (g.retained < minBytes) continue
      if (g.list.length === 1) walk(g.list[0], key.split("\t")[0], level + 1)
      else lines.push({ level: level + 1, label: `${g.list.length} x ${key.split("\t")[0]}`, className: key.split("\t")[1], self: NaN, retained: g.retained })
    }
  }
  walk(instances[Math.floor(instances.length / 2)], className, 0)
  return lines
}

/**
 * The continuation stack of one fiber (the FiberRuntime of median retained size): each frame's class, its
 * instruction (`_op`) and the functions it holds (name, file:line, captured variables), with retained sizes.
 */
function fiberStack(graph) {
  const fibers = []
  for (let po = 0; po < graph.count; po++) if (graph.className(graph.node(po)) === "FiberRuntime") fibers.push(po)
  if (fibers.length === 0) return []
  fibers.sort((a, b) => graph.retained(a) - graph.retained(b))
  const fiber = graph.node(fibers[Math.floor(fibers.length / 2)])
  const stack = graph.property(fiber, "_stack")
  if (stack === undefined) return []
  const describe = (node, depth = 0) => {
    const cls = graph.className(node)
    if (cls.startsWith("(closure)")) {
      const context = graph.property(node, "context")
      const captured = context === undefined ? [] : graph.edgesOf(context).filter((e) => e.name.startsWith("->")).map((e) => e.name.slice(2))
      return `${cls.slice(10)} @${graph.where(node)}${captured.length > 0 ? ` [${captured.join(", ")}]` : ""}`
    }
    const op = graph.property(node, "_op")
    const opName = op === undefined ? undefined : graph.stringValue(op)
    if (depth > 1) return cls
    const parts = graph.edgesOf(node)
      .filter((e) => /^(effect_instruction_i[012]|op|patch)$/.test(e.name))
      .map((e) => `${e.name.replace("effect_instruction_", "")}=${describe(e.to, depth + 1)}`)
    return `${cls}${opName === undefined ? "" : `(${opName})`}${parts.length > 0 ? ` { ${parts.join("; ")} }` : ""}`
  }
  // Objects the stack keeps that no single frame dominates (shared by the frames of one combinator) are
  // charged to the first frame, from the bottom, that reaches them: `charged` adds up to the stack's size.
  const inStack = new Set()
  const collect = (po) => {
    inStack.add(graph.node(po))
    for (const child of graph.children(po)) collect(child)
  }
  collect(graph.po(stack))
  const claimed = new Set([stack])
  const charge = (node) => {
    let bytes = 0
    const todo = [node]
    while (todo.length > 0) {
      const at = todo.pop()
      if (claimed.has(at) || !inStack.has(at)) continue
      claimed.add(at)
      bytes += graph.selfSize(at)
      for (const e of graph.edgesOf(at)) todo.push(e.to)
    }
    return bytes
  }
  return graph.edgesOf(stack)
    .filter((e) => /^\[\d+\]$/.test(e.name))
    .map((e) => ({ index: Number(e.name.slice(1, -1)), to: e.to }))
    .sort((a, b) => a.index - b.index)
    .map(({ index, to }) => ({ index, retained: graph.retained(graph.po(to)), charged: charge(to), frame: describe(to) }))
}

/** Average retained size of each owner class's instances (DevTools' "Retained size", per instance). */
function ownerRetained(graph) {
  const out = new Map()
  for (let po = 0; po < graph.count; po++) {
    const name = graph.className(graph.node(po))
    if (!OWNERS.includes(name)) continue
    const t = out.get(name) ?? { count: 0, retained: 0 }
    t.count++
    t.retained += graph.retained(po)
    out.set(name, t)
  }
  return out
}

/**
 * Self time per function of a .cpuprofile, (idle) left out, and per part of the code. With `startAt`, only
 * the samples from the first one whose stack holds one of those functions on (a server's first accept: its
 * start-up left out); with `leaveOut`, no sample whose stack holds a function of a matching script.
 */
function cpuProfile(path, startAt, leaveOut) {
  const profile = JSON.parse(readFileSync(path, "utf8"))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const holds = (id, names) => {
    for (let at = id; at !== undefined; at = parent.get(at)) if (names.includes(byId.get(at).callFrame.functionName)) return true
    return false
  }
  const hits = new Map()
  const deltas = profile.timeDeltas ?? []
  let from = 0
  if (startAt !== undefined) {
    from = profile.samples.findIndex((id) => holds(id, startAt))
    if (from < 0) from = 0
  }
  const leftOut = new Set()
  if (leaveOut !== undefined) for (const node of profile.nodes) if (leaveOut.test(node.callFrame.url)) leftOut.add(node.id)
  const inLeftOut = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) if (leftOut.has(at)) return true
    return false
  }
  for (let i = from; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    if (leftOut.size > 0 && inLeftOut(id)) continue
    const dt = deltas[i + 1] ?? deltas[i] ?? 0
    hits.set(id, (hits.get(id) ?? 0) + dt)
  }
  const part = (url) =>
    url === "" ? "(V8 / native)" :
    /packages\/core\//.test(url) ? "core (driver)" :
    /packages\/effect-connectex\//.test(url) ? "effect-connectex" :
    /node_modules\/effect\//.test(url) ? "effect" :
    /node_modules\/@effect\//.test(url) ? "@effect/platform" :
    /node_modules\/koffi\//.test(url) ? "koffi" :
    url.startsWith("node:") ? "node internals" :
    /bench\//.test(url) ? "bench" : "other"
  const fns = new Map()
  const parts = new Map()
  let total = 0
  for (const [id, us] of hits) {
    const frame = byId.get(id).callFrame
    if (frame.functionName === "(idle)") continue
    total += us
    const file = frame.url.replace(/^.*\/(node_modules|packages)\//, "").replace(/^file:\/\/.*\//, "")
    // koffi's foreign functions all appear as "poll" (send, recv, accept4, close, ...): named for what they are.
    const name = frame.url === "" && frame.functionName === "poll" ? "(koffi: libc calls)" : frame.functionName
    const key = frame.url === "" ? name : `${name || "(anonymous)"} ${file}:${frame.lineNumber + 1}`
    fns.set(key, (fns.get(key) ?? 0) + us)
    const p = frame.url === "" && (name === "(garbage collector)" || name === "(koffi: libc calls)") ? name : part(frame.url)
    parts.set(p, (parts.get(p) ?? 0) + us)
  }
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, us: Math.round(us), share: round3(us / total) }))
  return { path, totalUs: Math.round(total), parts: sorted(parts), functions: sorted(fns) }
}

/**
 * One process's collections in a --trace-gc-nvp log ("[pid:isolate] t ms: pause=0.8 ... gc=s ... allocated=...
 * promoted=... new_space_survived=..."): per kind (s: scavenge, ms: mark-sweep-compact, ...) the count, the
 * pauses, and the bytes allocated, promoted and surviving in the young generation.
 */
function gcTrace(text, pid) {
  const kinds = {}
  for (const line of text.split("\n")) {
    const m = /^\[(\d+):\S+\]\s+\d+ ms: (pause=.*)$/.exec(line)
    if (m === null || Number(m[1]) !== pid) continue
    const fields = Object.fromEntries(m[2].split(" ").map((kv) => kv.split("=")))
    const k = (kinds[fields.gc] ??= { count: 0, pauseMs: 0, allocated: 0, promoted: 0, survived: 0 })
    k.count++
    k.pauseMs += Number(fields.pause ?? 0)
    k.allocated += Number(fields.allocated ?? 0)
    k.promoted += Number(fields.promoted ?? 0)
    k.survived += Number(fields.new_space_survived ?? 0)
  }
  for (const k of Object.values(kinds)) k.pauseMs = round1(k.pauseMs)
  return kinds
}

/**
 * --profile's churn part: bench/serve-cost.mjs for one server at a time under --cpu-prof, --trace-gc-nvp and
 * this module's allocation sampling (its server process inherits all three), at each concurrency; the profiles,
 * the server's GC log and what the analysis needs in DIR/churn-<server>-c<C>/.
 */
async function profileChurn(options) {
  const runs = []
  for (const concurrency of options.churnConcurrency) {
    for (const server of ["node:net", "Listener/receive"]) {
      const dir = Path.join(options.profile, `churn-${server.replace(/[^A-Za-z0-9]+/g, "-")}-c${concurrency}`)
      mkdirSync(dir, { recursive: true })
      const { stdout, pid } = await new Promise((resolve) => {
        const child = execFile(
          process.execPath,
          ["--cpu-prof", "--cpu-prof-dir", dir, "--trace-gc-nvp", "--import", import.meta.url, Path.join(root, "bench", "serve-cost.mjs"),
            "--n", String(options.churnN), "--concurrency", String(concurrency), "--servers", server],
          { cwd: root, maxBuffer: 256 * 1024 * 1024, timeout: 600_000, env: { ...process.env, [ALLOCATIONS]: dir } },
          (_error, out) => resolve({ stdout: out, pid: child.pid })
        )
      })
      writeFileSync(Path.join(dir, "trace-gc.txt"), stdout)
      // The JSON line is serve-cost's last but for the GC log that may follow it.
      const report = JSON.parse(stdout.split("\n").findLast((l) => l.startsWith('{"bench"')) ?? "{}")
      const meta = { server, concurrency, n: options.churnN, warm: Math.max(200, Math.floor(options.churnN / 10)), clientPid: pid, result: report.results?.[0] }
      writeFileSync(Path.join(dir, "meta.json"), JSON.stringify(meta))
      runs.push(meta)
      process.stderr.write(`bench: profiled ${server} at C=${concurrency}: ${report.results?.[0]?.serverCpuUsPerConn} us/conn\n`)
    }
  }
  return runs
}

/** The churn profiles of --profile: per connection, by part and by function, each server across concurrencies. */
function analyzeChurn(dir) {
  const runs = readdirSync(dir).filter((d) => d.startsWith("churn-") && existsSync(Path.join(dir, d, "meta.json"))).map((d) => {
    const meta = JSON.parse(readFileSync(Path.join(dir, d, "meta.json"), "utf8"))
    // The server's profile: the one not written by the client process (serve-cost itself).
    const file = readdirSync(Path.join(dir, d)).find((f) => f.endsWith(".cpuprofile") && !f.includes(`.${meta.clientPid}.`))
    if (file === undefined) return undefined
    const connections = meta.n + meta.warm
    // This module's allocation sampler writes its profile at exit, under the CPU profiler: left out.
    const profile = cpuProfile(Path.join(dir, d, file), ["tryAccept", "onconnection"], /bench\/scale\.mjs/)
    const per = (us) => round1(us / connections)
    const serverPid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1])
    const gc = gcTrace(readFileSync(Path.join(dir, d, "trace-gc.txt"), "utf8"), serverPid)
    for (const k of Object.values(gc)) {
      k.pauseUsPerConn = round1((k.pauseMs * 1_000) / connections)
      k.survivedPerCollection = Math.round(k.survived / k.count)
      k.promotedPerConn = Math.round(k.promoted / connections)
    }
    const allocationFile = readdirSync(Path.join(dir, d)).find((f) => f.endsWith(".heapprofile") && !f.includes(`.${meta.clientPid}.`))
    const allocations = allocationFile === undefined ? undefined : allocationProfile(Path.join(dir, d, allocationFile), connections)
    // Allocation is counted at each collection: all kinds together are the bytes allocated over the run.
    const allocatedPerConn = Math.round(Object.values(gc).reduce((sum, k) => sum + k.allocated, 0) / connections)
    // The profile's samples are wall-clock intervals (a busy machine stretches them): each part's share is
    // applied to the process's measured CPU instead.
    const measured = meta.result?.serverCpuUsPerConn ?? NaN
    const scaled = (us) => round1((us / profile.totalUs) * measured)
    return {
      server: meta.server,
      concurrency: meta.concurrency,
      connections,
      measuredUsPerConn: meta.result?.serverCpuUsPerConn ?? null,
      sampledUsPerConn: per(profile.totalUs),
      parts: profile.parts.map((p) => ({ name: p.name, usPerConn: scaled(p.us) })),
      functions: profile.functions.map((f) => ({ name: f.name, usPerConn: scaled(f.us) })),
      allocatedPerConn,
      allocations,
      gc
    }
  }).filter((r) => r !== undefined).sort((a, b) => a.server.localeCompare(b.server) || a.concurrency - b.concurrency)
  for (const server of [...new Set(runs.map((r) => r.server))]) {
    const rows = runs.filter((r) => r.server === server)
    const cs = rows.map((r) => r.concurrency)
    console.log(`\n${server}: server CPU per connection (us; each part's share of the samples, start-up left out, times the measured CPU), C = ${cs.join(" / ")}`)
    const line = (label, cells) => console.log(`    ${label.slice(0, 72).padEnd(72)} ${cells.map((c) => String(c).padStart(10)).join("")}`)
    line("total (process.cpuUsage of the profiled run)", rows.map((r) => fmt(r.measuredUsPerConn, 1)))
    const partNames = [...new Set(rows.flatMap((r) => r.parts.map((p) => p.name)))]
    for (const name of partNames) line(`  ${name}`, rows.map((r) => fmt(r.parts.find((p) => p.name === name)?.usPerConn ?? 0, 1)))
    line("bytes allocated per connection (--trace-gc-nvp)", rows.map((r) => fmt(r.allocatedPerConn)))
    const kinds = [...new Set(rows.flatMap((r) => Object.keys(r.gc)))]
    for (const kind of kinds) {
      const label = kind === "s" ? "scavenge" : kind === "ms" ? "mark-sweep-compact" : kind
      line(`${label}: collections`, rows.map((r) => fmt(r.gc[kind]?.count ?? 0)))
      line(`${label}: pause us per connection`, rows.map((r) => fmt(r.gc[kind]?.pauseUsPerConn ?? 0, 1)))
      if (kind === "s") line(`${label}: bytes surviving per collection`, rows.map((r) => fmt(r.gc[kind]?.survivedPerCollection ?? 0)))
      line(`${label}: bytes promoted per connection`, rows.map((r) => fmt(r.gc[kind]?.promotedPerConn ?? 0)))
    }
    const sampled = rows.filter((r) => r.allocations !== undefined)
    if (sampled.length > 0) {
      const last = sampled[sampled.length - 1]
      line("bytes allocated per connection (sampling heap profiler)", rows.map((r) => fmt(r.allocations?.bytesPerConn ?? NaN)))
      for (const p of last.allocations.parts) line(`  ${p.name}`, rows.map((r) => fmt(r.allocations?.parts.find((x) => x.name === p.name)?.bytesPerConn ?? 0)))
      console.log(`  allocating functions at C = ${last.concurrency} (bytes per connection):`)
      for (const f of last.allocations.functions.slice(0, 25)) line(`  ${f.name}`, rows.map((r) => fmt(r.allocations?.functions.find((x) => x.name === f.name)?.bytesPerConn ?? 0)))
      console.log(`  allocations by the nearest library or bench function on the stack, at C = ${last.concurrency} (bytes per connection):`)
      for (const f of last.allocations.callers.slice(0, 25)) line(`  ${f.name}`, rows.map((r) => fmt(r.allocations?.callers.find((x) => x.name === f.name)?.bytesPerConn ?? 0)))
    }
    // The functions that grow most from the lowest concurrency to the highest, and the largest overall.
    const first = rows[0]
    const last = rows[rows.length - 1]
    const names = [...new Set(rows.flatMap((r) => r.functions.slice(0, 40).map((f) => f.name)))]
    const at = (r, name) => r.functions.find((f) => f.name === name)?.usPerConn ?? 0
    const growth = names.map((name) => ({ name, delta: at(last, name) - at(first, name) })).sort((a, b) => b.delta - a.delta)
    console.log(`  functions, by growth from C = ${first.concurrency} to C = ${last.concurrency}:`)
    for (const g of growth.slice(0, 15)) line(`  ${g.name}`, rows.map((r) => fmt(at(r, g.name), 1)))
    console.log(`  the largest at C = ${last.concurrency}:`)
    for (const f of last.functions.slice(0, 15)) line(`  ${f.name}`, rows.map((r) => fmt(at(r, f.name), 1)))
  }
  return runs.map(({ functions, allocations, ...r }) => ({
    ...r,
    functions: functions.slice(0, 40),
    allocations: allocations === undefined ? undefined : { ...allocations, functions: allocations.functions.slice(0, 40), callers: allocations.callers.slice(0, 40) }
  }))
}

/**
 * A sampling heap profile (every allocation, collected or not): bytes per connection by part and function,
 * what the module loader allocated (and what its modules' top levels did) left out.
 */
function allocationProfile(path, connections) {
  const { head } = JSON.parse(readFileSync(path, "utf8"))
  const fns = new Map()
  const parts = new Map()
  // ... and by the nearest of our own functions on the stack (the library, the driver, the bench's handler):
  // the call that made Effect build what it allocated. Allocations with none above are the runtime's own.
  const callers = new Map()
  let total = 0
  const ours = (url) => /packages\/(core|effect-connectex)\/|bench\//.test(url)
  const walk = (node, caller) => {
    const frame = node.callFrame
    // Start-up is left out: whatever the module loader allocates (compiling, linking, evaluating modules).
    if (frame.url.startsWith("node:internal/modules/")) return
    const file = frame.url.replace(/^.*\/(node_modules|packages)\//, "").replace(/^file:\/\/.*\//, "")
    const here = ours(frame.url) ? `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}` : caller
    if (node.selfSize > 0) {
      callers.set(here ?? "(the runtime's own: no library frame above)", (callers.get(here ?? "(the runtime's own: no library frame above)") ?? 0) + node.selfSize)
      total += node.selfSize
      const key = frame.url === "" ? frame.functionName || "(V8)" : `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`
      fns.set(key, (fns.get(key) ?? 0) + node.selfSize)
      const part = /packages\/core\//.test(frame.url) ? "core (driver)" : /packages\/effect-connectex\//.test(frame.url) ? "effect-connectex" :
        /node_modules\/effect\//.test(frame.url) ? "effect" : frame.url.startsWith("node:") ? "node internals" : frame.url === "" ? "(V8 / native)" : "other"
      parts.set(part, (parts.get(part) ?? 0) + node.selfSize)
    }
    for (const child of node.children ?? []) walk(child, here)
  }
  walk(head, undefined)
  const per = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => ({ name, bytesPerConn: Math.round(bytes / connections) }))
  return { bytesPerConn: Math.round(total / connections), parts: per(parts), functions: per(fns), callers: per(callers) }
}

const ALLOCATIONS = "BENCH_SCALE_ALLOCATIONS"

/**
 * Loaded with --import into bench/serve-cost.mjs's processes by --profile: samples every allocation (those
 * collected since included) from the start and writes the profile to $BENCH_SCALE_ALLOCATIONS at exit.
 */
async function sampleAllocations(dir) {
  const { Session } = await import("node:inspector")
  const session = new Session()
  session.connect()
  session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  process.on("exit", () => {
    // An in-process session answers synchronously: the profile is written before the process ends.
    session.post("HeapProfiler.stopSampling", (error, result) => {
      if (error === null) writeFileSync(Path.join(dir, `Heap.${process.pid}.heapprofile`), JSON.stringify(result.profile))
    })
  })
}

async function analyze(dir) {
  const files = readdirSync(dir)
  const report = { bench: "scale-analyze", dir, heaps: [], profiles: [] }
  for (const idleFile of files.filter((f) => f.endsWith("-idle.heapsnapshot"))) {
    const n = Number(/-(\d+)-idle\.heapsnapshot$/.exec(idleFile)[1])
    const baseFile = idleFile.replace("-idle.", "-baseline.")
    process.stderr.write(`bench: reading ${baseFile} and ${idleFile}...\n`)
    const base = heapGraph(readSnapshot(Path.join(dir, baseFile)))
    const baseClasses = classTotals(base)
    const baseOwners = ownerTotals(base)
    const idle = heapGraph(readSnapshot(Path.join(dir, idleFile)))
    const idleClasses = classTotals(idle)
    const idleOwners = ownerTotals(idle)
    const perConn = (a, b) => {
      const rows = []
      for (const [name, t] of b) {
        const before = a.get(name) ?? { count: 0, self: 0 }
        rows.push({ name, countPerConn: round3((t.count - before.count) / n), bytesPerConn: round1((t.self - before.self) / n) })
      }
      return rows.sort((x, y) => y.bytesPerConn - x.bytesPerConn)
    }
    const classes = perConn(baseClasses, idleClasses)
    const ownerClasses = perConn(baseOwners, idleOwners).map((r) => ({ owner: r.name.split("\t")[0], ...r, name: r.name.split("\t")[1] }))
    const owners = [...new Set(ownerClasses.map((r) => r.owner))].map((owner) => {
      const rows = ownerClasses.filter((r) => r.owner === owner)
      return {
        name: owner,
        bytesPerConn: round1(rows.reduce((sum, r) => sum + r.bytesPerConn, 0)),
        countPerConn: rows.find((r) => r.name === owner)?.countPerConn ?? 0,
        classes: rows.filter((r) => Math.abs(r.bytesPerConn) >= 8).map(({ owner: _, ...r }) => r)
      }
    }).sort((a, b) => b.bytesPerConn - a.bytesPerConn)
    const retained = [...ownerRetained(idle)].map(([name, t]) => ({ name, count: t.count, retainedPerInstance: Math.round(t.retained / t.count) }))
    const trees = Object.fromEntries(["FiberRuntime", "PosixSocket", "PosixOperation", "SocketImpl", "Socket"].map((c) => [c, dominatorTree(idle, c)]).filter(([, t]) => t.length > 0))
    const stack = fiberStack(idle)
    const totalPerConn = round1(classes.reduce((sum, r) => sum + r.bytesPerConn, 0))
    report.heaps.push({ file: idleFile, n, totalPerConn, owners, retained, trees, stack, classes: classes.filter((r) => Math.abs(r.bytesPerConn) >= 8) })
    console.log(`\n${idleFile}: ${totalPerConn} bytes per connection reachable (N = ${fmt(n)}, minus ${baseFile})`)
    console.log("  by owner (each object charged to the nearest owner among its dominators), and its classes:")
    for (const o of owners) {
      if (Math.abs(o.bytesPerConn) < 1) continue
      console.log(`    ${o.name.padEnd(40)} ${fmt(o.bytesPerConn, 1).padStart(9)} B  ${fmt(o.countPerConn, 2).padStart(6)} per conn`)
      for (const r of o.classes.slice(0, 12)) console.log(`        ${r.name.padEnd(56)} ${fmt(r.bytesPerConn, 1).padStart(9)} B  ${fmt(r.countPerConn, 2).padStart(6)}`)
    }
    console.log("  retained size per instance (DevTools' retained size):")
    for (const r of retained) console.log(`    ${r.name.padEnd(40)} ${fmt(r.retainedPerInstance).padStart(9)} B  x ${fmt(r.count)}`)
    for (const [c, lines] of Object.entries(trees)) {
      console.log(`  the dominator tree of one ${c} (label, class, retained bytes):`)
      for (const l of lines) console.log(`    ${"  ".repeat(l.level)}${l.label} ${l.className} ${fmt(l.retained)}`)
    }
    if (stack.length > 0) {
      console.log("  one fiber's continuation stack, bottom first (retained bytes; charged: with what it shares with the frames above it):")
      for (const f of stack) console.log(`    [${f.index}] ${fmt(f.retained).padStart(5)} ${fmt(f.charged).padStart(5)}  ${f.frame}`)
      console.log(`    the frames: ${stack.length}, charged in all: ${fmt(stack.reduce((sum, f) => sum + f.charged, 0))} bytes`)
    }
    console.log("  by class (self sizes):")
    for (const r of classes.slice(0, 45)) console.log(`    ${r.name.padEnd(60)} ${fmt(r.bytesPerConn, 1).padStart(9)} B  ${fmt(r.countPerConn, 2).padStart(6)} per conn`)
  }
  for (const file of files.filter((f) => f.endsWith(".cpuprofile"))) {
    const n = Number(/-(\d+)-round\.cpuprofile$/.exec(file)?.[1] ?? NaN)
    const { functions, ...profile } = cpuProfile(Path.join(dir, file))
    report.profiles.push({ file, n, ...profile, functions: functions.slice(0, 40) })
    profile.functions = functions
    console.log(`\n${file}: ${fmt(profile.totalUs / 1_000, 1)} ms of samples (idle left out)`)
    for (const p of profile.parts) console.log(`    ${p.name.padEnd(24)} ${fmt(p.us / 1_000, 1).padStart(9)} ms  ${fmt(p.share * 100, 1).padStart(5)} %`)
    for (const f of profile.functions.slice(0, 20)) console.log(`    ${fmt(f.share * 100, 1).padStart(5)} %  ${f.name}`)
  }
  report.churn = analyzeChurn(dir)
  console.log(JSON.stringify(report))
}

// Last, so that every declaration above is initialised.
const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(self)
if (isMain && process.argv.includes("--server")) {
  await runServer(process.argv[process.argv.indexOf("--server") + 1])
} else if (isMain && process.argv.includes("--client")) {
  runClient()
} else if (isMain) {
  await main()
} else if (process.env[ALLOCATIONS] !== undefined) {
  await sampleAllocations(process.env[ALLOCATIONS])
}
