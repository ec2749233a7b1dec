/**
 * A connection as Effect 4's platform socket (`effect/socket`): the pull-based `reader` / `writer` pair, so that
 * code written against `Socket.Socket` (channels, streams, protocols) runs over ConnectEx.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import * as ConnectEx from "./ConnectEx.js"
import { makeReader } from "./internal/reader.js"
import type * as Iocp from "./Iocp.js"
import * as Socket from "./Socket.js"
import type * as SocketAddress from "./SocketAddress.js"

const encoder = new TextEncoder()

const readError = (cause: unknown) => new EffectSocket.SocketError({ reason: new EffectSocket.SocketReadError({ cause }) })
const writeError = (cause: unknown) => new EffectSocket.SocketError({ reason: new EffectSocket.SocketWriteError({ cause }) })
const closeError = (code: number) => new EffectSocket.SocketError({ reason: new EffectSocket.SocketCloseError({ code }) })

/** The reader of a connected socket: a peer's end of stream fails the pull with SocketCloseError(1000). */
const readerOf = (socket: Socket.Socket, chunkSize: number): Effect.Effect<EffectSocket.Reader<Uint8Array>, never, Scope.Scope> =>
  Effect.gen(function*() {
    // The streaming read of Socket.stream: every chunk already there in one pull, the port only when empty.
    const reader = makeReader(socket, chunkSize)
    // Closing the reader's scope fails a pull that is suspended (the effect/socket contract): the reader is
    // aborted, which cancels the receive that pull waits on (no race of two fibers per pull).
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        reader.abort()
      })
    )
    const pull = reader.pull.pipe(
      Effect.mapError((error) => closed && error._tag === "WSA_OPERATION_ABORTED" ? closeError(1006) : readError(error)),
      Effect.flatMap((chunks) => chunks === undefined ? Effect.fail(closeError(1000)) : Effect.succeed(chunks))
    )
    return { pull, upgrade: EffectSocket.SocketUpgradeError.unsupported }
  })

const writerOf = (connected: Effect.Effect<Socket.Socket>): EffectSocket.Writer => {
  const write = (chunk: Uint8Array | string | EffectSocket.CloseEvent): Effect.Effect<void, EffectSocket.SocketError> =>
    Effect.flatMap(connected, (socket) =>
      EffectSocket.isCloseEvent(chunk)
        ? Effect.mapError(Socket.shutdown(socket, "send"), writeError)
        : Effect.asVoid(Effect.mapError(Socket.send(socket, typeof chunk === "string" ? encoder.encode(chunk) : chunk), writeError)))
  return { write, writeAll: (chunks) => Effect.forEach(chunks, write, { discard: true }) }
}

/**
 * A socket already connected (by `ConnectEx.dial` or `connect`) as a platform socket. The connection stays
 * owned by the scope it was opened in; writing a `CloseEvent` half-closes it (FIN).
 *
 * @example
 * const { socket } = yield* ConnectEx.dial(target)
 * const platform = PlatformSocket.fromSocket(socket)
 * @since 0.1.0
 * @category constructors
 */
export const fromSocket = (socket: Socket.Socket, options?: { readonly chunkSize?: number }): EffectSocket.Socket =>
  EffectSocket.make({
    reader: readerOf(socket, options?.chunkSize ?? 65536),
    writer: Effect.succeed(writerOf(Effect.succeed(socket)))
  })

/**
 * A platform socket that dials `address` each time its reader is acquired (the reader's scope owns the
 * connection, as `effect/socket` expects; a reconnect is a new acquisition). Writes wait until it is connected.
 * A failed dial is a `SocketOpenError`.
 *
 * @example
 * const platform = yield* PlatformSocket.make(SocketAddress.ipv4("127.0.0.1", 8080), { timeout: "5 seconds" })
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  address: SocketAddress.SocketAddress,
  options?: { readonly timeout?: ConnectEx.DialOptions["timeout"]; readonly chunkSize?: number }
): Effect.Effect<EffectSocket.Socket, never, ConnectEx.ConnectEx | Iocp.Iocp> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<ConnectEx.ConnectEx | Iocp.Iocp>()
    let connected = yield* Deferred.make<Socket.Socket>()
    const reader = Effect.gen(function*() {
      const { socket } = yield* ConnectEx.dial(address, { timeout: options?.timeout }).pipe(
        Effect.provideContext(context),
        Effect.mapError((cause) =>
          new EffectSocket.SocketError({
            reason: new EffectSocket.SocketOpenError({ kind: cause._tag === "TimeoutError" ? "Timeout" : "Unknown", cause })
          }))
      )
      yield* Deferred.succeed(connected, socket)
      yield* Effect.addFinalizer(() => Effect.sync(() => void (connected = Deferred.makeUnsafe<Socket.Socket>())))
      return yield* readerOf(socket, options?.chunkSize ?? 65536)
    })
    return EffectSocket.make({
      reader,
      writer: Effect.succeed(writerOf(Effect.suspend(() => Deferred.await(connected))))
    })
  })

/**
 * `make` as a layer of `effect/socket`'s `Socket` service.
 *
 * @example
 * program.pipe(Effect.provide(PlatformSocket.layer(target)), Effect.provide(ConnectEx.layer))
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  address: SocketAddress.SocketAddress,
  options?: { readonly timeout?: ConnectEx.DialOptions["timeout"]; readonly chunkSize?: number }
): Layer.Layer<EffectSocket.Socket, never, ConnectEx.ConnectEx | Iocp.Iocp> => Layer.effect(EffectSocket.Socket, make(address, options))
