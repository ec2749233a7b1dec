/**
 * dialName / dialList: RFC 8305 racing (IPv6 first, interleaved families, 250 ms stagger, first success
 * wins, losers cancelled and closed), checked on the simulated network with TestClock, and for real on
 * loopback with the system resolver. Written once for both front-ends: each one's test/dialName.test.ts imports
 * it, where `../src/` is that front-end, `effect` and `@effect/vitest` its own, and `#test-kit` its
 * test/support/kit.ts (Effect's test-side spellings, the loopback peers).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { echoServer, forkChild, pendingTarget, refusedPort, TestClock } from "#test-kit"
import { ConnectEx, HappyEyeballs, Iocp, Resolver, Simulated, Socket, SocketAddress } from "../src/index.js"
import { failureOption, pollUnsafe, timeoutTag, yieldNow } from "../src/internal/effectVersion.js"

const text = (s: string) => new TextEncoder().encode(s)
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

const network = Simulated.network({
  // both answer at once
  "[2001:db8::1]:80": Simulated.accept({ echo: true }),
  "192.0.2.1:80": Simulated.accept({ echo: true }),
  // IPv6 drops the SYN, IPv4 answers
  "[2001:db8::2]:80": Simulated.blackhole(),
  "192.0.2.2:80": Simulated.accept({ echo: true }),
  // IPv6 refuses, IPv4 answers
  "[2001:db8::3]:80": Simulated.refuse(),
  "192.0.2.3:80": Simulated.accept(),
  // staggering: two silent, the third answers after 100 ms
  "[2001:db8::4]:80": Simulated.blackhole(),
  "192.0.2.4:80": Simulated.blackhole(),
  "[2001:db8::44]:80": Simulated.accept({ delay: "100 millis" }),
  // every attempt fails, each its own way
  "[2001:db8::5]:80": Simulated.refuse(),
  "192.0.2.5:80": Simulated.unreachable("host"),
  "[2001:db8::55]:80": Simulated.blackhole({ synTimeout: "1 second" }),
  // every attempt refused alike
  "[2001:db8::7]:80": Simulated.refuse(),
  "192.0.2.7:80": Simulated.refuse(),
  // nothing ever answers
  "[2001:db8::6]:80": Simulated.blackhole(),
  "192.0.2.6:80": Simulated.blackhole()
})

const resolver = Resolver.layerStatic({
  "both.test": ["192.0.2.1", "2001:db8::1"],
  "v6-dark.test": ["2001:db8::2", "192.0.2.2"],
  "v6-refuses.test": ["192.0.2.3", "2001:db8::3"],
  "stagger.test": ["2001:db8::4", "2001:db8::44", "192.0.2.4"],
  "all-fail.test": ["2001:db8::5", "2001:db8::55", "192.0.2.5"],
  "dark.test": ["2001:db8::6", "192.0.2.6"],
  "all-refuse.test": ["192.0.2.7", "2001:db8::7"],
  "zone.test": ["fe80::1%eth0", "192.0.2.1"],
  "empty.test": []
})

type Env = ConnectEx.ConnectEx | Iocp.Iocp | Simulated.NetworkLog | Scope.Scope

const simulated = (name: string, body: () => Effect.Effect<void, unknown, Env>) =>
  it.effect(name, () =>
    body().pipe(
      Effect.scoped,
      Effect.provide(ConnectEx.layerSimulated(network)),
      Effect.provide(resolver)
    ))

/** Lets forked fibers run (no clock involved) until `done` holds. */
const until = <R>(done: Effect.Effect<boolean, never, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !(yield* done); i++) yield* yieldNow
  })

const attemptCount = (n: number) => until(Effect.map(Simulated.attempts(), (a) => a.length >= n))

const summary = (attempts: ReadonlyArray<Simulated.Attempt>) =>
  attempts.map((a) => ({ peer: SocketAddress.format(a.peer), startedAt: a.startedAt, status: a.status }))

describe("HappyEyeballs.interleave", () => {
  it("IPv6 first, families alternate, each keeps its order, duplicates dropped", () => {
    const v4a = SocketAddress.ipv4("192.0.2.1", 80)
    const v4b = SocketAddress.ipv4("192.0.2.2", 80)
    const v4c = SocketAddress.ipv4("192.0.2.3", 80)
    const v6a = SocketAddress.ipv6("2001:db8::1", 80)
    const v6b = SocketAddress.ipv6("2001:db8::2", 80)
    const order = HappyEyeballs.interleave([v4a, v4b, v6a, v4c, v6b, SocketAddress.ipv4("192.0.2.1", 80)])
    expect(order.map(SocketAddress.format)).toEqual(["[2001:db8::1]:80", "192.0.2.1:80", "[2001:db8::2]:80", "192.0.2.2:80", "192.0.2.3:80"])
  })
})

