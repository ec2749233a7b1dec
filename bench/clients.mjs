#!/usr/bin/env node
// Real clients over node:net and over this library's node:stream Duplex, in one run.
//
//   npm run bench:clients                build, then 2,000 requests per run, median of 3 runs
//   node bench/clients.mjs --quick       50 requests, one run (after a build)
//   options: --requests N  --runs R  --transports node:net,Duplex
//
// Clients, each on one connection made before its timing starts, one request after another:
//   undici   an Agent (one keep-alive connection), GET / against a node:http peer in its own child process
//   ioredis  SET then GET of a 16-byte value against redis-server, started here in a temporary folder on a free
//            127.0.0.1 port and stopped at the end (skipped, with the reason, where redis-server is missing)
// Transports have the shape of test/support/transports.ts' (`{ name, dial(port, host) }`, a connected Duplex);
// each client gets the connection through its own hook (undici's `connect`, ioredis' `Connector`). node:net
// comes first; the ratios are the second transport's figures over node:net's:
//   node:net   net.connect
//   Duplex     ConnectEx.dial + NodeStream.toDuplex of the built effect-connectex package
// After a warm-up, the runs alternate between the transports (node:net, Duplex, node:net, ...); a figure is the
// median of its runs, time and CPU each. CPU is process.cpuUsage() of this (client) process around the requests.
// The last line printed is one JSON object: undiciTimeVsNet, undiciCpuVsNet, ioredisTimeVsNet, ioredisCpuVsNet
// (null where a part did not run; the reason is its `skipped`) and every figure. Nothing here asserts timings.

import { spawn } from "node:child_process"
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import { loadavg, tmpdir } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { measure, round } from "./data.mjs"
import { dialDuplex, fmt, forkPeer, middle, stopPeer } from "./measure.mjs"

const HOST = "127.0.0.1"
const REDIS_VALUE = "0123456789abcdef"

// ---------------------------------------------------------------------------------------------------------
// The http peer, in its own process

function runPeer() {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (_request, response) => response.end("ok"))
  server.listen({ host: HOST, port: 0 }, () => process.send?.({ port: server.address().port }))
  process.on("disconnect", () => process.exit(0))
}

// ---------------------------------------------------------------------------------------------------------
// redis-server, started here

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once("error", reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })

/** redis-server in a temporary folder: `{ port, version, stop }`, or `{ skipped: reason }`. */
async function startRedis() {
  const dir = mkdtempSync(Path.join(tmpdir(), "connectex-bench-redis-"))
  const port = await freePort()
  const child = spawn("redis-server", ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"]
  })
  // Not events.once: that rejects on a spawn "error" (handled below).
  const exited = new Promise((resolve) => child.once("exit", resolve))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  let output = ""
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`not ready after 10 s: ${output.trim().split("\n").pop()}`), 10_000)
    const settle = (value) => {
      clearTimeout(timer)
      resolve(value)
    }
    child.once("error", (error) =>
      settle(error.code === "ENOENT" ? "redis-server not found on PATH (apt-get install redis-server)" : String(error.message)))
    child.once("exit", (code, signal) => settle(`redis-server exited (${code ?? signal}): ${output.trim().split("\n").pop()}`))
    const watch = (chunk) => {
      output = (output + chunk).slice(-4_000)
      if (/Ready to accept connections/.test(output)) settle(true)
    }
    child.stdout.setEncoding("utf8").on("data", watch)
    child.stderr.setEncoding("utf8").on("data", watch)
  })
  if (ready !== true) {
    await stop()
    return { skipped: ready }
  }
  return { port, version: output.match(/Redis version=([\d.]+)/)?.[1] ?? "?", stop }
}

// ---------------------------------------------------------------------------------------------------------
// Transports, and each client's hook over one

const nodeNet = {
  name: "node:net",
  dial: (port, host) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host })
      socket.once("error", reject)
      socket.once("connect", () => {
        socket.removeListener("error", reject)
        resolve(socket)
      })
    })
}

