/**
 * A listener as Effect 4's `SocketServer` (`effect/socket/SocketServer`), so that code written for the
 * platform's server (`NodeSocketServer`, and what runs over it: `RpcServer`'s socket protocol, the devtools
 * server) runs unchanged over this library's accepts: `run(handler)` hands each connection to `handler` as
 * `effect/socket`'s pull-based `Socket` (see `PlatformSocket.fromSocket`; its `upgrade` takes the server's side
 * of the TLS handshake), in a scope of its own; `address`
 * is the bound address as a `NetAddress.InetAddress` (the real port after port 0).
 *
 * As with `NodeSocketServer`: connections that arrive before `run` wait (in the kernel's backlog); a handler
 * that fails is logged and ends only its connection; interrupting `run` stops accepting and closes the open
 * connections; the listener closes with the scope of `make` (or the layer). Failures are `SocketServerError`
 * with the library's typed WSA error as the reason's `cause`: `SocketServerOpenError` when listening failed
 * (e.g. `WSAEADDRINUSE`), `SocketServerUnknownError` when the listener itself failed while running.
 *
 * @example
 * import { Effect } from "effect"
 * import * as SocketServer from "effect/socket/SocketServer"
 * import { ConnectEx, PlatformSocketServer, SocketAddress } from "@effect-connectex/effect4"
 *
 * const echo = Effect.gen(function*() {
 *   const server = yield* SocketServer.SocketServer
 *   yield* server.run((socket) =>
 *     Effect.gen(function*() {
 *       const reader = yield* socket.reader
 *       const writer = yield* socket.writer
 *       while (true) yield* writer.writeAll(yield* reader.pull)
 *     }).pipe(Effect.scoped))
 * }).pipe(
 *   Effect.provide(PlatformSocketServer.layer(SocketAddress.ipv4("127.0.0.1", 7007))),
 *   Effect.provide(ConnectEx.layer)
 * )
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"
import type * as Scope from "effect/Scope"
import type * as EffectSocket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import type { Iocp } from "./Iocp.js"
import * as Listener from "./Listener.js"
import * as PlatformSocket from "./PlatformSocket.js"
import type * as SocketAddress from "./SocketAddress.js"

/**
 * Options of `make` / `layer`: the listener's (`backlog`, `reuseAddress`), how each connection is read
 * (`chunkSize`, see `PlatformSocket.fromSocket`) and how connections are served (`concurrency`, `accepts`,
 * see `Listener.ServeOptions`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Listener.ListenOptions {
  readonly chunkSize?: number | undefined
  readonly concurrency?: number | "unbounded" | undefined
  readonly accepts?: number | undefined
}

const openError = (cause: unknown) => new SocketServer.SocketServerError({ reason: new SocketServer.SocketServerOpenError({ cause }) })
const unknownError = (cause: unknown) => new SocketServer.SocketServerError({ reason: new SocketServer.SocketServerUnknownError({ cause }) })

/**
 * The bound address in `effect/net`'s model: `InetAddressV4` or `InetAddressV6` (with its scope id).
 *
 * @example
 * const address = PlatformSocketServer.toNetAddress(SocketAddress.ipv4("127.0.0.1", 8080)) // InetAddressV4, port 8080
 * @since 0.1.0
 * @category addresses
 */
export const toNetAddress = (address: SocketAddress.SocketAddress): NetAddress.InetAddress =>
  address.family === "ipv6" && address.scopeId !== 0
    ? NetAddress.inetAddressFromNativeUnsafe(`${address.host}%${address.scopeId}`, address.port)
    : NetAddress.inetAddressFromNativeUnsafe(address.host, address.port)

/**
 * Listens on `address` and gives Effect 4's `SocketServer` over it; the listener closes with the scope.
 *
 * @example
 * const server = yield* PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", 0))
 * const port = (server.address as NetAddress.InetAddress).port
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  address: SocketAddress.SocketAddress,
  options?: Options
): Effect.Effect<SocketServer.SocketServer["Service"], SocketServer.SocketServerError, Scope.Scope | Iocp> =>
  Effect.gen(function*() {
    const listener = yield* Effect.mapError(Listener.listen(address, options), openError)
    const bound = yield* Effect.mapError(Listener.address(listener), openError)
    const serveOptions: Listener.ServeOptions = { concurrency: options?.concurrency, accepts: options?.accepts }
    const chunkSize = options?.chunkSize
    const run = <R, E, _>(handler: (socket: EffectSocket.Socket) => Effect.Effect<_, E, R>): Effect.Effect<never, SocketServer.SocketServerError, R> =>
      Listener.serve(
        listener,
        ({ socket }) => handler(PlatformSocket.fromSocket(socket, { readSize: chunkSize, tlsServer: true })),
        serveOptions
      ).pipe(Effect.mapError(unknownError)) as Effect.Effect<never, SocketServer.SocketServerError, R>
    return SocketServer.SocketServer.of({ address: toNetAddress(bound), run })
  })

/**
 * Effect 4's `SocketServer` service over a listener on `address` (closed with the layer).
 *
 * @example
 * program.pipe(Effect.provide(PlatformSocketServer.layer(SocketAddress.ipv4("0.0.0.0", 8080))), Effect.provide(ConnectEx.layer))
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  address: SocketAddress.SocketAddress,
  options?: Options
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError, Iocp> => Layer.effect(SocketServer.SocketServer, make(address, options))
