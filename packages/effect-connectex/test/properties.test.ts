/**
 * Property-based tests (fast-check) on every public function that takes user data. The rule they check:
 * whatever a caller passes, the outcome is a success or a failure whose every error is a `WsaError` (or a
 * `TimeoutException` where a timeout was asked for). Never a synchronous throw, a defect, an interruption
 * nobody asked for, a hang, or a crashed process; and nothing is left pending or allocated afterwards.
 *
 * Only loopback addresses (127.0.0.1, ::1) are ever connected to.
 */
import { test as fcTest } from "@fast-check/vitest"
import { Cause, Chunk, Duration, Effect, Exit, Fiber, HashSet, ManagedRuntime, Option, Schedule, Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConnectEx, Iocp, Socket, SocketAddress, WsaError } from "../src/index.js"
import * as net from "node:net"
import { loopback, openDescriptors, pendingTarget, refusedPort, wine } from "../../../test/support/peers.js"
import { bound } from "../../../test/support/fixtures.js"

// ---------------------------------------------------------------------------------------------------------
// The runtime, the peers and the outcome checks

const runtime = ManagedRuntime.make(ConnectEx.layer)
type Env = ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope

let peers: Scope.CloseableScope
let echo4: SocketAddress.SocketAddress
let echo6: SocketAddress.SocketAddress
let pending4: SocketAddress.SocketAddress
let refused4: SocketAddress.SocketAddress
let baseline: { readonly fds: number | undefined; readonly allocations: number }

/** A call that never settles within this long is a hang. */
const HANG_MS = 15_000

class Hang {
  readonly _tag = "Hang"
}

/** Builds the effect (a throw while building it is a finding of its own) and runs it in a scope. */
const run = async <A, E>(
  build: () => Effect.Effect<A, E, Env>,
  hangMs = HANG_MS
): Promise<Exit.Exit<A, unknown> | { readonly thrown: unknown } | Hang> => {
  let effect: Effect.Effect<A, E, Env>
  try {
    effect = build()
  } catch (thrown) {
    return { thrown }
  }
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<Hang>((resolve) => (timer = setTimeout(() => resolve(new Hang()), hangMs)))
  try {
    return await Promise.race([runtime.runPromiseExit(Effect.scoped(effect)), hang])
  } finally {
    clearTimeout(timer)
  }
}

const describeValue = (u: unknown): string => {
  try {
    return typeof u === "bigint" ? `${u}n` : JSON.stringify(u) ?? String(u)
  } catch {
    return Object.prototype.toString.call(u)
  }
}

/** Why an outcome breaks the rule, or undefined when it is a success or a typed failure. */
const problemWith = (
  outcome: Exit.Exit<unknown, unknown> | { readonly thrown: unknown } | Hang,
  allow: { readonly interrupt?: boolean; readonly timeout?: boolean } = {}
): string | undefined => {
  if (outcome instanceof Hang) return `no outcome within ${HANG_MS} ms (a hang)`
  if (!Exit.isExit(outcome)) return `threw synchronously: ${String(outcome.thrown)}`
  if (Exit.isSuccess(outcome)) return undefined
  const cause = outcome.cause
  if (Chunk.size(Cause.defects(cause)) > 0) return `defect: ${Cause.pretty(cause)}`
  if (!allow.interrupt && HashSet.size(Cause.interruptors(cause)) > 0) return `interrupted: ${Cause.pretty(cause)}`
  for (const error of Cause.failures(cause)) {
    if (WsaError.isWsaError(error)) continue
    if (Cause.isTimeoutException(error) && allow.timeout !== false) continue
    return `an error that is not a WsaError: ${Cause.pretty(cause)}`
  }
  return undefined
}

const expectTyped = (
  outcome: Exit.Exit<unknown, unknown> | { readonly thrown: unknown } | Hang,
  input: unknown,
  allow?: { readonly interrupt?: boolean; readonly timeout?: boolean }
): void => {
  const problem = problemWith(outcome, allow)
  if (problem !== undefined) throw new Error(`input ${describeValue(input)}: ${problem}`)
}

/** The tag of a failure, or "success". */
const tagOf = (outcome: Exit.Exit<unknown, unknown> | { readonly thrown: unknown } | Hang): string => {
  if (!Exit.isExit(outcome)) return "not an exit"
  if (Exit.isSuccess(outcome)) return "success"
  const failure = Cause.failureOption(outcome.cause)
  return Option.isSome(failure) && WsaError.isWsaError(failure.value) ? failure.value._tag : Cause.pretty(outcome.cause)
}

const stats = () => runtime.runPromise(Iocp.stats)

/** After each property: nothing pending, no native allocation left beyond the baseline. */
const expectSettled = async () => {
  let s = await stats()
  for (let i = 0; i < 200 && (s.pending !== 0 || s.liveAllocations !== baseline.allocations); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    s = await stats()
  }
  expect({ pending: s.pending, duplicates: s.duplicates, liveAllocations: s.liveAllocations, sockets: s.sockets })
    .toEqual({ pending: 0, duplicates: 0, liveAllocations: baseline.allocations, sockets: 0 })
}


const connectedTo = (target: SocketAddress.SocketAddress) =>
  Effect.tap(bound(target.family), (socket) => ConnectEx.connect(socket, target))

/**
 * An echo server that keeps nothing (support/peers' echoServer records every connection's bytes with a
 * Buffer.concat per chunk, quadratic for the 64 MiB case, which would stall this process's event loop).
 */
const echoServer = (family: SocketAddress.Family) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: net.Server; readonly connections: Set<net.Socket> }, Error>((resume) => {
      const connections = new Set<net.Socket>()
      const server = net.createServer((c) => {
        connections.add(c)
        c.on("data", (chunk) => c.write(chunk))
        c.on("error", () => {})
        c.on("close", () => connections.delete(c))
      })
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(0, family === "ipv4" ? "127.0.0.1" : "::1", () => resume(Effect.succeed({ server, connections })))
    }),
    ({ connections, server }) =>
      Effect.async<void>((resume) => {
        for (const c of connections) c.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ server }) => ({ address: loopback(family, (server.address() as net.AddressInfo).port) })))

