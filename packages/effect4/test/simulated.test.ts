/**
 * The Effect 4 front-end on the core's simulated network: the Duration DSL, the clock scheduler on Effect 4's
 * Clock (TestClock moves it), `ConnectEx.layerSimulated` and the `NetworkLog` accessors.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Completion, type Driver, type NativeSocket, OPERATION_ABORTED, wsa } from "@effect-connectex/core"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { TestClock } from "effect/testing"
import { ConnectEx, Iocp, Simulated, Socket, SocketAddress } from "../src/index.js"

const text = (s: string) => new TextEncoder().encode(s)
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)

const server = SocketAddress.ipv4("127.0.0.1", 80)
const flaky = SocketAddress.ipv4("192.0.2.1", 80)
const dark = SocketAddress.ipv4("192.0.2.2", 80)
const darkWithTimeout = SocketAddress.ipv4("192.0.2.3", 80)
const noNet = SocketAddress.ipv4("198.51.100.9", 443)
const noHost = SocketAddress.ipv6("2001:db8::9", 80)
const resetter = SocketAddress.ipv4("192.0.2.4", 80)
const slow = SocketAddress.ipv4("192.0.2.5", 80)

const net = Simulated.network({
  "127.0.0.1:80": Simulated.accept({ echo: true }),
  "192.0.2.1:80": Simulated.refuse({ times: 2, then: Simulated.accept({ echo: true }) }),
  "192.0.2.2:80": Simulated.blackhole(),
  "192.0.2.3:80": Simulated.blackhole({ synTimeout: "21 seconds" }),
  "198.51.100.9:*": Simulated.unreachable("network"),
  "[2001:db8::9]:80": Simulated.unreachable("host"),
  "192.0.2.4:80": Simulated.reset(),
  "192.0.2.5:80": Simulated.accept({ delay: "250 millis", greeting: "hello", closeAfter: "1 second" })
})

type Env = ConnectEx.ConnectEx | Iocp.Iocp | Simulated.NetworkLog | Scope.Scope

/** `it.effect` (TestClock) with a fresh simulated network per test. */
const simulated = (name: string, body: () => Effect.Effect<void, unknown, Env>) =>
  it.effect(name, () => body().pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(net))))

const bound = (family: SocketAddress.Family = "ipv4") =>
  Effect.tap(Socket.open({ family }), (socket) => Socket.bind(socket, SocketAddress.wildcard(family)))

/** Lets forked fibers run (no clock involved) until `done` holds. */
const until = <R>(done: Effect.Effect<boolean, never, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !(yield* done); i++) yield* Effect.yieldNow
  })

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

const openBound = (driver: Driver): NativeSocket => {
  const opened = driver.open("ipv4")
  if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
  assert.strictEqual(driver.bind(opened.value, SocketAddress.wildcard("ipv4"), false), 0)
  return opened.value
}

const connectRaw = (driver: Driver, socket: NativeSocket, address: SocketAddress.SocketAddress) => {
  const completions: Array<Completion> = []
  const operation = driver.connect(socket, address, undefined, (c) => void completions.push(c))
  return { completions, operation }
}

