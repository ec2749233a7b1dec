/**
 * The accepting side: a scoped listening socket (bind + listen), `accept` (AcceptEx, optionally with the
 * client's first bytes) giving a scoped connected `Socket` that works with every `Socket` function,
 * `ConnectEx` and `PlatformSocket`, and `serve`, which runs a handler per connection in its own scope.
 *
 * The same guarantees as connecting: one tagged error per WSA code, exactly-once completions, and
 * interruption that cancels the kernel operation and waits for it. Closing the listener (its scope, or the
 * layer) completes every pending accept with `WSA_OPERATION_ABORTED`. A client that resets before its
 * accept completes never fails the listener: the next connection is accepted instead.
 *
 * @example
 * import { Effect } from "effect"
 * import { ConnectEx, Listener, Socket, SocketAddress } from "effect-connectex" // Effect 4: "@effect-connectex/effect4"
 *
 * // an echo server
 * const server = Effect.gen(function*() {
 *   const listener = yield* Listener.listen(SocketAddress.ipv4("127.0.0.1", 7007))
 *   return yield* Listener.serve(listener, ({ socket }) =>
 *     Effect.gen(function*() {
 *       for (let chunk = yield* Socket.receive(socket, 65536); chunk.length > 0; chunk = yield* Socket.receive(socket, 65536)) {
 *         yield* Socket.send(socket, chunk)
 *       }
 *     }))
 * }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer))
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as WsaError from "./errors/WsaError.js"
import * as internal from "./internal/listener.js"
import type { Iocp } from "./Iocp.js"
import type * as Socket from "./Socket.js"
import type * as SocketAddress from "./SocketAddress.js"

/**
 * A listening socket made by `listen`. Opaque: use the functions of this module.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listener {
  readonly [internal.TypeId]: internal.TypeId
  readonly family: SocketAddress.Family
}

/**
 * Options of `listen`: `backlog` (default 511) and `reuseAddress` (SO_REUSEADDR before bind; default true,
 * except on the Windows driver, where it would let another socket take a port in use).
 *
 * @since 0.1.0
 * @category models
 */
export type ListenOptions = internal.ListenOptions

/**
 * Options of `accept`: `receive: n` also waits for the client's first bytes, up to n (AcceptEx's
 * receive-with-accept; on Linux accept, then a receive).
 *
 * @since 0.1.0
 * @category models
 */
export type AcceptOptions = internal.AcceptOptions

/**
 * An accepted connection: the connected socket (closed with the accept's scope), the client's address, and
 * the first bytes when `receive` was given (else empty).
 *
 * @since 0.1.0
 * @category models
 */
export type Accepted = internal.Accepted

/**
 * Options of `serve`: `concurrency` (connections handled at once), `accepts` (accepts kept posted at once),
 * `receive` (each handler starts with the client's first bytes; every connection waits for them on its own,
 * so a client that connects and sends nothing holds up no other).
 *
 * @since 0.1.0
 * @category models
 */
export type ServeOptions = internal.ServeOptions

/**
 * Whether a value is a listener made by `listen`.
 *
 * @example
 * if (Listener.isListener(value)) yield* Listener.address(value)
 * @since 0.1.0
 * @category guards
 */
export const isListener = (u: unknown): u is Listener => internal.isListener(u)

/**
 * Opens a socket of the address's family, binds it (port 0: the system chooses; read it with `address`) and
 * listens. Closed with the scope: pending accepts then complete with WSA_OPERATION_ABORTED. A second listener
 * on an address in use fails with WSAEADDRINUSE.
 *
 * @example
 * const listener = yield* Listener.listen(SocketAddress.ipv4("127.0.0.1", 0), { backlog: 128 })
 * @since 0.1.0
 * @category constructors
 */
export const listen: (
  address: SocketAddress.SocketAddress,
  options?: ListenOptions
) => Effect.Effect<Listener, WsaError.ListenError, Scope.Scope | Iocp> = internal.listen

/**
 * The address the listener is bound to, with the real port after a port-0 listen.
 *
 * @example
 * const { port } = yield* Listener.address(listener)
 * @since 0.1.0
 * @category addresses
 */
