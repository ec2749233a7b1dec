// The Effect 4 quick start (README.md), type-checked by `tsc -p packages/effect4/tsconfig.test.json` and run
// by packages/effect4/test/examples.test.ts.
// --- quickstart ---
import { Effect, Schedule } from "effect"
import { ConnectEx, Socket, SocketAddress } from "@effect-connectex/effect4"

// Connect a bound socket, sending the first bytes with the connect; a refusal is a typed value.
export const hello = (target: SocketAddress.SocketAddress, data: Uint8Array) =>
  Effect.scoped(Effect.gen(function*() {
    const socket = yield* Socket.open({ family: "ipv4" }) // closed when the scope closes
    yield* Socket.bind(socket, SocketAddress.ipv4("0.0.0.0", 0))
    const { bytesSent } = yield* ConnectEx.connect(socket, target, { data })
    return `connected, sent ${bytesSent} bytes`
  })).pipe(
    Effect.catchTag("WSAECONNREFUSED", (error) => Effect.succeed(`refused (${error.code}): nothing listens there`)),
    Effect.provide(ConnectEx.layer)
  )

// Or dial: bind, connect, retry only what is worth retrying, time out, and read the answer.
export const echo = (target: SocketAddress.SocketAddress, request: string) =>
  Effect.scoped(Effect.gen(function*() {
    const { socket } = yield* ConnectEx.dial(target, {
      retry: Schedule.max([Schedule.exponential("50 millis"), Schedule.recurs(3)]),
      timeout: "5 seconds"
    })
    yield* Socket.send(socket, new TextEncoder().encode(request))
    return new TextDecoder().decode(yield* Socket.receive(socket, 4096))
  })).pipe(
    Effect.catchTag("TimeoutError", () => Effect.succeed("timed out")),
    Effect.provide(ConnectEx.layer)
  )
// --- end ---
