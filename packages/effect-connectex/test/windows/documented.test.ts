/**
 * The Effect 3 front-end over the production Windows driver with bindings that answer as Windows documents
 * (`packages/core/test/windows/support/winsock.ts`): what a user sees where Wine cannot show Windows' answer.
 * Needs no ws2_32: runs on every system. (The driver is shared: the Effect 4 front-end meets the same
 * completions, tested at the driver in `packages/core/test/windows/documented.test.ts`.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { makeWindowsDriver } from "../../../core/src/native/windows/driver.js"
import { Winsock } from "../../../core/test/windows/support/winsock.js"
import { ConnectEx, Socket, SocketAddress } from "../../src/index.js"
import { bound } from "../../../../test/support/fixtures.js"

const over = (model: Winsock) =>
  ConnectEx.layerDriver(Effect.sync(() => makeWindowsDriver({ win32: model.win32, disconnectWaitMs: 100 })))

describe("the Effect stack over the Windows driver, bindings answering as Windows documents", () => {
  // DisconnectEx: "a TCP socket may be subject to the TCP TIME_WAIT state, causing the DisconnectEx call to
  // be delayed". Bounded as the Linux driver's reuse (2 s by default, 100 ms here), then WSAETIMEDOUT.
  it.live("a reusing disconnect Windows holds fails with WSAETIMEDOUT at the bound; the socket is spent", () => {
    const model = new Winsock()
    return Effect.gen(function*() {
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", 80))
      model.onDisconnectEx = () => ({ kind: "pending" })
      const fiber = yield* Effect.fork(Socket.disconnect(socket, { reuse: true }))
      const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("2 seconds"))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect(error?._tag).toBe("WSAETIMEDOUT")
        expect(error?.operation).toBe("disconnect")
      }
      // spent: it cannot connect again; a new socket can
      const again = yield* Effect.either(ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", 80)))
      expect(again._tag).toBe("Left")
      const fresh = yield* bound()
      yield* ConnectEx.connect(fresh, SocketAddress.ipv4("127.0.0.1", 80))
    }).pipe(Effect.scoped, Effect.provide(over(model)))
  })

  it.live("a reusing disconnect that completes: the same socket connects again", () => {
    const model = new Winsock()
    return Effect.gen(function*() {
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", 80))
      yield* Socket.disconnect(socket, { reuse: true })
      yield* ConnectEx.connect(socket, SocketAddress.ipv4("127.0.0.1", 81))
      expect(SocketAddress.format(yield* Socket.peerAddress(socket))).toBe("127.0.0.1:81")
    }).pipe(Effect.scoped, Effect.provide(over(model)))
  })
})
