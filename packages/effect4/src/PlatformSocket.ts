/**
 * Connections as Effect 4's platform socket (`effect/socket`'s `Socket`): the pull-based `reader` and the
 * scoped `writer`, so that code written against `Socket.Socket` (channels, streams, RPC's socket protocol) runs
 * over this library's typed connects, with `@effect/platform-node`'s `NodeSocket` semantics:
 *
 * - `make` / `layer` dial a new connection each time the reader is acquired (the acquisition's scope owns it;
 *   a reconnect is a new acquisition), to a `SocketAddress` (`ConnectEx.dial`) or a host name and port
 *   (`ConnectEx.dialName`), with the dial options (`bind`, `data`, `retry`, `timeout`, `attemptDelay`);
 *   `fromSocket` wraps a connection you already have, every acquisition reading it;
 * - a pull takes every chunk already there in one step and waits on the completion port only when the socket
 *   is empty; the peer's end fails it with `SocketCloseError(1000)`, closing the reader's scope fails a
 *   suspended pull with `SocketCloseError(1006)`;
 * - the writer writes to the connection of the reader in progress (writes made meanwhile wait for one);
 *   releasing it half-closes the connection (a FIN after the data); a `CloseEvent` ends the reader with that
 *   close and the connection gracefully;
 * - `upgrade` turns the connection into TLS in place (node:tls over `NodeStream`'s Duplex), its handshake
 *   error as the `SocketUpgradeError`'s cause.
 *
 * Failures are `SocketError`s with the library's typed WSA error as the reason's `cause`: `SocketOpenError`
 * when the dial failed (kind "Timeout" for its timeout), `SocketReadError` / `SocketWriteError` when a
 * receive or a send did.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import * as ConnectEx from "./ConnectEx.js"
import * as internal from "./internal/platformSocket.js"
import type * as Socket from "./Socket.js"
import type * as SocketAddress from "./SocketAddress.js"

/**
 * The platform's socket interface (`effect/socket`'s `Socket`), re-exported for signatures.
 *
 * @example
 * const socket: PlatformSocket.PlatformSocket = yield* PlatformSocket.make({ host: "localhost", port: 7 })
 * @since 0.1.0
 * @category models
 */
export type PlatformSocket = EffectSocket.Socket

/**
 * How connections are read.
 *
 * @example
 * PlatformSocket.fromSocket(socket, { readSize: 16 * 1024 })
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the most one read takes (default 65536) */
  readonly readSize?: number | undefined
  /** @deprecated the former name of `readSize` */
  readonly chunkSize?: number | undefined
  /** `upgrade` takes the server's side of the TLS handshake (for connections a listener accepted) */
  readonly tlsServer?: boolean | undefined
}

/**
 * Where `make` and `layer` connect: a `SocketAddress`, or a host name (or literal) and port, dialed with
 * `ConnectEx.dialName` (resolution, Happy Eyeballs).
 *
 * @example
 * const target: PlatformSocket.Target = { host: "localhost", port: 6379 }
 * @since 0.1.0
 * @category models
 */
export type Target = SocketAddress.SocketAddress | { readonly host: string; readonly port: number }

/**
 * The options of `make` and `layer`: how each connection is dialed (`bind`, `data`, `retry`, `timeout`, and
 * for a host name `attemptDelay`) and how it is read.
 *
 * @example
 * PlatformSocket.layer({ host: "localhost", port: 7000 }, { retry: ConnectEx.retryPolicy(3), timeout: "5 seconds" })
 * @since 0.1.0
 * @category models
 */
export type MakeOptions<R = never> = ConnectEx.DialManyOptions<R> & Options

const DEFAULT_READ_SIZE = 64 * 1024

const internalOptions = (options: Options | undefined): internal.Options => ({
  readSize: options?.readSize ?? options?.chunkSize ?? DEFAULT_READ_SIZE,
  tlsServer: options?.tlsServer === true
})

/**
 * A connected socket (from `ConnectEx.dial`, `connect` or `Listener.accept`) as a platform socket: every reader
 * acquisition reads this one connection, and the writer writes to it whether a reader is acquired or not. The
 * connection stays owned by the scope it was opened in (closing the reader's scope leaves it open, unless it
 * was upgraded to TLS: the TLS session then ends with it).
 *
 * @example
 * const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 7))
 * const platform = PlatformSocket.fromSocket(socket)
 * const writer = yield* platform.writer
 * yield* writer.write("hello")
 * @since 0.1.0
 * @category constructors
 */
export const fromSocket = (socket: Socket.Socket, options?: Options): PlatformSocket =>
  internal.make(Effect.succeed(socket), Context.empty(), internalOptions(options), socket)

/** Dials a target: an address with `dial`, a host name (or literal text) with `dialName`. */
const dialTarget = <R>(
  target: Target,
  options: MakeOptions<R> | undefined
): Effect.Effect<Socket.Socket, EffectSocket.SocketError, ConnectEx.ConnectEx | Scope.Scope | R> =>
  Effect.map(
    Effect.mapError(
      "family" in target ? ConnectEx.dial(target, options) : ConnectEx.dialName(target.host, target.port, options),
      (cause) => internal.openError(cause, cause._tag === "TimeoutError" ? "Timeout" : "Unknown")
    ),
    ({ socket }) => socket
  )

/**
 * The platform's socket over connections this library dials, with `NodeSocket.makeNet`'s semantics: each
 * reader acquisition dials a new connection (`ConnectEx.dialName` for a host name, `ConnectEx.dial` for an
 * address; `bind`, `data`, `retry` and `timeout` apply to each) and closes it with the acquisition's scope,
 * so a client that reconnects after the server closed its connection (RPC's socket protocol does) gets a new
 * one. A dial that fails fails the acquisition with `SocketOpenError`, the library's typed error its cause.
 *
 * @example
 * const socket = yield* PlatformSocket.make({ host: "localhost", port: 7 }, { timeout: "5 seconds" })
 * const reader = yield* socket.reader
 * const writer = yield* socket.writer
 * yield* writer.write("hello")
 * const echoed = yield* reader.pull
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(
  target: Target,
  options?: MakeOptions<R>
): Effect.Effect<PlatformSocket, never, ConnectEx.ConnectEx | R> =>
  Effect.map(Effect.context<ConnectEx.ConnectEx | R>(), (context) =>
    internal.make(dialTarget(target, options), context, internalOptions(options)))

/**
 * `make` as a layer of `effect/socket`'s `Socket` service, so that `Socket.toChannel`, RPC's socket protocol
 * and anything built on the platform's socket works unchanged.
 *
 * @example
 * program.pipe(Effect.provide(PlatformSocket.layer({ host: "localhost", port: 7 })), Effect.provide(ConnectEx.layer))
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  target: Target,
  options?: MakeOptions<R>
): Layer.Layer<EffectSocket.Socket, never, ConnectEx.ConnectEx | R> => Layer.effect(EffectSocket.Socket, make(target, options))

/**
 * The platform's `Socket` service, re-exported for convenience.
 *
 * @example
 * const socket = yield* PlatformSocket.Tag
 * @since 0.1.0
 * @category tags
 */
export const Tag: Context.Service<EffectSocket.Socket, EffectSocket.Socket> = EffectSocket.Socket