export const address = (listener: Listener): Effect.Effect<SocketAddress.SocketAddress, WsaError.WsaError> =>
  internal.address(listener as internal.ListenerImpl)

/**
 * Waits for the next connection and gives it as a scoped connected `Socket` with the peer's address. With
 * `receive: n` it also waits for the client's first bytes (up to n; empty if the client closed first); a client
 * that connects and sends nothing then holds this accept, so bound it (`Effect.timeout`: the interruption
 * cancels the accept and closes the half-accepted connection). Accepting on a socket that is not listening
 * is WSAEINVAL.
 *
 * @example
 * const { socket, peer, data } = yield* Listener.accept(listener, { receive: 4096 })
 * @since 0.1.0
 * @category accepting
 */
export const accept = (
  listener: Listener | Socket.Socket,
  options?: AcceptOptions
): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> =>
  internal.accept(listener as internal.ListenerImpl | Socket.Socket, options)

/**
 * Accepts connections until interrupted or the listener fails, running `handler` for each in a scope of its
 * own (the connection closes when the handler ends). A failing handler is logged and ends only its
 * connection. Interruption stops accepting (the pending accepts are cancelled) and closes every open
 * connection. Fails with the accept's error when the listener itself fails (closed: WSA_OPERATION_ABORTED);
 * WSAEMFILE and WSAENOBUFS only pause it for 50 ms.
 *
 * @example
 * yield* Listener.serve(listener, ({ socket }) => Socket.send(socket, new TextEncoder().encode("hello\n")), { concurrency: 100 })
 * @since 0.1.0
 * @category accepting
 */
export const serve = <E, R>(
  listener: Listener,
  handler: (connection: Accepted) => Effect.Effect<unknown, E, R>,
  options?: ServeOptions
): Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>> =>
  internal.serve(listener as internal.ListenerImpl, handler, options)

/**
 * What `serveChunks` hands its handler with each chunk: the connection's socket (every `Socket` function works
 * on it: `Socket.send` to answer, `Socket.shutdown` to end the sending side), the client's address, and
 * `close` (ends the connection now).
 *
 * @since 0.1.0
 * @category models
 */
export type Connection = internal.Connection

/**
 * Options of `serveChunks`: those of `serve`, and `readSize` (the most one chunk holds, default 65536).
 *
 * @since 0.1.0
 * @category models
 */
export type ServeChunksOptions = internal.ServeChunksOptions

/**
 * Serves connections chunk by chunk, with no fiber per connection: between its chunks an idle connection
 * keeps only its socket and the driver's read registration, as a node:net server's does (a chat or push
 * server with many idle connections). `handler` runs for each chunk a client sends: in place when it returns
 * nothing, in a fiber of its own when it returns an Effect (this connection's reading waits for it:
 * back-pressure). The client's end, a broken connection or a failing handler closes the connection (a
 * failure is logged); interrupting the serve stops accepting, interrupts the handlers in progress and closes
 * every connection. Fails, as `serve`, only when the listener does.
 *
 * @example
 * // an echo server whose idle connections cost what node:net's do
 * yield* Listener.serveChunks(listener, (chunk, { socket }) => Socket.send(socket, chunk))
 * @since 0.1.0
 * @category accepting
 */
export const serveChunks = <E = never, R = never>(
  listener: Listener,
  handler: (chunk: Uint8Array, connection: Connection) => Effect.Effect<unknown, E, R> | void,
  options?: ServeChunksOptions
): Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>> =>
  internal.serveChunks(listener as internal.ListenerImpl, handler, options)

/**
 * The listener's own socket, for `Socket.setOption` and `Socket.localAddress`. It only accepts: connect on it
 * is WSAEINVAL, send and receive WSAENOTCONN.
 *
 * @example
 * yield* Socket.setOption(Listener.socket(listener), "SO_RCVBUF", 1 << 20)
 * @since 0.1.0
 * @category accessors
 */
export const socket = (listener: Listener): Socket.Socket => (listener as internal.ListenerImpl).socket
