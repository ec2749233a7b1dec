// Our connections wherever @effect/platform's Socket is spoken: PlatformSocket.layer dials (with retry and
// timeout) and provides the platform's Socket, so Socket.toChannel and everything built on it work unchanged.
import * as PlatformSocketApi from "@effect/platform/Socket"
import { Effect, Schedule, Stream } from "effect"
import { ConnectEx, PlatformSocket, SocketAddress } from "effect-connectex"

/** Sends each line through the connection and collects what the peer answers until `expected` bytes came back. */
export const roundTrip = (target: SocketAddress.SocketAddress, lines: ReadonlyArray<string>, expected: number) =>
  Effect.gen(function*() {
    const socket = yield* PlatformSocketApi.Socket
    return yield* Stream.fromIterable(lines).pipe(
      Stream.encodeText,
      Stream.pipeThroughChannel(PlatformSocketApi.toChannel(socket)),
      Stream.decodeText(),
      Stream.scan("", (all, text) => all + text),
      Stream.takeUntil((all) => all.length >= expected),
      Stream.runLast
    )
  }).pipe(
    Effect.provide(PlatformSocket.layer(target, { retry: Schedule.recurs(2), timeout: "5 seconds" })),
    Effect.provide(ConnectEx.layer)
  )
