/**
 * Connections as node:net sockets, so that the clients users already have run over this library: a
 * node:stream `Duplex` that is a `net.Socket` to the code that receives it (`connect()` and "connect",
 * `connecting` / `pending` / `readyState`, the addresses and counters, `setNoDelay` / `setKeepAlive` /
 * `setTimeout`, `ref` / `unref`, errors with node:net's `code` / `errno` / `syscall` and the typed WSA error as
 * `cause`), driven from the driver's callbacks with no fiber or Effect per chunk or per write. The Duplex
 * itself is the core's (`@effect-connectex/core`), the same under Effect 3 and Effect 4.
 *
 * `toDuplex` wraps a connection you have; a `connector` dials them for the clients (through `ConnectEx.dialName`:
 * typed errors, the retry schedule, the timeout, Happy Eyeballs): `createConnection` (net.createConnection's
 * shape), `socket()` (an unconnected socket for clients that connect what they are given, as pg does), `connect`
 * (undici's `connect` option) and `agent()` (an `http.Agent`).
 *
 * @example
 * import * as http from "node:http"
 * import { Effect } from "effect"
 * import { ConnectEx, NodeStream } from "effect-connectex" // Effect 4: "@effect-connectex/effect4"
 *
 * const program = Effect.gen(function*() {
 *   const connector = yield* NodeStream.connector({ timeout: "5 seconds" })
 *   http.get({ host: "localhost", port: 8080, path: "/", agent: connector.agent() }, (response) => response.resume())
 *   yield* Effect.never
 * }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer))
 *
 * @since 0.1.0
 */
import * as Core from "@effect-connectex/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type * as ConnectEx from "./ConnectEx.js"
import type * as WsaError from "./errors/WsaError.js"
import { type DialError, dialName, type DialManyOptions } from "./HappyEyeballs.js"
import {
  failureOption,
  inScope,
  interruptUnsafe,
  isInterruptedOnly,
  makeScopeUnsafe,
  runForkFrom,
  type TimeoutError,
  timeoutTag
} from "./internal/effectVersion.js"
import * as internal from "./internal/socket.js"
import type * as Resolver from "./Resolver.js"
import type * as Socket from "./Socket.js"

/**
 * Options of a Duplex: `readSize` (the most one read takes, default 65536), `allowHalfOpen` (default false, as
 * net.Socket) and `highWaterMark` (the readable side's buffer before reading pauses, default 64 KiB).
 *
 * @example
 * NodeStream.toDuplex(socket, { readSize: 16 * 1024, allowHalfOpen: true })
 * @since 0.1.0
 * @category models
 */
export type Options = Core.Duplex.Options

/**
 * The Duplex: a `stream.Duplex` with what clients read of a `net.Socket`.
 *
 * @example
 * const duplex: NodeStream.SocketDuplex = yield* NodeStream.toDuplex(socket)
 * duplex.setNoDelay(true)
 * @since 0.1.0
 * @category models
 */
export type SocketDuplex = Core.Duplex.SocketDuplex

const hooks: Core.Duplex.Hooks = { errorOf: internal.errorOf }

/**
 * A connected socket as a Duplex: back-pressure both ways, `end()` a half-close (FIN), `destroy()` closes the
 * socket. The socket also stays owned by its scope: closing the scope closes the connection (a Duplex reading
 * it then errors with ECANCELED, the cause `WSA_OPERATION_ABORTED`).
 *
 * @example
 * import * as tls from "node:tls"
 * const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 443))
 * const duplex = yield* NodeStream.toDuplex(socket)
 * const secure = tls.connect({ socket: duplex, servername: "localhost" })
 * @since 0.1.0
 * @category constructors
 */
export const toDuplex = (socket: Socket.Socket, options?: Options): Effect.Effect<SocketDuplex> =>
  Effect.sync(() => Core.Duplex.fromSocket(socket, hooks, options))

/**
 * Options of a connector: how each connection is dialed (`retry`, `timeout`, `attemptDelay`, `data`, `bind`;
 * see `ConnectEx.dialName`) and the Duplex options of each.
 *
 * @example
 * NodeStream.connector({ retry: ConnectEx.retryPolicy(3), timeout: "5 seconds", readSize: 16 * 1024 })
 * @since 0.1.0
 * @category models
 */
export interface ConnectorOptions<R = never> extends DialManyOptions<R>, Options {}

