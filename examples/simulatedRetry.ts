// The README's "testing your retry policy" example, compiled by `npm run typecheck` and run by
// test/readme.test.ts.
// --- simulated ---
import { Effect, Fiber, Schedule, TestClock } from "effect"
import { ConnectEx, Simulated, SocketAddress } from "effect-connectex"

// A peer that refuses twice, then accepts. Simulated addresses never leave the process.
const server = SocketAddress.ipv4("192.0.2.10", 443)
const network = Simulated.network({ "192.0.2.10:443": Simulated.refuse({ times: 2 }) })

export const retryPolicyTest = Effect.gen(function*() {
  const retry = Schedule.exponential("1 second").pipe(Schedule.intersect(Schedule.recurs(5)))
  const dialing = yield* Effect.fork(Effect.scoped(ConnectEx.dial(server, { retry })))
  yield* TestClock.adjust("1 second") // first retry
  yield* TestClock.adjust("2 seconds") // second retry: accepted
  yield* Fiber.join(dialing)
  return (yield* Simulated.attempts(server)).map((attempt) => attempt.status) // [10061, 10061, 0]
}).pipe(Effect.provide(ConnectEx.layerSimulated(network)))
// --- end ---
