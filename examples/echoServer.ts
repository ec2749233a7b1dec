// An echo server in a few lines, and the same server written for @effect/platform's SocketServer.
// Compiled by `npm run typecheck`, run by test/examples.test.ts; the README shows both.
// --- echoServer ---
import { Effect } from "effect"
import { Listener, Socket, type SocketAddress } from "effect-connectex"

/** Writes back whatever each client sends, one scope per connection, until interrupted. */
export const serveEcho = (listener: Listener.Listener) =>
  Listener.serve(listener, ({ socket }) =>
    Effect.gen(function*() {
      for (let chunk = yield* Socket.receive(socket, 65536); chunk.length > 0; chunk = yield* Socket.receive(socket, 65536)) {
        yield* Socket.send(socket, chunk)
      }
    }))

export const echoServer = (address: SocketAddress.SocketAddress) =>
  Effect.flatMap(Listener.listen(address), serveEcho) // scoped: the listener closes with the scope
// --- end ---

// --- socketServer ---
import { SocketServer } from "@effect/platform"
import { PlatformSocketServer } from "effect-connectex"

/** Code written for the platform's SocketServer, unchanged; the layer puts our listener behind it. */
export const platformEcho = Effect.gen(function*() {
  const server = yield* SocketServer.SocketServer
  return yield* server.run((socket) => Effect.flatMap(socket.writer, (write) => socket.run(write)).pipe(Effect.scoped))
})

export const platformEchoServer = (address: SocketAddress.SocketAddress) =>
  platformEcho.pipe(Effect.provide(PlatformSocketServer.layer(address)))
// --- end ---
