#!/usr/bin/env node
// Where a server's CPU per connection goes: the same workload served by different servers and handlers.
//
//   npm run bench:serve                   build, then N = 20,000 connections per server at C = 64
//   node bench/serve-cost.mjs --quick     N = 2,000 (after a build)
//   options: --n N  --concurrency C  --servers a,b,...
//
// Linux only (elsewhere it prints a JSON line with `skipped`). Each connection: a node:net client connects, writes 64 bytes and waits for the server to close. Servers, each
// in its own process (this process runs the clients and asks the server for its process.cpuUsage over IPC):
//   node:net             net.createServer: count the bytes, destroy at 64
//   driver/close         the core's POSIX driver, no Effect: accept (draining the queue with tryAccept), close
//                        (a close before the client's bytes were read resets it: those clients count as errors)
//   driver/receive       ... accept, receive until the 64 bytes, close
//   Listener/close       Listener.serve, a handler that returns at once (fiber + scope + adoption)
//   Listener/async       ... a handler that waits once on a bare Effect.async over the driver's receive
//   Listener/receive     ... a handler that reads with Socket.receive until the 64 bytes (bench/connect.mjs's)
//   Listener/first-bytes ... with { receive: 64 }: the handler starts with the client's 64 bytes and returns
//   Listener/chunks      Listener.serveChunks (no fiber per connection): count the bytes, close at 64
//   Listener4/receive    the Effect 4 front-end's Listener.serve, same handler, under Node 22 (BENCH_NODE22, else
//                        scripts/install-node22.sh; left out when Node 22 is not there)
// bench/connect.mjs runs its "driver only" server and its Listener handler from here (driverServer, readAllWith).
// The differences between rows are the costs of the pieces (the README's "Accepting" section reads them). The
// last line printed is one JSON object with every figure. Nothing here asserts timings.

import { fork } from "node:child_process"
import { realpathSync } from "node:fs"
import * as net from "node:net"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { node22, stopPeer } from "./measure.mjs"

const HOST = "127.0.0.1"
const PAYLOAD_BYTES = 64
const root = fileURLToPath(new URL("..", import.meta.url))

// ---------------------------------------------------------------------------------------------------------
// The servers, each in its own process

const servers = {
  "node:net": async () => {
    const server = net.createServer((socket) => {
      let received = 0
      socket.on("data", (chunk) => {
        received += chunk.length
        if (received >= PAYLOAD_BYTES) socket.destroy()
      })
      socket.on("end", () => socket.destroy())
      socket.on("error", () => socket.destroy())
    })
    await new Promise((resolve) => server.listen({ host: HOST, port: 0, backlog: 4096 }, resolve))
    return server.address().port
  },
  "driver/close": () => driverServer(false),
  "driver/receive": () => driverServer(true),
  "Listener/close": () => listenerServer("close"),
  "Listener/async": () => listenerServer("async"),
  "Listener/receive": () => listenerServer("receive"),
  "Listener/first-bytes": () => listenerServer("first-bytes"),
  "Listener/chunks": () => chunksServer(),
  "Listener4/receive": () => listener4Server()
}

export async function driverServer(receiving) {
  const [{ makePosixDriver }, { makeIpv4 }] = await Promise.all([import("@effect-connectex/core/posix"), import("@effect-connectex/core")])
  const driver = makePosixDriver()
  driver.startup()
  const opened = driver.open("ipv4")
  if (!opened.ok) throw new Error(`driver server: socket failed (${opened.code})`)
  const listener = opened.value
  driver.setOption(listener, "SO_REUSEADDR", true)
  if (driver.bind(listener, makeIpv4(HOST, 0), false) !== 0 || driver.listen(listener, 4096) !== 0) {
    throw new Error("driver server: bind or listen failed")
  }
  const serveOne = (socket) => {
    if (!receiving) return driver.close(socket)
    let received = 0
    const more = () =>
      driver.receive(socket, 4096, ({ status, bytes }) => {
        received += bytes
        if (status !== 0 || bytes === 0 || received >= PAYLOAD_BYTES) driver.close(socket)
        else more()
      })
    more()
  }
  const acceptLoop = () =>
    driver.accept(listener, 0, (completion) => {
      if (completion.status !== 0) return
      serveOne(completion.accepted.socket)
      for (let next = driver.tryAccept(listener); next?.accepted !== undefined; next = driver.tryAccept(listener)) {
        serveOne(next.accepted.socket)
      }
      acceptLoop()
    })
  acceptLoop()
  const local = driver.localAddress(listener)
  return local.ok ? local.value.port : 0
}

/** The bench's handler, for either front-end: Socket.receive until the 64 bytes (or the client's end). */
export const readAllWith = (Effect, Socket) => ({ socket }) =>
  Effect.gen(function*() {
    let received = 0
    while (received < PAYLOAD_BYTES) {
      const chunk = yield* Socket.receive(socket, 4096)
      if (chunk.length === 0) break
      received += chunk.length
    }
  }).pipe(Effect.ignore)

/** Listener.serve with one of three handlers; the runtime keeps serving until the process ends. */
async function listenerServer(kind) {
  const [{ Effect, ManagedRuntime }, { ConnectEx, Listener, Socket, SocketAddress }] = await Promise.all([
    import("effect"),
    import("effect-connectex")
  ])
  const readAll = readAllWith(Effect, Socket)
  // The socket's native handle and driver are plain fields of the library's socket value (not public API):
  // this row measures a fiber's suspension without the library's receive around it.
  const bareWait = ({ socket }) =>
    Effect.async((resume) => void socket.port.driver.receive(socket.native, 4096, (c) => resume(Effect.succeed(c))))
  const handler = kind === "close" || kind === "first-bytes" ? () => Effect.void : kind === "async" ? bareWait : readAll
  const options = kind === "first-bytes" ? { receive: PAYLOAD_BYTES } : undefined
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  return new Promise((resolve) => {
    runtime.runFork(Effect.scoped(Effect.gen(function*() {
      const listener = yield* Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
      resolve((yield* Listener.address(listener)).port)
      return yield* Listener.serve(listener, handler, options)
    })))
  })
}

