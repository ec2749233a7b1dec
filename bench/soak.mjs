#!/usr/bin/env node
// Soak test of the built library (effect-connectex from packages/*/dist): churn, mass cancellation at layer close, and GC under load.
//
//   npm run soak                                   build, then the full run
//   node --expose-gc bench/soak.mjs [--short]      after a build (--short: about a tenth of the work)
//
// 1. churn: 10,000 connects (short: 1,000) at concurrency 64, to a loopback echo server (node:net, in a child
//    process) and to never-accepting listeners (backlog 0, accept queue full: SYNs are dropped), with
//    interruption at random points (before bind, during connect, right after completion, during send) and
//    random timeouts. Every outcome must be a success, a WsaError, a TimeoutException, or an interruption we
//    asked for. Afterwards: descriptors and live native allocations back to baseline, nothing pending, no
//    duplicate completion, submitted === completed.
// 2. mass abort: 5,000 connects (short: 500) pending at once against full-backlog listeners, then the layer's
//    scope closes: every one fails WSA_OPERATION_ABORTED, promptly (the time is printed), nothing leaked.
// 3. gc: connects with 256 KiB of data to the echo server and sends of 256 KiB, with global.gc() forced
//    repeatedly while they are in flight: the echoed bytes equal the sent bytes.
// 4. accepts: 10,000 accepts (short: 1,000) at concurrency 64 on one Listener, with receive-with-accept, against
//    node:net clients that send, stay silent or reset at once, with interruption at random points (waiting,
//    racing a client) and timeouts. Every outcome must be a success, a WsaError, a TimeoutException or an
//    asked-for interruption; afterwards (the listener's scope closed) nothing pending, no duplicate, live
//    allocations and descriptors back to baseline.
// 5. serves: 500 rounds (short: 50) of Listener.serve with receive on one listener, each with a burst of 20
//    node:net clients that send, stay silent, reset or close without sending, stopped at a random moment:
//    afterwards nothing pending, no duplicate, sockets, allocations and descriptors back to baseline.
//
// Prints its figures, and as the LAST line one JSON object with them. Exits 1 if any check fails.
// Only 127.0.0.1 is ever connected to.

import { spawnSync, fork } from "node:child_process"
import { randomFillSync } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import * as net from "node:net"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const HOST = "127.0.0.1"
const self = fileURLToPath(import.meta.url)

// ---------------------------------------------------------------------------------------------------------
// The echo peer, in its own process (its event loop is not the one under test)

function runPeer() {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("data", (chunk) => socket.write(chunk))
    socket.on("end", () => socket.end())
    socket.on("error", () => socket.destroy())
  })
  server.listen({ host: HOST, port: 0, backlog: 4096 }, () => process.send?.({ port: server.address().port }))
  process.on("disconnect", () => process.exit(0))
}

// ---------------------------------------------------------------------------------------------------------

function openFileLimit() {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"))
    const [soft, hard] = line.slice("Max open files".length).trim().split(/\s+/)
    return { soft: soft === "unlimited" ? Infinity : Number(soft), hard: hard === "unlimited" ? Infinity : Number(hard) }
  } catch {
    return undefined
  }
}

