/**
 * Spans of the i/o calls under Effect 4: with a tracer installed every `Socket.send` / `Socket.receive` has its
 * span (size and outcome), and a race's attempts are dial spans under the race's. (Under the built-in tracer
 * none is made; nothing can observe that, by design.)
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import { ConnectEx, HappyEyeballs, Socket } from "../src/index.js"
import { echoServer, refusedPort } from "./support/peers.js"

/** The built-in tracer, wrapped so that every span it makes is kept for the test to read. */
const recordingTracer = Effect.map(Effect.tracer, (inner) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span(options) {
      const span = inner.span(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
})

describe("observability (Effect 4)", () => {
  it.live("with a tracer installed, send and receive have spans with the bytes and the outcome", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const { socket } = yield* ConnectEx.dial(yield* echoServer())
      const exchange = Effect.andThen(Socket.send(socket, new Uint8Array(4)), Socket.receive(socket, 100))
      yield* exchange.pipe(Effect.withTracer(tracer))
      const send = spans.find((span) => span.name === "Socket.send")
      assert.strictEqual(send?.attributes.get("connectex.bytes"), 4)
      assert.strictEqual(send?.attributes.get("connectex.requested_bytes"), 4)
      assert.strictEqual(spans.find((span) => span.name === "Socket.receive")?.attributes.get("connectex.outcome"), "ok")
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))

  it.live("dialList: each attempt's dial span is a child of the race's span, with the race's tracer", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const peer = yield* echoServer()
      const refused = yield* refusedPort()
      yield* HappyEyeballs.dialList([refused, peer]).pipe(Effect.withTracer(tracer))
      const race = spans.find((span) => span.name === "ConnectEx.dialList")
      const dials = spans.filter((span) => span.name === "ConnectEx.dial")
      assert.isDefined(race)
      assert.strictEqual(dials.length, 2)
      assert.deepStrictEqual(dials.map((span) => span.parent._tag === "Some" ? span.parent.value.spanId : undefined), [race?.spanId, race?.spanId])
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)))
})