describe("Simulated (Effect 4)", () => {
  it("the DSL takes Duration inputs and gives the core milliseconds; malformed keys throw", () => {
    const refuse = Simulated.refuse({ times: 2, delay: "20 millis" })
    assert.strictEqual(refuse.times, 2)
    assert.strictEqual(refuse.then._tag, "Accept")
    const accept = Simulated.accept({ delay: 1500, echo: true, greeting: "hi", closeAfter: "2 seconds" })
    assert.deepStrictEqual(decode(accept.greeting), "hi")
    assert.strictEqual(Duration.toMillis(Simulated.blackhole({ synTimeout: "21 seconds" }).synTimeout!), 21_000)
    assert.strictEqual(Duration.toMillis(refuse.delay), 20)
    const n = Simulated.network({ "[0:0::1]:80": Simulated.accept() })
    assert.deepStrictEqual([...n.routes.keys()], ["[::1]:80"])
    assert.throws(() => Simulated.network({ "localhost:80": Simulated.accept() }), TypeError)
    assert.throws(() => Simulated.refuse({ times: -1 }), TypeError)
    // the core sees milliseconds: a 1500 ms accept completes at 1500 on a manual scheduler
    const manual = Simulated.manualScheduler()
    const { driver, log } = Simulated.makeDriver(Simulated.network({}, { default: accept }), manual.scheduler)
    const socket = openBound(driver)
    const c = connectRaw(driver, socket, SocketAddress.ipv4("203.0.113.1", 80))
    manual.advance(1499)
    assert.deepStrictEqual(c.completions, [])
    manual.advance(1)
    assert.deepStrictEqual(c.completions.map((x) => x.status), [0])
    assert.strictEqual(log.attempts()[0]?.completedAt, 1500)
    driver.close(socket)
    assert.strictEqual(driver.liveAllocations(), 0)
  })

  it.effect("makeDriverEffect: the driver's time is the TestClock", () =>
    Effect.gen(function*() {
      const { driver, log } = yield* Simulated.makeDriverEffect(net)
      const socket = openBound(driver)
      const c = connectRaw(driver, socket, slow)
      yield* TestClock.adjust("249 millis")
      assert.deepStrictEqual(c.completions, [])
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(c.completions.map((x) => x.status), [0])
      assert.strictEqual(log.attempts(slow)[0]?.completedAt, 250)
      driver.close(socket)
      assert.strictEqual(driver.liveAllocations(), 0)
    }).pipe(Effect.scoped))

  simulated("retryPolicy on TestClock: refused twice, then accepted; attempts [10061, 10061, 0]", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ConnectEx.driverName, "simulated")
      const fiber = yield* Effect.forkChild(ConnectEx.dial(flaky, { retry: ConnectEx.retryPolicy(3), data: text("hi") }))
      yield* until(Effect.map(Simulated.attempts(flaky), (a) => a.length >= 1))
      assert.deepStrictEqual((yield* Simulated.attempts(flaky)).map((a) => a.status), [10061])
      yield* TestClock.adjust("50 millis") // the first back-off
      yield* until(Effect.map(Simulated.attempts(flaky), (a) => a.length >= 2))
      assert.deepStrictEqual((yield* Simulated.attempts(flaky)).map((a) => a.status), [10061, 10061])
      yield* TestClock.adjust("100 millis") // the second
      const { bytesSent, socket } = yield* Fiber.join(fiber)
      assert.strictEqual(bytesSent, 2)
      const attempts = yield* Simulated.attempts(flaky)
      assert.deepStrictEqual(attempts.map((a) => a.status), [10061, 10061, 0])
      assert.deepStrictEqual(attempts.map((a) => a.startedAt), [0, 50, 150])
      assert.strictEqual(decode(yield* Simulated.sent(flaky)), "hi")
      assert.strictEqual(decode(yield* Socket.receive(socket, 10)), "hi")
    }))

  simulated("blackhole with synTimeout: WSAETIMEDOUT once the TestClock has moved 21 s", () =>
    Effect.gen(function*() {
      const socket = yield* bound()
      const fiber = yield* Effect.forkChild(ConnectEx.connect(socket, darkWithTimeout))
      yield* until(Effect.map(Iocp.stats, (s) => s.pending === 1))
      yield* TestClock.adjust("20 seconds")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 second")
      const error = failureOf(yield* Fiber.await(fiber))
      assert.strictEqual(error?._tag, "WSAETIMEDOUT")
      assert.strictEqual(error?.code, 10060)
      const [attempt] = yield* Simulated.attempts(darkWithTimeout)
      assert.strictEqual(attempt?.status, wsa.WSAETIMEDOUT)
      assert.strictEqual(attempt!.completedAt! - attempt!.startedAt, 21_000)
      // WSAETIMEDOUT is retryable: the same socket may connect again
      yield* ConnectEx.connect(socket, server)
    }))

  simulated("interrupting a pending connect leaves nothing pending; the attempt is cancelled (995)", () =>
    Effect.gen(function*() {
      const socket = yield* bound()
      const fiber = yield* Effect.forkChild(ConnectEx.connect(socket, dark))
      yield* until(Effect.map(Iocp.stats, (s) => s.pending === 1))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* Iocp.stats).pending, 1)
      yield* Fiber.interrupt(fiber)
      const stats = yield* Iocp.stats
      assert.strictEqual(stats.pending, 0)
      assert.strictEqual(stats.duplicates, 0)
      assert.deepStrictEqual((yield* Simulated.attempts(dark)).map((a) => a.status), [OPERATION_ABORTED])
      // a dial with a timeout: the same, through Effect.timeout on the TestClock
      const timing = yield* Effect.forkChild(Effect.exit(Effect.scoped(ConnectEx.dial(dark, { timeout: "2 seconds" }))))
      yield* until(Effect.map(Iocp.stats, (s) => s.pending === 1))
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(Cause.isTimeoutError(failureOf(yield* Fiber.join(timing))))
      const after = yield* Iocp.stats
      assert.strictEqual(after.pending, 0)
      assert.strictEqual(after.sockets, 1) // only `socket`, still in this scope
    }))

  simulated("unreachable and reset: WSAENETUNREACH, WSAEHOSTUNREACH, WSAECONNRESET", () =>
    Effect.gen(function*() {
      const v4 = yield* bound()
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(v4, noNet)))._tag, "WSAENETUNREACH")
      const v6 = yield* bound("ipv6")
      assert.strictEqual((yield* Effect.flip(ConnectEx.connect(v6, noHost)))._tag, "WSAEHOSTUNREACH")
      const r = yield* bound()
      yield* ConnectEx.connect(r, resetter, { data: text("x") })
      assert.strictEqual((yield* Effect.flip(Socket.receive(r, 10)))._tag, "WSAECONNRESET")
      assert.strictEqual((yield* Simulated.attempts(resetter))[0]?.ended, "reset")
    }))

  simulated("delay, greeting and closeAfter follow the TestClock through Socket", () =>
    Effect.gen(function*() {
      const socket = yield* bound()
      const fiber = yield* Effect.forkChild(ConnectEx.connect(socket, slow))
      yield* until(Effect.map(Iocp.stats, (s) => s.pending === 1))
      yield* TestClock.adjust("250 millis")
      yield* Fiber.join(fiber)
      assert.strictEqual(decode(yield* Socket.receive(socket, 100)), "hello")
      const eof = yield* Effect.forkChild(Socket.receive(socket, 100))
      yield* until(Effect.map(Iocp.stats, (s) => s.pending === 1))
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(eof)).byteLength, 0)
      assert.strictEqual((yield* Simulated.attempts(slow))[0]?.ended, "peer-closed")
    }))

  it.effect("closing the layer aborts a pending connect (995) and closes what is open", () =>
    Effect.gen(function*() {
      const layerScope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(ConnectEx.layerSimulated(net), layerScope)
      // a connected socket nobody closes: the layer's release does
      yield* Effect.gen(function*() {
        const socket = yield* bound()
        yield* ConnectEx.connect(socket, server)
      }).pipe(Scope.provide(yield* Scope.make()), Effect.provide(context))
      const pending = Effect.gen(function*() {
        const socket = yield* bound()
        return yield* ConnectEx.connect(socket, dark)
      }).pipe(Effect.scoped, Effect.provide(context))
      const fiber = yield* Effect.forkChild(pending)
      yield* until(Effect.map(Effect.provide(Iocp.stats, context), (s) => s.pending === 1))
      const log = Context.get(context, Simulated.NetworkLog)
      yield* Scope.close(layerScope, Exit.void)
      const error = failureOf(yield* Fiber.await(fiber))
      assert.strictEqual(error?._tag, "WSA_OPERATION_ABORTED")
      assert.deepStrictEqual(log.attempts().map((a) => [a.status, a.ended]), [[0, "closed"], [OPERATION_ABORTED, undefined]])
      // the timers are gone with the layer
      yield* TestClock.adjust("1 hour")
    }))
})