/**
 * `net.createConnection`'s options that a connector reads: where to connect, and the socket's options.
 *
 * @example
 * connector.createConnection({ host: "localhost", port: 5432, noDelay: true })
 * @since 0.1.0
 * @category models
 */
export type ConnectOptions = Core.Connectors.ConnectOptions

/**
 * undici's `connect` option: `(options, callback)`, the callback given the socket once connected (for
 * `https:` a TLS socket over it, with `servername`), or the error.
 *
 * @example
 * new undici.Agent({ connect: connector.connect })
 * @since 0.1.0
 * @category models
 */
export type UndiciConnect = Core.Connectors.UndiciConnect

/**
 * What a connector gives to clients: each connection a `SocketDuplex` dialed through the library:
 * `createConnection` (as `net.createConnection`), `socket()` (an unconnected Duplex for clients that call
 * `connect(port, host)` on what they are given, as pg's `stream`), `connect` (undici's) and `agent()` (an
 * `http.Agent`).
 *
 * @example
 * const connector = yield* NodeStream.connector()
 * const duplex = connector.createConnection(5432, "localhost")
 * @since 0.1.0
 * @category models
 */
export type Connector = Core.Connectors.Connector

type DialNameError = DialError | WsaError.DialFailure | Resolver.ResolveError | WsaError.WSAEINVAL | TimeoutError

/** The WSA code (or the resolver's Node code) node:net would report for a dial's failure. */
const dialFailure = (error: DialNameError): Core.Duplex.DialOutcome => {
  switch (error._tag) {
    case timeoutTag:
      return { code: Core.wsa.WSAETIMEDOUT, cause: error }
    case "ResolveError":
      return { code: error.code ?? "ENOTFOUND", syscall: "getaddrinfo", cause: error }
    case "DialError":
      // attempts that failed differently: the first one's code
      return { code: error.attempts[0]?.error.code ?? Core.wsa.WSAEINVAL, cause: error }
    default:
      return { code: error.code, cause: error }
  }
}

const asError = (u: unknown): Error => (u instanceof Error ? u : new Error(String(u)))

/**
 * A connector: connections for node:net clients, each dialed with `ConnectEx.dialName` and the options given
 * (in the connector's context). Closing the scope destroys every connection it still has.
 *
 * @example
 * import pg from "pg"
 * const connector = yield* NodeStream.connector({ timeout: "5 seconds" })
 * const client = new pg.Client({ host: "localhost", port: 5432, stream: () => connector.socket() })
 * yield* Effect.promise(() => client.connect())
 * @since 0.1.0
 * @category constructors
 */
export const connector = <R = never>(options?: ConnectorOptions<R>): Effect.Effect<Connector, never, ConnectEx.ConnectEx | Scope.Scope | R> =>
  Effect.gen(function*() {
    const runFork = yield* runForkFrom<ConnectEx.ConnectEx | R>()
    // Each dial in a scope of its own, closed when the Duplex lets the connection go (or the dial failed);
    // the Duplex's cancel interrupts the dial, which closes its socket.
    const dialer: Core.Duplex.Dialer = (request, callback) => {
      const scope = makeScopeUnsafe()
      const release = () => void runFork(Scope.close(scope, Exit.void))
      const bind = Core.Connectors.localBind(request)
      const dialOptions: DialManyOptions<R> | undefined = bind === undefined ? options : { ...options, bind }
      const fiber = runFork(inScope(scope)(dialName(request.host, request.port, dialOptions)))
      fiber.addObserver((exit) => {
        // (a dial's socket is always one of ours; the guard spares a cast)
        if (Exit.isSuccess(exit) && internal.isSocket(exit.value.socket)) return callback({ socket: exit.value.socket, release })
        release()
        if (Exit.isSuccess(exit)) return callback({ code: Core.wsa.WSAENOTSOCK, cause: new Error("the dial gave no socket of ours") })
        if (isInterruptedOnly(exit.cause)) return
        const error = failureOption(exit.cause)
        // a defect has no code of its own: libuv's name for an error it cannot name
        callback(Option.isSome(error) ? dialFailure(error.value) : { code: "UNKNOWN", cause: asError(Cause.squash(exit.cause)) })
      })
      return () => interruptUnsafe(fiber)
    }
    const { agent, connect, createConnection, destroyAll, socket } = Core.Connectors.make({ ...hooks, dialer }, options)
    yield* Effect.addFinalizer(() => Effect.sync(destroyAll))
    return { createConnection, socket, connect, agent }
  })
