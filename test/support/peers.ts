/**
 * Loopback peers for the tests: an echo server, a port that refuses, and a listener whose accept queue is
 * full so that connects to it stay pending. Only 127.0.0.1 and ::1 are ever used.
 */
import { Effect, type Scope } from "effect"
import { readdirSync } from "node:fs"
import * as net from "node:net"
import * as SocketAddress from "../../packages/effect-connectex/src/SocketAddress.js"

// The raw listeners node:net cannot make come from the driver of this platform (the same shape on both).
const holders = process.platform === "win32"
  ? await import("./native/windows/testing.js")
  : await import("./native/posix/testing.js")
const { refusingPort, silentListener } = holders

/**
 * Windows: the Wine lane's host that drops SYNs (Windows refuses a full accept queue), when there is one;
 * elsewhere undefined, and the backlog-0 listener serves.
 */
const pendingAddress = process.platform === "win32"
  ? (holders as typeof import("./native/windows/testing.js")).pendingAddress
  : () => undefined

/** The Wine version when running under Wine (Windows node on Linux), else undefined. */
export const wine: string | undefined = process.platform === "win32"
  ? (holders as typeof import("./native/windows/testing.js")).wineVersion()
  : undefined

export const loopback = (family: SocketAddress.Family, port: number): SocketAddress.SocketAddress =>
  family === "ipv4" ? SocketAddress.ipv4("127.0.0.1", port) : SocketAddress.ipv6("::1", port)

const listening = (server: net.Server, family: SocketAddress.Family) =>
  Effect.async<number, Error>((resume) => {
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, family === "ipv4" ? "127.0.0.1" : "::1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
  })

const closeServer = (server: net.Server, connections: Set<net.Socket>) =>
  Effect.async<void>((resume) => {
    for (const c of connections) c.destroy()
    server.close(() => resume(Effect.void))
  })

/** A node:net server that echoes everything back; records what each connection sent. */
export const echoServer = (family: SocketAddress.Family = "ipv4"): Effect.Effect<{ readonly address: SocketAddress.SocketAddress; readonly received: () => Array<Buffer> }, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const connections = new Set<net.Socket>()
    // Chunks per connection, joined only when a test asks: joining on every chunk is quadratic in the size.
    const chunks: Array<Array<Buffer>> = []
    const server = net.createServer((connection) => {
      connections.add(connection)
      const mine: Array<Buffer> = []
      chunks.push(mine)
      connection.on("data", (chunk) => {
        mine.push(chunk)
        connection.write(chunk)
      })
      connection.on("error", () => {})
      connection.on("close", () => connections.delete(connection))
    })
    const port = yield* Effect.acquireRelease(listening(server, family), () => closeServer(server, connections))
    return { address: loopback(family, port), received: () => chunks.map((mine) => Buffer.concat(mine)) }
  })

/** What a recording peer saw on one connection: the bytes, and how the stream ended. */
export interface Recorded {
  readonly received: () => Buffer
  /**
   * How the stream ended, in order: "end" for a normal end of stream (FIN), "error: CODE" for a reset or
   * other error ("end, error: ECONNRESET" if a reset followed the FIN); undefined while open
   */
  readonly ending: () => string | undefined
  /** resolves once the connection is fully closed */
  readonly closed: Promise<void>
}

/**
 * A node:net server that records, per connection, every byte and whether the stream ended normally ('end')
 * or with an error (ECONNRESET). `onEnd` decides what the peer does when our FIN arrives: by default it
 * sends `farewell` (if any) and closes its side; "hold" keeps its side open (a peer that never closes).
 */
export const recordingServer = (
  family: SocketAddress.Family = "ipv4",
  options: { readonly farewell?: string; readonly onEnd?: "close" | "hold" } = {}
): Effect.Effect<
  {
    readonly address: SocketAddress.SocketAddress
    readonly connections: Array<Recorded>
    /** the `index`th connection once it has closed */
    readonly closed: (index: number) => Effect.Effect<Recorded>
  },
  Error,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const connections = new Set<net.Socket>()
    const recorded: Array<Recorded> = []
    const server = net.createServer({ allowHalfOpen: true }, (connection) => {
      connections.add(connection)
      const chunks: Array<Buffer> = []
      const endings: Array<string> = []
      recorded.push({
        received: () => Buffer.concat(chunks),
        ending: () => (endings.length === 0 ? undefined : endings.join(", ")),
        closed: new Promise((resolve) => connection.on("close", () => resolve()))
      })
      connection.on("data", (chunk) => chunks.push(chunk))
      connection.on("end", () => {
        endings.push("end")
        if (options.onEnd === "hold") return
        if (options.farewell !== undefined) connection.write(options.farewell)
        connection.end()
      })
      connection.on("error", (error: NodeJS.ErrnoException) => {
        endings.push(`error: ${error.code ?? error.message}`)
      })
      connection.on("close", () => connections.delete(connection))
    })
    const port = yield* Effect.acquireRelease(listening(server, family), () => closeServer(server, connections))
    const closed = (index: number): Effect.Effect<Recorded> =>
      Effect.promise(async () => {
        while (recorded[index] === undefined) await new Promise((resolve) => setTimeout(resolve, 2))
        await recorded[index].closed
        return recorded[index]
      })
    return { address: loopback(family, port), connections: recorded, closed }
  })

/** A server that accepts and resets every connection at once (SO_LINGER 0 close). */
export const resettingServer = (family: SocketAddress.Family = "ipv4") =>
  Effect.gen(function*() {
    const connections = new Set<net.Socket>()
    const server = net.createServer((connection) => {
      connection.on("error", () => {})
      connection.resetAndDestroy()
    })
    const port = yield* Effect.acquireRelease(listening(server, family), () => closeServer(server, connections))
    return loopback(family, port)
  })

/**
 * A loopback port that refuses, for as long as the scope lasts: held by a socket that is bound but never
 * listens, so that no other process can take it and no connect can self-connect to it.
 */
export const refusedPort = (family: SocketAddress.Family = "ipv4"): Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(Effect.try(() => refusingPort(loopback(family, 0))), (held) => Effect.sync(() => held.close())),
    (held) => held.address
  )

/**
 * A loopback listener with backlog 0 that never accepts, with one connection already queued: later SYNs
 * are dropped, so a connect to `address` stays pending until cancelled. On Windows, where a full queue
 * refuses, the address of a test host that drops SYNs instead (`pendingAddress`).
 */
export const pendingTarget = (family: SocketAddress.Family = "ipv4"): Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const far = yield* Effect.try(() => pendingAddress(family))
    if (far !== undefined) return far
    const listener = yield* Effect.acquireRelease(
      Effect.try(() => silentListener(loopback(family, 0))),
      (l) => Effect.sync(() => l.close())
    )
    const filler = yield* Effect.acquireRelease(
      Effect.async<net.Socket, Error>((resume) => {
        const socket = net.connect({ host: listener.address.host, port: listener.address.port })
        socket.once("connect", () => resume(Effect.succeed(socket)))
        socket.once("error", (error) => resume(Effect.fail(error)))
      }),
      (socket) => Effect.sync(() => socket.destroy())
    )
    void filler
    return listener.address
  })

/**
 * Open descriptors of this process (Linux), or undefined elsewhere. Under Wine /proc/self/fd is the Wine
 * process's own table, which Windows sockets do not map onto one to one.
 */
export const openDescriptors = (): number | undefined => {
  if (process.platform !== "linux") return undefined
  try {
    return readdirSync("/proc/self/fd").length
  } catch {
    return undefined
  }
}
