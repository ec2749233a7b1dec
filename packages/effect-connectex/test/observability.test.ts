import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, Tracer } from "effect"
import { ConnectEx, HappyEyeballs, Metrics, Socket, SocketAddress } from "../src/index.js"
import { echoServer, refusedPort } from "../../../test/support/peers.js"
import { bound } from "../../../test/support/fixtures.js"

/** The current tracer, wrapped so that every span it makes is kept for the test to read. */
const recordingTracer = Effect.map(Effect.tracer, (inner) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = inner.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => inner.context(f, fiber)
  })
  return { spans, tracer }
})


describe("observability", () => {
  it.scoped("spans for connect, send and receive carry the address, bytes and outcome", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const peer = yield* echoServer()
      const refused = yield* refusedPort()
      yield* Effect.gen(function*() {
        const socket = yield* bound()
        yield* ConnectEx.connect(socket, peer.address, { data: new Uint8Array(3) })
        yield* Socket.send(socket, new Uint8Array(4))
        yield* Socket.receive(socket, 100)
        yield* Effect.flip(ConnectEx.connect(yield* bound(), refused))
        yield* Effect.scoped(ConnectEx.dial(peer.address))
      }).pipe(Effect.withTracer(tracer))
      const connects = spans.filter((s) => s.name === "ConnectEx.connect")
      expect(connects.map((s) => s.attributes.get("connectex.outcome"))).toEqual(["connected", "WSAECONNREFUSED", "connected"])
      expect(connects[0]?.attributes.get("net.peer.address")).toBe(SocketAddress.format(peer.address))
      expect(connects[0]?.attributes.get("connectex.bytes_sent")).toBe(3)
      const send = spans.find((s) => s.name === "Socket.send")
      expect(send?.attributes.get("connectex.bytes")).toBe(4)
      expect(spans.find((s) => s.name === "Socket.receive")?.attributes.get("connectex.outcome")).toBe("ok")
      const dial = spans.find((s) => s.name === "ConnectEx.dial")
      expect(dial?.attributes.get("net.peer.address")).toBe(SocketAddress.format(peer.address))
      expect(connects[2]?.parent._tag === "Some" && connects[2].parent.value.spanId).toBe(dial?.spanId)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("dialList: each attempt's dial span is a child of the race's span, with the race's tracer", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const peer = yield* echoServer()
      const refused = yield* refusedPort()
      yield* HappyEyeballs.dialList([refused, peer.address]).pipe(Effect.withTracer(tracer))
      const race = spans.find((s) => s.name === "ConnectEx.dialList")
      const dials = spans.filter((s) => s.name === "ConnectEx.dial")
      expect(dials).toHaveLength(2)
      expect(dials.map((s) => s.parent._tag === "Some" && s.parent.value.spanId)).toEqual([race?.spanId, race?.spanId])
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scoped("metrics: latency histogram, failures by tag, open sockets and pending operations gauges", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const refused = yield* refusedPort()
      const refusals = Metric.tagged(Metrics.connectFailures, "error", "WSAECONNREFUSED")
      const before = {
        latency: (yield* Metric.value(Metrics.connectLatency)).count,
        refused: (yield* Metric.value(refusals)).count,
        open: (yield* Metric.value(Metrics.openSockets)).value
      }
      yield* Effect.scoped(
        Effect.gen(function*() {
          const socket = yield* bound()
          yield* ConnectEx.connect(socket, peer.address)
          yield* Effect.flip(ConnectEx.connect(yield* bound(), refused))
          expect((yield* Metric.value(Metrics.openSockets)).value).toBe(before.open + 2)
        })
      )
      expect((yield* Metric.value(Metrics.connectLatency)).count).toBe(before.latency + 2)
      expect((yield* Metric.value(refusals)).count).toBe(before.refused + 1)
      expect((yield* Metric.value(Metrics.openSockets)).value).toBe(before.open)
      expect((yield* Metric.value(Metrics.pendingOperations)).value).toBe(0)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("the latency histogram records how long a connect took, in milliseconds: small and never negative", () =>
    Effect.gen(function*() {
      const peer = yield* echoServer()
      const before = (yield* Metric.value(Metrics.connectLatency)).count
      yield* Effect.scoped(Effect.flatMap(bound(), (socket) => ConnectEx.connect(socket, peer.address)))
      const latency = yield* Metric.value(Metrics.connectLatency)
      expect(latency.count).toBe(before + 1)
      // on the live clock, a loopback connect: well under a minute (the clock reading itself, nanoseconds since
      // 1970, would be far more)
      expect(latency.max).toBeLessThan(60_000)
      expect(latency.min).toBeGreaterThanOrEqual(0)
    }).pipe(Effect.provide(ConnectEx.layer)))
})
