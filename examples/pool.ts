// A tiny connection pool that reuses sockets: after a request the connection is ended with
// Socket.disconnect({ reuse: true }) (DisconnectEx with TF_REUSE_SOCKET on Windows) and the same bound
// socket connects again for the next one, instead of opening a new socket each time.
import { Effect, Queue } from "effect"
import { ConnectEx, Socket, SocketAddress } from "effect-connectex"

export const makePool = (target: SocketAddress.SocketAddress, size: number) =>
  Effect.gen(function*() {
    const idle = yield* Queue.unbounded<Socket.Socket>()
    for (let i = 0; i < size; i++) {
      const socket = yield* Socket.open({ family: target.family }) // closed with the pool's scope
      yield* Socket.bind(socket, SocketAddress.wildcard(target.family))
      yield* Queue.offer(idle, socket)
    }
    /** One request/response on a pooled socket: connect, send, receive, disconnect for reuse. */
    const request = (bytes: Uint8Array) =>
      Effect.acquireUseRelease(
        Queue.take(idle),
        (socket) =>
          Effect.gen(function*() {
            yield* ConnectEx.connect(socket, target, { data: bytes })
            const reply = yield* Socket.receive(socket, 65536)
            yield* Socket.disconnect(socket, { reuse: true })
            return reply
          }),
        (socket) => Queue.offer(idle, socket)
      )
    return { request }
  })
