/**
 * The socket as a scoped resource: open, bind, options, addresses, connect time, send / receive and
 * disconnect-for-reuse. Connecting is `ConnectEx.connect`.
 *
 * @since 0.1.0
 */
import * as Core from "@effect-connectex/core"
import { Chunk, Clock, Duration, Effect, Option, Sink, type Scope, Stream } from "effect"
import * as WsaError from "./errors/WsaError.js"
import { makeReader } from "./internal/reader.js"
import * as internal from "./internal/socket.js"
import { Iocp, portOf } from "./Iocp.js"
import * as Metrics from "./Metrics.js"
import * as SocketAddress from "./SocketAddress.js"

type SocketOption = Core.SocketOption
type SocketOptions = Core.SocketOptions
const describe = Core.describe

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

// Each function maps a kernel status onto its own error union (WsaError.narrowing: Unknown is the catch-all).
const openError = internal.statusOnto(WsaError.openTags)
const bindError = internal.statusOnto(WsaError.bindTags)
const setOptionError = internal.statusOnto(WsaError.setOptionTags)
const addressError = internal.statusOnto(WsaError.addressTags)
const connectTimeError = internal.statusOnto(WsaError.connectTimeTags)
const sendError = internal.statusOnto(WsaError.sendTags)
const receiveError = internal.statusOnto(WsaError.receiveTags)
const shutdownError = internal.statusOnto(WsaError.shutdownTags)
const disconnectError = internal.statusOnto(WsaError.disconnectTags)

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
  Effect.flatMap(Iocp, (service) => {
    const port = portOf(service)
    return Effect.acquireRelease(
      Effect.suspend((): Effect.Effect<internal.SocketImpl, WsaError.OpenError> => {
        const family = (options as { family?: unknown } | null | undefined)?.family
        if (family !== "ipv4" && family !== "ipv6") {
          return Effect.fail(internal.wsaError("WSAEAFNOSUPPORT", "socket", undefined, `family must be "ipv4" or "ipv6", got ${describe(family)}`))
        }
        if (!port.isOpen()) return Effect.fail(internal.wsaError("WSANOTINITIALISED", "socket"))
        const result = port.driver.open(family)
        if (!result.ok) return Effect.fail(openError(result.code, "socket"))
        port.track(result.value)
        Metrics.openSockets.unsafeModify(1, [])
        return Effect.succeed(new internal.SocketImpl(family, result.value, port))
      }),
      (socket) =>
        Effect.sync(() => {
          internal.close(socket)
          Metrics.openSockets.unsafeModify(-1, [])
        })
    )
  })

/**
 * Binds the socket to a local address (port 0: the system chooses). Binding is required before
 * `ConnectEx.connect`; a second bind is WSAEINVAL on every backend.
 *
 * @example
 * yield* Socket.bind(socket, SocketAddress.ipv4("0.0.0.0", 0))
 * @since 0.1.0
 * @category binding
 */
export const bind = (socket: Socket, address: SocketAddress.SocketAddress): Effect.Effect<void, WsaError.BindError> =>
  Effect.suspend((): Effect.Effect<void, WsaError.BindError> => {
    const impl = internal.usableSync(socket, "bind")
    if (!internal.isSocket(impl)) return Effect.fail(impl)
    const local = SocketAddress.validateSync(address, "bind")
    if (WsaError.isWsaError(local)) return Effect.fail(local)
    const refusal = Core.SocketState.checkBind(impl, local)
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "bind", local))
    const status = impl.port.driver.bind(impl.native, local, local.port === 0)
    if (status !== 0) return Effect.fail(bindError(status, "bind", local))
    Core.SocketState.bound(impl)
    return Effect.void
  })

