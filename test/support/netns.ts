/**
 * A small private network for fault tests, built from network namespaces (Linux, root, iproute2).
 *
 * The test process stays in the root namespace. A lab is two namespaces of its own, on /24 prefixes of
 * 10.200.0.0/16 that nothing else on the machine uses (checked at run time):
 *
 *   this host  cx<pid>h  10.200.B.1/24  <-- veth -->  10.200.B.2/24  cx<pid>p  namespace cx-<pid>-peer (a router)
 *                                                     10.200.B.3/32  lo        (never answers ARP for it)
 *   namespace cx-<pid>-far, connected to nothing: 10.200.B+1.2, B+2.2, B+3.2, B+4.2 (/32s on its lo)
 *
 *   this host: 10.200.B+1.0/24 via 10.200.B.2   (the peer has no route there: ICMP net unreachable)
 *              10.200.B+2.0/24 via 10.200.B.2   (the peer has an `unreachable` route: ICMP host unreachable)
 *              10.200.B+3.0/24, 10.200.B+4.0/24: an `unreachable` rule / route, added by the test that needs it
 *
 * Every address a test connects to is loopback or an address of one of these namespaces: a fault comes from
 * a host we made being silent or out of reach, never from an address nobody owns. Every change is undone by
 * a finalizer, and `cleanUpEverything` (for an `afterAll`) removes whatever a failure may have left behind.
 * No kernel setting of this host is changed (only those of the lab's own interfaces). Peers inside the namespace are `node` child processes started with
 * `ip netns exec`.
 */
import { Effect, type Scope } from "effect"
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import type { Socket } from "../../packages/effect-connectex/src/index.js"
import type { SocketImpl } from "../../packages/effect-connectex/src/internal/socket.js"

const pid = process.pid
/** The namespace of this process's lab where peers run, joined to this host by a veth; a router too. */
export const namespace = `cx-${pid}-peer`
/** The namespace holding the lab's unreachable addresses: connected to nothing. */
const farNamespace = `cx-${pid}-far`
/** The veth end on this host, and the one inside the namespace (interface names: at most 15 characters). */
const hostLink = `cx${pid}h`
const peerLink = `cx${pid}p`

const errorText = (error: unknown): string => {
  const e = error as { stderr?: Buffer | string | null; message?: string; code?: string }
  const stderr = e.stderr === undefined || e.stderr === null ? "" : String(e.stderr).trim()
  return stderr !== "" ? stderr : e.code === "ENOENT" ? "the `ip` command is not installed" : String(e.message ?? error)
}

const ipSync = (args: ReadonlyArray<string>): string =>
  execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })

/**
 * Whether this process can build a lab, found by trying: a uniquely named namespace is created, a veth pair
 * is made inside it (nothing touches this host's own interfaces), and the namespace is deleted again.
 */
const probe = (): { readonly ok: true } | { readonly ok: false; readonly reason: string } => {
  if (process.platform !== "linux") return { ok: false, reason: `needs Linux network namespaces, this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { ok: false, reason: "needs root to create network namespaces" }
  const name = `cx-${pid}-probe`
  try {
    ipSync(["netns", "add", name])
  } catch (error) {
    return { ok: false, reason: `\`ip netns add\` failed: ${errorText(error)}` }
  }
  try {
    ipSync(["-n", name, "link", "add", "cxa", "type", "veth", "peer", "name", "cxb"])
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: `cannot create a veth pair: ${errorText(error)}` }
  } finally {
    try {
      ipSync(["netns", "delete", name])
    } catch {
      // nothing more to undo
    }
  }
}

const probed = probe()
export const canUseNetns: boolean = probed.ok
export const skipReason: string = probed.ok ? "" : probed.reason