beforeAll(async () => {
  peers = Effect.runSync(Scope.make())
  const within = <A>(effect: Effect.Effect<A, Error, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, peers))
  echo4 = (await within(echoServer("ipv4"))).address
  echo6 = (await within(echoServer("ipv6"))).address
  pending4 = await within(pendingTarget("ipv4"))
  refused4 = await within(refusedPort("ipv4"))
  const s = await stats()
  baseline = { fds: openDescriptors(), allocations: s.liveAllocations }
})

afterAll(async () => {
  await expectSettled()
  await Effect.runPromise(Scope.close(peers, Exit.void))
  await runtime.dispose()
})

// ---------------------------------------------------------------------------------------------------------
// Arbitraries

/** An object whose family is neither "ipv4" nor "ipv6": Windows answers a bad sa_family with WSAEAFNOSUPPORT. */
const unknownFamily = (u: unknown): boolean =>
  typeof u === "object" && u !== null && (u as { family?: unknown }).family !== "ipv4" && (u as { family?: unknown }).family !== "ipv6"

/** Values of every kind whose String() and JSON.stringify work (the hostile ones have tests of their own). */
const printable = (u: unknown): boolean => {
  try {
    String(u)
    JSON.stringify(u)
    return true
  } catch {
    return false
  }
}

const anyValue = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withDate: true,
  maxDepth: 2
}).filter(printable)

const weirdNumber = fc.oneof(
  fc.constantFrom(-1, 65536, NaN, Infinity, -Infinity, 0.5, 80.5, -0, 2 ** 32, 2 ** 53, -(2 ** 31), Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON),
  fc.double(),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.integer()
)

const weirdPort = fc.oneof(
  weirdNumber,
  fc.constantFrom<unknown>("80", "0x50", " 80", "", null, undefined, true, [80], { valueOf: () => 80 }, new Number(80)),
  fc.string(),
  anyValue
)

const validHost4 = fc.oneof(fc.ipV4(), fc.constantFrom("127.0.0.1", "0.0.0.0", "255.255.255.255"))
const validHost6 = fc.oneof(fc.ipV6(), fc.constantFrom("::1", "::", "fe80::1", "::ffff:127.0.0.1"))
const weirdHost = fc.oneof(
  validHost4,
  validHost6,
  fc.ipV4Extended(),
  fc.constantFrom<unknown>("localhost", "127.1", "127.0.0.1 ", "[::1]", "::1%1", "fe80::1%eth0", "", "1.2.3.4.5", "01.02.03.04", null, 127),
  fc.string(),
  anyValue
)

const weirdFamily = fc.oneof(
  fc.constantFrom<unknown>("ipv4", "ipv6", "IPv4", "IPV6", "inet", "inet6", "", 2, 10, 23, null, undefined, true, ["ipv4"], new String("ipv4")),
  fc.string(),
  anyValue
)

const maybe = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: undefined })

/** Objects shaped roughly like addresses, most of them wrong somewhere. */
const addressLike = fc.oneof(
  fc.record(
    { family: weirdFamily, host: weirdHost, port: weirdPort, flowInfo: maybe(weirdPort), scopeId: maybe(weirdPort) },
    { requiredKeys: [] }
  ),
  fc.record({ family: fc.constant("ipv4"), host: validHost4, port: weirdPort }),
  fc.record({ family: fc.constant("ipv6"), host: validHost6, port: weirdPort, flowInfo: maybe(weirdPort), scopeId: maybe(weirdPort) }),
  anyValue
)

const formatted = fc.oneof(
  fc.tuple(validHost4, fc.integer({ min: 0, max: 65535 })).map(([h, p]) => `${h}:${p}`),
  fc.tuple(validHost6, fc.integer({ min: 0, max: 65535 }), fc.option(fc.nat(), { nil: undefined }))
    .map(([h, p, zone]) => `[${h}${zone === undefined ? "" : `%${zone}`}]:${p}`)
)

/** A valid address text with one or more edits: near-valid input, where parsers go wrong. */
const nearValid = fc.tuple(
  formatted,
  fc.array(
    fc.tuple(fc.constantFrom("insert", "delete", "replace", "duplicate"), fc.nat(), fc.constantFrom(...":[]%.0123456789abcdefx -+\u0000\u00a0\uff10e/".split("")).chain((c) => fc.oneof(fc.constant(c), fc.string({ maxLength: 3 })))),
    { minLength: 1, maxLength: 4 }
  )
).map(([text, edits]) => {
  let t = text
  for (const [kind, at, c] of edits) {
    const i = t.length === 0 ? 0 : at % t.length
    t = kind === "insert"
      ? t.slice(0, i) + c + t.slice(i)
      : kind === "delete"
      ? t.slice(0, i) + t.slice(i + 1)
      : kind === "replace"
      ? t.slice(0, i) + c + t.slice(i + 1)
      : t.slice(0, i) + t.slice(i, i + 3) + t.slice(i)
  }
  return t
})

const runs = (numRuns: number) => ({ numRuns, endOnFailure: true })

// ---------------------------------------------------------------------------------------------------------
// SocketAddress

