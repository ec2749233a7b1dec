/**
 * The socket as a scoped resource: open, bind, options, addresses, connect time, send / receive and
 * disconnect-for-reuse. Connecting is `ConnectEx.connect`.
 *
 * @since 0.1.0
 */
import * as Core from "@effect-connectex/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as O from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as WsaError from "./errors/WsaError.js"
import { serviceWithEffect } from "./internal/effectVersion.js"
import { begun, operation } from "./internal/port.js"
import { pullStream, sinkEach, streamSpan } from "./internal/pull.js"
import { pullFrom } from "./internal/readerPull.js"
import * as internal from "./internal/socket.js"
import { Iocp, portOf } from "./Iocp.js"
import type * as SocketAddress from "./SocketAddress.js"

type SocketOption = Core.SocketOption
type SocketOptions = Core.SocketOptions

/**
 * An open TCP socket. Opaque: use the functions of this module and `ConnectEx`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Socket {
  readonly [internal.TypeId]: internal.TypeId
  readonly family: SocketAddress.Family
}

/**
 * The options `setOption` takes, with the value type of each.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = SocketOptions

/**
 * @since 0.1.0
 * @category models
 */
export type Option = SocketOption

/**
 * The largest `maxBytes` a single `receive` accepts (64 MiB).
 *
 * @example
 * const chunk = yield* Socket.receive(socket, Socket.MAX_RECEIVE)
 * @since 0.1.0
 */
export const MAX_RECEIVE: number = Core.Options.MAX_RECEIVE

/**
 * Whether a value is a socket opened by `open`.
 *
 * @example
 * if (Socket.isSocket(value)) yield* Socket.send(value, bytes)
 * @since 0.1.0
 * @category guards
 */
export const isSocket = (u: unknown): u is Socket => internal.isSocket(u)

// Each function maps a failure onto its own error union (WsaError.narrowing: Unknown is the catch-all).
const openError = internal.failureOnto(WsaError.openTags)
const bindError = internal.failureOnto(WsaError.bindTags)
const setOptionError = internal.failureOnto(WsaError.setOptionTags)
const addressError = internal.failureOnto(WsaError.addressTags)
const connectTimeError = internal.failureOnto(WsaError.connectTimeTags)
const sendError = internal.failureOnto(WsaError.sendTags)
const receiveError = internal.failureOnto(WsaError.receiveTags)
const shutdownError = internal.failureOnto(WsaError.shutdownTags)
const disconnectError = internal.failureOnto(WsaError.disconnectTags)

/** A synchronous call's value, or its failure as the call's error. */
const settled = <A, E>(result: A | Core.Failure, toError: internal.ToError<E>): Effect.Effect<A, E> =>
  Core.isFailure(result) ? Effect.fail(toError(result)) : Effect.succeed(result)

/** A call that gives nothing back: done, or its failure as the call's error. */
const done = <E>(failure: Core.Failure | undefined, toError: internal.ToError<E>): Effect.Effect<void, E> =>
  failure === undefined ? Effect.void : Effect.fail(toError(failure))

/**
 * Opens a TCP socket of the family, associated with the completion port; closed when the scope closes
 * (even mid-operation: pending operations complete with WSA_OPERATION_ABORTED first).
 *
 * @example
 * const socket = yield* Socket.open({ family: "ipv4" })
 * @since 0.1.0
 * @category constructors
 */
export const open = (options: { readonly family: SocketAddress.Family }): Effect.Effect<Socket, WsaError.OpenError, Scope.Scope | Iocp> =>
  serviceWithEffect(Iocp, (service) =>
    Effect.acquireRelease(
      Effect.suspend(() => settled(Core.Calls.open(portOf(service), options), openError)),
      (socket) => Effect.sync(() => internal.close(socket))
    )
  )

/**
 * Binds the socket to a local address (port 0: the system chooses). Required before `ConnectEx.connect`,
 * as for ConnectEx itself. A second bind is WSAEINVAL on every backend.
 *
 * @example
 * yield* Socket.bind(socket, SocketAddress.ipv4("0.0.0.0", 0))
 * @since 0.1.0
 * @category binding
 */
export const bind = (socket: Socket, address: SocketAddress.SocketAddress): Effect.Effect<void, WsaError.BindError> =>
  Effect.suspend(() => done(Core.Calls.bind(socket, address), bindError))

/**
 * The local address. After a port-0 bind on Linux the port may read 0 until connect chooses it.
 *
 * @example
 * const local = yield* Socket.localAddress(socket) // after connect: the chosen port
 * @since 0.1.0
 * @category addresses
 */
