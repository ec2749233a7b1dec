// The README's quick start, compiled by `npm run typecheck` and run by test/readme.test.ts.
// --- quickstart ---
import { Effect } from "effect"
import { ConnectEx, Socket, SocketAddress } from "effect-connectex"

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
// --- end ---