describe("SocketAddress with arbitrary input", () => {
  fcTest.prop([fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary", maxLength: 200 }), nearValid)], runs(200))(
    "parse: any text is an address that formats back to itself, or WSAEINVAL",
    async (text) => {
      const outcome = await run(() => SocketAddress.parse(text))
      expectTyped(outcome, text)
      if (Exit.isExit(outcome) && Exit.isSuccess(outcome)) {
        const again = await run(() => SocketAddress.parse(SocketAddress.format(outcome.value as SocketAddress.SocketAddress)))
        expect(Exit.isExit(again) && Exit.isSuccess(again) && SocketAddress.equals(again.value, outcome.value as SocketAddress.SocketAddress)).toBe(true)
      } else {
        expect(tagOf(outcome)).toBe("WSAEINVAL")
      }
    }
  )

  fcTest.prop([formatted], runs(200))("parse accepts every well-formed address, and format gives the same value back", async (text) => {
    const outcome = await run(() => SocketAddress.parse(text))
    expectTyped(outcome, text)
    if (!(Exit.isExit(outcome) && Exit.isSuccess(outcome))) throw new Error(`rejected ${text}: ${tagOf(outcome)}`)
    const address = outcome.value as SocketAddress.SocketAddress
    const again = await run(() => SocketAddress.parse(SocketAddress.format(address)))
    expect(Exit.isExit(again) && Exit.isSuccess(again) && SocketAddress.equals(again.value, address)).toBe(true)
  })

  fcTest.prop([anyValue], runs(200))("parse of a value that is not a string is WSAEINVAL", async (value) => {
    const outcome = await run(() => SocketAddress.parse(value as string))
    expectTyped(outcome, value)
    if (typeof value !== "string") expect(tagOf(outcome)).toBe("WSAEINVAL")
  })

  fcTest.prop([addressLike, fc.constantFrom("bind" as const, "connect" as const)], runs(200))(
    "validate: any value is a canonical address, WSAEAFNOSUPPORT for an unknown family, or WSAEINVAL",
    async (value, operation) => {
      const outcome = await run(() => SocketAddress.validate(value, operation))
      expectTyped(outcome, value)
      if (Exit.isExit(outcome) && Exit.isSuccess(outcome)) {
        const address = outcome.value as SocketAddress.SocketAddress
        expect(["ipv4", "ipv6"]).toContain(address.family)
        expect(Number.isInteger(address.port) && address.port >= 0 && address.port <= 65535).toBe(true)
        // canonical: validating the result again gives the same value
        const again = await run(() => SocketAddress.validate(address, operation))
        expect(Exit.isExit(again) && Exit.isSuccess(again) && SocketAddress.equals(again.value, address)).toBe(true)
      } else {
        expect(tagOf(outcome)).toBe(unknownFamily(value) ? "WSAEAFNOSUPPORT" : "WSAEINVAL")
      }
    }
  )

  fcTest.prop([weirdHost, weirdPort, maybe(weirdPort), maybe(weirdPort)], runs(200))(
    "ipv4/ipv6 literals: an address, or a TypeError (programmer error), never another kind of throw",
    (host, port, flowInfo, scopeId) => {
      for (const make of [
        () => SocketAddress.ipv4(host as string, port as number),
        () => SocketAddress.ipv6(host as string, port as number, { flowInfo: flowInfo as number, scopeId: scopeId as number })
      ]) {
        try {
          const address = make()
          expect(Number.isInteger(address.port)).toBe(true)
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError)
          expect(String((e as Error).message)).toMatch(/^SocketAddress\.ipv[46]: /)
        }
      }
    }
  )

  fcTest.prop([fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })], runs(200))(
    "IPv6 flow info and scope id: every uint32 is kept, format/parse round-trips the scope",
    async (port, flowInfo, scopeId) => {
      const address = SocketAddress.ipv6("fe80::1", port, { flowInfo, scopeId })
      expect([address.flowInfo, address.scopeId]).toEqual([flowInfo, scopeId])
      const parsed = await run(() => SocketAddress.parse(SocketAddress.format(address)))
      if (!(Exit.isExit(parsed) && Exit.isSuccess(parsed))) throw new Error(`format(${describeValue(address)}) did not parse`)
      expect((parsed.value as SocketAddress.Ipv6Address).scopeId).toBe(scopeId)
    }
  )
})

// ---------------------------------------------------------------------------------------------------------
// Hostile values: String() or JSON.stringify throws on them. Each is a plain value a caller can produce
// (JSON.parse gives the first; a BigInt port is a common slip). The library must still answer WSAEINVAL.

const hostile: ReadonlyArray<readonly [string, () => unknown]> = [
  ["an object from JSON.parse with a non-function toString", () => JSON.parse("{\"toString\":1}")],
  ["a null-prototype object", () => Object.create(null)],
  ["a BigInt", () => 80n]
]


/**
 * Each call with each hostile value: the error message names the value, and must do so without throwing
 * (String() and JSON.stringify throw on some of them), or the caller would get a defect instead of the
 * typed error.
 */
const hostileCalls: ReadonlyArray<readonly [string, (v: unknown) => Effect.Effect<unknown, unknown, Env>, string]> = [
  ["SocketAddress.validate({ family: \"ipv4\", host: \"127.0.0.1\", port: V })", (v) => SocketAddress.validate({ family: "ipv4", host: "127.0.0.1", port: v }, "connect"), "WSAEINVAL"],
  ["SocketAddress.validate({ family: \"ipv6\", host: \"::1\", port: 1, scopeId: V })", (v) => SocketAddress.validate({ family: "ipv6", host: "::1", port: 1, scopeId: v }, "connect"), "WSAEINVAL"],
  ["SocketAddress.validate({ family: \"ipv4\", host: V, port: 80 })", (v) => SocketAddress.validate({ family: "ipv4", host: v, port: 80 }, "connect"), "WSAEINVAL"],
  ["SocketAddress.validate({ family: V, host: \"127.0.0.1\", port: 80 })", (v) => SocketAddress.validate({ family: v, host: "127.0.0.1", port: 80 }, "connect"), "WSAEAFNOSUPPORT"],
  ["SocketAddress.parse(V)", (v) => SocketAddress.parse(v as string), "WSAEINVAL"],
  ["Socket.open({ family: V })", (v) => Socket.open({ family: v as "ipv4" }), "WSAEAFNOSUPPORT"],
  ["Socket.setOption(socket, \"SO_SNDBUF\", V)", (v) => Effect.flatMap(Socket.open({ family: "ipv4" }), (s) => Socket.setOption(s, "SO_SNDBUF", v as number)), "WSAEINVAL"],
  ["Socket.setOption(socket, V, 1)", (v) => Effect.flatMap(Socket.open({ family: "ipv4" }), (s) => Socket.setOption(s, v as "SO_SNDBUF", 1)), "WSAENOPROTOOPT"],
  ["Socket.receive(connected socket, V)", (v) => Effect.flatMap(connectedTo(echo4), (s) => Socket.receive(s, v as number)), "WSAEINVAL"],
  ["ConnectEx.connect(bound socket, { family: \"ipv4\", host: \"127.0.0.1\", port: V })", (v) => Effect.flatMap(bound(), (s) => ConnectEx.connect(s, { family: "ipv4", host: "127.0.0.1", port: v } as unknown as SocketAddress.SocketAddress)), "WSAEINVAL"],
  ["ConnectEx.connect(bound socket, { family: \"ipv4\", host: V, port: 80 })", (v) => Effect.flatMap(bound(), (s) => ConnectEx.connect(s, { family: "ipv4", host: v, port: 80 } as unknown as SocketAddress.SocketAddress)), "WSAEINVAL"],
  ["ConnectEx.dial({ family: \"ipv4\", host: \"127.0.0.1\", port: V })", (v) => ConnectEx.dial({ family: "ipv4", host: "127.0.0.1", port: v } as unknown as SocketAddress.SocketAddress), "WSAEINVAL"]
]

