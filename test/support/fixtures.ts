/** Small helpers every test file uses: bytes from text, a bound socket, and waiting for pending operations. */
import { expect } from "@effect/vitest"
import { Chunk, type Duration, Effect, type Fiber, Option, TestClock } from "effect"
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

/**
 * Turns the event loop (setImmediate: no fixed pause) until `condition` holds; dies after `timeoutMs` of
 * real time, naming `what` it waited for. For waits on something outside the fiber runtime (the kernel, a
 * peer), where `untilPending`'s `yieldNow` would not let I/O in.
 */
export const until = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string, timeoutMs = 10_000): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (!(yield* condition)) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out after ${timeoutMs} ms waiting for ${what}`)
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })

/**
 * Drives a fiber that retries on the TestClock: each time it has gone to sleep (the kernel's answer came and
 * the schedule chose a delay), the clock is moved by `step`; until the fiber is done.
 */
export const driveRetries = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput) =>
  Effect.gen(function*() {
    const done = Effect.map(fiber.poll, Option.isSome)
    while (!(yield* done)) {
      yield* until(
        Effect.zipWith(done, TestClock.sleeps(), (d, sleeps) => d || Chunk.size(sleeps) > 0),
        "the retrying fiber to sleep or end"
      )
      if (!(yield* done)) yield* TestClock.adjust(step)
    }
  })
