/**
 * A hard close (`SO_LINGER` 0, then the scope's close) resets the connection every time: right after a connect
 * with data, right after a send, and with nothing sent; hundreds of repetitions per case, on the platform's
 * driver and on the simulated network. The peer that judges reads with plain receives until the stream ends
 * (a node:net peer can report a reset that arrives with unread bytes as a normal end: the repository's
 * packages/effect-connectex/test/hardClose.test.ts says why).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { ConnectEx, type Iocp, Listener, Simulated, Socket, SocketAddress, type WsaError } from "../src/index.js"

const REPETITIONS = 300

const backends: ReadonlyArray<{ readonly name: string; readonly layer: Layer.Layer<ConnectEx.ConnectEx | Iocp.Iocp, WsaError.WsaError> }> = [
  { name: "platform driver, loopback", layer: ConnectEx.layer },
  { name: "simulated network", layer: ConnectEx.layerSimulated(Simulated.network({})) }
]

const bytes = new Uint8Array([1, 2])

/** How a peer's reading ended: the error's tag, or "end" for an empty receive. */
const readToTheEnd = (socket: Socket.Socket): Effect.Effect<string> =>
  Effect.gen(function*() {
    while (true) {
      const chunk = yield* Effect.exit(Socket.receive(socket, 65536))
      if (Exit.isFailure(chunk)) {
        const error = chunk.cause.reasons.find((reason) => reason._tag === "Fail")
        return error?._tag === "Fail" ? (error.error as { readonly _tag: string })._tag : "defect"
      }
      if (chunk.value.length === 0) return "end"
    }
  })

describe.each(backends)("a hard close resets: $name", (backend) => {
  for (const before of ["connect with data", "send", "nothing"] as const) {
    it.live(`after ${before}: a peer reading with receives sees WSAECONNRESET, ${REPETITIONS} times of ${REPETITIONS}`, () =>
      Effect.gen(function*() {
        const listener = yield* Listener.listen(SocketAddress.ipv4("127.0.0.1", 0))
        const address = yield* Listener.address(listener)
        const counts: Record<string, number> = {}
        for (let i = 0; i < REPETITIONS; i++) {
          const accepted = yield* Deferred.make<void>()
          const peer = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
            const { socket } = yield* Listener.accept(listener)
            yield* Deferred.succeed(accepted, undefined)
            return yield* readToTheEnd(socket)
          })))
          yield* Effect.scoped(Effect.gen(function*() {
            const { socket } = yield* ConnectEx.dial(address, before === "connect with data" ? { data: bytes } : {})
            yield* Socket.setOption(socket, "SO_LINGER", 0)
            if (before === "send") yield* Socket.send(socket, bytes)
            yield* Deferred.await(accepted)
          }))
          const outcome = yield* Fiber.join(peer)
          counts[outcome] = (counts[outcome] ?? 0) + 1
        }
        assert.deepStrictEqual(counts, { WSAECONNRESET: REPETITIONS })
      }).pipe(Effect.scoped, Effect.provide(backend.layer)) as Effect.Effect<void, unknown, Scope.Scope>, 60_000)
  }
})
