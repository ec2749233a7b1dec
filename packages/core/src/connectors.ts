/**
 * What a connector gives to node:net clients, without Effect: `createConnection` (net.createConnection's
 * shape), `socket()` (an unconnected Duplex for clients that connect what they are given, as pg does), undici's
 * `connect` and an `http.Agent`, each connection a Duplex dialed through the front-end's `Dialer`. A front-end
 * adds only the dialer (its own `dialName`, in its own runtime) and the scope whose end destroys what is left.
 */
import * as http from "node:http"
import type * as net from "node:net"
import * as tls from "node:tls"
import { isInvalid, parse, type SocketAddress } from "./address.js"
import { type DialRequest, type Hooks, type Options, type SocketDuplex, unconnected } from "./duplex.js"

/** `net.createConnection`'s options that a connector reads: where to connect, and the socket's options. */
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
  callback: (...outcome: [null, net.Socket | tls.TLSSocket] | [Error, null]) => void
) => void

/** What a connector gives to clients: each connection a `SocketDuplex` dialed through the library. */
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

/** A literal local address and port to bind, if the request names one (a name there is not dialed from). */
export const localBind = (request: DialRequest): SocketAddress | undefined => {
  if (request.localAddress === undefined && request.localPort === undefined) return undefined
  const host = request.localAddress ?? "0.0.0.0"
  const port = request.localPort ?? 0
  const literal = parse(host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`)
  return isInvalid(literal) ? undefined : literal
}

/**
 * A connector whose Duplexes dial with `hooks.dialer`, each with `options` (and a `socket()`'s own);
 * `destroyAll` destroys the connections still open (the front-end's scope ending).
 */
export const make = (hooks: Hooks, options?: Options): Connector & { readonly destroyAll: () => void } => {
  const live = new Set<SocketDuplex>()

  const socket = (duplexOptions?: Options): SocketDuplex => {
    const duplex = unconnected(hooks, { ...options, ...duplexOptions })
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
    const answer = (...outcome: [null, net.Socket | tls.TLSSocket] | [Error, null]) => {
      if (answered) return
      answered = true
      callback(...outcome)
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
    // http.Agent's typings leave createConnection out; overriding it is its documented hook
    ;(made as unknown as { createConnection: (options: ConnectOptions) => SocketDuplex }).createConnection = (connectOptions) =>
      createConnection(connectOptions)
    return made
  }

  return {
    createConnection,
    socket,
    connect,
    agent,
    destroyAll: () => {
      for (const duplex of [...live]) duplex.destroy()
    }
  }
}
