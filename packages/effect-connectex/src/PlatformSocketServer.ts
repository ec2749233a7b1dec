/**
 * A listener as `@effect/platform`'s `SocketServer`, so that code written for the platform's server
 * (`NodeSocketServer` and friends) runs unchanged over this library's accepts: `run(handler)` hands each
 * connection to `handler` as the platform's `Socket` (see `PlatformSocket`), in a scope of its own; `address`
 * is the bound address (the real port after port 0).
 *
 * As with `NodeSocketServer`: connections that arrive before `run` wait (in the kernel's backlog); a handler
 * that fails is logged and ends only its connection; interrupting `run` stops accepting and closes the open
 * connections; the listener closes with the scope of `make` (or the layer). Failures are the platform's
 * `SocketServerError`, with the library's typed WSA error as the `cause`: "Open" when listening failed
 * (e.g. `WSAEADDRINUSE`), "Unknown" when the listener itself failed while running.
 *
 * @example
 * import { SocketServer } from "@effect/platform"
 * import { Effect } from "effect"
 * import { ConnectEx, PlatformSocketServer, SocketAddress } from "effect-connectex"
 *
 * const echo = Effect.gen(function*() {
 *   const server = yield* SocketServer.SocketServer
 *   yield* server.run((socket) => Effect.flatMap(socket.writer, (write) => socket.run(write)).pipe(Effect.scoped))
 * }).pipe(
 *   Effect.provide(PlatformSocketServer.layer(SocketAddress.ipv4("127.0.0.1", 7007))),
 *   Effect.provide(ConnectEx.layer)
 * )
 *
 * @since 0.1.0
 */
import * as SocketServer from "@effect/platform/SocketServer"
import { Effect, Layer, type Scope } from "effect"
import type { Iocp } from "./Iocp.js"
import * as Listener from "./Listener.js"
import * as PlatformSocket from "./PlatformSocket.js"
import type * as SocketAddress from "./SocketAddress.js"

/**
 * Options of `make` / `layer`: the listener's (`backlog`, `reuseAddress`), how each connection is read
 * (`readSize`, `closeCodeIsError`, see `PlatformSocket.Options`) and how connections are served
 * (`concurrency`, `accepts`, see `Listener.ServeOptions`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Listener.ListenOptions, PlatformSocket.Options {
  readonly concurrency?: number | "unbounded" | undefined
  readonly accepts?: number | undefined
}

/**
 * Listens on `address` and gives the platform's `SocketServer` over it; the listener closes with the scope.
 *
 * @example
 * const server = yield* PlatformSocketServer.make(SocketAddress.ipv4("127.0.0.1", 0))
 * const { port } = server.address as SocketServer.TcpAddress
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  address: SocketAddress.SocketAddress,
  options?: Options
): Effect.Effect<SocketServer.SocketServer["Type"], SocketServer.SocketServerError, Scope.Scope | Iocp> =>
  Effect.gen(function*() {
    const listener = yield* Listener.listen(address, options).pipe(
      Effect.mapError((cause) => new SocketServer.SocketServerError({ reason: "Open", cause }))
    )
    const bound = yield* Listener.address(listener).pipe(
      Effect.mapError((cause) => new SocketServer.SocketServerError({ reason: "Open", cause }))
    )
    const serveOptions: Listener.ServeOptions = { concurrency: options?.concurrency, accepts: options?.accepts }
    const run = <R, E, _>(handler: (socket: PlatformSocket.PlatformSocket) => Effect.Effect<_, E, R>) =>
      Listener.serve(
        listener,
        ({ socket }) => Effect.flatMap(PlatformSocket.fromSocket(socket, options), handler),
        serveOptions
      ).pipe(
        Effect.mapError((cause) => new SocketServer.SocketServerError({ reason: "Unknown", cause }))
      ) as Effect.Effect<never, SocketServer.SocketServerError, R>
    return SocketServer.SocketServer.of({
      address: { _tag: "TcpAddress", hostname: bound.host, port: bound.port },
      run
    })
  })

/**
 * The platform's `SocketServer` tag over a listener on `address` (closed with the layer).
 *
 * @example
 * program.pipe(Effect.provide(PlatformSocketServer.layer(SocketAddress.ipv4("0.0.0.0", 8080))), Effect.provide(ConnectEx.layer))
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  address: SocketAddress.SocketAddress,
  options?: Options
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError, Iocp> =>
  Layer.scoped(SocketServer.SocketServer, make(address, options))