function openDescriptors() {
  try {
    return readdirSync("/proc/self/fd").length
  } catch {
    return undefined
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main() {
  const short = process.argv.includes("--short")
  const N = { churn: short ? 1_000 : 10_000, mass: short ? 500 : 5_000, gc: short ? 48 : 256, accepts: short ? 1_000 : 10_000, serves: short ? 50 : 500 }
  const CONCURRENCY = 64
  const GC_BYTES = 256 * 1024

  // The mass phase holds N.mass sockets plus listeners at once: make sure the descriptor limit allows it.
  const needFds = N.mass + 1_000
  const limit = openFileLimit()
  if (limit !== undefined && limit.soft < needFds) {
    if (process.env.SOAK_REEXEC === undefined) {
      const raise = Math.min(Math.max(needFds, 65_536), limit.hard)
      console.log(`ulimit -n is ${limit.soft}, below the ${needFds} this run needs: re-running under ulimit -n ${raise}`)
      const result = spawnSync("bash", ["-c", `ulimit -n ${raise} && exec "$@"`, "bash", process.execPath, ...process.execArgv, self, ...process.argv.slice(2)], {
        stdio: "inherit",
        env: { ...process.env, SOAK_REEXEC: "1" }
      })
      process.exit(result.status ?? 1)
    }
    console.log(`WARNING: ulimit -n is ${limit.soft} (hard ${limit.hard}); the mass phase is scaled down to fit`)
    N.mass = Math.max(100, limit.soft - 1_000)
  }
  if (typeof global.gc !== "function") {
    console.log("WARNING: global.gc is missing: run with node --expose-gc (the gc phase cannot force collections)")
  }

  const { Cause, Context, Duration, Effect, Exit, Fiber, Layer, ManagedRuntime, Option, Scope } = await import("effect")
  const { ConnectEx, Iocp, Listener, Socket, SocketAddress, WsaError } = await import("effect-connectex")
  const { silentListener } = process.platform === "win32"
    ? await import("../test/support/dist/test/support/native/windows/testing.js")
    : await import("../test/support/dist/test/support/native/posix/testing.js")

  const checks = []
  const check = (name, ok, detail) => {
    checks.push({ name, ok: Boolean(ok), ...(detail === undefined ? {} : { detail }) })
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail === undefined ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`}`)
  }
  let peakRss = 0
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss))
  const rssTimer = setInterval(sampleRss, 50)

  // --- peers ----------------------------------------------------------------------------------------------
  const peer = await new Promise((resolve, reject) => {
    const child = fork(self, ["--peer"], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the echo peer exited early (${code})`)))
    child.once("message", (m) => resolve({ child, port: m.port }))
  })
  const echo = SocketAddress.ipv4(HOST, peer.port)

  /** A never-accepting listener whose accept queue is full: later SYNs are dropped, connects stay pending. */
  const fillers = []
  const listeners = []
  const pendingListener = async () => {
    const listener = silentListener(SocketAddress.ipv4(HOST, 0))
    listeners.push(listener)
    const filler = await new Promise((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: listener.address.port })
      socket.once("connect", () => resolve(socket))
      socket.once("error", reject)
    })
    fillers.push(filler)
    return listener.address
  }
  const silent = [await pendingListener(), await pendingListener(), await pendingListener(), await pendingListener()]

  const figures = { mode: short ? "short" : "full", platform: process.platform, node: process.version, fileLimit: limit?.soft ?? null }
  const fdsBefore = openDescriptors()

  /** A failure that breaks the rule: a defect, a non-WSA error, or an interruption nobody asked for. */
  const badOutcome = (exit, interruptAllowed) => {
    if (Exit.isSuccess(exit)) return undefined
    if (Cause.defects(exit.cause).length > 0) return `defect: ${Cause.pretty(exit.cause)}`
    for (const e of Cause.failures(exit.cause)) {
      if (!WsaError.isWsaError(e) && !Cause.isTimeoutException(e)) return `not a WsaError: ${Cause.pretty(exit.cause)}`
    }
    if (!interruptAllowed && Cause.isInterrupted(exit.cause)) return `unexpected interruption: ${Cause.pretty(exit.cause)}`
    return undefined
  }
  const outcomeName = (exit) => {
    if (Exit.isSuccess(exit)) return "success"
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) return failure.value._tag ?? "TimeoutException"
    return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "other"
  }

  // --- 1. churn -------------------------------------------------------------------------------------------
  {
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const allocationsBefore = (await runtime.runPromise(Iocp.stats)).liveAllocations
    const outcomes = {}
    const broken = []
    const modes = ["plain", "plain", "beforeBind", "duringConnect", "afterCompletion", "duringSend", "timeout"]
    const random = (n) => Math.floor(Math.random() * n)
    const payload = new Uint8Array(1 << 20)
    randomFillSync(payload)

    const one = (i) => {
      const toSilent = Math.random() < 0.3
      const target = toSilent ? silent[i % silent.length] : echo
      let mode = modes[random(modes.length)]
      // a connect to a silent listener never completes by itself: it always gets a timeout or an interruption
      if (toSilent && (mode === "plain" || mode === "afterCompletion" || mode === "duringSend")) mode = "timeout"
      const data = payload.subarray(0, random(4) === 0 ? random(65_536) : random(64))
      const body = Effect.scoped(Effect.gen(function*() {
        const socket = yield* Socket.open({ family: "ipv4" })
        if (mode === "beforeBind") return yield* Effect.interrupt
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        if (mode === "duringConnect") {
          const fiber = yield* Effect.fork(ConnectEx.connect(socket, target, { data }))
          for (let k = random(4); k > 0; k--) yield* Effect.yieldNow()
          if (random(2) === 0) yield* Effect.sleep(Duration.millis(random(3)))
          return yield* Fiber.interrupt(fiber)
        }
        if (mode === "timeout") {
          return yield* Effect.timeout(ConnectEx.connect(socket, target, { data }), Duration.millis(random(25)))
        }
        const { bytesSent } = yield* ConnectEx.connect(socket, target, { data })
        if (bytesSent !== data.length) broken.push(`connect ${i}: bytesSent ${bytesSent} != ${data.length}`)
        if (mode === "afterCompletion") return yield* Effect.interrupt
        if (mode === "duringSend") {
          const fiber = yield* Effect.fork(Socket.send(socket, payload.subarray(0, 65_536 + random(payload.length - 65_536))))
          for (let k = random(4); k > 0; k--) yield* Effect.yieldNow()
          return yield* Fiber.interrupt(fiber)
        }
        // plain: the echo comes back intact
        let received = 0
        while (received < data.length) {
          const chunk = yield* Socket.receive(socket, 65_536)
          if (chunk.length === 0) break
          if (!Buffer.from(chunk).equals(Buffer.from(data.subarray(received, received + chunk.length)))) {
            broken.push(`connect ${i}: echoed bytes differ at ${received}`)
          }
          received += chunk.length
        }
        if (received !== data.length) broken.push(`connect ${i}: echoed ${received} of ${data.length} bytes`)
      }))
      return Effect.flatMap(Effect.exit(body), (exit) =>
        Effect.sync(() => {
          const name = outcomeName(exit)
          outcomes[name] = (outcomes[name] ?? 0) + 1
          const bad = badOutcome(exit, mode === "beforeBind" || mode === "afterCompletion")
          if (bad !== undefined && broken.length < 20) broken.push(`connect ${i} (${mode}, ${toSilent ? "silent" : "echo"}): ${bad}`)
          if (i % 1_000 === 999 && typeof global.gc === "function") global.gc()
        }))
    }

    const started = performance.now()
    await runtime.runPromise(Effect.forEach(Array.from({ length: N.churn }, (_, i) => i), one, { concurrency: CONCURRENCY, discard: true }))
    const wallMs = performance.now() - started
    await sleep(50)
    const after = await runtime.runPromise(Iocp.stats)
    const fdsAfter = openDescriptors()
    await runtime.dispose()
    figures.churn = {
      operations: N.churn,
      concurrency: CONCURRENCY,
      wallMs: Math.round(wallMs),
      perSecond: Math.round(N.churn / (wallMs / 1000)),
      outcomes,
      stats: after,
      allocations: { before: allocationsBefore, after: after.liveAllocations },
      fds: { before: fdsBefore, after: fdsAfter }
    }
    console.log(`churn: ${N.churn} connects in ${Math.round(wallMs)} ms at concurrency ${CONCURRENCY}: ${JSON.stringify(outcomes)}`)
    check("churn: every outcome is a success, a WsaError, a TimeoutException or an asked-for interruption", broken.length === 0, broken.length === 0 ? undefined : broken.slice(0, 5))
    check("churn: nothing pending, no duplicate, submitted === completed", after.pending === 0 && after.duplicates === 0 && after.submitted === after.completed, { pending: after.pending, duplicates: after.duplicates, submitted: after.submitted, completed: after.completed })
    check("churn: live allocations back to baseline", after.liveAllocations === allocationsBefore && after.sockets === 0, { before: allocationsBefore, after: after.liveAllocations, sockets: after.sockets })
    check("churn: descriptors back to baseline", fdsBefore === undefined || fdsAfter === fdsBefore, { before: fdsBefore, after: fdsAfter })
  }

  // --- 2. mass abort at layer close -----------------------------------------------------------------------
  {
    const scope = Effect.runSync(Scope.make())
    const context = await Effect.runPromise(Layer.buildWithScope(ConnectEx.layer, scope))
    const port = Context.get(context, Iocp.Iocp)
    const fibers = []
    const openStarted = performance.now()
    for (let i = 0; i < N.mass; i++) {
      const connect = Effect.scoped(Effect.gen(function*() {
        const socket = yield* Socket.open({ family: "ipv4" })
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        return yield* ConnectEx.connect(socket, silent[i % silent.length])
      }))
      fibers.push(Effect.runFork(Effect.provide(connect, context)))
    }
    let stats = await Effect.runPromise(port.stats)
    for (let waited = 0; stats.pending < N.mass && waited < 30_000; waited += 10) {
      await sleep(10)
      stats = await Effect.runPromise(port.stats)
    }
    const pendingAtClose = stats.pending
    const fdsPending = openDescriptors()
    const openMs = performance.now() - openStarted
    sampleRss()
    const closeStarted = performance.now()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const closedMs = performance.now() - closeStarted
    const exits = await Effect.runPromise(Effect.forEach(fibers, Fiber.await))
    const allDoneMs = performance.now() - closeStarted
    const tags = {}
    for (const exit of exits) tags[outcomeName(exit)] = (tags[outcomeName(exit)] ?? 0) + 1
    const bad = exits.map((exit) => badOutcome(exit, false)).filter((b) => b !== undefined)
    await sleep(50)
    const after = await Effect.runPromise(port.stats)
    const fdsAfter = openDescriptors()
    figures.mass = {
      operations: N.mass,
      pendingAtClose,
      fdsWhilePending: fdsPending,
      openAndPendMs: Math.round(openMs),
      layerCloseMs: Math.round(closedMs),
      allAbortedMs: Math.round(allDoneMs),
      outcomes: tags,
      stats: after,
      fds: { before: fdsBefore, after: fdsAfter }
    }
    console.log(`mass: ${pendingAtClose} connects pending (opened in ${Math.round(openMs)} ms); layer closed in ${Math.round(closedMs)} ms, all ${N.mass} settled in ${Math.round(allDoneMs)} ms: ${JSON.stringify(tags)}`)
    check("mass: every connect was pending at layer close", pendingAtClose === N.mass, { pendingAtClose, expected: N.mass })
    check("mass: every connect failed WSA_OPERATION_ABORTED", tags.WSA_OPERATION_ABORTED === N.mass && bad.length === 0, bad.length === 0 ? tags : bad.slice(0, 3))
    check("mass: aborted promptly (under 5 s)", allDoneMs < 5_000, `${Math.round(allDoneMs)} ms`)
    check("mass: nothing pending or allocated after close, submitted === completed", after.pending === 0 && after.duplicates === 0 && after.liveAllocations === 0 && after.sockets === 0 && after.submitted === after.completed, after)
    check("mass: descriptors back to baseline", fdsBefore === undefined || fdsAfter === fdsBefore, { before: fdsBefore, after: fdsAfter })
  }

  // --- 3. gc while operations are pending -----------------------------------------------------------------
  {
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const allocationsBefore = (await runtime.runPromise(Iocp.stats)).liveAllocations
    const collections = { major: 0, minor: 0 }
    // A full collection costs tens of ms on this heap: fibers force minor ones (scavenges, which move young
    // objects), a timer forces full ones between event-loop turns.
    const forceGc = (type = "minor") => {
      if (typeof global.gc !== "function") return
      global.gc({ type })
      collections[type]++
    }
    const timer = setInterval(() => forceGc("major"), 25)
    const mismatches = []
    const one = (i) =>
      Effect.scoped(Effect.gen(function*() {
        // The buffer handed over is a temporary: only its digest is kept, so GC may take it at any moment.
        const sent = Buffer.alloc(GC_BYTES)
        randomFillSync(sent)
        const expected = Buffer.from(sent)
        const socket = yield* Socket.open({ family: "ipv4" })
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        const connecting = yield* Effect.fork(ConnectEx.connect(socket, echo, { data: new Uint8Array(sent.buffer, sent.byteOffset, sent.byteLength) }))
        forceGc(i % 4 === 0 ? "major" : "minor")
        const { bytesSent } = yield* Fiber.join(connecting)
        forceGc()
        const more = Buffer.alloc(GC_BYTES)
        randomFillSync(more)
        const expectedMore = Buffer.from(more)
        const [sentMore, echoed] = yield* Effect.all([
          Socket.send(socket, more.subarray(0)),
          Effect.gen(function*() {
            const chunks = []
            let received = 0
            while (received < 2 * GC_BYTES) {
              const chunk = yield* Socket.receive(socket, 65_536)
              if (chunk.length === 0) break
              chunks.push(chunk)
              received += chunk.length
              if (chunks.length % 3 === 0) forceGc()
            }
            return Buffer.concat(chunks)
          })
        ], { concurrency: 2 })
        const want = Buffer.concat([expected, expectedMore])
        if (bytesSent !== GC_BYTES || sentMore !== GC_BYTES || !echoed.equals(want)) {
          mismatches.push(`connection ${i}: bytesSent ${bytesSent}, sent ${sentMore}, echoed ${echoed.length} bytes, equal ${echoed.equals(want)}`)
        }
      }))
    const started = performance.now()
    const exits = await runtime.runPromise(Effect.forEach(Array.from({ length: N.gc }, (_, i) => i), (i) => Effect.exit(one(i)), { concurrency: 32 }))
    const wallMs = performance.now() - started
    clearInterval(timer)
    const bad = exits.map((exit) => (Exit.isSuccess(exit) ? undefined : Cause.pretty(exit.cause))).filter((b) => b !== undefined)
    await sleep(50)
    const after = await runtime.runPromise(Iocp.stats)
    await runtime.dispose()
    const fdsAfter = openDescriptors()
    figures.gc = {
      connections: N.gc,
      bytesEach: 2 * GC_BYTES,
      collections,
      wallMs: Math.round(wallMs),
      stats: after,
      allocations: { before: allocationsBefore, after: after.liveAllocations },
      fds: { before: fdsBefore, after: fdsAfter }
    }
    console.log(`gc: ${N.gc} connections x ${2 * GC_BYTES} bytes echoed with ${collections.major} full and ${collections.minor} minor forced collections in ${Math.round(wallMs)} ms`)
    check("gc: global.gc available (--expose-gc)", typeof global.gc === "function")
    check("gc: every connection succeeded", bad.length === 0, bad.length === 0 ? undefined : bad.slice(0, 3))
    check("gc: echoed bytes equal the sent bytes", mismatches.length === 0, mismatches.length === 0 ? undefined : mismatches.slice(0, 3))
    check("gc: nothing pending or leaked, submitted === completed", after.pending === 0 && after.duplicates === 0 && after.liveAllocations === allocationsBefore && after.submitted === after.completed, after)
    check("gc: descriptors back to baseline", fdsBefore === undefined || fdsAfter === fdsBefore, { before: fdsBefore, after: fdsAfter })
  }

  /**
   * What sections 4 and 5 share: a layer and a listener of their own, node:net clients that send, stay silent,
   * reset at once or close without sending, and the clean-up that closes the listener's scope and every client
   * before the counts are read.
   */
  const listenerLab = async () => {
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const allocationsBefore = (await runtime.runPromise(Iocp.stats)).liveAllocations
    const fdsStart = openDescriptors()
    const scope = Effect.runSync(Scope.make())
    const listener = await runtime.runPromise(Scope.extend(Listener.listen(SocketAddress.ipv4(HOST, 0), { backlog: 1024 }), scope))
    const { port } = await runtime.runPromise(Listener.address(listener))
    const clients = new Set()
    const client = (mode) => {
      const socket = net.connect({ host: HOST, port })
      clients.add(socket)
      socket.on("error", () => {})
      socket.on("close", () => clients.delete(socket))
      socket.once("connect", () => {
        if (mode === "reset") socket.resetAndDestroy()
        else if (mode === "closeQuietly") socket.end()
        else if (mode !== "silent") socket.write("hello from a client")
      })
      socket.on("data", () => socket.destroy())
      // a client nobody accepted in time goes away by itself
      setTimeout(() => socket.destroy(), 2_000).unref()
    }
    const finish = async () => {
      await runtime.runPromise(Scope.close(scope, Exit.void))
      for (const socket of clients) socket.destroy()
      await sleep(100)
      const after = await runtime.runPromise(Iocp.stats)
      const fdsAfter = openDescriptors()
      await runtime.dispose()
      return { after, fdsAfter }
    }
    return { runtime, listener, client, allocationsBefore, fdsStart, finish }
  }

  // --- 4. accepts with random interruptions -----------------------------------------------------------------
  {
    const { runtime, listener, client, allocationsBefore, fdsStart, finish } = await listenerLab()
    const outcomes = {}
    const broken = []
    const modes = ["plain", "plain", "plain", "interruptWaiting", "interruptRacing", "silent", "reset"]
    const random = (n) => Math.floor(Math.random() * n)
    const one = (i) => {
      const mode = modes[random(modes.length)]
      if (mode !== "interruptWaiting") client(mode === "interruptRacing" ? "plain" : mode)
      const accept = Effect.scoped(Effect.gen(function*() {
        const { data, socket } = yield* Listener.accept(listener, { receive: 64 })
        if (data.length > 0) yield* Socket.send(socket, data)
      }))
      const body = mode.startsWith("interrupt")
        ? Effect.gen(function*() {
          const fiber = yield* Effect.fork(accept)
          for (let k = random(6); k > 0; k--) yield* Effect.yieldNow()
          if (random(2) === 0) yield* Effect.sleep(Duration.millis(random(3)))
          yield* Fiber.interrupt(fiber)
        })
        : Effect.timeout(accept, Duration.millis(50 + random(100)))
      return Effect.flatMap(Effect.exit(body), (exit) =>
        Effect.sync(() => {
          const name = outcomeName(exit)
          outcomes[name] = (outcomes[name] ?? 0) + 1
          const bad = badOutcome(exit, false)
          if (bad !== undefined && broken.length < 20) broken.push(`accept ${i} (${mode}): ${bad}`)
        }))
    }
    const started = performance.now()
    await runtime.runPromise(Effect.forEach(Array.from({ length: N.accepts }, (_, i) => i), one, { concurrency: CONCURRENCY, discard: true }))
    const wallMs = performance.now() - started
    const { after, fdsAfter } = await finish()
    figures.accepts = {
      operations: N.accepts,
      concurrency: CONCURRENCY,
      wallMs: Math.round(wallMs),
      outcomes,
      stats: after,
      allocations: { before: allocationsBefore, after: after.liveAllocations },
      fds: { before: fdsStart, after: fdsAfter }
    }
    console.log(`accepts: ${N.accepts} accepts in ${Math.round(wallMs)} ms at concurrency ${CONCURRENCY}: ${JSON.stringify(outcomes)}`)
    check("accepts: every outcome is a success, a WsaError, a TimeoutException or an asked-for interruption", broken.length === 0, broken.length === 0 ? undefined : broken.slice(0, 5))
    check("accepts: some connections were accepted with their first bytes", (outcomes.success ?? 0) > 0, outcomes)
    check("accepts: nothing pending, no duplicate, submitted === completed", after.pending === 0 && after.duplicates === 0 && after.submitted === after.completed, { pending: after.pending, duplicates: after.duplicates, submitted: after.submitted, completed: after.completed })
    check("accepts: live allocations back to baseline", after.liveAllocations === allocationsBefore && after.sockets === 0, { before: allocationsBefore, after: after.liveAllocations, sockets: after.sockets })
    check("accepts: descriptors back to baseline", fdsStart === undefined || fdsAfter === fdsStart, { before: fdsStart, after: fdsAfter })
  }

  // --- 5. serve with receive, stopped at random ------------------------------------------------------------
  {
    const { runtime, listener, client, allocationsBefore, fdsStart, finish } = await listenerLab()
    const modes = ["send", "send", "send", "silent", "reset", "closeQuietly"]
    const random = (n) => Math.floor(Math.random() * n)
    let handled = 0
    const handler = ({ data, socket }) =>
      Effect.zipRight(Effect.sync(() => void handled++), data.length > 0 ? Effect.ignore(Socket.send(socket, data)) : Effect.void)
    const rounds = N.serves
    const started = performance.now()
    for (let round = 0; round < rounds; round++) {
      // a serve that runs while a burst of clients connects, then is stopped at a random moment
      const fiber = runtime.runFork(Listener.serve(listener, handler, { receive: 64 }))
      for (let k = 0; k < 20; k++) client(modes[random(modes.length)])
      await sleep(random(15))
      await runtime.runPromise(Fiber.interrupt(fiber))
    }
    const wallMs = performance.now() - started
    const { after, fdsAfter } = await finish()
    figures.serves = { rounds, clients: rounds * 20, handled, wallMs: Math.round(wallMs), stats: after, fds: { before: fdsStart, after: fdsAfter } }
    console.log(`serves: ${rounds} serves with receive stopped at random, ${rounds * 20} clients, ${handled} handled, in ${Math.round(wallMs)} ms`)
    check("serves: some connections were handled with their first bytes", handled > 0, { handled })
    check("serves: nothing pending, no duplicate, submitted === completed", after.pending === 0 && after.duplicates === 0 && after.submitted === after.completed, { pending: after.pending, duplicates: after.duplicates, submitted: after.submitted, completed: after.completed })
    check("serves: live allocations and sockets back to baseline", after.liveAllocations === allocationsBefore && after.sockets === 0, { before: allocationsBefore, after: after.liveAllocations, sockets: after.sockets })
    check("serves: descriptors back to baseline", fdsStart === undefined || fdsAfter === fdsStart, { before: fdsStart, after: fdsAfter })
  }

  // --- the end --------------------------------------------------------------------------------------------
  clearInterval(rssTimer)
  sampleRss()
  const fdsAfter = openDescriptors()
  for (const socket of fillers) socket.destroy()
  for (const listener of listeners) listener.close()
  peer.child.removeAllListeners("exit")
  peer.child.disconnect()
  const failed = checks.filter((c) => !c.ok)
  const summary = {
    ...figures,
    peakRssMB: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1048576),
    fds: { before: fdsBefore, after: fdsAfter },
    allocations: {
      before: figures.churn.allocations.before,
      after: figures.gc.allocations.after
    },
    checks: checks.length,
    failed: failed.map((c) => c.name),
    ok: failed.length === 0
  }
  console.log(`peak RSS ${summary.peakRssMB} MB; descriptors ${fdsBefore} before, ${fdsAfter} after; ${checks.length - failed.length}/${checks.length} checks passed`)
  console.log(JSON.stringify(summary))
  process.exitCode = failed.length === 0 ? 0 : 1
}

if (process.argv.includes("--peer")) runPeer()
else await main()