describe("hostile values (String() or JSON.stringify throws on them)", () => {
  for (const [call, effect, expected] of hostileCalls) {
    for (const [name, make] of hostile) {
      it(`${call.replace("V", `<${name}>`)} is ${expected}`, async () => {
        const outcome = await run(() => effect(make()))
        expectTyped(outcome, name)
        expect(tagOf(outcome)).toBe(expected)
      })
    }
  }
  it("ConnectEx.dial(target, { timeout: \"banana\" }) is WSAEINVAL", async () => {
    const outcome = await run(() => ConnectEx.dial(echo4, { timeout: "banana" as Duration.DurationInput }))
    expectTyped(outcome, "banana")
    expect(tagOf(outcome)).toBe("WSAEINVAL")
  })
  it("ConnectEx.dial(target, { retry: 42 }) is WSAEINVAL", async () => {
    const outcome = await run(() => ConnectEx.dial(refused4, { retry: 42 as unknown as Schedule.Schedule<unknown, WsaError.ConnectError> }))
    expectTyped(outcome, "42")
    expect(tagOf(outcome)).toBe("WSAEINVAL")
  })
  it("settles", () => expectSettled())
})

// ---------------------------------------------------------------------------------------------------------
// dialName / dialList with hostile arguments: WSAEINVAL in the error channel, never a defect

describe("ConnectEx.dialName / dialList with hostile arguments", () => {
  const hostileHost = fc.oneof(
    anyValue.filter((v) => typeof v !== "string"),
    fc.string().map((s) => `${s}\u0000evil.test`),
    fc.string().map((s) => `\u0000${s}`),
    fc.constant(""),
    fc.integer({ min: 256, max: 2_000_000 }).map((n) => "a".repeat(n))
  )
  it("a host that is not a string, has a NUL byte, is empty or huge: WSAEINVAL", async () => {
    await fc.assert(
      fc.asyncProperty(hostileHost, async (host) => {
        const outcome = await run(() => ConnectEx.dialName(host as string, 80))
        expectTyped(outcome, typeof host === "string" && host.length > 100 ? `<${host.length} characters>` : host)
        expect(tagOf(outcome)).toBe("WSAEINVAL")
      }),
      runs(150)
    )
  })
  it("a bad port: WSAEINVAL", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue.filter((v) => !(typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535)), async (port) => {
        const outcome = await run(() => ConnectEx.dialName("127.0.0.1", port as number))
        expectTyped(outcome, port)
        expect(tagOf(outcome)).toBe("WSAEINVAL")
      }),
      runs(150)
    )
  })
  for (const [name, make] of hostile) {
    it(`dialName(<${name}>, 80) and dialName("localhost", <${name}>) are WSAEINVAL`, async () => {
      for (const outcome of [await run(() => ConnectEx.dialName(make() as string, 80)), await run(() => ConnectEx.dialName("localhost", make() as number))]) {
        expectTyped(outcome, name)
        expect(tagOf(outcome)).toBe("WSAEINVAL")
      }
    })
  }
  it("a list that is not an array: WSAEINVAL", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue.filter((v) => !Array.isArray(v)), async (list) => {
        const outcome = await run(() => ConnectEx.dialList(list as ReadonlyArray<SocketAddress.SocketAddress>))
        expectTyped(outcome, list)
        expect(tagOf(outcome)).toBe("WSAEINVAL")
      }),
      runs(150)
    )
  })
  it("a list with something that is not an address: WSAEINVAL (WSAEAFNOSUPPORT for an unknown family)", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue.filter((v) => Exit.isFailure(Effect.runSyncExit(SocketAddress.validate(v, "connect")))), async (element) => {
        const outcome = await run(() => ConnectEx.dialList([echo4, element as SocketAddress.SocketAddress]))
        expectTyped(outcome, element)
        expect(["WSAEINVAL", "WSAEAFNOSUPPORT"]).toContain(tagOf(outcome))
      }),
      runs(150)
    )
  })
  it("bad options (attemptDelay, timeout, not an object): WSAEINVAL", async () => {
    for (const options of [{ attemptDelay: "banana" }, { timeout: "banana" }, 42, "x"]) {
      for (const outcome of [
        await run(() => ConnectEx.dialName("127.0.0.1", echo4.port, options as never)),
        await run(() => ConnectEx.dialList([echo4], options as never))
      ]) {
        expectTyped(outcome, options)
        expect(tagOf(outcome)).toBe("WSAEINVAL")
      }
    }
  })
  it("every message is a sentence", async () => {
    const builds: ReadonlyArray<() => Effect.Effect<unknown, unknown, Env>> = [
      () => ConnectEx.dialName("a\u0000b", 80),
      () => ConnectEx.dialName("x", -1),
      () => ConnectEx.dialList(7 as never)
    ]
    for (const build of builds) {
      const outcome = await run(build)
      if (!Exit.isExit(outcome) || Exit.isSuccess(outcome)) throw new Error("expected a failure")
      const error = Cause.failureOption(outcome.cause)
      const message = Option.isSome(error) ? (error.value as Error).message : ""
      // an argument error: which argument and why, and no generic advice (that is for what the kernel reports)
      expect(message).toMatch(/^[a-zA-Z]+ failed with WSAEINVAL \(an invalid argument\): The (host|port|addresses) [^]*\.$/)
      expect(message).not.toContain("open, bind, then connect")
    }
  })
  it("settles", () => expectSettled())
})

// ---------------------------------------------------------------------------------------------------------
// Sockets: open, bind, connect, dial with wrong arguments

