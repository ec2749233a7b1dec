/**
 * What the benches share: stopping a peer process and formatting numbers (every bench), and for the connect
 * benches (bench/connect.mjs under Node 20 with Effect 3, bench/connect-effect4.mjs under Node 22 with Effect 4)
 * the system facts, the TIME_WAIT pacing, the two measuring loops (one clock for promise and Effect clients),
 * the summary and its Little's-law check. Each bench keeps only its own clients and report.
 */
import { execFileSync, fork, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

/** Node 22 for the Effect 4 parts: BENCH_NODE22, else scripts/install-node22.sh; `{ skipped: reason }` without. */
export function node22() {
  if (process.env.BENCH_NODE22) return { path: process.env.BENCH_NODE22 }
  try {
    return { path: execFileSync("bash", [`${root}scripts/install-node22.sh`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim() }
  } catch (error) {
    const detail = String(error?.stderr ?? "").trim().split("\n").pop() || String(error?.message ?? error)
    return { skipped: `Node 22 could not be installed (scripts/install-node22.sh): ${detail}` }
  }
}

/**
 * Runs `script` (a path in the repository) under Node 22 with `args`, passing its "bench:" lines on to this
 * process's stderr marked [effect4]; gives its stdout, or `{ skipped: reason }` when Node 22 or the run fails.
 */
export async function runUnderNode22(script, args) {
  const node = node22()
  if (node.skipped !== undefined) return node
  const child = spawn(node.path, [`${root}${script}`, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (text) => (stdout += text))
  child.stderr.setEncoding("utf8").on("data", (text) => {
    stderr += text
    process.stderr.write(text.replace(/^bench: /gm, "bench: [effect4] "))
  })
  const [code, signal] = await new Promise((resolve) => {
    child.once("error", (error) => resolve([null, String(error.message)]))
    child.once("close", (c, s) => resolve([c, s]))
  })
  if (code !== 0) {
    return { skipped: `${script} failed (${code ?? signal})${stderr.trim() === "" ? "" : `: ${stderr.trim().split("\n").pop()}`}` }
  }
  return { stdout }
}

/** Stops a peer process: disconnecting ends it. */
export const stopPeer = (child) =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.removeAllListeners("exit")
    child.once("exit", () => resolve())
    child.disconnect()
  })
/** The ephemeral port range's size and whether TIME_WAIT ports are reused (Linux; undefined / 0 elsewhere). */
export const systemFacts = () => {
  const range = readNumbers("/proc/sys/net/ipv4/ip_local_port_range")
  return {
    range,
    portRange: range === undefined ? undefined : range[1] - range[0] + 1,
    twReuse: readNumbers("/proc/sys/net/ipv4/tcp_tw_reuse")?.[0] ?? 0
  }
}

const readNumbers = (path) => {
  try {
    return readFileSync(path, "utf8").trim().split(/\s+/).map(Number)
  } catch {
    return undefined
  }
}

/** Client sockets in TIME_WAIT towards the peer port (/proc/net/tcp; 0 where it cannot be read). */
function timeWaitTowards(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  let count = 0
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text
    try {
      text = readFileSync(file, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n")) {
      const fields = line.trim().split(/\s+/)
      if (fields[3] === "06" && fields[2]?.endsWith(`:${hexPort}`)) count++
    }
  }
  return count
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The client closes first, so its ports sit in TIME_WAIT for 60 s. Linux reuses them for new connects on
 * loopback when net.ipv4.tcp_tw_reuse is 1 or 2 (the library binds with IP_BIND_ADDRESS_NO_PORT, so its
 * port is also chosen at connect); without reuse, wait until the next run fits in the ephemeral range.
 */
export async function makeRoomFor(n, port, system) {
  if (system.twReuse !== 0 || system.portRange === undefined) return
  const budget = Math.floor(system.portRange * 0.9)
  let waited = 0
  while (timeWaitTowards(port) + n > budget && waited < 75) {
    if (waited === 0) process.stderr.write(`bench: waiting for TIME_WAIT ports to free (${timeWaitTowards(port)} in use)...\n`)
    await sleep(1_000)
    waited++
  }
}

const percentile = (sorted, p) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]

const round1 = (x) => Math.round(x * 10) / 10

function summarize(client, concurrency, n, latenciesMs, errors, elapsedMs, cpu) {
  const sorted = Float64Array.from(latenciesMs).sort()
  const connPerSec = (n / elapsedMs) * 1_000
  const meanMs = sorted.reduce((sum, x) => sum + x, 0) / n
  return {
    client,
    concurrency,
    n,
    connPerSec: Math.round(connPerSec),
    p50Us: round1(percentile(sorted, 0.5) * 1_000),
    p99Us: round1(percentile(sorted, 0.99) * 1_000),
    meanUs: round1(meanMs * 1_000),
    // Little's law: connections in the system = throughput x mean time in the system. With every moment of
    // every slot counted, this comes back as C (a little under it: slots fall idle one by one at the end).
    littleC: round1((connPerSec * meanMs) / 1_000),
    cpuUsPerConn: round1((cpu.user + cpu.system) / n),
    errors
  }
}

/**
 * Connect latency, the same clock for every client: from the moment a connection is asked for to the moment
 * the client has seen it done and released its socket. The bench keeps C connections going, so a connection
 * is asked for when a slot frees: C at the run's start, then one each time a connection ends. A connection
 * takes the oldest such moment when its own code starts to run (first asked, first served), so the time
 * between, waiting for the event loop or for Effect's scheduler to start the next fiber, counts alike for
 * callbacks and fibers. Whatever the order, the latencies add up to every slot's busy time: Little's law holds.
 */
function askClock(n, concurrency, latencies) {
  const asked = new Float64Array(n + concurrency)
  let head = 0
  let tail = 0
  return {
    /** The run starts: C connections are asked for. */
    open: (now) => {
      for (let k = 0; k < concurrency; k++) asked[tail++] = now
    },
    /** Connection `i`'s code starts: the moment it was asked for. */
    take: () => asked[head++],
    /** Connection `i` is done: its latency, and its slot asks for the next one. */
    done: (i, askedAt) => {
      const now = performance.now()
      latencies[i] = now - askedAt
      asked[tail++] = now
    }
  }
}

/** Promise clients: `concurrency` loops take the next connection until N were made. */
export async function measurePromises(client, n, concurrency, once) {
  const latencies = new Float64Array(n)
  const clock = askClock(n, concurrency, latencies)
  let next = 0
  let errors = 0
  let firstError
  const worker = async () => {
    while (next < n) {
      const i = next++
      const askedAt = clock.take()
      try {
        await once()
      } catch (error) {
        errors++
        firstError ??= error
      }
      clock.done(i, askedAt)
    }
  }
  const cpu = process.cpuUsage()
  const started = performance.now()
  clock.open(started)
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsed = performance.now() - started
  const result = summarize(client, concurrency, n, latencies, errors, elapsed, process.cpuUsage(cpu))
  if (firstError !== undefined) result.firstError = String(firstError?.message ?? firstError)
  return result
}

/** Effect clients: one Effect.forEach with the concurrency, run once by the given runner. */
export async function measureEffect(client, n, concurrency, once, runPromise, Effect) {
  const latencies = new Float64Array(n)
  const clock = askClock(n, concurrency, latencies)
  let errors = 0
  let firstError
  const one = (_, i) =>
    Effect.suspend(() => {
      const askedAt = clock.take()
      return Effect.match(once, {
        onFailure: (error) => {
          errors++
          firstError ??= error
          clock.done(i, askedAt)
        },
        onSuccess: () => clock.done(i, askedAt)
      })
    })
  const all = Effect.forEach(Array.from({ length: n }), one, { concurrency, discard: true })
  const cpu = process.cpuUsage()
  const started = performance.now()
  clock.open(started)
  await runPromise(all)
  const elapsed = performance.now() - started
  const result = summarize(client, concurrency, n, latencies, errors, elapsed, process.cpuUsage(cpu))
  if (firstError !== undefined) result.firstError = String(firstError?._tag ?? firstError?.message ?? firstError)
  return result
}

/**
 * The Little's-law check of a table's rows: each row's C against conn/s x mean latency. A row far under its
 * C would mean time left out of the latencies; `worst` is the largest shortfall or excess, as a fraction.
 */
export function littleCheck(results) {
  const deviations = results.map((r) => ({ row: `${r.client}${r.server === undefined ? "" : ` -> ${r.server}`} C=${r.concurrency}`, deviation: r.littleC / r.concurrency - 1 }))
  const worst = deviations.reduce((a, b) => (Math.abs(b.deviation) > Math.abs(a.deviation) ? b : a), { row: "", deviation: 0 })
  return {
    worst: Math.round(worst.deviation * 1_000) / 1_000,
    text: `Little's law check (C = conn/s x mean latency, the "conn/s x mean" column): every row within ` +
      `${fmt(Math.abs(worst.deviation) * 100, 1)}% of its C (largest gap: ${worst.row})`
  }
}

export const fmt = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a"

export const median = (results) => {
  const sorted = [...results].sort((a, b) => a.connPerSec - b.connPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/**
 * The library's connection as a node:stream Duplex: ConnectEx.dial to `address`, then NodeStream.toDuplex, in a
 * scope of its own that the Duplex's "close" closes (a failed dial closes it at once). `lib` holds effect's and
 * the library's modules (Effect, Scope, Exit, ConnectEx, Socket, NodeStream); `run` runs an Effect under
 * ConnectEx.layer (a ManagedRuntime's runPromise). `noDelay` sets TCP_NODELAY first, for clients that do not.
 */
export const dialDuplex = (lib, run, address, { noDelay = false } = {}) => {
  const { Effect, Scope, Exit } = lib
  return run(Effect.gen(function*() {
    const scope = yield* Scope.make()
    const duplex = yield* Effect.gen(function*() {
      const { socket } = yield* lib.ConnectEx.dial(address)
      if (noDelay) yield* lib.Socket.setOption(socket, "TCP_NODELAY", true)
      return yield* lib.NodeStream.toDuplex(socket)
    }).pipe(Scope.extend(scope), Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))))
    duplex.once("close", () => void run(Scope.close(scope, Exit.void)).catch(() => {}))
    return duplex
  }))
}

/** The middle of some numbers (of an even count, the lower middle). */
export const middle = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/**
 * Forks `script` (a file URL or path) with `args` as a peer in its own process and resolves `{ child, port }` once it
 * sends `{ port }` over IPC; rejects if it fails or exits first. Stop it with `stopPeer`.
 */
export const forkPeer = (script, args, execPath = process.execPath) =>
  new Promise((resolve, reject) => {
    const child = fork(script instanceof URL ? fileURLToPath(script) : script, args, { execPath, stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the peer exited early with code ${code}`)))
    child.once("message", (message) => resolve({ child, port: message.port }))
  })
export { percentile }

/**
 * This process's open-files limits (/proc/self/limits; `undefined` where that cannot be read), fs.nr_open
 * (how far root may raise the hard limit) and whether this process runs as root.
 */
export const fileLimits = () => {
  let text
  try {
    text = readFileSync("/proc/self/limits", "utf8")
  } catch {
    return undefined
  }
  const line = text.split("\n").find((l) => l.startsWith("Max open files"))
  if (line === undefined) return undefined
  const [soft, hard] = line.slice("Max open files".length).trim().split(/\s+/).map((x) => (x === "unlimited" ? Infinity : Number(x)))
  return { soft, hard, nrOpen: readNumbers("/proc/sys/fs/nr_open")?.[0] ?? hard, root: process.getuid?.() === 0 }
}

const RERUN = "BENCH_FILE_LIMIT_RERUN"

const shellMayRaise = (limit) => {
  try {
    execFileSync("sh", ["-c", 'ulimit -n "$1"', "sh", String(limit)], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/**
 * Makes room for `needed` descriptors: when the soft open-files limit is lower, this script runs again under
 * `sh -c 'ulimit -n L && exec node ...'` (L the hard limit; as root up to fs.nr_open, the hard limit raised
 * too where the process may: a container without CAP_SYS_RESOURCE keeps its hard limit); this process
 * forwards SIGINT / SIGTERM / SIGHUP to it and exits with its code (the promise then never resolves).
 * Resolves (nothing to do, no way to raise it, or this is the re-run) so that the caller goes on with the
 * limits `fileLimits()` reads. A re-run whose parent has gone exits within a second (its own exit handlers
 * stop its children).
 */
export async function raiseFileLimit(needed) {
  if (process.env[RERUN] !== undefined) {
    const parent = process.ppid
    setInterval(() => process.ppid !== parent && process.exit(1), 1_000).unref()
    return
  }
  const limits = fileLimits()
  if (limits === undefined || limits.soft >= needed) return
  // Root may raise the hard limit too, unless the container took CAP_SYS_RESOURCE away: asked of sh first.
  const wanted = limits.root ? Math.min(limits.nrOpen, Math.max(needed, limits.hard)) : limits.hard
  const target = wanted > limits.hard && !shellMayRaise(wanted) ? limits.hard : wanted
  if (!Number.isFinite(target) || target <= limits.soft) return
  const child = spawn(
    "sh",
    ["-c", 'ulimit -n "$1" && shift && exec "$@"', "sh", String(target), process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, [RERUN]: String(target) } }
  )
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal))
  const code = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? (s === null ? 1 : 128))))
  process.exit(code)
}