const addressOf = (operation: "localAddress" | "peerAddress") =>
(socket: Socket): Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> =>
  Effect.flatMap(internal.usable(socket, operation), (impl): Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> => {
    const refusal = operation === "localAddress" ? Core.SocketState.checkLocalAddress(impl) : Core.SocketState.checkReceive(impl)
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, operation))
    const result = operation === "localAddress" ? impl.port.driver.localAddress(impl.native) : impl.port.driver.peerAddress(impl.native)
    return result.ok ? Effect.succeed(result.value) : Effect.fail(addressError(result.code, operation))
  })

/**
 * The local address. After a port-0 bind on Linux the port may read 0 until connect chooses it.
 *
 * @example
 * const local = yield* Socket.localAddress(socket) // after connect: the chosen port
 * @since 0.1.0
 * @category addresses
 */
export const localAddress: (socket: Socket) => Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> = addressOf("localAddress")

/**
 * The peer's address; WSAENOTCONN unless connected.
 *
 * @example
 * const peer = yield* Socket.peerAddress(socket)
 * @since 0.1.0
 * @category addresses
 */
export const peerAddress: (socket: Socket) => Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> = addressOf("peerAddress")

/**
 * How long the socket has been connected: `None` before connect and after disconnect. Windows reads the
 * kernel's SO_CONNECT_TIME (whole seconds); other drivers count with Effect's `Clock`, so `TestClock` moves it.
 *
 * @example
 * const connectedFor = yield* Socket.connectTime(socket) // Option<Duration>
 * @since 0.1.0
 * @category addresses
 */
export const connectTime = (socket: Socket): Effect.Effect<Option.Option<Duration.Duration>, WsaError.ConnectTimeError> =>
  Effect.flatMap(internal.usable(socket, "connectTime"), (impl): Effect.Effect<Option.Option<Duration.Duration>, WsaError.ConnectTimeError> => {
    if (!Core.SocketState.isConnected(impl)) return Effect.succeed(Option.none())
    const kernel = impl.port.driver.connectTime?.(impl.native)
    if (kernel !== undefined) {
      if (!kernel.ok) return Effect.fail(connectTimeError(kernel.code, "connectTime"))
      return Effect.succeed(kernel.value === undefined ? Option.none() : Option.some(Duration.seconds(kernel.value)))
    }
    return Effect.map(Clock.currentTimeMillis, (now) => Option.some(Duration.millis(Math.max(0, now - (impl.connectedAt ?? now)))))
  })

/**
 * Sets a socket option. `TCP_FASTOPEN` before connect lets the connect's data ride with the SYN.
 *
 * @example
 * yield* Socket.setOption(socket, "TCP_FASTOPEN", true)
 * @since 0.1.0
 * @category options
 */
export const setOption = <K extends SocketOption>(socket: Socket, option: K, value: SocketOptions[K]): Effect.Effect<void, WsaError.SetOptionError> =>
  Effect.flatMap(internal.usable(socket, "setsockopt"), (impl): Effect.Effect<void, WsaError.SetOptionError> => {
    const invalid = Core.Options.checkOption(option, value)
    if (invalid !== undefined) return Effect.fail(internal.wsaError(invalid.name, "setsockopt", undefined, invalid.detail))
    const status = impl.port.driver.setOption(impl.native, option, value)
    return status === 0 ? Effect.void : Effect.fail(setOptionError(status, "setsockopt"))
  })


/**
 * Sends all of `bytes` (as WSASend does) and returns the length. Sends on one socket are queued in order.
 *
 * @example
 * const sent = yield* Socket.send(socket, new TextEncoder().encode("hello"))
 * @since 0.1.0
 * @category i/o
 */
export const send = (socket: Socket, bytes: Uint8Array): Effect.Effect<number, WsaError.SendError> =>
  Effect.suspend((): Effect.Effect<number, WsaError.SendError> => {
    const impl = internal.checkedSync(socket, "send", Core.SocketState.checkSend)
    if (!internal.isSocket(impl)) return Effect.fail(impl)
    if (!(bytes instanceof Uint8Array)) return Effect.fail(internal.wsaError("WSAEFAULT", "send", undefined, "bytes must be a Uint8Array"))
    if (bytes.byteLength === 0) return Effect.succeed(0)
    return internal.traced("Socket.send", bytes.byteLength, sendQueued(impl, bytes))
  })

