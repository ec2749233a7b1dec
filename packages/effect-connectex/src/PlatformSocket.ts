/**
 * A connected socket as an `@effect/platform` `Socket.Socket`, so that `Socket.toChannel`, RPC and
 * everything else built on the platform's socket runs over this library's typed connects.
 *
 * The adapter follows `@effect/platform-node`'s `NodeSocket.fromDuplex`: `run` reads until the peer
 * closes (the run then succeeds) or fails, `writer` waits until a `run` is active, and a `CloseEvent`
 * written ends the connection with the platform's close-code semantics. Reading pushes chunks to the
 * handler from the driver's callbacks, as node:net's "data" events do (no fiber hand-off per chunk); a
 * handler's Effect completes before the next chunk is read, so a slow consumer slows the peer down (TCP
 * back-pressure). While a `run` reads, other receives on the socket wait until it ends. A write completes
 * when `Socket.send` has completed.
 *
 * Errors are the platform's `SocketError`; the library's typed WSA error is the `cause`:
 *
 * - `SocketGenericError` with reason `"Read"` (a receive failed, e.g. `WSAECONNRESET`), `"Write"` (a send or
 *   the disconnect of a close event failed) or `"Open"` (`run` on a socket that is not connected);
 * - `SocketCloseError` for a `CloseEvent` whose code `closeCodeIsError` says is an error (by default any
 *   code but 1000 and 1006, as the platform defines it).
 *
 * @example
 * import { Socket as PlatformSocketModule } from "@effect/platform"
 * import { Effect, Stream } from "effect"
 * import { ConnectEx, PlatformSocket, SocketAddress } from "effect-connectex"
 *
 * const echoed = Effect.gen(function*() {
 *   const socket = yield* PlatformSocket.make(SocketAddress.ipv4("127.0.0.1", 7))
 *   return yield* Stream.make("hello").pipe(
 *     Stream.encodeText,
 *     Stream.pipeThroughChannel(PlatformSocketModule.toChannel(socket)),
 *     Stream.decodeText(),
 *     Stream.take(1),
 *     Stream.runCollect
 *   )
 * }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer))
 *
 * @since 0.1.0
 */
import * as Platform from "@effect/platform/Socket"
import { Context, Deferred, Effect, Exit, FiberSet, Layer, Scope } from "effect"
import * as ConnectEx from "./ConnectEx.js"
import type * as WsaError from "./errors/WsaError.js"
import { endOf, pushRead } from "./internal/pushReader.js"
import * as Socket from "./Socket.js"
import type * as SocketAddress from "./SocketAddress.js"

/**
 * The platform's socket interface (`@effect/platform/Socket`'s `Socket`), re-exported for signatures.
 *
 * @example
 * const socket: PlatformSocket.PlatformSocket = yield* PlatformSocket.make(SocketAddress.ipv4("127.0.0.1", 7))
 * @since 0.1.0
 * @category models
 */
export type PlatformSocket = Platform.Socket

/**
 * How the adapter reads and which written close codes count as errors.
 *
 * @example
 * PlatformSocket.fromSocket(socket, { readSize: 16 * 1024, closeCodeIsError: () => false })
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the `maxBytes` of each receive (default 65536) */
  readonly readSize?: number | undefined
  /**
   * which close codes of a written `CloseEvent` make `run` fail with `SocketCloseError` (default: the
   * platform's `defaultCloseCodeIsError`, every code but 1000 and 1006)
   */
  readonly closeCodeIsError?: ((code: number) => boolean) | undefined
}

const DEFAULT_READ_SIZE = 64 * 1024

const readError = (cause: WsaError.WsaError) => new Platform.SocketGenericError({ reason: "Read", cause })
const writeError = (cause: WsaError.WsaError) => new Platform.SocketGenericError({ reason: "Write", cause })
const openError = (cause: unknown) => new Platform.SocketGenericError({ reason: "Open", cause })

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

/** One connection for one run: the socket, and how to let it go when the run ends. */
interface Opened {
  readonly socket: Socket.Socket
  readonly release: Effect.Effect<void>
}

/**
 * The adapter over connections `open` makes, one per `run` (as `@effect/platform-node`'s `NodeSocket.fromDuplex`).
 * `open` runs in the run's scope; its failure fails the run with "Open" and the typed error as the cause.
 */
