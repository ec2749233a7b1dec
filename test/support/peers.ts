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
 * are dropped, so a connect to `address` stays pending until cancelled.
 */
export const pendingTarget = (family: SocketAddress.Family = "ipv4"): Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope> =>
  Effect.gen(function*() {
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