describe("sockets with arbitrary arguments", () => {
  it("Socket.open with any family: a socket of that family, or WSAEAFNOSUPPORT", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(weirdFamily.map((family) => ({ family })), anyValue), async (options) => {
        const outcome = await run(() => Effect.map(Socket.open(options as { family: "ipv4" }), (s) => s.family))
        expectTyped(outcome, options)
        const family = (options as { family?: unknown } | null | undefined)?.family
        if (family === "ipv4" || family === "ipv6") expect(Exit.isExit(outcome) && Exit.isSuccess(outcome) && outcome.value).toBe(family)
        else expect(tagOf(outcome)).toBe("WSAEAFNOSUPPORT")
      }),
      runs(150)
    )
    await expectSettled()
  })

  it("Socket.bind with any address-like value: bound, or a typed error; a second bind is WSAEINVAL", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("ipv4" as const, "ipv6" as const), addressLike, async (family, address) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* Socket.open({ family })
            const first = yield* Effect.exit(Socket.bind(socket, address as SocketAddress.SocketAddress))
            if (Exit.isSuccess(first)) {
              const second = yield* Effect.flip(Socket.bind(socket, SocketAddress.wildcard(family)))
              expect(second._tag).toBe("WSAEINVAL")
            }
            return yield* first
          })
        )
        expectTyped(outcome, address)
      }),
      runs(150)
    )
    await expectSettled()
  })

  it("ConnectEx.connect to any address-like value: connected to a loopback peer, or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("ipv4" as const, "ipv6" as const), addressLike, async (family, address) => {
        // A well-formed destination is replaced by a loopback one (only loopback may be connected to).
        const checked = await run(() => SocketAddress.validate(address, "connect"))
        const target = Exit.isExit(checked) && Exit.isSuccess(checked)
          ? (checked.value.family === "ipv4" ? refused4 : SocketAddress.ipv6("::1", refused4.port))
          : address
        const outcome = await run(() =>
          Effect.flatMap(bound(family), (socket) => ConnectEx.connect(socket, target as SocketAddress.SocketAddress))
        )
        expectTyped(outcome, address)
        if (!(Exit.isExit(checked) && Exit.isSuccess(checked))) expect(tagOf(outcome)).toBe(unknownFamily(address) ? "WSAEAFNOSUPPORT" : "WSAEINVAL")
      }),
      runs(150)
    )
    await expectSettled()
  })

  it("ConnectEx.dial with any target and options: a typed outcome", async () => {
    const options = fc.oneof(
      anyValue,
      fc.record(
        {
          bind: fc.oneof(addressLike, fc.constantFrom(SocketAddress.ipv4("127.0.0.1", 0), SocketAddress.ipv6("::1", 0))),
          data: fc.oneof(anyValue, fc.uint8Array({ maxLength: 64 })),
          timeout: fc.constantFrom<Duration.DurationInput>("10 millis", 50, Duration.millis(150), Duration.zero)
        },
        { requiredKeys: [] }
      )
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(addressLike, fc.constantFrom(echo4, echo6, refused4, pending4)), options, async (address, opts) => {
        const checked = await run(() => SocketAddress.validate(address, "connect"))
        const loopback = [echo4, echo6, refused4, pending4].some((a) => a === address)
        const target = Exit.isExit(checked) && Exit.isSuccess(checked) && !loopback ? refused4 : address
        const timed = { ...(typeof opts === "object" && opts !== null ? opts : {}), timeout: (opts as { timeout?: Duration.DurationInput })?.timeout ?? "200 millis" }
        const outcome = await run(() => ConnectEx.dial(target as SocketAddress.SocketAddress, timed as ConnectEx.DialOptions))
        expectTyped(outcome, { address, opts })
      }),
      runs(150)
    )
    await expectSettled()
  })
})

// ---------------------------------------------------------------------------------------------------------
// Data buffers

/** Data of every shape: Uint8Array views at odd offsets of larger buffers, Buffers, detached views, not-bytes. */
const detachedView = (size: number): Uint8Array => {
  const buffer = new ArrayBuffer(size)
  const view = new Uint8Array(buffer, Math.min(1, size))
  structuredClone(buffer, { transfer: [buffer] })
  return view
}

/** Made into a detached view inside the property (fast-check cannot print a detached view). */
class Detached {
  constructor(readonly size: number) {}
  toString() {
    return `a detached view of ${this.size} bytes`
  }
}
const realize = (data: unknown): unknown => (data instanceof Detached ? detachedView(data.size) : data)

const dataArb = fc.oneof(
  fc.uint8Array({ maxLength: 300_000 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 70_000 }), fc.nat(), fc.nat()).map(([bytes, a, b]) => {
    const start = a % bytes.length
    return bytes.subarray(start, start + (b % (bytes.length - start + 1)))
  }),
  fc.uint8Array({ maxLength: 1000 }).map((bytes) => Buffer.from(bytes)),
  fc.nat({ max: 100_000 }).map((size) => new Detached(size)),
  fc.constantFrom<unknown>(
    new Uint8Array(0),
    new Uint16Array([1, 2, 3]),
    new Int8Array([1, -1]),
    new Float64Array([Math.PI]),
    new DataView(new ArrayBuffer(4)),
    new ArrayBuffer(8),
    "hello",
    [1, 2, 3],
    null,
    0,
    { length: 3, 0: 1, 1: 2, 2: 3 },
    new Uint8ClampedArray([1, 2])
  ),
  fc.nat({ max: 1000 }).map((n) => new Uint8Array(new SharedArrayBuffer(n + 3), 3))
)

/** The bytes a valid data value must arrive as (a detached view has none). */
const expectedBytes = (data: unknown): Uint8Array | undefined =>
  data instanceof Uint8Array ? (data.byteLength === 0 ? new Uint8Array(0) : data.slice()) : undefined

/** How a data value is shown in a failure (fast-check's own printer throws on a detached view). */
const showData = (data: unknown): unknown =>
  data instanceof Uint8Array ? `${data.constructor.name}(byteOffset ${data.byteOffset}, byteLength ${data.byteLength})` : data

