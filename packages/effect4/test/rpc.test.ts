/**
 * Effect 4's RPC (`effect/rpc`) over this front-end's platform adapters: a client over `PlatformSocket.layer`
 * (a connection per `run`, as NodeSocket.makeNet) and a server over `PlatformSocketServer.layer`. The server is
 * stopped, which closes the client's connection, and started again on the same port: the client's socket
 * protocol runs again, gets a new connection, and the next call is answered. The same client over one dialed
 * connection (`PlatformSocket.fromSocket`) cannot: its next call never reaches the new server. The Effect 4
 * twin of the repository's packages/effect-connectex/test/rpc.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import { Rpc, RpcClient, RpcGroup, RpcSerialization, RpcServer } from "effect/rpc"
import { ConnectEx, Listener, PlatformSocket, PlatformSocketServer, SocketAddress } from "../src/index.js"

class Echo extends RpcGroup.make(
  Rpc.make("Echo", { payload: { text: Schema.String }, success: Schema.String })
) {}

/** The requests the servers answered, in order, across restarts. */
const served: Array<string> = []
const handlers = Echo.toLayer({ Echo: ({ text }) => Effect.sync(() => `#${served.push(text)} ${text}`) })

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

/** A free port: listen on port 0, read it, let it go. */
const freeAddress = Effect.scoped(Effect.flatMap(Listener.listen(SocketAddress.ipv4("127.0.0.1", 0)), Listener.address)).pipe(
  Effect.map((address) => SocketAddress.ipv4("127.0.0.1", address.port))
)

/**
 * Starts a server, makes a client over `socket(address)`, calls once, restarts the server on the same port and
 * calls again (retrying for up to `patience`). Gives the first answer and the second call's exit.
 */
const acrossRestart = <E>(
  socket: (address: SocketAddress.SocketAddress) => Layer.Layer<EffectSocket.Socket, E, ConnectEx.ConnectEx>,
  patience: "10 seconds" | "3 seconds"
) =>
  Effect.gen(function*() {
    served.length = 0
    const address = yield* freeAddress
    const first = yield* startServer(address)
    // The protocol layer lives as long as the client is used (a layer provided to `make` alone would be
    // released when `make` returns).
    const protocol = RpcClient.layerProtocolSocket({ retryTransientErrors: true, retryPolicy: Schedule.spaced("50 millis") }).pipe(
      Layer.provide(socket(address)),
      Layer.provide(RpcSerialization.layerNdjson)
    )
    return yield* Effect.gen(function*() {
      const client = yield* RpcClient.make(Echo)
      const one = yield* client.Echo({ text: "one" })
      // The server goes away (its connections closed), then comes back on the same port.
      yield* Scope.close(first, Exit.void)
      const second = yield* startServer(address)
      const two = yield* Effect.exit(client.Echo({ text: "two" }).pipe(
        Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 }),
        Effect.timeout(patience)
      ))
      yield* Scope.close(second, Exit.void)
      return { one, two }
    }).pipe(Effect.provide(protocol))
  }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer))

describe("effect/rpc over PlatformSocket and PlatformSocketServer (Effect 4)", () => {
  it.live("the client keeps working after the server closed its connection (a new connection per run)", () =>
    Effect.gen(function*() {
      const { one, two } = yield* acrossRestart((address) => PlatformSocket.layer({ host: address.host, port: address.port }), "10 seconds")
      assert.strictEqual(one, "#1 one")
      assert.deepStrictEqual(two, Exit.succeed("#2 two"))
      assert.deepStrictEqual(served, ["one", "two"])
    }), 30_000)

  it.live("over one dialed connection (fromSocket) the client cannot: the next call never reaches the new server", () =>
    Effect.gen(function*() {
      const single = (address: SocketAddress.SocketAddress) =>
        Layer.effect(EffectSocket.Socket, Effect.map(ConnectEx.dial(address), ({ socket }) => PlatformSocket.fromSocket(socket)))
      const { one, two } = yield* acrossRestart(single, "3 seconds")
      assert.strictEqual(one, "#1 one")
      assert.isTrue(Exit.isFailure(two))
      assert.deepStrictEqual(served, ["one"])
    }), 30_000)
})
