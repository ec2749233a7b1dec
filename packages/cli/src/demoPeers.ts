/**
 * The peers of `connectex`'s demo, on loopback: an echo server (node:net) and a port that refuses.
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import * as Net from "node:net"

const listen = (server: Net.Server): Effect.Effect<number, Error> =>
  Effect.async<number, Error>((resume) => {
    const onError = (error: Error) => resume(Effect.fail(error))
    server.once("error", onError)
    server.listen(0, "127.0.0.1", () => {
      server.off("error", onError)
      const address = server.address()
      resume(
        typeof address === "object" && address !== null
          ? Effect.succeed(address.port)
          : Effect.fail(new Error("the server has no port"))
      )
    })
  })

const close = (server: Net.Server): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })

/**
 * An echo server on 127.0.0.1, a port chosen by the kernel; closed (with its connections) with the scope.
 *
 * @since 0.1.0
 */
export const echoServer: Effect.Effect<number, Error, Scope.Scope> = Effect.acquireRelease(
  Effect.suspend(() => {
    const connections = new Set<Net.Socket>()
    const server = Net.createServer((socket) => {
      connections.add(socket)
      socket.on("error", () => socket.destroy())
      socket.on("close", () => connections.delete(socket))
      socket.pipe(socket)
    })
    return Effect.map(listen(server), (port) => ({ server, port, connections }))
  }),
  ({ connections, server }) =>
    Effect.suspend(() => {
      for (const socket of connections) socket.destroy()
      return close(server)
    })
).pipe(Effect.map(({ port }) => port))

/**
 * A loopback port nothing listens on: the kernel picks it for a listener, which is then closed, so
 * connecting to it is refused (unless another process takes it in between, which is unlikely).
 *
 * @since 0.1.0
 */
export const refusingPort: Effect.Effect<number, Error> = Effect.suspend(() => {
  const server = Net.createServer()
  return Effect.flatMap(listen(server), (port) => Effect.as(close(server), port))
})