const libraryDuplex = (lib, run) => ({
  name: "Duplex",
  dial: (port, host) => dialDuplex(lib, run, lib.SocketAddress.ipv4(host, port))
})

/** undici's `connect` option over a transport. */
const undiciConnect = (transport) => (options, callback) => {
  transport.dial(Number(options.port) || 80, options.hostname).then((socket) => callback(null, socket), (error) => callback(error, null))
}

/** ioredis' `Connector` option over a transport (it dials the client's own host and port). */
const redisConnector = (AbstractConnector, transport) =>
  class extends AbstractConnector {
    constructor(options) {
      super(2_000)
      this.target = options
    }
    connect() {
      this.connecting = true
      return transport.dial(this.target.port, this.target.host).then((socket) => (this.stream = socket))
    }
  }

/** A session: one connection, `request()` one request and its answer, `close()`. */
async function undiciSession(undici, port, transport) {
  const agent = new undici.Agent({ connections: 1, keepAliveTimeout: 60_000, connect: undiciConnect(transport) })
  const request = async () => {
    const response = await agent.request({ origin: `http://${HOST}:${port}`, path: "/", method: "GET" })
    const body = await response.body.text()
    if (response.statusCode !== 200 || body !== "ok") throw new Error(`unexpected answer ${response.statusCode} ${body}`)
  }
  await request()
  return { request, close: () => agent.close() }
}

