import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { wsa } from "../../core/src/errors/codes.js"
import type { Completion, Driver, NativeSocket } from "../../core/src/native/Driver.js"
import { OPERATION_ABORTED } from "../../core/src/native/Driver.js"
import * as ConnectEx from "../src/ConnectEx.js"
import * as Simulated from "../src/Simulated.js"
import * as Socket from "../src/Socket.js"
import * as SocketAddress from "../src/SocketAddress.js"
import { text } from "../../../test/support/fixtures.js"

const REFUSED = wsa.WSAECONNREFUSED
const TIMED_OUT = wsa.WSAETIMEDOUT
const NET_UNREACH = wsa.WSAENETUNREACH
const HOST_UNREACH = wsa.WSAEHOSTUNREACH
const RESET = wsa.WSAECONNRESET

const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)

/** An operation's completions, to check "exactly once". */
const recorder = () => {
  const completions: Array<Completion> = []
  return { completions, done: (completion: Completion) => void completions.push(completion) }
}

const openBound = (driver: Driver, bind: SocketAddress.SocketAddress = SocketAddress.wildcard("ipv4")): NativeSocket => {
  const opened = driver.open(bind.family)
  if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
  expect(driver.bind(opened.value, bind, false)).toBe(0)
  return opened.value
}

const connect = (driver: Driver, socket: NativeSocket, address: SocketAddress.SocketAddress, data?: string) => {
  const r = recorder()
  const operation = driver.connect(socket, address, data === undefined ? undefined : text(data), r.done)
  return { ...r, operation }
}

const server = SocketAddress.ipv4("127.0.0.1", 80)
const flaky = SocketAddress.ipv4("192.0.2.1", 80)
const dark = SocketAddress.ipv4("192.0.2.2", 80)
const darkWithTimeout = SocketAddress.ipv4("192.0.2.3", 80)
const noNet = SocketAddress.ipv4("198.51.100.9", 443)
const noHost = SocketAddress.ipv6("2001:db8::9", 80)
const resetter = SocketAddress.ipv4("192.0.2.4", 80)
const slow = SocketAddress.ipv4("192.0.2.5", 80)
const other = SocketAddress.ipv4("192.0.2.6", 80)

const net = Simulated.network({
  "127.0.0.1:80": Simulated.accept({ echo: true }),
  "192.0.2.1:80": Simulated.refuse({ times: 2, then: Simulated.accept() }),
  "192.0.2.2:80": Simulated.blackhole(),
  "192.0.2.3:80": Simulated.blackhole({ synTimeout: "21 seconds" }),
  "198.51.100.9:*": Simulated.unreachable("network"),
  "[2001:db8::9]:80": Simulated.unreachable("host"),
  "192.0.2.4:80": Simulated.reset(),
  "192.0.2.5:80": Simulated.accept({ delay: "250 millis", greeting: "hello", closeAfter: "1 second" })
})

