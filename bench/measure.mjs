/**
 * What the benches share: stopping a peer process and formatting numbers (every bench), and for the connect
 * benches (bench/connect.mjs under Node 20 with Effect 3, bench/connect-effect4.mjs under Node 22 with Effect 4)
 * the system facts, the TIME_WAIT pacing, the two measuring loops and the summary. Each bench keeps only its
 * own clients and report.
 */
import { execFileSync, spawn } from "node:child_process"
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

function summarize(client, concurrency, n, latenciesMs, errors, elapsedMs, cpu) {
  const sorted = Float64Array.from(latenciesMs).sort()
  const round1 = (x) => Math.round(x * 10) / 10
  return {
    client,
    concurrency,
    n,
    connPerSec: Math.round((n / elapsedMs) * 1_000),
    p50Us: round1(percentile(sorted, 0.5) * 1_000),
    p99Us: round1(percentile(sorted, 0.99) * 1_000),
    cpuUsPerConn: round1((cpu.user + cpu.system) / n),
    errors
  }
}

/** Promise clients: `concurrency` loops take the next connection until N were made. */
export async function measurePromises(client, n, concurrency, once) {
  const latencies = new Float64Array(n)
  let next = 0
  let errors = 0
  let firstError
  const worker = async () => {
    while (next < n) {
      const i = next++
      const started = performance.now()
      try {
        await once()
      } catch (error) {
        errors++
        firstError ??= error
      }
      latencies[i] = performance.now() - started
    }
  }
  const cpu = process.cpuUsage()
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsed = performance.now() - started
  const result = summarize(client, concurrency, n, latencies, errors, elapsed, process.cpuUsage(cpu))
  if (firstError !== undefined) result.firstError = String(firstError?.message ?? firstError)
  return result
}

/** Effect clients: one Effect.forEach with the concurrency, run once by the given runner. */
export async function measureEffect(client, n, concurrency, once, runPromise, Effect) {
  const latencies = new Float64Array(n)
  let errors = 0
  let firstError
  const one = (_, i) =>
    Effect.suspend(() => {
      const started = performance.now()
      return Effect.match(once, {
        onFailure: (error) => {
          errors++
          firstError ??= error
          latencies[i] = performance.now() - started
        },
        onSuccess: () => {
          latencies[i] = performance.now() - started
        }
      })
    })
  const all = Effect.forEach(Array.from({ length: n }), one, { concurrency, discard: true })
  const cpu = process.cpuUsage()
  const started = performance.now()
  await runPromise(all)
  const elapsed = performance.now() - started
  const result = summarize(client, concurrency, n, latencies, errors, elapsed, process.cpuUsage(cpu))
  if (firstError !== undefined) result.firstError = String(firstError?._tag ?? firstError?.message ?? firstError)
  return result
}

export const fmt = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a"

export const median = (results) => {
  const sorted = [...results].sort((a, b) => a.connPerSec - b.connPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

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