async function ioredisSession(ioredis, port, transport) {
  const Connector = redisConnector(ioredis.AbstractConnector, transport)
  const redis = new ioredis.Redis({ host: HOST, port, Connector, lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const key = `bench:${transport.name}`
  const request = async () => {
    await redis.set(key, REDIS_VALUE)
    if ((await redis.get(key)) !== REDIS_VALUE) throw new Error("GET did not give back what SET stored")
  }
  await request()
  return { request, close: () => redis.quit() }
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

/**
 * Warms each transport up, then runs `options.runs` rounds; a round is one timed run per transport, in order.
 * Each run: a fresh session (its connection made before the timing), `options.requests` requests, closed.
 */
async function measureClient(client, open, transports, options) {
  for (const transport of transports) {
    const session = await open(transport)
    try {
      for (let i = 0; i < options.warmup; i++) await session.request()
    } finally {
      await session.close()
    }
  }
  const runs = new Map(transports.map((t) => [t.name, []]))
  for (let round_ = 0; round_ < options.runs; round_++) {
    for (const transport of transports) {
      const session = await open(transport)
      try {
        const m = await measure(async () => {
          for (let i = 0; i < options.requests; i++) await session.request()
        })
        runs.get(transport.name).push({ timeMs: round(m.elapsedMs), cpuMs: round(m.cpuUs / 1000) })
        process.stderr.write(`bench: ${client} over ${transport.name}: ${fmt(m.elapsedMs)} ms, ${fmt(m.cpuUs / 1000)} ms CPU\n`)
      } finally {
        await session.close()
      }
    }
  }
  return transports.map((transport) => {
    const mine = runs.get(transport.name)
    const timeMs = middle(mine.map((r) => r.timeMs))
    const cpuMs = middle(mine.map((r) => r.cpuMs))
    return {
      transport: transport.name,
      timeMs,
      cpuMs,
      usPerRequest: round((timeMs * 1000) / options.requests),
      cpuUsPerRequest: round((cpuMs * 1000) / options.requests),
      runs: mine
    }
  })
}

/** The second transport's figure over node:net's (the first), or null. */
const versusNet = (part, key) => {
  const [reference, ours] = part.results ?? []
  if (reference?.transport !== "node:net" || ours === undefined || reference[key] === 0) return null
  return Math.round((ours[key] / reference[key]) * 1000) / 1000
}

function table(title, part) {
  if (part.results === undefined) return `${title}: skipped (${part.skipped})`
  const header = ["transport", "ms", "CPU ms", "us/request", "CPU us/request", "time vs net", "CPU vs net"]
  const reference = part.results[0]
  const rows = part.results.map((r) => [
    r.transport,
    fmt(r.timeMs),
    fmt(r.cpuMs),
    fmt(r.usPerRequest, 1),
    fmt(r.cpuUsPerRequest, 1),
    fmt(r.timeMs / reference.timeMs, 2),
    fmt(r.cpuMs / reference.cpuMs, 2)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
  return [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

function parseArgs(argv) {
  const value = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes("--quick")
  const requests = Number(value("--requests") ?? (quick ? 50 : 2_000))
  const runs = Number(value("--runs") ?? (quick ? 1 : 3))
  const only = value("--transports")?.split(",")
  for (const [name, x] of [["--requests", requests], ["--runs", runs]]) {
    if (!Number.isInteger(x) || x < 1) {
      console.error(`bench: ${name} must be a positive integer`)
      process.exit(2)
    }
  }
  return { quick, requests, runs, only, warmup: quick ? 10 : 500 }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const [effect, library, undici, ioredis] = await Promise.all([
    import("effect"),
    import("effect-connectex"),
    import("undici"),
    import("ioredis")
  ])
  const lib = { ...effect, ...library }
  const runtime = effect.ManagedRuntime.make(library.ConnectEx.layer)
  const transports = [nodeNet, libraryDuplex(lib, (e) => runtime.runPromise(e))]
    .filter((t) => options.only === undefined || options.only.includes(t.name))
  const loadBefore = loadavg()[0]
  let peer
  let redis
  try {
    peer = await forkPeer(new URL(import.meta.url), ["--peer"])
    console.log(`real clients on ${HOST}, node ${process.version}, ${fmt(options.requests)} sequential requests per run, ` +
      `median of ${options.runs} run(s), transports ${transports.map((t) => t.name).join(", ")}; load average ${fmt(loadBefore, 2)}`)
    const undiciPart = {
      peer: "node:http in its own process",
      results: await measureClient("undici", (t) => undiciSession(undici, peer.port, t), transports, options)
    }
    redis = await startRedis()
    const ioredisPart = redis.skipped !== undefined ? { skipped: redis.skipped } : {
      server: `redis-server ${redis.version}`,
      results: await measureClient("ioredis", (t) => ioredisSession(ioredis, redis.port, t), transports, options)
    }
    console.log(table(`\nundici: GET / against ${undiciPart.peer}`, undiciPart))
    console.log(table(`\nioredis: SET + GET against ${ioredisPart.server ?? "redis-server"}`, ioredisPart))
    const ratios = {
      undiciTimeVsNet: versusNet(undiciPart, "timeMs"),
      undiciCpuVsNet: versusNet(undiciPart, "cpuMs"),
      ioredisTimeVsNet: versusNet(ioredisPart, "timeMs"),
      ioredisCpuVsNet: versusNet(ioredisPart, "cpuMs")
    }
    const summary = (name, part, time, cpu) =>
      part.skipped !== undefined ? `${name} skipped (${part.skipped})` : `${name} time ${time}x, CPU ${cpu}x`
    console.log(
      `\n${transports[1]?.name ?? "(none)"} vs node:net: ${summary("undici", undiciPart, ratios.undiciTimeVsNet, ratios.undiciCpuVsNet)}; ` +
        `${summary("ioredis", ioredisPart, ratios.ioredisTimeVsNet, ratios.ioredisCpuVsNet)} (targets: time <= 1.1, CPU <= 1.25)`
    )
    console.log(JSON.stringify({
      bench: "clients",
      quick: options.quick,
      requests: options.requests,
      runs: options.runs,
      warmup: options.warmup,
      node: process.version,
      loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0], 2) },
      transports: transports.map((t) => t.name),
      ...ratios,
      undici: undiciPart,
      ioredis: ioredisPart
    }))
  } finally {
    await redis?.stop?.()
    if (peer !== undefined) await stopPeer(peer.child)
    await runtime.dispose()
  }
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (isMain && process.argv.includes("--peer")) {
  runPeer()
} else if (isMain) {
  await main()
}