describe("Simulated", () => {
  describe("network", () => {
    it("normalises keys and rejects malformed ones", () => {
      const n = Simulated.network({ "[0:0::1]:80": Simulated.accept() })
      expect([...n.routes.keys()]).toEqual(["[::1]:80"])
      expect(() => Simulated.network({ "localhost:80": Simulated.accept() })).toThrow(TypeError)
      expect(() => Simulated.refuse({ times: -1 })).toThrow(TypeError)
    })
  })

  describe("driver on the Effect Clock", () => {
    it.scoped("accept: connect data and sends are recorded, the echo peer answers", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        const c = connect(driver, socket, server, "GET")
        expect(c.completions).toEqual([{ status: 0, bytes: 3 }])

        const local = driver.localAddress(socket)
        expect(local.ok && local.value.host).toBe("127.0.0.1")
        expect(local.ok && local.value.port).toBeGreaterThanOrEqual(49152)
        const peer = driver.peerAddress(socket)
        expect(peer.ok && SocketAddress.equals(peer.value, server)).toBe(true)

        const s = recorder()
        driver.send(socket, text(" /"), s.done)
        expect(s.completions).toEqual([{ status: 0, bytes: 2 }])

        const r1 = recorder()
        driver.receive(socket, 4, r1.done)
        expect(r1.completions.map((c) => decode(c.data))).toEqual(["GET "])
        const r2 = recorder()
        driver.receive(socket, 100, r2.done)
        expect(r2.completions.map((c) => decode(c.data))).toEqual(["/"])

        // nothing left: the receive waits for the next send
        const r3 = recorder()
        driver.receive(socket, 100, r3.done)
        expect(r3.completions).toEqual([])
        expect(driver.liveAllocations()).toBe(2)
        driver.send(socket, text("!"), recorder().done)
        expect(r3.completions.map((c) => decode(c.data))).toEqual(["!"])

        expect(decode(log.sent(server))).toBe("GET /!")
        expect(decode(log.sent("127.0.0.1:80"))).toBe("GET /!")
        const [attempt] = log.connections()
        expect(attempt?.status).toBe(0)
        expect(attempt?.attempt).toBe(1)
        expect(decode(attempt?.sent)).toBe("GET /!")

        driver.close(socket)
        expect(log.attempts()[0]?.ended).toBe("closed")
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("refuse N times, then accept, on the same socket", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        const first = connect(driver, socket, flaky)
        expect(first.completions).toEqual([{ status: REFUSED, bytes: 0 }])
        expect(driver.resetConnect(socket)).toBe(0)
        const second = connect(driver, socket, flaky)
        expect(second.completions).toEqual([{ status: REFUSED, bytes: 0 }])
        const third = connect(driver, socket, flaky, "hi")
        expect(third.completions).toEqual([{ status: 0, bytes: 2 }])
        expect(log.attempts(flaky).map((a) => [a.attempt, a.status])).toEqual([[1, REFUSED], [2, REFUSED], [3, 0]])
        expect(decode(log.sent(flaky))).toBe("hi")
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("blackhole: pending until cancelled, then exactly one 995", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        const c = connect(driver, socket, dark)
        yield* TestClock.adjust("1 hour")
        expect(c.completions).toEqual([])
        expect(driver.liveAllocations()).toBe(2)
        // a second connect while pending
        const again = connect(driver, socket, dark)
        expect(again.completions).toEqual([{ status: wsa.WSAEALREADY, bytes: 0 }])
        c.operation.cancel()
        c.operation.cancel()
        expect(c.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
        expect(log.attempts(dark)[0]?.status).toBe(OPERATION_ABORTED)
        expect(driver.liveAllocations()).toBe(1)
        driver.close(socket)
        expect(c.completions).toHaveLength(1)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("blackhole with synTimeout: WSAETIMEDOUT once the Clock has moved that far", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        const c = connect(driver, socket, darkWithTimeout)
        yield* TestClock.adjust("20 seconds")
        expect(c.completions).toEqual([])
        yield* TestClock.adjust("1 second")
        expect(c.completions).toEqual([{ status: TIMED_OUT, bytes: 0 }])
        const [attempt] = log.attempts(darkWithTimeout)
        expect(attempt?.completedAt! - attempt?.startedAt!).toBe(21_000)
        c.operation.cancel()
        expect(c.completions).toHaveLength(1)
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("unreachable: network and host codes", () =>
      Effect.gen(function*() {
        const { driver } = yield* Simulated.makeDriverEffect(net)
        const v4 = openBound(driver)
        expect(connect(driver, v4, noNet).completions).toEqual([{ status: NET_UNREACH, bytes: 0 }])
        expect(connect(driver, v4, SocketAddress.ipv4("198.51.100.9", 22)).completions[0]?.status).toBe(NET_UNREACH)
        const v6 = openBound(driver, SocketAddress.wildcard("ipv6"))
        expect(connect(driver, v6, noHost).completions).toEqual([{ status: HOST_UNREACH, bytes: 0 }])
        // the default: refused
        expect(connect(driver, v4, other).completions[0]?.status).toBe(REFUSED)
        driver.close(v4)
        driver.close(v6)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("reset: connect succeeds, send and receive fail WSAECONNRESET", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        expect(connect(driver, socket, resetter, "x").completions).toEqual([{ status: 0, bytes: 1 }])
        const s = recorder()
        driver.send(socket, text("y"), s.done)
        expect(s.completions).toEqual([{ status: RESET, bytes: 0 }])
        const r = recorder()
        driver.receive(socket, 10, r.done)
        expect(r.completions).toEqual([{ status: RESET, bytes: 0 }])
        expect(log.attempts(resetter)[0]?.ended).toBe("reset")
        expect(decode(log.sent(resetter))).toBe("x")
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("resetAfter: a pending receive fails when the peer resets", () =>
      Effect.gen(function*() {
        const { driver } = yield* Simulated.makeDriverEffect(
          Simulated.network({ "192.0.2.11:80": Simulated.accept({ resetAfter: "5 seconds" }) })
        )
        const socket = openBound(driver)
        expect(connect(driver, socket, SocketAddress.ipv4("192.0.2.11", 80)).completions[0]?.status).toBe(0)
        const r = recorder()
        driver.receive(socket, 10, r.done)
        yield* TestClock.adjust("4 seconds")
        expect(r.completions).toEqual([])
        yield* TestClock.adjust("1 second")
        expect(r.completions).toEqual([{ status: RESET, bytes: 0 }])
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("delay, greeting and closeAfter follow TestClock", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver, SocketAddress.ipv4("192.0.2.7", 40000))
        const c = connect(driver, socket, slow)
        yield* TestClock.adjust("249 millis")
        expect(c.completions).toEqual([])
        yield* TestClock.adjust("1 millis")
        expect(c.completions).toEqual([{ status: 0, bytes: 0 }])
        const local = driver.localAddress(socket)
        expect(local.ok && SocketAddress.format(local.value)).toBe("192.0.2.7:40000")
        expect(log.attempts(slow)[0]?.completedAt).toBe(250)

        const greeting = recorder()
        driver.receive(socket, 100, greeting.done)
        expect(greeting.completions.map((c) => decode(c.data))).toEqual(["hello"])
        const eof = recorder()
        driver.receive(socket, 100, eof.done)
        expect(eof.completions).toEqual([])
        yield* TestClock.adjust("1 second")
        expect(eof.completions).toEqual([{ status: 0, bytes: 0, data: new Uint8Array(0) }])
        expect(log.attempts(slow)[0]?.ended).toBe("peer-closed")
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("close while pending: every operation completes once with 995", () =>
      Effect.gen(function*() {
        const { driver } = yield* Simulated.makeDriverEffect(net)
        const pendingConnect = openBound(driver)
        const c = connect(driver, pendingConnect, dark)
        const delayed = openBound(driver)
        const d = connect(driver, delayed, slow)
        const connected = openBound(driver)
        connect(driver, connected, server)
        const r = recorder()
        driver.receive(connected, 10, r.done)
        expect(driver.liveAllocations()).toBe(6)

        driver.close(pendingConnect)
        driver.close(delayed)
        driver.close(connected)
        expect(c.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
        expect(d.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
        expect(r.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
        expect(driver.liveAllocations()).toBe(0)

        // the delayed accept's timer does not fire afterwards
        yield* TestClock.adjust("1 second")
        expect(d.completions).toHaveLength(1)
        // a closed socket is not a socket
        expect(connect(driver, delayed, server).completions[0]?.status).toBe(wsa.WSAENOTSOCK)
      }))

    it.effect("closing the scope closes what is still open", () =>
      Effect.gen(function*() {
        const made = yield* Effect.scoped(
          Effect.gen(function*() {
            const made = yield* Simulated.makeDriverEffect(net)
            const socket = openBound(made.driver)
            const c = connect(made.driver, socket, slow)
            return { ...made, c }
          })
        )
        expect(made.c.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
        expect(made.driver.liveAllocations()).toBe(0)
        yield* TestClock.adjust("1 second")
        expect(made.c.completions).toHaveLength(1)
      }))

    it.scoped("disconnect with reuse: the socket may connect again", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        connect(driver, socket, server, "one")
        const r = recorder()
        driver.receive(socket, 10, r.done)
        expect(decode(r.completions[0]?.data)).toBe("one")
        const pendingReceive = recorder()
        driver.receive(socket, 10, pendingReceive.done)
        const d = recorder()
        driver.disconnect(socket, true, d.done)
        expect(d.completions).toEqual([{ status: 0, bytes: 0 }])
        expect(pendingReceive.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
        expect(driver.peerAddress(socket)).toEqual({ ok: false, code: wsa.WSAENOTCONN })
        expect(connect(driver, socket, server, "two").completions[0]?.status).toBe(0)
        expect(log.connections(server).map((a) => [decode(a.sent), a.ended])).toEqual([
          ["one", "disconnected"],
          ["two", undefined]
        ])
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))
  })

  describe("disconnect is graceful (DisconnectEx semantics)", () => {
    it.scoped("without reuse: the peer has every byte then a FIN; send WSAESHUTDOWN, connect WSAEISCONN, receive drains", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        connect(driver, socket, server, "one")
        const sent = recorder()
        driver.send(socket, text("two"), sent.done)
        const waiting = recorder()
        driver.receive(socket, 2, waiting.done)
        expect(decode(waiting.completions[0]?.data)).toBe("on")
        const d = recorder()
        driver.disconnect(socket, false, d.done)
        expect(d.completions).toEqual([{ status: 0, bytes: 0 }])
        // the peer got everything, then a normal end: never a reset
        expect(decode(log.sent(server))).toBe("onetwo")
        expect(log.connections(server).map((a) => a.ended)).toEqual(["disconnected"])

        const late = recorder()
        driver.send(socket, text("three"), late.done)
        expect(late.completions).toEqual([{ status: wsa.WSAESHUTDOWN, bytes: 0 }])
        expect(connect(driver, socket, server).completions).toEqual([{ status: wsa.WSAEISCONN, bytes: 0 }])
        const peer = driver.peerAddress(socket)
        expect(peer.ok && SocketAddress.format(peer.value)).toBe("127.0.0.1:80")

        // the echo peer echoed what it got before the FIN, then closed its side: receive drains, then empty
        const drained: Array<string> = []
        for (let i = 0; i < 4; i++) {
          const r = recorder()
          driver.receive(socket, 100, r.done)
          expect(r.completions).toHaveLength(1)
          expect(r.completions[0]?.status).toBe(0)
          drained.push(decode(r.completions[0]?.data))
        }
        expect(drained).toEqual(["etwo", "", "", ""])
        expect(log.sent(server)).toHaveLength(6)
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("without reuse: a receive pending at the disconnect still gets what the peer sends and its end", () =>
      Effect.gen(function*() {
        const { driver } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        connect(driver, socket, slow)
        yield* TestClock.adjust("250 millis")
        const greeting = recorder()
        driver.receive(socket, 100, greeting.done)
        expect(decode(greeting.completions[0]?.data)).toBe("hello")
        const pending = recorder()
        driver.receive(socket, 100, pending.done)
        driver.disconnect(socket, false, recorder().done)
        // not aborted: the peer (no echo) keeps its side open until its closeAfter
        expect(pending.completions).toEqual([])
        yield* TestClock.adjust("1 second")
        expect(pending.completions).toEqual([{ status: 0, bytes: 0, data: new Uint8Array(0) }])
        driver.close(socket)
        expect(driver.liveAllocations()).toBe(0)
      }))

    it.scoped("through Socket: the state machine and the driver agree", () =>
      Effect.gen(function*() {
        const socket = yield* Socket.open({ family: "ipv4" })
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        yield* ConnectEx.connect(socket, server, { data: text("ping") })
        yield* Socket.disconnect(socket, { reuse: false })
        expect((yield* Effect.flip(Socket.send(socket, text("x"))))._tag).toBe("WSAESHUTDOWN")
        expect((yield* Effect.flip(ConnectEx.connect(socket, server)))._tag).toBe("WSAEISCONN")
        expect(SocketAddress.format(yield* Socket.peerAddress(socket))).toBe("127.0.0.1:80")
        expect(decode(yield* Socket.receive(socket, 100))).toBe("ping")
        expect(yield* Socket.receive(socket, 100)).toEqual(new Uint8Array(0))
        expect(yield* Socket.connectTime(socket)).toEqual(Option.none())
        expect(decode(yield* Simulated.sent(server))).toBe("ping")
        const [attempt] = yield* Simulated.attempts(server)
        expect(attempt?.ended).toBe("disconnected")
      }).pipe(Effect.provide(ConnectEx.layerSimulated(net))))

    it.scoped("with reuse: the socket connects again; a receive pending at the disconnect ends with 995", () =>
      Effect.gen(function*() {
        const socket = yield* Socket.open({ family: "ipv4" })
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        yield* ConnectEx.connect(socket, server, { data: text("one") })
        expect(decode(yield* Socket.receive(socket, 100))).toBe("one")
        const receiving = yield* Effect.fork(Socket.receive(socket, 100))
        yield* Effect.yieldNow()
        yield* Socket.disconnect(socket, { reuse: true })
        expect((yield* Effect.flip(Fiber.join(receiving)))._tag).toBe("WSA_OPERATION_ABORTED")
        yield* ConnectEx.connect(socket, server, { data: text("two") })
        expect(decode(yield* Socket.receive(socket, 100))).toBe("two")
        const connections = (yield* Simulated.attempts(server)).filter((a) => a.status === 0)
        expect(connections.map((a) => [decode(a.sent), a.ended])).toEqual([["one", "disconnected"], ["two", undefined]])
      }).pipe(Effect.provide(ConnectEx.layerSimulated(net))))
  })

  describe("ports", () => {
    it("ephemeral ports, deferred ports, WSAEADDRINUSE and SO_REUSEADDR", () => {
      const { driver } = Simulated.makeDriver(net, Simulated.manualScheduler().scheduler)
      const a = openBound(driver)
      const b = openBound(driver)
      const portOf = (s: NativeSocket) => {
        const local = driver.localAddress(s)
        return local.ok ? local.value.port : -1
      }
      expect(portOf(a)).toBe(49152)
      expect(portOf(b)).toBe(49153)

      const deferred = driver.open("ipv4")
      if (!deferred.ok) throw new Error("open")
      expect(driver.bind(deferred.value, SocketAddress.wildcard("ipv4"), true)).toBe(0)
      expect(portOf(deferred.value)).toBe(0)
      connect(driver, deferred.value, server)
      expect(portOf(deferred.value)).toBe(49154)

      const c = driver.open("ipv4")
      if (!c.ok) throw new Error("open")
      expect(driver.bind(c.value, SocketAddress.ipv4("127.0.0.1", 49152), false)).toBe(wsa.WSAEADDRINUSE)
      expect(driver.bind(c.value, SocketAddress.ipv4("127.0.0.1", 8000), false)).toBe(0)
      expect(driver.bind(c.value, SocketAddress.ipv4("127.0.0.1", 8001), false)).toBe(wsa.WSAEINVAL)

      const r1 = driver.open("ipv4")
      const r2 = driver.open("ipv4")
      if (!r1.ok || !r2.ok) throw new Error("open")
      driver.setOption(r1.value, "SO_REUSEADDR", true)
      driver.setOption(r2.value, "SO_REUSEADDR", true)
      expect(driver.bind(r1.value, SocketAddress.ipv4("0.0.0.0", 9000), false)).toBe(0)
      expect(driver.bind(r2.value, SocketAddress.ipv4("0.0.0.0", 9000), false)).toBe(0)

      driver.close(a)
      const d = driver.open("ipv4")
      if (!d.ok) throw new Error("open")
      expect(driver.bind(d.value, SocketAddress.ipv4("0.0.0.0", 49152), false)).toBe(0)
      driver.cleanup()
      expect(driver.liveAllocations()).toBe(0)
    })
  })

  describe("manual scheduler", () => {
    it("drives the plain driver without Effect", () => {
      const manual = Simulated.manualScheduler()
      const { driver, log } = Simulated.makeDriver(
        Simulated.network({}, { default: Simulated.sequence(Simulated.blackhole({ synTimeout: 3000 }), Simulated.accept({ delay: 100 })) }),
        manual.scheduler
      )
      const socket = openBound(driver)
      const target = SocketAddress.ipv4("203.0.113.5", 80)
      const first = connect(driver, socket, target)
      manual.advance(2999)
      expect(first.completions).toEqual([])
      manual.advance(1)
      expect(first.completions).toEqual([{ status: TIMED_OUT, bytes: 0 }])
      const second = connect(driver, socket, target)
      manual.advance(100)
      expect(second.completions).toEqual([{ status: 0, bytes: 0 }])
      const local = driver.localAddress(socket)
      expect(local.ok && local.value.host).toBe("192.0.2.1")
      expect(log.attempts().map((a) => [a.startedAt, a.completedAt, a.status])).toEqual([
        [0, 3000, TIMED_OUT],
        [3000, 3100, 0]
      ])
      driver.close(socket)
      expect(driver.liveAllocations()).toBe(0)
      expect(manual.pending()).toBe(0)
    })
  })

  describe("NetworkLog accessors", () => {
    it.scoped("sent and attempts read the log from the context", () =>
      Effect.gen(function*() {
        const { driver, log } = yield* Simulated.makeDriverEffect(net)
        const socket = openBound(driver)
        connect(driver, socket, server, "ping")
        const bytes = yield* Simulated.sent("127.0.0.1:80").pipe(Effect.provideService(Simulated.NetworkLog, log))
        expect(decode(bytes)).toBe("ping")
        const all = yield* Simulated.attempts().pipe(Effect.provideService(Simulated.NetworkLog, log))
        expect(all).toHaveLength(1)
        driver.close(socket)
      }))
  })
})