/** Listener.serveChunks: a plain handler per chunk (no Effect, so no fiber at all), the connection closed at 64 bytes. */
async function chunksServer() {
  const [{ Effect, ManagedRuntime }, { ConnectEx, Listener, SocketAddress }] = await Promise.all([
    import("effect"),
    import("effect-connectex")
  ])
  const received = new WeakMap()
  const handler = (chunk, connection) => {
    const total = (received.get(connection) ?? 0) + chunk.length
    received.set(connection, total)
    return total >= PAYLOAD_BYTES ? connection.close : undefined
  }
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  return new Promise((resolve) => {
    runtime.runFork(Effect.scoped(Effect.gen(function*() {
      const listener = yield* Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
      resolve((yield* Listener.address(listener)).port)
      return yield* Listener.serveChunks(listener, handler, { readSize: 4096 })
    })))
  })
}

async function listener4Server() {
  const effect4 = `${root}packages/effect4/node_modules/effect/dist/`
  const [Effect, { ManagedRuntime }, { ConnectEx, Listener, Socket, SocketAddress }] = await Promise.all([
    import(`${effect4}Effect.js`),
    import(`${effect4}index.js`),
    import("@effect-connectex/effect4")
  ])
  const readAll = readAllWith(Effect, Socket)
  const runtime = ManagedRuntime.make(ConnectEx.layer)
  return new Promise((resolve) => {
    runtime.runFork(Effect.scoped(Effect.gen(function*() {
      const listener = yield* Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 4096 })
      resolve((yield* Listener.address(listener)).port)
      return yield* Listener.serve(listener, readAll)
    })))
  })
}

async function runServer(name) {
  process.on("message", (message) => {
    if (message === "cpu") process.send?.({ cpu: process.cpuUsage() })
  })
  process.on("disconnect", () => process.exit(0))
  const port = await servers[name]()
  process.send?.({ port })
}

// ---------------------------------------------------------------------------------------------------------
// The clients and the measurement


const startServer = (name, execPath) =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--server", name], { execPath, stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the ${name} server exited early with code ${code}`)))
    child.once("message", (message) => resolve({ child, port: message.port }))
  })

const serverCpu = (child) =>
  new Promise((resolve) => {
    child.once("message", (message) => resolve(message.cpu.user + message.cpu.system))
    child.send("cpu")
  })

/** `n` connections, `concurrency` at a time: connect, write 64 bytes, wait for the server's close. */
const connections = (port, n, concurrency) =>
  new Promise((resolve) => {
    const payload = Buffer.alloc(PAYLOAD_BYTES, 1)
    let started = 0
    let done = 0
    let errors = 0
    const one = () => {
      started++
      const socket = net.createConnection({ host: HOST, port }, () => socket.write(payload))
      socket.on("error", () => void errors++)
      socket.on("close", () => {
        if (++done === n) resolve(errors)
        else if (started < n) one()
      })
    }
    for (let i = 0; i < Math.min(concurrency, n); i++) one()
  })

function parseArgs(argv) {
  const value = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes("--quick")
  const n = Number(value("--n") ?? (quick ? 2_000 : 20_000))
  const concurrency = Number(value("--concurrency") ?? 64)
  for (const [name, x] of [["--n", n], ["--concurrency", concurrency]]) {
    if (!Number.isInteger(x) || x < 1) {
      console.error(`bench: ${name} must be a positive integer`)
      process.exit(2)
    }
  }
  const only = value("--servers")?.split(",")
  return { quick, n, concurrency, only }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  if (process.platform !== "linux") {
    // The driver rows are the POSIX driver's, and the question is the Linux deployment's.
    console.log(JSON.stringify({ bench: "serve-cost", n: options.n, concurrency: options.concurrency, quick: options.quick, skipped: "Linux only" }))
    return
  }
  const node22Path = node22().path
  const names = Object.keys(servers).filter((name) =>
    (options.only === undefined || options.only.includes(name)) && (name !== "Listener4/receive" || node22Path !== undefined)
  )
  console.log(`server CPU per connection on ${HOST}: node:net clients, N = ${options.n}, C = ${options.concurrency}, node ${process.version}\n`)
  const results = []
  for (const name of names) {
    const { child, port } = await startServer(name, name.startsWith("Listener4") ? node22Path : process.execPath)
    try {
      await connections(port, Math.max(200, Math.floor(options.n / 10)), options.concurrency) // warm-up, not reported
      const before = await serverCpu(child)
      const started = performance.now()
      const errors = await connections(port, options.n, options.concurrency)
      const elapsedMs = performance.now() - started
      const after = await serverCpu(child)
      const result = {
        server: name,
        connPerSec: Math.round((options.n / elapsedMs) * 1000),
        serverCpuUsPerConn: Math.round(((after - before) / options.n) * 10) / 10,
        errors
      }
      results.push(result)
      console.log(`${name.padEnd(18)}  ${String(result.connPerSec).padStart(7)} conn/s  ${result.serverCpuUsPerConn.toFixed(1).padStart(6)} us server CPU/conn`)
    } finally {
      await stopPeer(child)
    }
  }
  console.log(JSON.stringify({ bench: "serve-cost", n: options.n, concurrency: options.concurrency, quick: options.quick, node: process.version, results }))
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (isMain && process.argv.includes("--server")) {
  await runServer(process.argv[process.argv.indexOf("--server") + 1])
} else if (isMain) {
  await main()
}
