/**
 * The socket as a scoped resource: open, bind, options, addresses, connect time, send / receive and
 * disconnect-for-reuse. Connecting is `ConnectEx.connect`.
 *
 * @since 0.1.0
 */
import * as Core from "@effect-connectex/core"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as O from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
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

/**
 * Opens a TCP socket of the family, associated with the completion port; closed when the scope closes
 * (even mid-operation: pending operations complete with WSA_OPERATION_ABORTED first).
 *
 * @example
 * const socket = yield* Socket.open({ family: "ipv4" })
 * @since 0.1.0
 * @category constructors
 */
export const open = (options: { readonly family: SocketAddress.Family }): Effect.Effect<Socket, WsaError.WsaError, Scope.Scope | Iocp> =>
  Iocp.use((service) => {
    const port = portOf(service)
    return Effect.acquireRelease(
      Effect.suspend(() => {
        const family = (options as { family?: unknown } | null | undefined)?.family
        if (family !== "ipv4" && family !== "ipv6") {
          return Effect.fail(internal.wsaError("WSAEAFNOSUPPORT", "socket", undefined, `family must be "ipv4" or "ipv6", got ${describe(family)}`))
        }
        if (!port.isOpen()) return Effect.fail(internal.wsaError("WSANOTINITIALISED", "socket"))
        const result = port.driver.open(family)
        if (!result.ok) return Effect.fail(internal.fromStatus(result.code, "socket"))
        port.track(result.value)
        Metrics.unsafe.openSockets(1)
        return Effect.succeed(new internal.SocketImpl(family, result.value, port))
      }),
      (socket) =>
        Effect.sync(() => {
          internal.close(socket)
          Metrics.unsafe.openSockets(-1)
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
export const bind = (socket: Socket, address: SocketAddress.SocketAddress): Effect.Effect<void, WsaError.WsaError> =>
  Effect.suspend(() => {
    const s = internal.usableSync(socket, "bind")
    if (!internal.isSocket(s)) return Effect.fail(s)
    const local = SocketAddress.validateSync(address, "bind")
    if (WsaError.isWsaError(local)) return Effect.fail(local)
    const refusal = Core.SocketState.checkBind(s, local)
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "bind", local))
    const status = s.port.driver.bind(s.native, local, local.port === 0)
    if (status !== 0) return Effect.fail(internal.fromStatus(status, "bind", local))
    Core.SocketState.bound(s)
    return Effect.void
  })

const addressOf = (operation: "localAddress" | "peerAddress") =>
(socket: Socket): Effect.Effect<SocketAddress.SocketAddress, WsaError.WsaError> =>
  Effect.flatMap(internal.usable(socket, operation), (s) => {
    const refusal = operation === "localAddress" ? Core.SocketState.checkLocalAddress(s) : Core.SocketState.checkReceive(s)
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, operation))
    const result = operation === "localAddress" ? s.port.driver.localAddress(s.native) : s.port.driver.peerAddress(s.native)
    return result.ok ? Effect.succeed(result.value) : Effect.fail(internal.fromStatus(result.code, operation))
  })

/**
 * The local address. After a port-0 bind on Linux the port may read 0 until connect chooses it.
 *
 * @example
 * const local = yield* Socket.localAddress(socket) // after connect: the chosen port
 * @since 0.1.0
 * @category addresses
 */
export const localAddress: (socket: Socket) => Effect.Effect<SocketAddress.SocketAddress, WsaError.WsaError> = addressOf("localAddress")

/**
 * The peer's address; WSAENOTCONN unless connected.
 *
 * @example
 * const peer = yield* Socket.peerAddress(socket)
 * @since 0.1.0
 * @category addresses
 */
export const peerAddress: (socket: Socket) => Effect.Effect<SocketAddress.SocketAddress, WsaError.WsaError> = addressOf("peerAddress")

/**
 * How long the socket has been connected: `None` before connect and after disconnect. Windows reads the
 * kernel's SO_CONNECT_TIME (whole seconds); other drivers count with Effect's `Clock`, so `TestClock` moves it.
 *
 * @example
 * const connectedFor = yield* Socket.connectTime(socket) // Option<Duration>
 * @since 0.1.0
 * @category addresses
 */
export const connectTime = (socket: Socket): Effect.Effect<O.Option<Duration.Duration>, WsaError.WsaError> =>
  Effect.flatMap(internal.usable(socket, "connectTime"), (s) => {
    if (!Core.SocketState.isConnected(s)) return Effect.succeed(O.none())
    const kernel = s.port.driver.connectTime?.(s.native)
    if (kernel !== undefined) {
      if (!kernel.ok) return Effect.fail(internal.fromStatus(kernel.code, "connectTime"))
      return Effect.succeed(kernel.value === undefined ? O.none() : O.some(Duration.seconds(kernel.value)))
    }
    return Effect.map(Clock.currentTimeMillis, (now) => O.some(Duration.millis(Math.max(0, now - (s.connectedAt ?? now)))))
  })

/**
 * Sets a socket option. `TCP_FASTOPEN` before connect lets the connect's data ride with the SYN.
 *
 * @example
 * yield* Socket.setOption(socket, "TCP_FASTOPEN", true)
 * @since 0.1.0
 * @category options
 */
export const setOption = <K extends SocketOption>(socket: Socket, option: K, value: SocketOptions[K]): Effect.Effect<void, WsaError.WsaError> =>
  Effect.flatMap(internal.usable(socket, "setsockopt"), (s) => {
    const invalid = Core.Options.checkOption(option, value)
    if (invalid !== undefined) return Effect.fail(internal.wsaError(invalid.name, "setsockopt", undefined, invalid.detail))
    const status = s.port.driver.setOption(s.native, option, value)
    return status === 0 ? Effect.void : Effect.fail(internal.fromStatus(status, "setsockopt"))
  })

/** The socket, if the state machine lets `operation` proceed on it. */
const checked = (
  socket: Socket,
  operation: "send" | "receive" | "disconnect",
  check: (s: internal.SocketImpl) => Core.SocketState.Refusal | undefined
) =>
  Effect.flatMap(internal.usable(socket, operation), (s) => {
    const refusal = check(s)
    return refusal === undefined ? Effect.succeed(s) : Effect.fail(internal.refused(refusal, operation))
  })

/**
 * Sends all of `bytes` (as WSASend does) and returns the length. Sends on one socket are queued in order.
 *
 * @example
 * const sent = yield* Socket.send(socket, new TextEncoder().encode("hello"))
 * @since 0.1.0
 * @category i/o
 */
export const send = (socket: Socket, bytes: Uint8Array): Effect.Effect<number, WsaError.WsaError> =>
  Effect.suspend(() => {
    const s = internal.checkedSync(socket, "send", Core.SocketState.checkSend)
    if (!internal.isSocket(s)) return Effect.fail(s)
    if (!(bytes instanceof Uint8Array)) return Effect.fail(internal.wsaError("WSAEFAULT", "send", undefined, "bytes must be a Uint8Array"))
    if (bytes.byteLength === 0) return Effect.succeed(0)
    return sendQueued(s, bytes).pipe(internal.traced("Socket.send", bytes.byteLength))
  })

/**
 * A send in order behind the socket's earlier sends. On an idle socket it is first tried synchronously from
 * the caller's bytes (the driver's `trySend`): done at once when the kernel takes them all, else only the
 * rest, copied, goes through the completion port. A send that must queue copies its bytes first, so the
 * caller's buffer is never read once this call has returned control. The queue is taken and its release
 * installed in one uninterruptible step (only the waits are interruptible): an interruption landing in between
 * (a fiber can yield after any operation) would otherwise strand the queue and every later send.
 */
const sendQueued = (s: internal.SocketImpl, bytes: Uint8Array): Effect.Effect<number, WsaError.WsaError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.suspend((): Effect.Effect<number, WsaError.WsaError> => {
      const queue = s.sendQueue
      const driver = s.port.driver
      const submit = (payload: Uint8Array, owned: boolean) =>
        internal.submit(s, "send", (done) => driver.send(s.native, payload, done, owned))
      if (!queue.tryAcquire()) {
        const copy = bytes.slice()
        return Effect.andThen(
          restore(queue.acquire),
          Effect.ensuring(restore(Effect.map(submit(copy, true), (c) => c.bytes)), queue.releaseEffect)
        )
      }
      if (driver.trySend === undefined) {
        return Effect.ensuring(restore(Effect.map(submit(bytes, false), (c) => c.bytes)), queue.releaseEffect)
      }
      const first = driver.trySend(s.native, bytes)
      if (!Core.isPartialSend(first)) {
        queue.release()
        return first.status === 0 ? Effect.succeed(first.bytes) : Effect.fail(internal.fromStatus(first.status, "send"))
      }
      return Effect.ensuring(restore(Effect.map(submit(first.rest, true), (c) => first.sent + c.bytes)), queue.releaseEffect)
    })
  )

