import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Schedule } from "effect"
import { ConnectEx, Iocp, Simulated, Socket, SocketAddress } from "../src/index.js"
import { type DoubleOptions, DriverDefect, makeDouble } from "../../../test/support/doubles.js"

const blackholed = SocketAddress.ipv4("192.0.2.10", 80)
const refusing = SocketAddress.ipv4("192.0.2.20", 80)

const network = Simulated.network({
  "192.0.2.10:80": Simulated.blackhole(),
  "192.0.2.20:80": Simulated.refuse({ times: 2 }),
  "192.0.2.30:80": Simulated.accept({ echo: true })
})

const layerOf = (options: DoubleOptions) => {
  const double = makeDouble(network, options)
  return { double, layer: ConnectEx.layerDriver(Effect.succeed(double.driver)) }
}

const bound = Effect.tap(Socket.open({ family: "ipv4" }), (socket) => Socket.bind(socket, SocketAddress.wildcard("ipv4")))

/** Lets forked fibers run until the port has `n` operations pending (no clock involved). */
const untilPending = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < n; i++) yield* Effect.yieldNow()
    expect((yield* Iocp.stats).pending).toBe(n)
  })

describe("driver doubles", () => {
  it.live("a cancel whose completion comes later: Fiber.interrupt returns only after it (pending 0 at return)", () => {
    const { double, layer } = layerOf({ cancelDelay: 50 })
    return Effect.gen(function*() {
      const socket = yield* bound
      const fiber = yield* Effect.fork(ConnectEx.connect(socket, blackholed))
      yield* untilPending(1)
      yield* Fiber.interrupt(fiber)
      expect(double.seen.cancels).toBe(1)
      expect(double.seen.lateCompletions).toBe(1)
      expect((yield* Iocp.stats).pending).toBe(0)
      // the cancelled connect spent the socket (Windows cannot reuse it)
      const again = yield* Effect.flip(ConnectEx.connect(socket, blackholed))
      expect(again._tag).toBe("WSAEINVAL")
    }).pipe(Effect.scoped, Effect.provide(layer))
  })

  it.live("a late cancel completion during a dial timeout: dial returns with nothing pending", () => {
    const { double, layer } = layerOf({ cancelDelay: 30 })
    return Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(ConnectEx.dial(blackholed, { timeout: "20 millis" })))
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe((o) => o._tag === "Some" && o.value._tag)).toBe(
        "TimeoutException"
      )
      expect(double.seen.lateCompletions).toBe(1)
      expect(yield* Iocp.stats).toMatchObject({ pending: 0, sockets: 0 })
    }).pipe(Effect.provide(layer))
  })

  it.scoped("resetConnect failing: dial retries a refusal on a fresh socket each time", () => {
    const { double, layer } = layerOf({ resetConnectFails: 10022 })
    return Effect.gen(function*() {
      const { socket } = yield* ConnectEx.dial(refusing, { retry: Schedule.recurs(3) })
      expect(Socket.isSocket(socket)).toBe(true)
      expect(double.seen.resets).toBe(2)
      expect(double.seen.opens).toBe(3)
      const attempts = double.log.attempts(refusing)
      expect(attempts.map((a) => a.status)).toEqual([10061, 10061, 0])
      expect(new Set(attempts.map((a) => a.socket)).size).toBe(3)
      // the two replaced sockets were closed at once
      expect((yield* Iocp.stats).sockets).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.scoped("resetConnect working: dial keeps the same socket", () => {
    const { double, layer } = layerOf({})
    return Effect.gen(function*() {
      yield* ConnectEx.dial(refusing, { retry: Schedule.recurs(3) })
      expect(double.seen.opens).toBe(1)
      expect(new Set(double.log.attempts(refusing).map((a) => a.socket)).size).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.live("a start that throws: the call dies, nothing stays pending, and layer release does not hang", () => {
    const { layer } = layerOf({ throwOn: "connect" })
    return Effect.gen(function*() {
      const stats = yield* Effect.gen(function*() {
        const socket = yield* bound
        const exit = yield* Effect.exit(ConnectEx.connect(socket, blackholed))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        if (Exit.isFailure(exit)) {
          const defect = Cause.dieOption(exit.cause)
          expect(defect._tag === "Some" && defect.value instanceof DriverDefect).toBe(true)
        }
        return yield* Iocp.stats
      }).pipe(Effect.scoped, Effect.provide(layer), Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "hung" }))
      expect(stats).toMatchObject({ pending: 0, submitted: 1, completed: 1 })
    })
  })

  it.live("a receive whose start throws dies too, and the layer still closes", () => {
    const { layer } = layerOf({ throwOn: "receive" })
    return Effect.gen(function*() {
      const socket = yield* bound
      yield* ConnectEx.connect(socket, SocketAddress.ipv4("192.0.2.30", 80))
      const exit = yield* Effect.exit(Socket.receive(socket, 10))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect((yield* Iocp.stats).pending).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(layer), Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "hung" }))
  })
})
