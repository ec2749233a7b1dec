import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Metric, Schedule, TestClock } from "effect"
import { ConnectEx, Iocp, Metrics, Simulated, Socket, SocketAddress, WsaError } from "../src/index.js"
import { bound, untilPending } from "../../../test/support/fixtures.js"

const routes = {
  "192.0.2.1:80": Simulated.refuse(),
  "192.0.2.2:80": Simulated.unreachable("network"),
  "192.0.2.3:80": Simulated.blackhole({ synTimeout: "1 second" }),
  "192.0.2.4:80": Simulated.unreachable("host"),
  "192.0.2.5:80": Simulated.blackhole(),
  "192.0.2.6:80": Simulated.accept(),
  "192.0.2.7:80": Simulated.accept({ delay: "20 millis" })
}
const layer = ConnectEx.layerSimulated(Simulated.network(routes))
const at = (host: string) => SocketAddress.ipv4(host, 80)


/** Runs `effect` in a fiber and moves the TestClock until it is done. */
const withClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 100 && fiber.unsafePoll() === null; i++) yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })


const untilAttempts = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Simulated.attempts()).length < n; i++) yield* Effect.yieldNow()
    expect((yield* Simulated.attempts()).length).toBe(n)
  })

describe("decisions on the simulated network", () => {
  it.scoped("retryPolicy(2) makes exactly 3 attempts, then fails with the last refusal", () =>
    Effect.gen(function*() {
      const error = yield* withClock(Effect.flip(ConnectEx.dial(at("192.0.2.1"), { retry: ConnectEx.retryPolicy(2) })))
      expect(error._tag).toBe("WSAECONNREFUSED")
      expect((yield* Simulated.attempts("192.0.2.1:80")).length).toBe(3)
    }).pipe(Effect.provide(layer)))

  it.scoped("retryPolicy() defaults to 5 retries; retryPolicy(0) makes one attempt", () =>
    Effect.gen(function*() {
      yield* withClock(Effect.flip(ConnectEx.dial(at("192.0.2.1"), { retry: ConnectEx.retryPolicy() })))
      expect((yield* Simulated.attempts("192.0.2.1:80")).length).toBe(6)
      yield* withClock(Effect.flip(ConnectEx.dial(at("192.0.2.1"), { retry: ConnectEx.retryPolicy(0) })))
      expect((yield* Simulated.attempts("192.0.2.1:80")).length).toBe(7)
    }).pipe(Effect.provide(layer)))

  it.scoped("retryPolicy waits 50 ms before the first retry, then 100 ms", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(ConnectEx.dial(at("192.0.2.1"), { retry: ConnectEx.retryPolicy(2) })))
      const attempts = Effect.map(Simulated.attempts("192.0.2.1:80"), (a) => a.length)
      yield* untilAttempts(1)
      yield* TestClock.adjust("49 millis")
      expect(yield* attempts).toBe(1)
      yield* TestClock.adjust("1 millis")
      yield* untilAttempts(2)
      yield* TestClock.adjust("99 millis")
      expect(yield* attempts).toBe(2)
      yield* TestClock.adjust("1 millis")
      yield* untilAttempts(3)
      expect((yield* Fiber.join(fiber))._tag).toBe("WSAECONNREFUSED")
    }).pipe(Effect.provide(layer)))

  it.scoped("retryable on the network: refused, network unreachable and timed out are retried; host unreachable is not", () =>
    Effect.gen(function*() {
      const cases = [
        ["192.0.2.1", "WSAECONNREFUSED", 3],
        ["192.0.2.2", "WSAENETUNREACH", 3],
        ["192.0.2.3", "WSAETIMEDOUT", 3],
        ["192.0.2.4", "WSAEHOSTUNREACH", 1]
      ] as const
      for (const [host, tag, attempts] of cases) {
        const error = yield* withClock(Effect.flip(ConnectEx.dial(at(host), { retry: Schedule.recurs(2) })))
        expect(error._tag).toBe(tag)
        expect(WsaError.isRetryable(error)).toBe(attempts > 1)
        expect((yield* Simulated.attempts(`${host}:80`)).length, host).toBe(attempts)
      }
      // the same socket connects again after a retryable failure; after host unreachable it is spent
      const socket = yield* bound()
      expect((yield* Effect.flip(ConnectEx.connect(socket, at("192.0.2.1"))))._tag).toBe("WSAECONNREFUSED")
      expect((yield* Effect.flip(ConnectEx.connect(socket, at("192.0.2.4"))))._tag).toBe("WSAEHOSTUNREACH")
      expect((yield* Effect.flip(ConnectEx.connect(socket, at("192.0.2.6"))))._tag).toBe("WSAEINVAL")
    }).pipe(Effect.provide(layer)))

  it.scoped("isRetryable: exactly the three tags, and nothing that is not a WsaError", () =>
    Effect.sync(() => {
      const retryable = (Object.keys(WsaError.wsaCodes) as Array<WsaError.WsaName>).filter((name) =>
        WsaError.isRetryable(WsaError.fromName(name, { operation: "connect" }))
      )
      expect(retryable.sort()).toEqual(["WSAECONNREFUSED", "WSAENETUNREACH", "WSAETIMEDOUT"])
      expect(WsaError.isRetryable({ _tag: "WSAECONNREFUSED" })).toBe(false)
      expect(WsaError.isRetryable(undefined)).toBe(false)
    }))

  it.scoped("gauges while a connect is pending, and after it: pendingOperations and openSockets", () =>
    Effect.gen(function*() {
      const before = {
        pending: (yield* Metric.value(Metrics.pendingOperations)).value,
        open: (yield* Metric.value(Metrics.openSockets)).value
      }
      const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(bound(), (s) => ConnectEx.connect(s, at("192.0.2.5")))))
      yield* untilPending(1)
      expect((yield* Metric.value(Metrics.pendingOperations)).value).toBe(before.pending + 1)
      expect((yield* Metric.value(Metrics.openSockets)).value).toBe(before.open + 1)
      yield* Fiber.interrupt(fiber)
      expect((yield* Metric.value(Metrics.pendingOperations)).value).toBe(before.pending)
      expect((yield* Metric.value(Metrics.openSockets)).value).toBe(before.open)
    }).pipe(Effect.provide(layer)))

  it.scoped("connectFailures counts pre-kernel failures by tag (unbound, already connected, 0.0.0.0)", () =>
    Effect.gen(function*() {
      const count = (tag: string) => Effect.map(Metric.value(Metric.tagged(Metrics.connectFailures, "error", tag)), (s) => s.count)
      const invalid = yield* count("WSAEINVAL")
      const notAvail = yield* count("WSAEADDRNOTAVAIL")
      const refused = yield* count("WSAECONNREFUSED")
      const unbound = yield* Socket.open({ family: "ipv4" })
      expect((yield* Effect.flip(ConnectEx.connect(unbound, at("192.0.2.6"))))._tag).toBe("WSAEINVAL")
      expect(yield* count("WSAEINVAL")).toBe(invalid + 1)
      expect((yield* Effect.flip(ConnectEx.connect(yield* bound(), SocketAddress.ipv4("0.0.0.0", 80))))._tag).toBe(
        "WSAEADDRNOTAVAIL"
      )
      expect(yield* count("WSAEADDRNOTAVAIL")).toBe(notAvail + 1)
      yield* Effect.flip(ConnectEx.connect(yield* bound(), at("192.0.2.1")))
      expect(yield* count("WSAECONNREFUSED")).toBe(refused + 1)
      expect(yield* count("WSAEINVAL")).toBe(invalid + 1)
    }).pipe(Effect.provide(layer)))

  it.scoped("connectLatency records the connect's own time on the Clock (20 ms of TestClock is 20)", () =>
    Effect.gen(function*() {
      const before = yield* Metric.value(Metrics.connectLatency)
      const socket = yield* bound()
      const connecting = yield* Effect.fork(ConnectEx.connect(socket, at("192.0.2.7")))
      yield* untilPending(1)
      yield* TestClock.adjust("20 millis")
      yield* Fiber.join(connecting)
      const after = yield* Metric.value(Metrics.connectLatency)
      expect(after.count).toBe(before.count + 1)
      expect(after.sum - before.sum).toBeCloseTo(20, 6)
    }).pipe(Effect.provide(layer)))

  it.scoped("dial options from untyped callers: each wrong kind is a WSAEINVAL that says which option", () =>
    Effect.gen(function*() {
      const detailOf = (options: unknown) =>
        Effect.map(Effect.flip(ConnectEx.dial(at("192.0.2.6"), options as ConnectEx.DialOptions)), (e) => [e._tag, e.message])
      expect(yield* detailOf(null)).toEqual(["WSAEINVAL", expect.stringContaining("Dial options must be an object, got null.")])
      expect(yield* detailOf(5)).toEqual(["WSAEINVAL", expect.stringContaining("Dial options must be an object, got 5.")])
      expect(yield* detailOf({ timeout: "soon" })).toEqual(["WSAEINVAL", expect.stringContaining("Timeout is not a duration: \"soon\".")])
      expect(yield* detailOf({ retry: 3 })).toEqual(["WSAEINVAL", expect.stringContaining("Retry is not a Schedule: 3.")])
      // well-formed options pass the check
      const { bytesSent } = yield* ConnectEx.dial(at("192.0.2.6"), { timeout: "1 second", retry: Schedule.recurs(1) })
      expect(bytesSent).toBe(0)
    }).pipe(Effect.provide(layer)))
})
