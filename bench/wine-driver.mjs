// Sequential open + bind + ConnectEx(5 bytes) + completion + close: straight against the Windows driver
// (no Effect), and through the full Effect stack (Effect.scoped, Socket.open, Socket.bind, ConnectEx.connect)
// in the same process, the two loops alternated so that machine load falls on both; the figure of merit is
// fullStackRatio = full stack ms per connect / driver ms per connect (best round of each).
// Windows only; on Linux run it under Wine with
//   bash scripts/test-windows.sh --node bench/wine-driver.mjs [count]
// (builds dist/ into the staging copy, then runs this file with Windows node.exe).
import { Effect, ManagedRuntime } from "effect"
import * as net from "node:net"
import { ConnectEx, Socket, SocketAddress } from "effect-connectex"
import { makeWindowsDriver } from "@effect-connectex/core/windows"
// the test hooks are not part of the package's exports: taken from the same built module
import { windowsTestHooks } from "../packages/core/dist/native/windows/hooks.js"

if (process.platform !== "win32") {
  console.error("wine-driver bench: win32 only (use scripts/test-windows.sh --node bench/wine-driver.mjs)")
  process.exit(2)
}

const count = Number(process.argv[2] ?? 1000)
const warmup = 50
const data = new TextEncoder().encode("hello")

const driver = makeWindowsDriver()
const hooks = windowsTestHooks(driver)
const started = driver.startup()
if (started !== 0) throw new Error(`startup: ${started}`)

let receivedBytes = 0
const connections = new Set()
const server = net.createServer((socket) => {
  connections.add(socket)
  socket.on("close", () => connections.delete(socket))
  socket.on("data", (chunk) => {
    receivedBytes += chunk.length
  })
  socket.on("error", () => {})
})
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const target = SocketAddress.ipv4("127.0.0.1", server.address().port)
const local = SocketAddress.ipv4("127.0.0.1", 0)

const once = () =>
  new Promise((resolve, reject) => {
    const opened = driver.open("ipv4")
    if (!opened.ok) return reject(new Error(`open: ${opened.code}`))
    const socket = opened.value
    const bound = driver.bind(socket, local, true)
    if (bound !== 0) return reject(new Error(`bind: ${bound}`))
    const t0 = process.hrtime.bigint()
    driver.connect(socket, target, data, (completion) => {
      const t1 = process.hrtime.bigint()
      driver.close(socket)
      if (completion.status !== 0 || completion.bytes !== 5) reject(new Error(`connect: ${completion.status}`))
      else resolve(Number(t1 - t0) / 1e3)
    })
  })

const runtime = ManagedRuntime.make(ConnectEx.layer)
const fullStackOnce = Effect.scoped(
  Effect.gen(function*() {
    const socket = yield* Socket.open({ family: "ipv4" })
    yield* Socket.bind(socket, local)
    const { bytesSent } = yield* ConnectEx.connect(socket, target, { data })
    if (bytesSent !== 5) return yield* Effect.die(new Error(`sent ${bytesSent}`))
  })
)
const fullStackLoop = (n) => Effect.repeatN(fullStackOnce, n - 1)

const timeDriver = async () => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) latencies.push(await once())
  return Number(process.hrtime.bigint() - start) / 1e6
}
const timeFullStack = async () => {
  const start = process.hrtime.bigint()
  await runtime.runPromise(fullStackLoop(count))
  return Number(process.hrtime.bigint() - start) / 1e6
}

for (let i = 0; i < warmup; i++) await once()
await runtime.runPromise(fullStackLoop(warmup))
const statsBefore = hooks.stats()
const latencies = []
const rounds = { driver: [], fullStack: [] }
const roundCount = Number(process.argv[3] ?? 4)
for (let round = 0; round < roundCount; round++) {
  rounds.driver.push(await timeDriver())
  rounds.fullStack.push(await timeFullStack())
}
const totalMs = Math.min(...rounds.driver)
const fullStackMs = Math.min(...rounds.fullStack)
const statsAfter = hooks.stats()
await runtime.dispose()

// let the server read the last bytes
for (let i = 0; i < 100 && receivedBytes < (2 * roundCount * count + 2 * warmup) * 5; i++) await new Promise((r) => setTimeout(r, 10))
await new Promise((resolve) => {
  server.close(resolve)
  for (const connection of connections) connection.destroy()
})
const live = driver.liveAllocations()
driver.cleanup()

latencies.sort((a, b) => a - b)
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(0)
console.log(
  JSON.stringify(
    {
      bench: "windows driver: open + bind + ConnectEx(5 bytes) + completion + closesocket, sequential",
      wine: hooks.wine ?? null,
      node: process.version,
      count,
      totalMs: Number(totalMs.toFixed(1)),
      perConnectMs: Number((totalMs / count).toFixed(3)),
      fullStackPerConnectMs: Number((fullStackMs / count).toFixed(3)),
      fullStackRatio: Number((fullStackMs / totalMs).toFixed(3)),
      rounds,
      connectToCompletionUs: { p50: Number(pct(50)), p90: Number(pct(90)), p99: Number(pct(99)), max: Number(latencies.at(-1).toFixed(0)) },
      polls: statsAfter.polls - statsBefore.polls,
      entries: statsAfter.entries - statsBefore.entries,
      bytesReceivedByServer: receivedBytes,
      bytesExpectedByServer: (2 * roundCount * count + 2 * warmup) * 5,
      liveAllocationsAtEnd: live
    },
    null,
    2
  )
)