/**
 * Receives up to `maxBytes` (1 to 64 MiB). An empty result means the peer closed its side.
 *
 * @example
 * const reply = yield* Socket.receive(socket, 4096)
 * @since 0.1.0
 * @category i/o
 */
export const receive = (socket: Socket, maxBytes: number): Effect.Effect<Uint8Array, WsaError.WsaError> =>
  Effect.suspend(() => {
    const s = internal.checkedSync(socket, "receive", Core.SocketState.checkReceive)
    if (!internal.isSocket(s)) return Effect.fail(s)
    const badMaxBytes = Core.Options.checkReceiveSize("maxBytes", maxBytes)
    if (badMaxBytes !== undefined) return Effect.fail(internal.wsaError("WSAEINVAL", "receive", undefined, badMaxBytes))
    return receiveQueued(s, maxBytes).pipe(internal.traced("Socket.receive", maxBytes))
  })

const noBytes = new Uint8Array(0)

/** The received bytes of a completion, or its WSA error. */
const received = (completion: Core.Completion): Effect.Effect<Uint8Array, WsaError.WsaError> =>
  completion.status === 0 ? Effect.succeed(completion.data ?? noBytes) : Effect.fail(internal.fromStatus(completion.status, "receive"))

/**
 * A receive in order behind the socket's earlier receives. On an idle socket the driver's `tryReceive` goes
 * first: data already there completes it without arming anything or waiting on the port.
 */