const alive = (p: number): boolean => {
  try {
    process.kill(p, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"
  }
}

/**
 * What runs of this file that were killed (SIGKILL, crash: no finalizer ran) left behind, found by the pid in
 * the names: their namespaces and veths.
 */
const cleanUpStale = (): void => {
  const dead = (name: string, pattern: RegExp) => {
    const m = pattern.exec(name)
    return m?.[1] !== undefined && Number(m[1]) !== pid && !alive(Number(m[1]))
  }
  for (const line of ipSync(["-o", "link", "show"]).split("\n")) {
    const name = line.split(": ")[1]?.split("@")[0]
    if (name !== undefined && dead(name, /^cx(\d+)h$/)) {
      try {
        ipSync(["link", "delete", name])
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const line of ipSync(["netns", "list"]).split("\n")) {
    const name = line.split(" ")[0]
    if (name !== undefined && dead(name, /^cx-(\d+)-(?:peer|far|probe)$/)) {
      try {
        ipSync(["netns", "delete", name])
      } catch {
        // gone meanwhile
      }
    }
  }
}
if (canUseNetns) cleanUpStale()

/**
 * The third octet B of the lab's prefixes: B .. B+4 (five /24s of 10.200.0.0/16), none of them in any routing
 * table, rule or address of this host, and claimed by this process with a lock file (`<pid>`) so that
 * concurrent runs never pick the same one. Starts at a place derived from the pid.
 */
const baseLock = (b: number) => `/tmp/effect-connectex-faults.10.200.${b}`

const claim = (file: string): boolean => {
  try {
    writeFileSync(file, String(pid), { flag: "wx" })
    return true
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e
    const owner = Number(readFileSync(file, "utf8").trim())
    if (owner !== pid && alive(owner)) return false
    writeFileSync(file, String(pid))
    return true
  }
}

const chooseBase = (): number => {
  const inUse = ipSync(["-4", "route", "show", "table", "all"]) + ipSync(["-4", "rule", "show"]) +
    ipSync(["-4", "addr", "show"])
  for (let i = 0; i < 30; i++) {
    const base = 8 * (((pid + i) % 30) + 1)
    const free = [0, 1, 2, 3, 4].every((d) => !inUse.includes(`10.200.${base + d}.`))
    if (free && claim(baseLock(base))) return base
  }
  throw new Error("no free 10.200.x.0/24 prefixes for the lab")
}
const base = canUseNetns ? chooseBase() : 0
const releaseBase = () => {
  try {
    if (canUseNetns && readFileSync(baseLock(base), "utf8").trim() === String(pid)) rmSync(baseLock(base), { force: true })
  } catch {
    // already released
  }
}
process.once("exit", releaseBase)
const prefix = (d: number) => `10.200.${base + d}`

/** Addresses of the lab; each one produces one kind of fault (see the module comment). */
export const lab = {
  /** This host's end of the veth. */
  host: `${prefix(0)}.1`,
  /** The peer namespace's end: peers listen here. */
  peer: `${prefix(0)}.2`,
  /**
   * An address of the peer namespace (on its lo) inside the veth's /24, so this host looks for it on the link;
   * the namespace answers ARP on the veth only for the veth's own address (arp_ignore 1), so never for this.
   */
  silentNeighbour: `${prefix(0)}.3`,
  /** The far namespace's; routed to the peer, which has no route for it and answers ICMP network unreachable. */
  beyondPeerNoRoute: `${prefix(1)}.2`,
  /** The far namespace's; routed to the peer, which has an `unreachable` route and answers ICMP host unreachable. */
  beyondPeerUnreachable: `${prefix(2)}.2`,
  /** The far namespace's, for `unreachableRule`: route lookups for its prefix fail as if this host had no route. */
  noRouteHere: `${prefix(3)}.2`,
  noRouteHerePrefix: `${prefix(3)}.0/24`,
  /** The far namespace's, for `unreachableRoute`: a prefix with an `unreachable` route on this host. */
  unreachableHere: `${prefix(4)}.2`,
  unreachableHerePrefix: `${prefix(4)}.0/24`
} as const

/** Runs `ip` with the arguments; fails with its stderr. */
export const ip = (...args: ReadonlyArray<string>): Effect.Effect<string, Error> =>
  Effect.async<string, Error>((resume) => {
    execFile("ip", args, { encoding: "utf8" }, (error, stdout, stderr) => {
      resume(error === null ? Effect.succeed(stdout) : Effect.fail(new Error(`ip ${args.join(" ")}: ${stderr.trim() || error.message}`)))
    })
  })

/** Runs `ip`, ignoring failure (for clean-up of what may already be gone). */
const ipQuiet = (...args: ReadonlyArray<string>) => Effect.ignore(ip(...args))

/** A sysctl inside the lab's peer namespace (`ip netns exec` re-enters it; /proc/sys/net is per namespace). */
const nsSysctl = (key: string, value: string) =>
  ip("netns", "exec", namespace, "sh", "-c", `echo ${value} > /proc/sys/${key.replaceAll(".", "/")}`)

const teardown = Effect.gen(function*() {
  // The veth first: deleting one end removes both, with every route through it, at once (namespace
  // deletion frees its devices later, in the kernel's own time).
  yield* ipQuiet("link", "delete", hostLink)
  yield* ipQuiet("netns", "delete", namespace)
  yield* ipQuiet("netns", "delete", farNamespace)
})

const setup = Effect.gen(function*() {
  yield* ip("netns", "add", namespace)
  yield* ip("link", "add", hostLink, "type", "veth", "peer", "name", peerLink, "netns", namespace)
  yield* ip("addr", "add", `${lab.host}/24`, "dev", hostLink)
  yield* ip("link", "set", hostLink, "up")
  yield* ip("-n", namespace, "addr", "add", `${lab.peer}/24`, "dev", peerLink)
  yield* ip("-n", namespace, "link", "set", peerLink, "up")
  yield* ip("-n", namespace, "link", "set", "lo", "up")
  // The silent neighbour: the peer namespace's own address, on the link's /24 but held by its lo; with
  // arp_ignore 1 the veth answers ARP only for addresses configured on the veth itself.
  yield* ip("-n", namespace, "addr", "add", `${lab.silentNeighbour}/32`, "dev", "lo")
  yield* nsSysctl(`net.ipv4.conf.${peerLink}.arp_ignore`, "1")
  // The far host: the addresses the unreachable-destination tests connect to, with no link to anything.
  yield* ip("netns", "add", farNamespace)
  yield* ip("-n", farNamespace, "link", "set", "lo", "up")
  for (const address of [lab.beyondPeerNoRoute, lab.beyondPeerUnreachable, lab.noRouteHere, lab.unreachableHere]) {
    yield* ip("-n", farNamespace, "addr", "add", `${address}/32`, "dev", "lo")
  }
  // The peer namespace is this host's router towards two of the far host's prefixes: one it has no route for,
  // one it calls unreachable.
  yield* ip("route", "add", `${prefix(1)}.0/24`, "via", lab.peer, "dev", hostLink)
  yield* ip("route", "add", `${prefix(2)}.0/24`, "via", lab.peer, "dev", hostLink)
  yield* ip("-n", namespace, "route", "add", "unreachable", `${prefix(2)}.0/24`)
  yield* nsSysctl("net.ipv4.ip_forward", "1")
  yield* nsSysctl("net.ipv4.icmp_ratelimit", "0")
  // Address resolution on this host's veth gives up after 2 probes 250 ms apart (kernel default: 3 x 1 s).
  // These settings belong to our own interface and go away with it.
  yield* Effect.try(() => {
    writeFileSync(`/proc/sys/net/ipv4/neigh/${hostLink}/mcast_solicit`, "2")
    writeFileSync(`/proc/sys/net/ipv4/neigh/${hostLink}/retrans_time_ms`, "250")
  })
})

/** The lab, built for the scope and torn down with it (also when building it failed half-way). */
export const netLab: Effect.Effect<typeof lab, Error, Scope.Scope> = Effect.acquireRelease(
  Effect.as(Effect.onError(setup, () => teardown), lab),
  () => teardown
)

/** Something added with `ip ... add ...` for the scope, removed with the matching `ip ... del ...`. */
export const added = (add: ReadonlyArray<string>, del: ReadonlyArray<string>): Effect.Effect<void, Error, Scope.Scope> => {
  const remove = ipQuiet(...del)
  return Effect.acquireRelease(ip(...add), () => remove).pipe(Effect.asVoid)
}

const extraRules = new Set<string>()

/** `ip rule add to <prefix> unreachable` on this host for the scope: connects there fail ENETUNREACH at once. */
export const unreachableRule = (target: string) => {
  extraRules.add(target)
  return added(["rule", "add", "to", target, "unreachable"], ["rule", "del", "to", target, "unreachable"])
}

/** `ip route add unreachable <prefix>` on this host for the scope: connects there fail EHOSTUNREACH at once. */
export const unreachableRoute = (target: string) =>
  added(["route", "add", "unreachable", target], ["route", "del", "unreachable", target])

/**
 * Inside the namespace, TCP to `port` arriving on the veth is dropped by a policy rule of type blackhole
 * (ARP, ICMP and other ports still work): SYNs go unanswered. The `local` table's rule is moved behind it,
 * since it comes first by default and would deliver the packet before the blackhole rule is consulted.
 */
export const dropSynsTo = (port: number): Effect.Effect<void, Error, Scope.Scope> =>
  Effect.gen(function*() {
    yield* added(
      ["-n", namespace, "rule", "add", "pref", "100", "lookup", "local"],
      ["-n", namespace, "rule", "del", "pref", "100", "lookup", "local"]
    )
    yield* added(
      ["-n", namespace, "rule", "del", "pref", "0", "lookup", "local"],
      ["-n", namespace, "rule", "add", "pref", "0", "lookup", "local"]
    )
    yield* added(
      ["-n", namespace, "rule", "add", "pref", "10", "iif", peerLink, "ipproto", "tcp", "dport", String(port), "blackhole"],
      ["-n", namespace, "rule", "del", "pref", "10"]
    )
  })

/**
 * Sets TCP_SYNCNT on this one socket, so that an unanswered connect gives up after `n` SYN retransmissions
 * (about 3 s for 1, instead of about 127 s with the kernel default of 6). Nothing outside the socket changes.
 */
export const synCount = (socket: Socket.Socket, n: number): Effect.Effect<void, Error> =>
  Effect.tryPromise({
    // Loaded on use: this file is imported under Wine too, where the faults tests skip and libc is absent.
    try: () => import("./native/posix/testing.js").then((m) => m.setSynRetries((socket as unknown as SocketImpl).native, n)),
    catch: (e) => e instanceof Error ? e : new Error(`TCP_SYNCNT: ${String(e)}`)
  })

const children = new Set<ChildProcess>()

/**
 * The peers, run by `node` inside the namespace. argv: mode, host, port.
 *  - echo:  listens and echoes;
 *  - reset: listens, and resets a connection (SO_LINGER 0 close) when its first data arrives;
 *  - reset-at-once: listens, and resets every connection as soon as it is accepted;
 *  - late:  listens only when told `listen` on stdin (until then the port refuses), then echoes.
 * Each prints `ready` when it is in its announced state, and `listening` when it listens.
 */
const PEER = `
const net = require("node:net")
const [mode, host, port] = process.argv.slice(1)
const server = net.createServer((c) => {
  c.on("error", () => {})
  if (mode === "reset-at-once") c.resetAndDestroy()
  else if (mode === "reset") c.once("data", () => c.resetAndDestroy())
  else c.on("data", (d) => c.write(d))
})
const listen = () => server.listen(Number(port), host, () => process.stdout.write("listening\\n"))
process.stdin.on("data", (d) => { if (String(d).includes("listen")) listen() })
process.stdin.on("end", () => process.exit(0))
if (mode === "late") process.stdout.write("ready\\n")
else server.listen(Number(port), host, () => process.stdout.write("ready\\n"))
`

export interface Peer {
  readonly port: number
  /** Waits until the peer prints the line (e.g. `listening`). */
  readonly said: (line: string) => Effect.Effect<void, Error>
  /** Writes a line to the peer's stdin. */
  readonly tell: (line: string) => Effect.Effect<void>
}

/** A peer process in the lab's namespace on `lab.peer:port`; killed when the scope closes. */
export const peer = (mode: "echo" | "reset" | "reset-at-once" | "late", port: number): Effect.Effect<Peer, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn("ip", ["netns", "exec", namespace, process.execPath, "-e", PEER, mode, lab.peer, String(port)], {
          stdio: ["pipe", "pipe", "inherit"]
        })
        children.add(child)
        return child
      }),
      (child) =>
        Effect.async<void>((resume) => {
          children.delete(child)
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGKILL")
        })
    )
    let output = ""
    const waiters = new Set<() => void>()
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      for (const w of [...waiters]) w()
    })
    const said = (line: string) =>
      Effect.async<void, Error>((resume) => {
        const check = () => {
          if (output.split("\n").includes(line)) {
            cleanup()
            resume(Effect.void)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup()
            resume(Effect.fail(new Error(`peer ${mode} exited (${child.exitCode ?? child.signalCode}) before saying ${line}`)))
          }
        }
        const cleanup = () => {
          waiters.delete(check)
          child.off("exit", check)
        }
        waiters.add(check)
        child.on("exit", check)
        check()
        return Effect.sync(cleanup)
      }).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`peer ${mode} never said ${line}: ${output}`) }))
    const tell = (line: string) => Effect.sync(() => void child.stdin?.write(`${line}\n`))
    yield* said("ready")
    return { port, said, tell }
  })

/**
 * For an `afterAll`: whatever a failed or interrupted test left behind, synchronously: peer processes, the
 * veth (with its routes), both namespaces, and the rule and route on this host.
 */
export const cleanUpEverything = (): void => {
  if (!canUseNetns) return
  for (const child of children) child.kill("SIGKILL")
  children.clear()
  const quiet = (args: ReadonlyArray<string>) => {
    try {
      ipSync(args)
      return true
    } catch {
      return false
    }
  }
  quiet(["link", "delete", hostLink])
  quiet(["netns", "delete", namespace])
  quiet(["netns", "delete", farNamespace])
  for (const target of extraRules) while (quiet(["rule", "del", "to", target, "unreachable"]));
  quiet(["route", "del", "unreachable", lab.unreachableHerePrefix])
  releaseBase()
}
