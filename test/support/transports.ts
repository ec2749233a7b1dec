/**
 * The ways test/clients.test.ts gets a TCP connection for a real client (pg, ioredis, undici, mysql2, node:tls):
 * node:net first, the reference (a case that fails there is the set-up's, not the library's), then this
 * library's node:stream Duplex. Every case runs over every transport in `makeTransports()`.
 *
 * Plugging a transport in: add a `Transport` to `makeTransports`. `dial` is all it must have; `socket` (an
 * unconnected net.Socket, for pg) and `undiciConnect` where it has them. What it cannot do yet goes in
 * `missing`: the cases that need it are listed as todo (with the reason) and not run. The child-process case
 * imports this module (under vite-node) and takes the transport by name, so a transport made here works there.
 */
import { Effect, Exit, type Layer, ManagedRuntime, Scope } from "effect"
import { ConnectEx, NodeStream, SocketAddress } from "effect-connectex"
import { AbstractConnector, type RedisOptions } from "ioredis"
import * as net from "node:net"
import type { Duplex } from "node:stream"
import type { buildConnector } from "undici"

/** What a case may need of a transport beyond `dial`; a transport names in `missing` what it lacks. */
export type Feature =
  /** an unconnected socket whose `connect(port, host)` connects it and emits "connect" (pg) */
  | "connect"
  /** `unref()` lets the process exit with the connection open (undici unrefs idle keep-alive sockets) */
  | "unref"
  /** errors with Node's `code` ("ECONNRESET", "EPIPE", ...) that retry logic written for node:net checks */
  | "errorCodes"
  /** remoteAddress / remotePort / localAddress / localPort / bytesRead / bytesWritten, true ones */
  | "addresses"

export interface Transport {
  /** shown in the test names */
  readonly name: string
  /** Dials host:port; resolves with the connection once it is connected (ioredis, mysql2, node:tls, undici). */
  readonly dial: (port: number, host: string) => Promise<Duplex>
  /** As `new net.Socket()`: not connected until its user calls `connect(port, host)` (pg's `stream` option). */
  readonly socket?: () => Duplex
  /** undici's `connect` option; where absent, `undiciConnect(transport)` builds one on `dial`. */
  readonly undiciConnect?: buildConnector.connector
  /** What it cannot do yet, with why: the cases needing it are todo for this transport. */
  readonly missing: Partial<Record<Feature, string>>
  /** Releases what the transport holds (its runtime); the connections are their users' to close. */
  readonly dispose: () => Promise<void>
}

/** The clients' types want a net.Socket; what they use of one is what the cases check. */
export const asNetSocket = (duplex: Duplex): net.Socket => duplex as net.Socket

const nodeNet: Transport = {
  name: "node:net",
  dial: (port, host) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host })
      socket.once("error", reject)
      socket.once("connect", () => {
        socket.removeListener("error", reject)
        resolve(socket)
      })
    }),
  socket: () => new net.Socket(),
  missing: {},
  dispose: async () => {}
}

/**
 * The library's Duplex today: ConnectEx.dial, then NodeStream.toDuplex, each connection in a scope of its own
 * that its "close" closes; run by a ManagedRuntime with ConnectEx.layer (made at the first dial).
 */
const libraryDuplex = (): Transport => {
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<typeof ConnectEx.layer>, Layer.Layer.Error<typeof ConnectEx.layer>> | undefined
  const run = () => (runtime ??= ManagedRuntime.make(ConnectEx.layer))
  return {
    name: "NodeStream.toDuplex",
    dial: (port, host) =>
      run().runPromise(Effect.gen(function*() {
        const scope = yield* Scope.make()
        const address = net.isIPv6(host) ? SocketAddress.ipv6(host, port) : SocketAddress.ipv4(host, port)
        const duplex = yield* Effect.flatMap(ConnectEx.dial(address), ({ socket }) => NodeStream.toDuplex(socket)).pipe(
          Scope.extend(scope),
          Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
        )
        duplex.once("close", () => void run().runPromise(Scope.close(scope, Exit.void)))
        return duplex
      })),
    // TODO(lead): what the new Duplex must add. Each feature's cases (test/clients.test.ts) run for this
    // transport once its line below is gone:
    //   connect     pg: connects (also needs addresses), queries, a parameterised query, an error from the
    //               server, end()
    //   unref       undici: a child process with one idle keep-alive connection exits by itself
    //   errorCodes  undici: RetryAgent retries a request whose connection the server resets (ECONNRESET)
    //   addresses   undici: a connection cut mid-body (SocketError's addresses and counters); pg: connects
    missing: {
      connect: "no connect(port, host) / \"connect\": pg calls stream.connect and waits for the event",
      unref: "unref() is a no-op: an idle keep-alive connection holds the process open",
      errorCodes: "a reset's error has the WSA number as code (10054), not \"ECONNRESET\": RetryAgent does not retry it",
      addresses: "no remoteAddress / remotePort / localAddress / localPort / bytesRead / bytesWritten"
    },
    dispose: async () => {
      await runtime?.dispose()
    }
  }
}

/** node:net first: the reference. A fresh list per test file (each holds its own runtime). */
export const makeTransports = (): ReadonlyArray<Transport> => [nodeNet, libraryDuplex()]

/** The features of `needs` the transport lacks, with why; empty when it can run the case. */
export const lacking = (transport: Transport, needs: ReadonlyArray<Feature>): ReadonlyArray<string> =>
  needs.flatMap((feature) => {
    const why = transport.missing[feature]
    return why === undefined ? [] : [`${feature}: ${why}`]
  })

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))

/** undici's `connect` option over a transport: the transport's own, else one that dials with `dial`. */
export const undiciConnect = (transport: Transport): buildConnector.connector =>
  transport.undiciConnect ??
    ((options, callback) => {
      const port = Number(options.port) || (options.protocol === "https:" ? 443 : 80)
      transport.dial(port, options.hostname).then(
        (duplex) => callback(null, asNetSocket(duplex)),
        (error: unknown) => callback(asError(error), null)
      )
    })

/**
 * ioredis' `Connector` option over a transport: a connector that dials the host and port of the client's
 * options with `dial`; `dials()` counts its connections (a reconnect is a new one).
 */
export const redisConnector = (
  transport: Transport
): { readonly Connector: NonNullable<RedisOptions["Connector"]>; readonly dials: () => number } => {
  let dials = 0
  class TransportConnector extends AbstractConnector {
    private readonly port: number
    private readonly host: string
    // ioredis passes the client's options (typed unknown by ioredis): their port and host.
    constructor(options: unknown) {
      super(2_000)
      const { port, host } = (typeof options === "object" && options !== null ? options : {}) as { port?: unknown; host?: unknown }
      this.port = typeof port === "number" ? port : 6379
      this.host = typeof host === "string" ? host : "127.0.0.1"
    }
    override connect(): Promise<net.Socket> {
      this.connecting = true
      dials++
      return transport.dial(this.port, this.host).then((duplex) => {
        const stream = asNetSocket(duplex)
        // disconnect() before the dial finished: as ioredis' own connector, no stream for a closed client.
        if (!this.connecting) {
          stream.destroy()
          throw new Error("Connection is closed.")
        }
        this.stream = stream
        stream.once("error", (error) => (this.firstError = error))
        return stream
      })
    }
  }
  return { Connector: TransportConnector, dials: () => dials }
}