const fromOpen = <R>(open: Effect.Effect<Opened, unknown, Scope.Scope | R>, options?: Options): Effect.Effect<PlatformSocket, never, R> =>
  Effect.contextWith((context: Context.Context<R>) => {
    const readSize = options?.readSize ?? DEFAULT_READ_SIZE
    const closeCodeIsError = options?.closeCodeIsError ?? Platform.defaultCloseCodeIsError
    const latch = Effect.unsafeMakeLatch(false)
    /** the connection of the run in progress, and its run's fibers */
    let current: { readonly socket: Socket.Socket; readonly fiberSet: FiberSet.FiberSet<unknown, unknown> } | undefined
    const encoder = new TextEncoder()

    const run = <_, E = never, RH = never>(
      handler: (_: Uint8Array) => Effect.Effect<_, E, RH> | void,
      opts?: { readonly onOpen?: Effect.Effect<void> | undefined }
    ): Effect.Effect<void, Platform.SocketError | E, RH> =>
      Effect.scopedWith((scope) =>
        Effect.gen(function*() {
          const fiberSet = yield* Scope.extend(FiberSet.make<unknown, E | Platform.SocketError>(), scope)
          const opened = yield* Scope.extend(open, scope).pipe(Effect.provide(context), Effect.mapError(openError))
          yield* Scope.addFinalizer(scope, opened.release)
          const { socket } = opened
          yield* Effect.mapError(Socket.peerAddress(socket), openError)
          const runFork = yield* FiberSet.runtime(fiberSet)<RH>()

          current = { socket, fiberSet: fiberSet as FiberSet.FiberSet<unknown, unknown> }
          yield* latch.open
          if (opts?.onOpen !== undefined) yield* opts.onOpen

          // Reading starts once open (after onOpen, as node:net's first "data" event comes after it). The
          // push read hands chunks to the handler from the driver's callbacks (no fiber hand-off per chunk), as
          // node:net's "data" events are. A plain handler is called in place; a handler's Effect runs in the
          // set (its failure ends the run) and the read waits for it before the next chunk.
          yield* Scope.extend(
            pushRead(socket, readSize, {
              chunk: (bytes, resume) => {
                let result: Effect.Effect<_, E, RH> | void
                try {
                  result = handler(bytes)
                } catch (defect) {
                  Deferred.unsafeDone(fiberSet.deferred, Exit.die(defect))
                  return false
                }
                if (!Effect.isEffect(result)) return true
                runFork(result).addObserver((exit) => Exit.isSuccess(exit) && resume())
                return false
              },
              // The peer closed its side: the run ends successfully, as a node:net "end" does.
              end: (outcome) => {
                const ended = endOf(outcome)
                Deferred.unsafeDone(
                  fiberSet.deferred,
                  ended === undefined ? Exit.void : "defect" in ended ? Exit.die(ended.defect) : Exit.fail(readError(ended.error))
                )
              }
            }),
            scope
          ).pipe(Effect.mapError(readError))

          return yield* FiberSet.join(fiberSet).pipe(
            Effect.catchIf(Platform.SocketCloseError.isClean((code) => !closeCodeIsError(code)), () => Effect.void)
          )
        })
      ).pipe(
        Effect.ensuring(Effect.sync(() => {
          latch.unsafeClose()
          current = undefined
        })),
        Effect.interruptible
      )

    const write = (chunk: Uint8Array | string | Platform.CloseEvent): Effect.Effect<void, Platform.SocketError> =>
      current !== undefined ? writeNow(chunk) : latch.whenOpen(Effect.suspend(() => writeNow(chunk)))
    const writeNow = (chunk: Uint8Array | string | Platform.CloseEvent): Effect.Effect<void, Platform.SocketError> =>
      Effect.suspend(() => {
        const connection = current
        if (connection === undefined) return latch.whenOpen(Effect.suspend(() => writeNow(chunk)))
        if (Platform.isCloseEvent(chunk)) {
          // The run ends with the close event first, so that the receive the disconnect aborts is not
          // reported as a read error.
          Deferred.unsafeDone(
            connection.fiberSet.deferred,
            Exit.fail(new Platform.SocketCloseError({ reason: "Close", code: chunk.code, closeReason: chunk.reason }))
          )
          return Effect.mapError(Socket.disconnect(connection.socket, { reuse: false }), writeError)
        }
        const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk
        return Effect.asVoid(Effect.mapError(Socket.send(connection.socket, bytes), writeError))
      })

    return Platform.Socket.of({
      [Platform.TypeId]: Platform.TypeId,
      run,
      runRaw: run,
      // As @effect/platform-node's socket ends its stream: releasing the writer half-closes the connection
      // (a FIN after the data), so a peer reading to the end answers and closes. No connection: nothing to do.
      writer: Effect.acquireRelease(Effect.succeed(write), () =>
        Effect.suspend(() => current === undefined ? Effect.void : Effect.ignore(Socket.shutdown(current.socket, "send"))))
    })
  })