const readAll = (socket: Socket.Socket, length: number) =>
  Effect.gen(function*() {
    const out = new Uint8Array(length)
    let received = 0
    while (received < length) {
      const chunk = yield* Socket.receive(socket, Math.min(Socket.MAX_RECEIVE, 1 << 20))
      if (chunk.length === 0) break
      out.set(chunk.subarray(0, Math.min(chunk.length, length - received)), received)
      received += chunk.length
    }
    return out.subarray(0, received)
  })

describe("data buffers", () => {
  it("ConnectEx.connect with any data: the exact bytes of a Uint8Array are sent and echoed; anything else WSAEFAULT", async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, fc.constantFrom(echo4, echo6), async (spec, peer) => {
        const data = realize(spec)
        const expected = expectedBytes(data)
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* bound(peer.family)
            const { bytesSent } = yield* ConnectEx.connect(socket, peer, { data: data as Uint8Array })
            expect(bytesSent).toBe(expected?.length ?? 0)
            if (bytesSent > 0) expect(Buffer.from(yield* readAll(socket, bytesSent)).equals(Buffer.from(expected!))).toBe(true)
          })
        )
        expectTyped(outcome, showData(data))
        if (data !== undefined && !(data instanceof Uint8Array)) expect(tagOf(outcome)).toBe("WSAEFAULT")
        else expect(tagOf(outcome)).toBe("success")
      }),
      runs(60)
    )
    await expectSettled()
  })

  it("Socket.send with any data: the exact bytes are sent and echoed; anything else WSAEFAULT", async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, async (spec) => {
        const data = realize(spec)
        const expected = expectedBytes(data)
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* connectedTo(echo4)
            const sent = yield* Socket.send(socket, data as Uint8Array)
            expect(sent).toBe(expected?.length ?? 0)
            if (sent > 0) expect(Buffer.from(yield* readAll(socket, sent)).equals(Buffer.from(expected!))).toBe(true)
          })
        )
        expectTyped(outcome, showData(data))
        expect(tagOf(outcome)).toBe(data instanceof Uint8Array ? "success" : "WSAEFAULT")
      }),
      runs(60)
    )
    await expectSettled()
  })

  it("a buffer detached after send/connect started is not read again (the library copied it)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2_000_000 }), fc.nat({ max: 3 }), async (size, yields) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* connectedTo(echo4)
            const buffer = new ArrayBuffer(size)
            const view = new Uint8Array(buffer).fill(7)
            const sending = yield* Effect.fork(Socket.send(socket, view))
            for (let i = 0; i < yields; i++) yield* Effect.yieldNow()
            structuredClone(buffer, { transfer: [buffer] })
            const sent = yield* Fiber.join(sending)
            expect([0, size]).toContain(sent)
            if (sent > 0) expect((yield* readAll(socket, sent)).every((b) => b === 7)).toBe(true)
          })
        )
        expectTyped(outcome, size)
      }),
      runs(50)
    )
    await expectSettled()
  })

  it("64 MiB: as connect data and as a send, all of it is sent and echoed intact", async () => {
    const size = 64 * 1024 * 1024
    const data = new Uint8Array(size)
    for (let i = 0; i < size; i += 4096) data[i] = (i / 4096) % 251
    data[size - 1] = 42
    const started = Date.now()
    const outcome = await run(() =>
      Effect.gen(function*() {
        const socket = yield* bound()
        // Under Wine the echo peer (Windows node in this process) drops a connection once about 4 MB of its
        // echo waits unread, and nothing can be read before the connect completes: measured, 16 MiB of connect
        // data arrives intact there and 64 MiB through send (read meanwhile) too.
        const connectData = wine === undefined ? data : data.subarray(0, 16 * 1024 * 1024)
        const { bytesSent } = yield* ConnectEx.connect(socket, echo4, { data: connectData })
        expect(bytesSent).toBe(connectData.length)
        expect(Buffer.from(yield* readAll(socket, connectData.length)).equals(Buffer.from(connectData))).toBe(true)
        const other = yield* connectedTo(echo4)
        const [sent, echoed] = yield* Effect.all([Socket.send(other, data), readAll(other, size)], { concurrency: 2 })
        expect(sent).toBe(size)
        expect(Buffer.from(echoed).equals(Buffer.from(data))).toBe(true)
        const big = yield* Effect.exit(Socket.receive(other, Socket.MAX_RECEIVE + 1))
        expect(tagOf(big)).toBe("WSAEINVAL")
      }), 28_000
    )
    expectTyped(outcome, "64 MiB")
    expect(tagOf(outcome)).toBe("success")
    expect(Date.now() - started).toBeLessThan(20_000)
    await expectSettled()
  }, 30_000)
})

// ---------------------------------------------------------------------------------------------------------
// Options objects with wrong types

const optionName = fc.oneof(
  fc.constantFrom<unknown>("TCP_FASTOPEN", "TCP_NODELAY", "SO_KEEPALIVE", "SO_REUSEADDR", "SO_SNDBUF", "SO_RCVBUF", "SO_LINGER"),
  fc.constantFrom<unknown>("toString", "__proto__", "constructor", "hasOwnProperty", "tcp_nodelay", "SO_ERROR", "", 1, null, undefined),
  fc.string(),
  anyValue
)
const optionValue = fc.oneof(fc.boolean(), weirdNumber, fc.integer({ min: 1, max: 1 << 20 }), fc.constantFrom<unknown>(0, 1, 65535, 65536, "1", "true", null, undefined, false, true), anyValue)