const receiveQueued = (s: internal.SocketImpl, maxBytes: number): Effect.Effect<Uint8Array, WsaError.WsaError> => {
  const queue = s.receiveQueue
  const driver = s.port.driver
  if (queue.idle && driver.tryReceive !== undefined) {
    const now = driver.tryReceive(s.native, maxBytes)
    if (now !== undefined) return received(now)
  }
  return queue.with(Effect.flatMap(s.port.submit((done) => driver.receive(s.native, maxBytes, done)), received))
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
export const shutdown = (socket: Socket, direction: "send"): Effect.Effect<void, WsaError.WsaError> =>
  Effect.flatMap(internal.usable(socket, "send"), (s) => {
    if (direction !== "send") {
      return Effect.fail(internal.wsaError("WSAEINVAL", "send", undefined, `only the "send" direction can be shut down, got ${describe(direction)}`))
    }
    const refusal = Core.SocketState.checkShutdown(s)
    if (refusal === "done") return Effect.void
    if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "send"))
    // Queued behind sends in progress, so that the FIN follows all the data.
    return s.sendQueue.with(Effect.suspend(() => {
      if (Core.SocketState.checkShutdown(s) === "done") return Effect.void
      const status = s.port.driver.shutdownSend(s.native)
      if (status !== 0) return Effect.fail(internal.fromStatus(status, "send"))
      Core.SocketState.shutDown(s)
      return Effect.void
    }))
  })

/**
 * Ends the connection. With `reuse: true` (DisconnectEx with TF_REUSE_SOCKET) the socket stays bound and
 * may `ConnectEx.connect` again; without it the socket can only be closed.
 *
 * @example
 * yield* Socket.disconnect(socket, { reuse: true })
 * @since 0.1.0
 * @category i/o
 */
export const disconnect = (socket: Socket, options: { readonly reuse: boolean }): Effect.Effect<void, WsaError.WsaError> =>
  Effect.flatMap(checked(socket, "disconnect", Core.SocketState.checkDisconnect), (s) => {
    const reuse = (options as { reuse?: unknown } | undefined)?.reuse === true
    // Queued behind sends in progress, so that the FIN follows all the data (as shutdown does).
    return s.sendQueue.with(Effect.suspend(() => {
      const refusal = Core.SocketState.checkDisconnect(s)
      if (refusal !== undefined) return Effect.fail(internal.refused(refusal, "disconnect"))
      return Effect.asVoid(
        internal.submit(s, "disconnect", (done) =>
          s.port.driver.disconnect(s.native, reuse, (completion) => {
            Core.SocketState.settleDisconnect(s, completion.status, reuse)
            done(completion)
          }))
      )
    }))
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
 * const total = yield* Socket.stream(socket).pipe(Stream.runFold(() => 0, (n, chunk) => n + chunk.length))
 * @since 0.1.0
 * @category streaming
 */
export const stream = (socket: Socket, options?: { readonly chunkSize?: number }): Stream.Stream<Uint8Array, WsaError.WsaError> =>
  Stream.suspend(() => {
    const chunkSize = options?.chunkSize ?? DEFAULT_CHUNK
    const badChunkSize = Core.Options.checkReceiveSize("chunkSize", chunkSize)
    if (badChunkSize !== undefined) return Stream.fail(internal.wsaError("WSAEINVAL", "receive", undefined, badChunkSize))
    const { pull } = makeReader(socket, chunkSize)
    return Stream.fromPull(Effect.succeed(Effect.flatMap(pull, (chunks) => chunks === undefined ? Cause.done() : Effect.succeed(chunks))))
  }).pipe(Stream.withSpan("Socket.stream"))

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
  const sending = Sink.forEachArray((chunks: NonEmptyReadonlyArray<Uint8Array>) =>
    chunks.length === 1 ? Effect.asVoid(send(socket, chunks[0])) : Effect.forEach(chunks, (bytes) => send(socket, bytes), { discard: true })
  )
  return options?.shutdown === true ? Sink.mapEffect(sending, () => shutdown(socket, "send")) : sending
}
