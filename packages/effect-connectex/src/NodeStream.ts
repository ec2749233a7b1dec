/**
 * Connections as node:net sockets, so that the clients users already have run over this library: a
 * node:stream `Duplex` that is a `net.Socket` to the code that receives it (`connect()` and "connect",
 * `connecting` / `pending` / `readyState`, the addresses and counters, `setNoDelay` / `setKeepAlive` /
 * `setTimeout`, `ref` / `unref`, errors with node:net's `code` / `errno` / `syscall` and the typed WSA error as
 * `cause`), driven from the driver's callbacks with no fiber or Effect per chunk or per write.
 *
 * `toDuplex` wraps a connection you have; a `connector` dials them for the clients (through `ConnectEx.dialName`:
 * typed errors, the retry schedule, the timeout, Happy Eyeballs): `createConnection` (net.createConnection's
 * shape), `socket()` (an unconnected socket for clients that connect what they are given, as pg does), `connect`
 * (undici's `connect` option) and `agent()` (an `http.Agent`).
 *
 * @example
 * import * as http from "node:http"
 * import { Effect } from "effect"
 * import { ConnectEx, NodeStream } from "effect-connectex"
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
import { Cause, Effect, Exit, Fiber, Runtime, Scope } from "effect"
import * as http from "node:http"
import * as tls from "node:tls"
import type * as ConnectEx from "./ConnectEx.js"
import * as WsaError from "./errors/WsaError.js"
import { dialName, type DialManyOptions } from "./HappyEyeballs.js"
import * as internal from "./internal/socket.js"
import type * as Socket from "./Socket.js"
import * as SocketAddress from "./SocketAddress.js"

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
export interface ConnectOptions {
  readonly host?: string | undefined
  readonly port: number | string
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
  readonly noDelay?: boolean | undefined
  readonly keepAlive?: boolean | undefined
  readonly timeout?: number | undefined
}

/**
 * undici's `connect` option: `(options, callback)`, the callback given the socket once connected (for
 * `https:` a TLS socket over it, with `servername`), or the error.
 *
 * @example
 * new undici.Agent({ connect: connector.connect })
 * @since 0.1.0
 * @category models
 */
export type UndiciConnect = (
  options: {
    readonly hostname: string
    readonly host?: string | undefined
    readonly protocol: string
    readonly port: string | number
    readonly servername?: string | null | undefined
    readonly localAddress?: string | null | undefined
  },
  callback: (error: Error | null, socket: SocketDuplex | tls.TLSSocket | null) => void
) => void

/**
 * What a connector gives to clients: each connection a `SocketDuplex` dialed through the library.
 *
 * @example
 * const connector = yield* NodeStream.connector()
 * const duplex = connector.createConnection(5432, "localhost")
 * @since 0.1.0
 * @category models
 */
export interface Connector {
  /** as `net.createConnection`: a Duplex that connects at once ("connect" once it has) */
  readonly createConnection: {
    (options: ConnectOptions, connectListener?: () => void): SocketDuplex
    (port: number, host?: string, connectListener?: () => void): SocketDuplex
  }
  /** an unconnected Duplex, for clients that call `connect(port, host)` on what they are given (pg's `stream`) */
  readonly socket: (options?: Options) => SocketDuplex
  /** undici's `connect` option */
  readonly connect: UndiciConnect
  /** an `http.Agent` whose connections are dialed by the connector (keep-alive as `options` say) */
  readonly agent: (options?: http.AgentOptions) => http.Agent
}

/** The WSA code (or the resolver's Node code) node:net would report for a dial's failure. */
const dialFailure = (error: unknown): Core.Duplex.DialOutcome => {
  const cause = error instanceof Error ? error : new Error(String(error))
  if (WsaError.isWsaError(error)) return { code: error.code, cause }
  if (Cause.isTimeoutException(error)) return { code: Core.wsa.WSAETIMEDOUT, cause }
  const tagged = error as { readonly _tag?: unknown; readonly code?: unknown; readonly attempts?: ReadonlyArray<{ readonly error: { readonly code: number } }> }
  if (tagged._tag === "ResolveError") return { code: typeof tagged.code === "string" ? tagged.code : "ENOTFOUND", syscall: "getaddrinfo", cause }
  if (tagged._tag === "DialError" && tagged.attempts !== undefined && tagged.attempts.length > 0) return { code: tagged.attempts[0]!.error.code, cause }
  return { code: Core.wsa.WSAEINVAL, cause }
}

/** A literal local address and port for `bind`, if the request names one. */
const localBind = (request: Core.Duplex.DialRequest): SocketAddress.SocketAddress | undefined => {
  if (request.localAddress === undefined && request.localPort === undefined) return undefined
  const host = request.localAddress ?? "0.0.0.0"
  const port = request.localPort ?? 0
  const literal = Core.parse(host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`)
  return Core.isInvalid(literal) ? undefined : literal
}

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
    const runFork = Runtime.runFork(yield* Effect.runtime<ConnectEx.ConnectEx | R>())
    const live = new Set<SocketDuplex>()
    yield* Effect.addFinalizer(() => Effect.sync(() => {
      for (const duplex of [...live]) duplex.destroy()
    }))

    const dialer: Core.Duplex.Dialer = (request, callback) => {
      const scope = Effect.runSync(Scope.make())
      const bind = localBind(request)
      const dialOptions: DialManyOptions<R> | undefined = bind === undefined ? options : { ...options, bind }
      const fiber = runFork(Scope.extend(dialName(request.host, request.port, dialOptions), scope))
      const release = () => void runFork(Scope.close(scope, Exit.void))
      fiber.addObserver((exit) => {
        if (Exit.isSuccess(exit)) return callback({ socket: exit.value.socket as Core.Sockets.Socket, release })
        release()
        if (!Exit.isInterrupted(exit)) callback(dialFailure(Cause.squash(exit.cause)))
      })
      return () => void runFork(Fiber.interrupt(fiber))
    }

    const duplexHooks: Core.Duplex.Hooks = { ...hooks, dialer }
    const socket = (duplexOptions?: Options): SocketDuplex => {
      const duplex = Core.Duplex.unconnected(duplexHooks, { ...options, ...duplexOptions })
      live.add(duplex)
      duplex.once("close", () => live.delete(duplex))
      return duplex
    }

    const createConnection = ((first: ConnectOptions | number, ...rest: Array<unknown>): SocketDuplex =>
      socket().connect(first, ...rest)) as Connector["createConnection"]

    const connect: UndiciConnect = (request, callback) => {
      const duplex = socket()
      const host = request.hostname
      const port = Number(request.port) || (request.protocol === "https:" ? 443 : 80)
      let answered = false
      const answer = (error: Error | null, connected: SocketDuplex | tls.TLSSocket | null) => {
        if (answered) return
        answered = true
        callback(error, connected)
      }
      duplex.once("error", (error) => answer(error, null))
      duplex.connect({ host, port, localAddress: request.localAddress ?? undefined }, () => {
        if (request.protocol !== "https:") return answer(null, duplex)
        const secure = tls.connect({ socket: duplex, servername: request.servername ?? host })
        secure.once("secureConnect", () => answer(null, secure))
        secure.once("error", (error) => answer(error, null))
      })
    }

    const agent = (agentOptions?: http.AgentOptions): http.Agent => {
      const made = new http.Agent(agentOptions)
      ;(made as unknown as { createConnection: (options: ConnectOptions, callback?: (error: Error | null, socket: SocketDuplex) => void) => SocketDuplex })
        .createConnection = (connectOptions) => createConnection(connectOptions)
      return made
    }

    return { createConnection, socket, connect, agent }
  })