describe("dialName on the simulated network (TestClock)", () => {
  simulated("hostile arguments are WSAEINVAL in the error channel, never a defect", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, unknown]> = [
        [42, 80], ["", 80], ["a\u0000b", 80], ["x".repeat(300), 80], ["ok.test", -1], ["ok.test", 1.5], ["ok.test", "80"]
      ]
      for (const [host, port] of cases) {
        const exit = yield* Effect.exit(ConnectEx.dialName(host as string, port as number))
        expect(Exit.isFailure(exit) && Option.isSome(failureOption(exit.cause))).toBe(true)
        const error = yield* Effect.flip(ConnectEx.dialName(host as string, port as number))
        expect(error._tag).toBe("WSAEINVAL")
      }
    }))

  simulated("both families answer: IPv6 is tried first and wins; no IPv4 attempt is made", () =>
    Effect.gen(function*() {
      const { address, socket } = yield* HappyEyeballs.dialName("both.test", 80)
      expect(SocketAddress.format(address)).toBe("[2001:db8::1]:80")
      expect(summary(yield* Simulated.attempts())).toEqual([{ peer: "[2001:db8::1]:80", startedAt: 0, status: 0 }])
      // the winner's socket lives on in the caller's scope
      yield* Socket.send(socket, text("hi"))
      expect(decode(yield* Socket.receive(socket, 10))).toBe("hi")
    }))

  simulated("IPv6 blackholed: IPv4 starts after the 250 ms stagger and wins; the IPv6 connect is cancelled", () =>
    Effect.gen(function*() {
      const fiber = yield* forkChild(HappyEyeballs.dialName("v6-dark.test", 80, { data: text("hello") }))
      yield* attemptCount(1)
      yield* TestClock.adjust("249 millis")
      expect(summary(yield* Simulated.attempts())).toEqual([{ peer: "[2001:db8::2]:80", startedAt: 0, status: undefined }])
      yield* TestClock.adjust("1 millis")
      const { address, bytesSent, socket } = yield* Fiber.join(fiber)
      expect(SocketAddress.format(address)).toBe("192.0.2.2:80")
      expect(bytesSent).toBe(5)
      expect(summary(yield* Simulated.attempts())).toEqual([
        { peer: "[2001:db8::2]:80", startedAt: 0, status: 995 },
        { peer: "192.0.2.2:80", startedAt: 250, status: 0 }
      ])
      expect(decode(yield* Socket.receive(socket, 10))).toBe("hello")
      const stats = yield* Iocp.stats
      expect(stats.pending).toBe(0)
      expect(stats.sockets).toBe(1) // the winner only
    }))

  simulated("an attempt that fails starts the next one at once, without waiting for the stagger", () =>
    Effect.gen(function*() {
      const { address } = yield* HappyEyeballs.dialName("v6-refuses.test", 80)
      expect(SocketAddress.format(address)).toBe("192.0.2.3:80")
      expect(summary(yield* Simulated.attempts())).toEqual([
        { peer: "[2001:db8::3]:80", startedAt: 0, status: 10061 },
        { peer: "192.0.2.3:80", startedAt: 0, status: 0 }
      ])
    }))

  simulated("staggering: one new attempt per attemptDelay, in interleaved order; the first to connect wins", () =>
    Effect.gen(function*() {
      const fiber = yield* forkChild(HappyEyeballs.dialName("stagger.test", 80, { attemptDelay: "300 millis" }))
      yield* attemptCount(1)
      yield* TestClock.adjust("300 millis")
      yield* attemptCount(2)
      yield* TestClock.adjust("300 millis")
      yield* attemptCount(3)
      expect(pollUnsafe(fiber)).toBeUndefined()
      yield* TestClock.adjust("100 millis")
      const { address } = yield* Fiber.join(fiber)
      expect(SocketAddress.format(address)).toBe("[2001:db8::44]:80")
      expect(summary(yield* Simulated.attempts())).toEqual([
        { peer: "[2001:db8::4]:80", startedAt: 0, status: 995 },
        { peer: "192.0.2.4:80", startedAt: 300, status: 995 },
        { peer: "[2001:db8::44]:80", startedAt: 600, status: 0 }
      ])
      expect((yield* Iocp.stats).pending).toBe(0)
    }))

  simulated("every attempt fails: one DialError listing each address and its WSA error, in attempt order", () =>
    Effect.gen(function*() {
      const fiber = yield* forkChild(Effect.flip(HappyEyeballs.dialName("all-fail.test", 80)))
      yield* attemptCount(3)
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("DialError")
      if (error._tag !== "DialError") return
      expect(error.host).toBe("all-fail.test")
      expect(error.attempts.map((a) => [SocketAddress.format(a.address), a.error._tag])).toEqual([
        ["[2001:db8::5]:80", "WSAECONNREFUSED"],
        ["192.0.2.5:80", "WSAEHOSTUNREACH"],
        ["[2001:db8::55]:80", "WSAETIMEDOUT"]
      ])
      expect(error.message).toContain("WSAECONNREFUSED")
      const stats = yield* Iocp.stats
      expect(stats.pending).toBe(0)
      expect(stats.sockets).toBe(0)
    }))

  simulated("every attempt refused alike: the refusal itself, naming each attempt, caught by its tag as a single dial's", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(HappyEyeballs.dialName("all-refuse.test", 80))
      expect(error._tag).toBe("WSAECONNREFUSED")
      expect(error.message).toContain("Every attempt to all-refuse.test:80 failed this way ([2001:db8::7]:80 WSAECONNREFUSED, 192.0.2.7:80 WSAECONNREFUSED)")
      const caught = yield* ConnectEx.dialName("all-refuse.test", 80).pipe(
        Effect.as("connected"),
        Effect.catchTag("WSAECONNREFUSED", (refused) => Effect.succeed(`refused: ${refused.code}`))
      )
      expect(caught).toBe("refused: 10061")
      expect((yield* Iocp.stats).pending).toBe(0)
      expect((yield* Iocp.stats).sockets).toBe(0)
    }))

  simulated("losers are cleaned up: nothing pending, live allocations back once the winner's scope closes", () =>
    Effect.gen(function*() {
      const before = yield* Iocp.stats
      yield* Effect.scoped(Effect.gen(function*() {
        // the race runs in this fiber (not a forked one that would take its children down when it ends)
        yield* forkChild(Effect.andThen(attemptCount(1), TestClock.adjust("600 millis")))
        yield* HappyEyeballs.dialName("stagger.test", 80)
        const during = yield* Iocp.stats
        expect(during.pending).toBe(0)
        expect(during.sockets).toBe(1)
      }))
      const after = yield* Iocp.stats
      expect(after.pending).toBe(0)
      expect(after.sockets).toBe(0)
      expect(after.liveAllocations).toBe(before.liveAllocations)
      expect(after.duplicates).toBe(0)
    }))

  simulated("timeout bounds the whole race: the timeout's error, every attempt cancelled", () =>
    Effect.gen(function*() {
      const fiber = yield* forkChild(Effect.exit(HappyEyeballs.dialName("dark.test", 80, { timeout: "1 second" })))
      yield* attemptCount(1)
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.join(fiber)
      expect(Exit.isFailure(exit) && Option.getOrUndefined(failureOption(exit.cause))?._tag).toBe(timeoutTag)
      expect(summary(yield* Simulated.attempts()).map((a) => a.status)).toEqual([995, 995])
      const stats = yield* Iocp.stats
      expect(stats.pending).toBe(0)
      expect(stats.sockets).toBe(0)
    }))

  simulated("a name that does not resolve: ResolveError \"NotFound\"", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(HappyEyeballs.dialName("nowhere.test", 80))
      expect(missing._tag).toBe("ResolveError")
      if (missing._tag === "ResolveError") expect(missing.reason).toBe("NotFound")
      expect((yield* Effect.flip(HappyEyeballs.dialName("empty.test", 80)))._tag).toBe("ResolveError")
      expect(yield* Simulated.attempts()).toEqual([])
    }))

  simulated("IP literals are not resolved; a named IPv6 zone is a WSAEINVAL attempt, the rest still race", () =>
    Effect.gen(function*() {
      expect(SocketAddress.format((yield* HappyEyeballs.dialName("192.0.2.3", 80)).address)).toBe("192.0.2.3:80")
      expect(SocketAddress.format((yield* HappyEyeballs.dialName("[2001:db8::1]", 80)).address)).toBe("[2001:db8::1]:80")
      expect(SocketAddress.format((yield* HappyEyeballs.dialName("zone.test", 80)).address)).toBe("192.0.2.1:80")
    }))

  simulated("dialList races a given list the same way", () =>
    Effect.gen(function*() {
      const fiber = yield* forkChild(HappyEyeballs.dialList([
        SocketAddress.ipv4("192.0.2.2", 80),
        SocketAddress.ipv6("2001:db8::2", 80)
      ]))
      yield* attemptCount(1)
      yield* TestClock.adjust("250 millis")
      expect(SocketAddress.format((yield* Fiber.join(fiber)).address)).toBe("192.0.2.2:80")
      const empty = yield* Effect.flip(HappyEyeballs.dialList([]))
      expect(empty._tag === "DialError" && empty.attempts.length === 0).toBe(true)
    }))
})

