/**
 * Loopback peers for the Effect 4 suite (127.0.0.1 and ::1 only): an echo server, a port that refuses, and
 * a listener whose accept queue is full so that connects to it stay pending. The raw listeners come from the
 * repository's POSIX test helpers (libc sockets node:net cannot make).
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { refusingPort, silentListener } from "../../../../test/support/native/posix/testing.js"
import * as SocketAddress from "../../src/SocketAddress.js"

export const loopback = (family: SocketAddress.Family, port: number): SocketAddress.SocketAddress =>
  family === "ipv4" ? SocketAddress.ipv4("127.0.0.1", port) : SocketAddress.ipv6("::1", port)

const listening = (server: net.Server, family: SocketAddress.Family) =>
  Effect.callback<number, Error>((resume) => {
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, family === "ipv4" ? "127.0.0.1" : "::1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
  })

const closeServer = (server: net.Server, connections: Set<net.Socket>) =>
  Effect.callback<void>((resume) => {
    for (const c of connections) c.destroy()
    server.close(() => resume(Effect.void))
  })

/** A node:net server that echoes everything back. */
export const echoServer = (family: SocketAddress.Family = "ipv4"): Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const connections = new Set<net.Socket>()
    const server = net.createServer((connection) => {
      connections.add(connection)
      connection.on("data", (chunk) => connection.write(chunk))
      connection.on("end", () => connection.end())
      connection.on("error", () => {})
      connection.on("close", () => connections.delete(connection))
    })
    const port = yield* Effect.acquireRelease(listening(server, family), () => closeServer(server, connections))
    return loopback(family, port)
  })

/** A loopback port that refuses for as long as the scope lasts (bound, never listening). */
export const refusedPort = (family: SocketAddress.Family = "ipv4"): Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(Effect.try({ try: () => refusingPort(loopback(family, 0)), catch: (e) => e as Error }), (held) =>
      Effect.sync(() => held.close())),
    (held) => held.address
  )

/**
 * A libc listener with backlog 0 that never accepts, with one connection already queued: later SYNs are
 * dropped, so a connect to the address stays pending until it is cancelled.
 */
export const pendingTarget = (family: SocketAddress.Family = "ipv4"): Effect.Effect<SocketAddress.SocketAddress, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const listener = yield* Effect.acquireRelease(
      Effect.try({ try: () => silentListener(loopback(family, 0)), catch: (e) => e as Error }),
      (l) => Effect.sync(() => l.close())
    )
    yield* Effect.acquireRelease(
      Effect.callback<net.Socket, Error>((resume) => {
        const socket = net.connect({ host: listener.address.host, port: listener.address.port })
        socket.once("connect", () => resume(Effect.succeed(socket)))
        socket.once("error", (error) => resume(Effect.fail(error)))
      }),
      (socket) => Effect.sync(() => socket.destroy())
    )
    return listener.address
  })