/**
 * A connected socket as the platform's `Socket.Socket`: every `run` reads this one connection. The socket stays
 * owned by its scope: closing that scope closes the connection (a `run` then fails "Read" with
 * `WSA_OPERATION_ABORTED` as the cause). Releasing a writer ends the sending direction (`Socket.shutdown`, a
 * FIN), as `@effect/platform-node` does; write a `CloseEvent` to end the connection (`Socket.disconnect`), or
 * close the socket's scope.
 *
 * @example
 * const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 7))
 * const platform = yield* PlatformSocket.fromSocket(socket)
 * const write = yield* platform.writer
 * yield* Effect.fork(platform.run((bytes) => Console.log(bytes.length)))
 * yield* write("hello")
 * @since 0.1.0
 * @category constructors
 */
export const fromSocket = (socket: Socket.Socket, options?: Options): Effect.Effect<PlatformSocket> =>
  fromOpen(Effect.succeed({ socket, release: Effect.void }), options)

/**
 * The platform's `Socket.Socket` over connections this library dials, with `NodeSocket.makeNet`'s semantics:
 * each `run` dials a new connection (`ConnectEx.dialName` for a host name, `ConnectEx.dial` for an address;
 * `bind`, `data`, `retry` and `timeout` apply to each) and closes it when the run ends; a writer writes to the
 * connection of the run in progress (waiting for one). So a client that runs again after the server closed
 * its connection (@effect/rpc's socket protocol does) reconnects. A dial that fails fails that run with the
 * platform's `SocketGenericError` ("Open") and the library's typed error as the cause.
 *
 * @example
 * const socket = yield* PlatformSocket.make({ host: "localhost", port: 7 }, { timeout: "5 seconds" })
 * yield* Effect.fork(socket.run((bytes) => Console.log(bytes.length)))
 * const write = yield* socket.writer
 * yield* write("hello")
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(
  target: Target,
  options?: MakeOptions<R>
): Effect.Effect<PlatformSocket, never, ConnectEx.ConnectEx | R> =>
  fromOpen(Effect.map(dialTarget(target, options), ({ socket }) => ({ socket, release: Effect.void })), options)

/** Dials a target: an address with `dial`, a host name (or literal text) with `dialName`. */
const dialTarget = <R>(
  target: Target,
  options: MakeOptions<R> | undefined
): Effect.Effect<ConnectEx.Dialed, unknown, ConnectEx.ConnectEx | Scope.Scope | R> =>
  "family" in target ? ConnectEx.dial(target, options) : ConnectEx.dialName(target.host, target.port, options)

/**
 * A layer providing the platform's `Socket.Socket` tag over connections dialed as `make` does (a new one per
 * `run`), so that `Socket.makeChannel`, @effect/rpc's socket protocol and anything built on the platform's
 * socket works unchanged.
 *
 * @example
 * import { Socket as PlatformSocketModule } from "@effect/platform"
 * const program = Effect.flatMap(PlatformSocketModule.Socket, (socket) => socket.writer)
 * program.pipe(
 *   Effect.scoped,
 *   Effect.provide(PlatformSocket.layer({ host: "localhost", port: 7 })),
 *   Effect.provide(ConnectEx.layer)
 * )
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  target: Target,
  options?: MakeOptions<R>
): Layer.Layer<Platform.Socket, never, ConnectEx.ConnectEx | R> => Layer.effect(Platform.Socket, make(target, options))

/**
 * The platform's `Socket.Socket` tag, re-exported for convenience.
 *
 * @example
 * const socket = yield* PlatformSocket.Tag
 * @since 0.1.0
 * @category tags
 */
export const Tag: Context.Tag<Platform.Socket, Platform.Socket> = Platform.Socket