/**
 * A send in order behind the socket's earlier sends. On an idle socket it is first tried synchronously
 * from the caller's bytes (the driver's `trySend`): done at once when the kernel takes them all, else only
 * the rest, copied, goes through the completion port. A send that must queue copies its bytes first, so
 * the caller's buffer is never read once this call has returned control.
 *
 * The rest of a partial send is started in the same synchronous step, and the send queue is released by that
 * operation's own completion (which always comes, a cancel included), not by a finalizer of the waiting
 * fiber: an interruption landing before the fiber reached its wait (a fiber may yield after any operation)
 * once stranded the queue this way, and every later send on the socket hung.
 */
const sendQueued = (socket: internal.SocketImpl, bytes: Uint8Array): Effect.Effect<number, WsaError.SendError> => {
  const queue = socket.sendQueue
  const driver = socket.port.driver
  if (queue.tryAcquire()) {
    if (driver.trySend === undefined) {
      return internal.startReleasing(socket, queue, (done) => driver.send(socket.native, bytes, done), 0, sendError)
    }
    const first = driver.trySend(socket.native, bytes)
    if (!Core.isPartialSend(first)) {
      queue.release()
      return first.status === 0 ? Effect.succeed(first.bytes) : Effect.fail(sendError(first.status, "send"))
    }
    return internal.startReleasing(socket, queue, (done) => driver.send(socket.native, first.rest, done, true), first.sent, sendError)
  }
  const copy = bytes.slice()
  return queue.with(Effect.map(internal.submit(socket, "send", (done) => driver.send(socket.native, copy, done, true), sendError), (c) => c.bytes))
}

/**
 * Receives up to `maxBytes` (1 to 64 MiB). An empty result means the peer closed its side.
 *
 * @example
 * const reply = yield* Socket.receive(socket, 4096)
 * @since 0.1.0
 * @category i/o
 */
export const receive = (socket: Socket, maxBytes: number): Effect.Effect<Uint8Array, WsaError.ReceiveError> =>
  Effect.suspend((): Effect.Effect<Uint8Array, WsaError.ReceiveError> => {
    const impl = internal.checkedSync(socket, "receive", Core.SocketState.checkReceive)
    if (!internal.isSocket(impl)) return Effect.fail(impl)
    const badMaxBytes = Core.Options.checkReceiveSize("maxBytes", maxBytes)
    if (badMaxBytes !== undefined) return Effect.fail(internal.wsaError("WSAEINVAL", "receive", undefined, badMaxBytes))
    return internal.traced("Socket.receive", maxBytes, receiveQueued(impl, maxBytes))
  })

const noBytes = new Uint8Array(0)

/** The received bytes of a completion, or its WSA error. */
const received = (completion: Core.Completion): Effect.Effect<Uint8Array, WsaError.ReceiveError> =>
  completion.status === 0
    ? Effect.succeed(completion.data ?? noBytes)
    : Effect.fail(receiveError(completion.status, "receive"))

/**
 * A receive in order behind the socket's earlier receives. On an idle socket the driver's `tryReceive`
 * goes first: data already there completes it without arming anything or waiting on the port.
 */
