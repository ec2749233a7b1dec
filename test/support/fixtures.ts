/** Small helpers every test file uses: bytes from text, a bound socket, and waiting for pending operations. */
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { Iocp, Socket, SocketAddress } from "../../packages/effect-connectex/src/index.js"

/** UTF-8 bytes of a string. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A socket of the family, bound to its wildcard address with port 0 (closed with the scope). */
export const bound = (family: SocketAddress.Family = "ipv4") =>
  Effect.tap(Socket.open({ family }), (socket) => Socket.bind(socket, SocketAddress.wildcard(family)))

/** Lets forked fibers run until the port has `n` operations pending (a condition, no clock, no sleep). */
export const untilPending = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && (yield* Iocp.stats).pending < n; i++) yield* Effect.yieldNow()
    expect((yield* Iocp.stats).pending).toBe(n)
  })