describe("dialName for real (loopback, system resolver)", () => {
  it.live("localhost: the system resolver's addresses are raced; the echo server answers", () =>
    Effect.gen(function*() {
      const echo = yield* echoServer("ipv4")
      const { address, socket } = yield* HappyEyeballs.dialName("localhost", echo.port, {
        data: text("ping"),
        timeout: "5 seconds"
      })
      // localhost may resolve to ::1 too: nothing listens on that port there, so IPv4 wins either way
      expect(SocketAddress.format(address)).toBe(SocketAddress.format(echo))
      expect(decode(yield* Socket.receive(socket, 10))).toBe("ping")
      expect((yield* Iocp.stats).pending).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("::1 drops the SYN: 127.0.0.1 starts after the stagger and wins; the pending connect is cancelled", () =>
    Effect.gen(function*() {
      const dark = yield* pendingTarget("ipv6")
      const echo = yield* echoServer("ipv4")
      const before = yield* Iocp.stats
      const started = Date.now()
      const { address } = yield* HappyEyeballs.dialList([echo, dark], { attemptDelay: "100 millis" })
      expect(Date.now() - started).toBeGreaterThanOrEqual(90)
      expect(SocketAddress.format(address)).toBe(SocketAddress.format(echo))
      const after = yield* Iocp.stats
      expect(after.pending).toBe(0)
      expect(after.sockets).toBe(before.sockets + 1) // the winner, still open in this scope
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("::1 refuses: 127.0.0.1 is tried at once (no stagger); all refused -> WSAECONNREFUSED naming both, caught by its tag", () =>
    Effect.gen(function*() {
      const refused6 = yield* refusedPort("ipv6")
      const refused4 = yield* refusedPort("ipv4")
      const echo = yield* echoServer("ipv4")
      const started = Date.now()
      // a stagger far longer than the test: only the refusal can have started the IPv4 attempt
      const { address } = yield* HappyEyeballs.dialList([echo, refused6], { attemptDelay: "20 seconds" })
      expect(Date.now() - started).toBeLessThan(Duration.toMillis("10 seconds"))
      expect(SocketAddress.format(address)).toBe(SocketAddress.format(echo))
      // every attempt refused alike: the refusal itself (caught as a single dial's), its message naming both
      const error = yield* Effect.flip(HappyEyeballs.dialList([refused4, refused6]))
      expect(error._tag).toBe("WSAECONNREFUSED")
      expect(error.message).toContain(`${SocketAddress.format(refused6)} WSAECONNREFUSED, ${SocketAddress.format(refused4)} WSAECONNREFUSED`)
      const caught = yield* HappyEyeballs.dialList([refused4, refused6]).pipe(
        Effect.as("connected"),
        Effect.catchTag("WSAECONNREFUSED", () => Effect.succeed("refused"))
      )
      expect(caught).toBe("refused")
      expect((yield* Iocp.stats).pending).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})

describe("Resolver", () => {
  it("ConnectEx re-exports the Happy Eyeballs calls; layerStatic rejects a literal that is not an IP", () => {
    expect(ConnectEx.dialName).toBe(HappyEyeballs.dialName)
    expect(ConnectEx.dialList).toBe(HappyEyeballs.dialList)
    expect(ConnectEx.DialError).toBe(HappyEyeballs.DialError)
    expect(() => Resolver.layerStatic({ "bad.test": ["not-an-ip"] })).toThrow(TypeError)
  })

  it.effect("the reference defaults to the system resolver; layerStatic and provideService replace it", () =>
    Effect.gen(function*() {
      expect(yield* Resolver.Resolver).toBe(Resolver.node)
      const fixed = yield* Resolver.resolve("DB.test").pipe(Effect.provide(Resolver.layerStatic({ "db.test": ["2001:db8::5", "192.0.2.5"] })))
      expect(fixed).toEqual(["2001:db8::5", "192.0.2.5"])
      const missing = yield* Effect.flip(Resolver.resolve("other.test").pipe(Effect.provide(Resolver.layerStatic({}))))
      expect([missing._tag, missing.reason, missing.host]).toEqual(["ResolveError", "NotFound", "other.test"])
      const custom = yield* Resolver.resolve("x").pipe(
        Effect.provideService(Resolver.Resolver, { resolve: () => Effect.succeed(["192.0.2.99"]) })
      )
      expect(custom).toEqual(["192.0.2.99"])
    }))

  it.live("Resolver.node resolves localhost to loopback literals; an invalid name is a ResolveError", () =>
    Effect.gen(function*() {
      const addresses = yield* Resolver.node.resolve("localhost")
      expect(addresses.length).toBeGreaterThan(0)
      for (const a of addresses) expect(["127.0.0.1", "::1"]).toContain(a)
      const error = yield* Effect.flip(Resolver.node.resolve("no-such-host.invalid"))
      expect(error._tag).toBe("ResolveError")
      expect(error.reason).not.toBe("Failed")
      expect((yield* Effect.flip(Resolver.node.resolve(""))).code).toBe("EINVAL")
    }))
})