describe("options with wrong types", () => {
  it("Socket.setOption with any name and value, before and after connect: set, or a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(optionName, optionValue, fc.boolean(), async (name, value, connectFirst) => {
        const outcome = await run(() =>
          Effect.flatMap(connectFirst ? connectedTo(echo4) : Socket.open({ family: "ipv4" }), (s) =>
            Socket.setOption(s, name as "TCP_NODELAY", value as boolean))
        )
        expectTyped(outcome, { name, value })
      }),
      runs(200)
    )
    await expectSettled()
  })

  it("Socket.disconnect with any options: disconnected, or a typed error; reuse only for reuse === true", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyValue, fc.record({ reuse: fc.oneof(fc.boolean(), anyValue) }, { requiredKeys: [] })), async (options) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* connectedTo(echo4)
            yield* Socket.disconnect(socket, options as { reuse: boolean })
            expect(Option.isNone(yield* Socket.connectTime(socket))).toBe(true)
            const again = yield* Effect.exit(ConnectEx.connect(socket, echo4))
            const reuse = (options as { reuse?: unknown } | null | undefined)?.reuse === true
            // without reuse the socket is in Windows' post-DisconnectEx state: connect is WSAEISCONN
            expect(tagOf(again)).toBe(reuse ? "success" : "WSAEISCONN")
          })
        )
        expectTyped(outcome, options)
      }),
      runs(80)
    )
    await expectSettled()
  })

  it("Socket.receive with any maxBytes: bytes, or WSAEINVAL for anything but an integer in 1..64 MiB", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(weirdPort, fc.integer({ min: 1, max: 100 }), fc.constantFrom(Socket.MAX_RECEIVE, Socket.MAX_RECEIVE + 1, 0)), async (maxBytes) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* bound()
            yield* ConnectEx.connect(socket, echo4, { data: new Uint8Array([1, 2, 3]) })
            return yield* Socket.receive(socket, maxBytes as number)
          })
        )
        expectTyped(outcome, maxBytes)
        const valid = typeof maxBytes === "number" && Number.isInteger(maxBytes) && maxBytes >= 1 && maxBytes <= Socket.MAX_RECEIVE
        expect(tagOf(outcome)).toBe(valid ? "success" : "WSAEINVAL")
      }),
      runs(120)
    )
    await expectSettled()
  })

  it("every socket function given a value that is not a socket: WSAENOTSOCK", async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, async (value) => {
        const notSocket = value as Socket.Socket
        for (const call of socketCalls) {
          const outcome = await run(() => call(notSocket))
          expectTyped(outcome, value)
          expect(tagOf(outcome)).toBe("WSAENOTSOCK")
        }
        expect(Socket.isSocket(value)).toBe(false)
      }),
      runs(50)
    )
  })
})

// ---------------------------------------------------------------------------------------------------------
// Sockets used after close, and after the layer is gone

const socketCalls: ReadonlyArray<(s: Socket.Socket) => Effect.Effect<unknown, unknown, Env>> = [
  (s) => Socket.bind(s, SocketAddress.wildcard("ipv4")),
  (s) => ConnectEx.connect(s, echo4, { data: new Uint8Array(10) }),
  (s) => Socket.send(s, new Uint8Array(10)),
  (s) => Socket.receive(s, 10),
  (s) => Socket.setOption(s, "TCP_NODELAY", true),
  (s) => Socket.disconnect(s, { reuse: true }),
  (s) => Socket.connectTime(s),
  (s) => Socket.localAddress(s),
  (s) => Socket.peerAddress(s)
]

describe("sockets used after close", () => {
  it("after its scope closed, in any state, every call is WSAENOTSOCK", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("open", "bound", "connected", "refused", "pending"), fc.shuffledSubarray([...socketCalls.keys()]), async (state, order) => {
        const escaped = await runtime.runPromise(
          Effect.scoped(
            Effect.gen(function*() {
              const socket = yield* Socket.open({ family: "ipv4" })
              if (state !== "open") yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
              if (state === "connected") yield* ConnectEx.connect(socket, echo4)
              if (state === "refused") yield* Effect.exit(ConnectEx.connect(socket, refused4))
              if (state === "pending") yield* Effect.forkScoped(ConnectEx.connect(socket, pending4))
              return socket
            })
          )
        )
        for (const i of order) {
          const outcome = await run(() => socketCalls[i]!(escaped))
          expectTyped(outcome, `${state} socket, call ${i}`)
          expect(tagOf(outcome)).toBe("WSAENOTSOCK")
        }
      }),
      runs(50)
    )
    await expectSettled()
  })

  it("after the layer is released, a socket of it answers WSANOTINITIALISED; its pending connect WSA_OPERATION_ABORTED", async () => {
    const other = ManagedRuntime.make(ConnectEx.layer)
    const scope = Effect.runSync(Scope.make())
    const socket = await other.runPromise(Scope.extend(bound(), scope))
    const connecting = await other.runPromise(Effect.forkDaemon(ConnectEx.connect(socket, pending4)))
    // The connect has reached the driver (it is pending), so the release must abort it.
    while ((await other.runPromise(Iocp.stats)).pending < 1) await new Promise((resolve) => setImmediate(resolve))
    await other.dispose()
    const aborted = await Effect.runPromise(Fiber.await(connecting))
    expectTyped(aborted, "pending connect at layer close")
    expect(tagOf(aborted)).toBe("WSA_OPERATION_ABORTED")
    for (const call of socketCalls) {
      const outcome = await run(() => call(socket))
      expectTyped(outcome, "socket of a released layer")
      expect(tagOf(outcome)).toBe("WSANOTINITIALISED")
    }
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })
})

// ---------------------------------------------------------------------------------------------------------
// Calls raced from many fibers on one socket

const yields = (n: number) => Effect.forEach(Array.from({ length: n }), () => Effect.yieldNow(), { discard: true })
const delays = (fibers: number) => fc.array(fc.nat({ max: 6 }), { minLength: fibers, maxLength: fibers })

