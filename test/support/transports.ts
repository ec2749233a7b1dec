/**
 * The ways the real-client cases (test/support/clientCases.ts) get a TCP connection for a client (pg, ioredis,
 * undici, mysql2, node:tls): node:net first, the reference (a case that fails there is the set-up's, not the
 * library's), then a front-end's node:stream Duplex. Effect-free, so that both front-ends' suites use it: the
 * root suite (test/clients.test.ts, vitest 3: the Effect 3 transport from the sources and the Effect 4 one from
 * the built package, also under Wine) and the Effect 4 lane (packages/effect4/test/clients.test.ts, vitest 5
 * under Node 22, the Effect 4 transport from the sources) each make their transports and run the cases over
 * `[nodeNet, ...theirs]`.
 *
 * Plugging a transport in: `dial` is all it must have; `socket` (an unconnected net.Socket, for pg) and
 * `undiciConnect` where it has them; `childConnect`, how a child process (a script of its own, plain node) gets
 * undici's `connect`, and `childRoot`, the folder it runs in when not the suite's. What it cannot do yet goes in `missing`: the cases that need it are listed as todo (with
 * the reason) and not run.
 */
import type { Connectors } from "@effect-connectex/core"
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
  /**
   * Lines of an ES module, run by plain node in a folder of the repository (its bare imports resolve as a
   * user's would, to the built packages), that bind `connect`: undici's `connect` option over this transport.
   */
  readonly childConnect: ReadonlyArray<string>
  /**
   * The folder the idle child runs in, where its package (and that package's effect) resolve from; where
   * absent, the suite's `childRoot` (test/support/clientCases.ts).
   */
  readonly childRoot?: string
  /** What it cannot do yet, with why: the cases needing it are todo for this transport. */
  readonly missing: Partial<Record<Feature, string>>
  /** Readies what `socket` needs synchronously (a connector made in a runtime); before the first case. */
  readonly prepare?: () => Promise<void>
  /** Releases what the transport holds (its runtime); the connections are their users' to close. */
  readonly dispose: () => Promise<void>
}

/** The clients' types want a net.Socket; what they use of one is what the cases check. */
export const asNetSocket = (duplex: Duplex): net.Socket => duplex as net.Socket

/** node:net itself: the reference every case runs over first. */
export const nodeNet: Transport = {
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
  // As `dial`: a plain net.connect. (undici's own connector asks for autoSelectFamily, which Windows node under
  // Wine answers with "connect UNKNOWN".)
  childConnect: [
    `import * as net from "node:net"`,
    `const connect = (options, callback) => {`,
    `  const socket = net.connect({ host: options.hostname, port: Number(options.port) })`,
    `  socket.once("error", (error) => callback(error, null))`,
    `  socket.once("connect", () => callback(null, socket))`,
    `}`
  ],
  missing: {},
  dispose: async () => {}
}

/**
 * A transport over a front-end's `NodeStream.connector` (either front-end's is the core's `Connectors.Connector`),
 * made at the first use by `make`, which also says how to let it go: `dial` is `createConnection` resolved on
 * "connect", `socket` its unconnected socket (pg), `undiciConnect` its undici `connect`.
 */
export const connectorTransport = (options: {
  readonly name: string
  readonly make: () => Promise<{ readonly connector: Connectors.Connector; readonly release: () => Promise<void> }>
  readonly childConnect: ReadonlyArray<string>
  readonly childRoot?: string
  readonly missing?: Partial<Record<Feature, string>>
}): Transport => {
  let made: ReturnType<typeof options.make> | undefined
  const connector = async () => (await (made ??= options.make())).connector
  // The connector exists before the first case (pg asks for `socket()` synchronously).
  let ready: Connectors.Connector | undefined
  return {
    name: options.name,
    prepare: async () => {
      ready = await connector()
    },
    dial: async (port, host) => {
      const duplex = (await connector()).createConnection(port, host)
      await new Promise<void>((resolve, reject) => {
        duplex.once("error", reject)
        duplex.once("connect", () => {
          duplex.removeListener("error", reject)
          resolve()
        })
      })
      return duplex
    },
    socket: () => {
      if (ready === undefined) throw new Error("the transport's connector is not made yet: await prepare() first")
      return ready.socket()
    },
    undiciConnect: (connectOptions, callback) => {
      void connector().then((c) => c.connect(connectOptions, callback))
    },
    childConnect: options.childConnect,
    ...(options.childRoot === undefined ? {} : { childRoot: options.childRoot }),
    missing: options.missing ?? {},
    dispose: async () => {
      if (made !== undefined) await (await made).release()
    }
  }
}

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