export const localAddress = (socket: Socket): Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> =>
  Effect.suspend(() => settled(Core.Calls.localAddress(socket), addressError))

/**
 * The peer's address; WSAENOTCONN unless connected.
 *
 * @example
 * const peer = yield* Socket.peerAddress(socket)
 * @since 0.1.0
 * @category addresses
 */
export const peerAddress = (socket: Socket): Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> =>
  Effect.suspend(() => settled(Core.Calls.peerAddress(socket), addressError))

/**
 * How long the socket has been connected: `None` before connect and after disconnect. Windows reads the
 * kernel's SO_CONNECT_TIME (whole seconds); other drivers count with Effect's `Clock`, so `TestClock` moves it.
 *
 * @example
 * const connectedFor = yield* Socket.connectTime(socket) // Option<Duration>
 * @since 0.1.0
 * @category addresses
 */
export const connectTime = (socket: Socket): Effect.Effect<O.Option<Duration.Duration>, WsaError.ConnectTimeError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.map(settled(Core.Calls.connectTime(socket, now), connectTimeError), (millis) =>
      millis === undefined ? O.none() : O.some(Duration.millis(millis))))

/**
 * Sets a socket option. `TCP_FASTOPEN` before connect lets the connect's data ride with the SYN.
 *
 * @example
 * yield* Socket.setOption(socket, "TCP_FASTOPEN", true)
 * @since 0.1.0
 * @category options
 */
export const setOption = <K extends SocketOption>(socket: Socket, option: K, value: SocketOptions[K]): Effect.Effect<void, WsaError.SetOptionError> =>
  Effect.suspend(() => done(Core.Calls.setOption(socket, option, value), setOptionError))

/**
 * Sends all of `bytes` (as WSASend does) and returns the length. Sends on one socket are queued in order; on
 * an idle socket the send is first tried synchronously from the caller's bytes, and only the rest (copied) goes
 * through the completion port.
 *
 * @example
 * const sent = yield* Socket.send(socket, new TextEncoder().encode("hello"))
 * @since 0.1.0
 * @category i/o
 */
export const send = (socket: Socket, bytes: Uint8Array): Effect.Effect<number, WsaError.SendError> =>
  Effect.suspend(() => {
    const checked = Core.Io.checkSend(socket, bytes)
    if (Core.isFailure(checked)) return Effect.fail(sendError(checked))
    if (bytes.byteLength === 0) return Effect.succeed(0)
    return Effect.flatMap(begun((onLater) => Core.Io.send(checked, bytes, onLater)), sent).pipe(
      internal.traced("Socket.send", bytes.byteLength)
    )
  })

const sent = (completion: Core.Completion): Effect.Effect<number, WsaError.SendError> =>
  completion.status === 0 ? Effect.succeed(completion.bytes) : Effect.fail(sendError(Core.statusFailure(completion.status, "send")))

/**
 * Receives up to `maxBytes` (1 to 64 MiB). An empty result means the peer closed its side.
 *
 * @example
 * const reply = yield* Socket.receive(socket, 4096)
 * @since 0.1.0
 * @category i/o
 */
export const receive = (socket: Socket, maxBytes: number): Effect.Effect<Uint8Array, WsaError.ReceiveError> =>
  Effect.suspend(() => {
    const checked = Core.Io.checkReceive(socket, maxBytes)
    if (Core.isFailure(checked)) return Effect.fail(receiveError(checked))
    return receiveNow(checked, maxBytes).pipe(internal.traced("Socket.receive", maxBytes))
  })

const noBytes = new Uint8Array(0)

/** The received bytes of a completion, or its WSA error. */
const received = (completion: Core.Completion): Effect.Effect<Uint8Array, WsaError.ReceiveError> =>
  completion.status === 0
    ? Effect.succeed(completion.data ?? noBytes)
    : Effect.fail(receiveError(Core.statusFailure(completion.status, "receive")))

/**
 * What is there now without a callback (the driver's `tryReceive`, on an idle socket); otherwise a receive
 * started inside its wait, in line behind the socket's earlier receives.
 */
const receiveNow = (socket: internal.SocketImpl, maxBytes: number): Effect.Effect<Uint8Array, WsaError.ReceiveError> => {
  const now = Core.Io.tryReceive(socket, maxBytes)
  if (now !== undefined) return received(now)
  return Effect.flatMap(operation((onLater) => Core.Io.receiveLater(socket, maxBytes, onLater)), received)
}

