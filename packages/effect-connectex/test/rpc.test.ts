/**
 * @effect/rpc over this library's platform adapters: a client over `PlatformSocket.layer` (a connection per
 * `run`, as NodeSocket.makeNet) and a server over `PlatformSocketServer.layer`. The server is stopped, which
 * closes the client's connection, and started again on the same port: the client's socket protocol runs again,
 * gets a new connection, and the next call is answered.
 */
import { Rpc, RpcClient, RpcGroup, RpcSerialization, RpcServer } from "@effect/rpc"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Schedule, Schema, Scope } from "effect"
import * as ConnectEx from "../src/ConnectEx.js"
import * as Listener from "../src/Listener.js"
import * as PlatformSocket from "../src/PlatformSocket.js"
import * as PlatformSocketServer from "../src/PlatformSocketServer.js"
import * as SocketAddress from "../src/SocketAddress.js"

class Echo extends RpcGroup.make(
  Rpc.make("Echo", { payload: { text: Schema.String }, success: Schema.String })
) {}

let served = 0
const handlers = Echo.toLayer({ Echo: ({ text }) => Effect.sync(() => `#${++served} ${text}`) })

/** The RPC server on `address`, in its own scope: closing the scope stops it and closes its connections. */
const startServer = (address: SocketAddress.SocketAddress) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(
      RpcServer.layer(Echo).pipe(
        Layer.provide(handlers),
        Layer.provide(RpcServer.layerProtocolSocketServer),
        Layer.provide(PlatformSocketServer.layer(address)),
        Layer.provide(RpcSerialization.layerNdjson)
      ),
      scope
    )
    return scope
  })

describe("@effect/rpc over PlatformSocket and PlatformSocketServer", () => {
  it.live("the client keeps working after the server closed its connection (a new connection per run)", () =>
    Effect.gen(function*() {
      // a free port: listen on port 0, read it, let it go
      const port = yield* Effect.scoped(Effect.flatMap(Listener.listen(SocketAddress.ipv4("127.0.0.1", 0)), Listener.address)).pipe(
        Effect.map((address) => address.port)
      )
      const address = SocketAddress.ipv4("127.0.0.1", port)
      const first = yield* startServer(address)
      // The protocol layer lives as long as the client is used (a layer provided to `make` alone would be
      // released when `make` returns).
      const protocol = RpcClient.layerProtocolSocket({ retryTransientErrors: true, retrySchedule: Schedule.spaced("50 millis") }).pipe(
        Layer.provide(PlatformSocket.layer({ host: "127.0.0.1", port })),
        Layer.provide(RpcSerialization.layerNdjson)
      )
      yield* Effect.gen(function*() {
        const client = yield* RpcClient.make(Echo)
        expect(yield* client.Echo({ text: "one" })).toBe("#1 one")
        // The server goes away (its connections closed), then comes back on the same port.
        yield* Scope.close(first, Exit.void)
        const second = yield* startServer(address)
        const answer = yield* client.Echo({ text: "two" }).pipe(
          Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }),
          Effect.timeout("10 seconds")
        )
        expect(answer).toBe("#2 two")
        yield* Scope.close(second, Exit.void)
      }).pipe(Effect.provide(protocol))
    }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer)), 30_000)
})