const receiveQueued = (socket: internal.SocketImpl, maxBytes: number): Effect.Effect<Uint8Array, WsaError.ReceiveError> => {
  const queue = socket.receiveQueue
  const driver = socket.port.driver
  if (queue.idle && driver.tryReceive !== undefined) {
    const now = driver.tryReceive(socket.native, maxBytes)
    if (now !== undefined) return received(now)
  }
  return queue.with(Effect.flatMap(socket.port.submit((done) => driver.receive(socket.native, maxBytes, done)), received))
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
  Effect.flatMap(internal.usable(socket, "send"), (impl): Effect.Effect<void, WsaError.ShutdownError> => {
    if (direction !== "send") {
      return Effect.fail(internal.wsaError("WSAEINVAL", "send", undefined, `only the "send" direction can be shut down, got ${describe(direction)}`))
    }
    const refusal = Core.SocketState.checkShutdown(impl)
    if (refusal === "done") return Effect.void
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "send"))
    // Queued behind sends in progress, so that the FIN follows all the data.
    return impl.sendQueue.with(Effect.suspend((): Effect.Effect<void, WsaError.ShutdownError> => {
      if (Core.SocketState.checkShutdown(impl) === "done") return Effect.void
      const status = impl.port.driver.shutdownSend(impl.native)
      if (status !== 0) return Effect.fail(shutdownError(status, "send"))
      Core.SocketState.shutDown(impl)
      return Effect.void
    }))
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
  Effect.flatMap(internal.checked(socket, "disconnect", Core.SocketState.checkDisconnect), (impl) => {
    const reuse = (options as { reuse?: unknown } | undefined)?.reuse === true
    // Queued behind sends in progress, so that the FIN follows all the data (as shutdown does).
    return impl.sendQueue.with(Effect.suspend((): Effect.Effect<void, WsaError.DisconnectError> => {
      const refusal = Core.SocketState.checkDisconnect(impl)
      if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "disconnect"))
      return Effect.asVoid(
        internal.submit(impl, "disconnect", (done) =>
          impl.port.driver.disconnect(impl.native, reuse, (completion) => {
            Core.SocketState.settleDisconnect(impl, completion.status, reuse)
            done(completion)
          }), disconnectError)
      )
    }))
  })

/**
 * The bytes the peer sends, as a `Stream` of chunks, until its end (the stream then ends) or an error (the
 * stream fails with the typed WSA error). A streaming read: every chunk already there is taken in one
 * synchronous step (into the driver's pooled buffer, only the bytes received copied out), and only an
 * empty socket waits on the completion port, with the poll handle kept armed while the stream is read.
 * `chunkSize` (default 65536, 1 to 64 MiB) is the most one chunk holds. Pulled on demand: a slow consumer
 * slows the peer down (TCP back-pressure). Receives started elsewhere on the socket queue in order with it.
 *
 * @example
 * const all = yield* Socket.stream(socket).pipe(Stream.runFold(0, (n, chunk) => n + chunk.length))
 * @since 0.1.0
 * @category streaming
 */
export const stream = (socket: Socket, options?: { readonly chunkSize?: number }): Stream.Stream<Uint8Array, WsaError.WsaError> =>
  Stream.suspend(() => {
    const chunkSize = options?.chunkSize ?? DEFAULT_CHUNK
    const badChunkSize = Core.Options.checkReceiveSize("chunkSize", chunkSize)
    if (badChunkSize !== undefined) return Stream.fail(internal.wsaError("WSAEINVAL", "receive", undefined, badChunkSize))
    const { pull } = makeReader(socket, chunkSize)
    return Stream.repeatEffectChunkOption(
      Effect.matchEffect(pull, {
        onFailure: (error) => Effect.fail(Option.some(error)),
        onSuccess: (chunks) => chunks === undefined ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(chunks))
      })
    )
  }).pipe(Stream.withSpan("Socket.stream", { captureStackTrace: false }))

const DEFAULT_CHUNK = 64 * 1024

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
  const sending = Sink.forEachChunk((chunk: Chunk.Chunk<Uint8Array>) =>
    Chunk.size(chunk) === 1
      ? Effect.asVoid(send(socket, Chunk.unsafeGet(chunk, 0)))
      : Effect.forEach(chunk, (bytes) => send(socket, bytes), { discard: true })
  )
  return options?.shutdown === true ? Sink.mapEffect(sending, () => shutdown(socket, "send")) : sending
}