/**
 * Ends the sending direction: once the data already sent is out, the peer sees the end of the stream (a FIN),
 * while this side can still receive its answer. Later sends fail with WSAESHUTDOWN. Idempotent.
 *
 * @example
 * yield* Socket.send(socket, request)
 * yield* Socket.shutdown(socket, "send") // the peer reads to the end, answers, closes
 * const answer = yield* Socket.receive(socket, 65536)
 * @since 0.1.0
 * @category i/o
 */
export const shutdown = (socket: Socket, direction: "send"): Effect.Effect<void, WsaError.ShutdownError> =>
  Effect.suspend(() => {
    const checked = Core.Io.checkShutdown(socket, direction)
    if (checked === "done") return Effect.void
    if (Core.isFailure(checked)) return Effect.fail(shutdownError(checked))
    return Effect.flatMap(operation((onLater) => Core.Io.shutdown(checked, onLater)), (completion) =>
      completion.status === 0 ? Effect.void : Effect.fail(shutdownError(Core.statusFailure(completion.status, "send"))))
  })

/**
 * Ends the connection gracefully, as DisconnectEx does: once every byte already sent is out, the peer sees a
 * normal end of stream (a FIN), never a reset. Sends in progress finish first.
 *
 * Without `reuse` the socket is then as after DisconnectEx: `send` is WSAESHUTDOWN, `connect` WSAEISCONN,
 * while `receive` still returns what the peer sends until its end, and `peerAddress` still answers.
 * With `reuse: true` (TF_REUSE_SOCKET) the socket stays bound and may `ConnectEx.connect` again. On Linux
 * that waits for the peer's own FIN (reading and discarding what it still sends) for at most 2 seconds,
 * then aborts the connection so the socket is free either way.
 *
 * @example
 * yield* Socket.disconnect(socket, { reuse: true })
 * @since 0.1.0
 * @category i/o
 */
export const disconnect = (socket: Socket, options: { readonly reuse: boolean }): Effect.Effect<void, WsaError.DisconnectError> =>
  Effect.suspend(() => {
    const checked = Core.Io.checkDisconnect(socket)
    if (Core.isFailure(checked)) return Effect.fail(disconnectError(checked))
    const reuse = (options as { reuse?: unknown } | undefined)?.reuse === true
    return Effect.flatMap(operation((onLater) => Core.Io.disconnect(checked, reuse, onLater)), (completion) =>
      completion.status === 0 ? Effect.void : Effect.fail(disconnectError(Core.statusFailure(completion.status, "disconnect"))))
  })

const DEFAULT_CHUNK = 64 * 1024

/**
 * The bytes the peer sends, as a `Stream` of chunks, until its end (the stream then ends) or an error (the
 * stream fails with the typed WSA error). A streaming read: every chunk already there is taken in one
 * synchronous step (the driver's `tryReceive`), and only an empty socket waits on the completion port.
 * `chunkSize` (default 65536, 1 to 64 MiB) is the most one chunk holds. Pulled on demand: a slow consumer
 * slows the peer down (TCP back-pressure). Receives started elsewhere on the socket queue in order with it.
 *
 * @example
 * // Effect 3: Stream.runFold(0, ...)
 * const total = yield* Socket.stream(socket).pipe(Stream.runFold(() => 0, (n, chunk) => n + chunk.length))
 * @since 0.1.0
 * @category streaming
 */
export const stream = (socket: Socket, options?: { readonly chunkSize?: number }): Stream.Stream<Uint8Array, WsaError.WsaError> =>
  Stream.suspend(() => {
    const chunkSize = options?.chunkSize ?? DEFAULT_CHUNK
    const badChunkSize = Core.Io.checkReadSize("chunkSize", chunkSize, "receive")
    if (badChunkSize !== undefined) return Stream.fail(receiveError(badChunkSize))
    return pullStream(pullFrom(Core.Reader.makeReader(socket, chunkSize)))
  }).pipe(streamSpan("Socket.stream"))

/**
 * A `Sink` that sends every chunk it is given (in order, each as `send` does: tried synchronously from the
 * chunk's bytes first) and, with `{ shutdown: true }`, ends the sending direction once the upstream ends (a
 * FIN after the data, as `Socket.shutdown`). Fails with the first send's typed error.
 *
 * @example
 * yield* Stream.make(new TextEncoder().encode("hello")).pipe(Stream.run(Socket.sink(socket, { shutdown: true })))
 * @since 0.1.0
 * @category streaming
 */
export const sink = (socket: Socket, options?: { readonly shutdown?: boolean }): Sink.Sink<void, Uint8Array, never, WsaError.WsaError> => {
  const sending = sinkEach((bytes: Uint8Array) => send(socket, bytes))
  return options?.shutdown === true ? Sink.mapEffect(sending, () => shutdown(socket, "send")) : sending
}