describe("calls raced from many fibers on one socket", () => {
  it("connect + connect to an echo server: exactly one connects, the others WSAEALREADY or WSAEISCONN", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 8 }).chain((n) => delays(n)), fc.constantFrom(echo4, echo6), async (waits, peer) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* bound(peer.family)
            const exits = yield* Effect.all(waits.map((w) => Effect.exit(Effect.zipRight(yields(w), ConnectEx.connect(socket, peer)))), { concurrency: "unbounded" })
            for (const exit of exits) expectTyped(exit, waits)
            const tags = exits.map(tagOf)
            expect(tags.filter((t) => t === "success")).toHaveLength(1)
            for (const t of tags) expect(["success", "WSAEALREADY", "WSAEISCONN"]).toContain(t)
          })
        )
        expectTyped(outcome, waits)
      }),
      runs(100)
    )
    await expectSettled()
  })

  it("connect + connect to a never-accepting listener, with timeouts and interruption at random points", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }).chain((n) => fc.tuple(delays(n), fc.array(fc.integer({ min: 0, max: 30 }), { minLength: n, maxLength: n }))), async ([waits, timeouts]) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const socket = yield* bound()
            const exits = yield* Effect.all(
              waits.map((w, i) => Effect.exit(Effect.timeout(Effect.zipRight(yields(w), ConnectEx.connect(socket, pending4)), Duration.millis(timeouts[i]!)))),
              { concurrency: "unbounded" }
            )
            for (const exit of exits) {
              expectTyped(exit, { waits, timeouts })
              expect(["TimeoutException", "WSAEALREADY", "WSAEINVAL", "WSA_OPERATION_ABORTED"].some((t) => tagOf(exit).includes(t))).toBe(true)
            }
          })
        )
        expectTyped(outcome, { waits, timeouts })
      }),
      runs(60)
    )
    await expectSettled()
  })

  it("send + close: the send is sent, or fails typed; the close always completes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4_000_000 }), fc.nat({ max: 6 }), fc.nat({ max: 6 }), fc.integer({ min: 1, max: 3 }), async (size, sendWait, closeWait, senders) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const scope = yield* Scope.make()
            const socket = yield* Scope.extend(connectedTo(echo4), scope)
            const data = new Uint8Array(size).fill(1)
            const sends = yield* Effect.forEach(Array.from({ length: senders }), () => Effect.fork(Effect.zipRight(yields(sendWait), Socket.send(socket, data))))
            const closing = yield* Effect.fork(Effect.zipRight(yields(closeWait), Scope.close(scope, Exit.void)))
            for (const f of sends) {
              const exit = yield* Fiber.await(f)
              expectTyped(exit, { size, sendWait, closeWait })
              expect(["success", "WSA_OPERATION_ABORTED", "WSAENOTSOCK", "WSAECONNRESET", "WSAESHUTDOWN"]).toContain(tagOf(exit))
            }
            expect(Exit.isSuccess(yield* Fiber.await(closing))).toBe(true)
          })
        )
        expectTyped(outcome, { size, sendWait, closeWait })
      }),
      runs(80)
    )
    await expectSettled()
  })

  it("receive + close: the receive gets bytes, or WSA_OPERATION_ABORTED / WSAENOTSOCK; the close completes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 6 }), fc.nat({ max: 6 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), async (receiveWait, closeWait, receivers, withData) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const scope = yield* Scope.make()
            const socket = yield* Scope.extend(bound(), scope)
            yield* ConnectEx.connect(socket, echo4, withData ? { data: new Uint8Array([9]) } : undefined)
            const receives = yield* Effect.forEach(Array.from({ length: receivers }), () => Effect.fork(Effect.zipRight(yields(receiveWait), Socket.receive(socket, 4096))))
            const closing = yield* Effect.fork(Effect.zipRight(yields(closeWait), Scope.close(scope, Exit.void)))
            for (const f of receives) {
              const exit = yield* Fiber.await(f)
              expectTyped(exit, { receiveWait, closeWait })
              expect(["success", "WSA_OPERATION_ABORTED", "WSAENOTSOCK"]).toContain(tagOf(exit))
            }
            expect(Exit.isSuccess(yield* Fiber.await(closing))).toBe(true)
          })
        )
        expectTyped(outcome, { receiveWait, closeWait })
      }),
      runs(100)
    )
    await expectSettled()
  })

  it("connect + close to a never-accepting listener: the connect is aborted typed, the close completes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 6 }), fc.nat({ max: 6 }), async (connectWait, closeWait) => {
        const outcome = await run(() =>
          Effect.gen(function*() {
            const scope = yield* Scope.make()
            const socket = yield* Scope.extend(bound(), scope)
            const connecting = yield* Effect.fork(Effect.zipRight(yields(connectWait), ConnectEx.connect(socket, pending4)))
            const closing = yield* Effect.fork(Effect.zipRight(yields(closeWait), Scope.close(scope, Exit.void)))
            const exit = yield* Fiber.await(connecting)
            expectTyped(exit, { connectWait, closeWait })
            expect(["WSA_OPERATION_ABORTED", "WSAENOTSOCK"]).toContain(tagOf(exit))
            expect(Exit.isSuccess(yield* Fiber.await(closing))).toBe(true)
          })
        )
        expectTyped(outcome, { connectWait, closeWait })
      }),
      runs(100)
    )
    await expectSettled()
  })

  it("bind + bind: exactly one bind succeeds, the others are WSAEINVAL", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }).chain((n) => fc.tuple(delays(n), fc.array(fc.constantFrom(SocketAddress.ipv4("0.0.0.0", 0), SocketAddress.ipv4("127.0.0.1", 0)), { minLength: n, maxLength: n }))),
        async ([waits, locals]) => {
          const outcome = await run(() =>
            Effect.gen(function*() {
              const socket = yield* Socket.open({ family: "ipv4" })
              const exits = yield* Effect.all(waits.map((w, i) => Effect.exit(Effect.zipRight(yields(w), Socket.bind(socket, locals[i]!)))), { concurrency: "unbounded" })
              const tags = exits.map(tagOf)
              expect(tags.filter((t) => t === "success")).toHaveLength(1)
              for (const t of tags) expect(["success", "WSAEINVAL"]).toContain(t)
            })
          )
          expectTyped(outcome, waits)
        }
      ),
      runs(100)
    )
    await expectSettled()
  })

  it("dial raced from many fibers with random timeouts: typed outcomes only, nothing left behind", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(echo4, pending4, refused4, echo6), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 16 }), async (dials) => {
        const outcome = await run(() =>
          Effect.all(
            dials.map(([target, ms]) => Effect.exit(Effect.scoped(ConnectEx.dial(target, { timeout: Duration.millis(ms), data: new Uint8Array(ms) })))),
            { concurrency: "unbounded" }
          ).pipe(Effect.tap((exits) => Effect.sync(() => exits.forEach((exit) => expectTyped(exit, dials)))))
        )
        expectTyped(outcome, dials)
      }),
      runs(50)
    )
    await expectSettled()
  })

  it("leaves no descriptor behind", async () => {
    await expectSettled()
    if (baseline.fds !== undefined) {
      let fds = openDescriptors()
      for (let i = 0; i < 100 && fds !== baseline.fds; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        fds = openDescriptors()
      }
      expect(fds).toBe(baseline.fds)
    }
  })
})
