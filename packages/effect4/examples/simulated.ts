// Testing connect code without sockets (README.md, "Testing your code on the simulated network"), type-checked
// by `tsc -p packages/effect4/tsconfig.test.json` and run by packages/effect4/test/examples.test.ts.
// --- simulated ---
import { Effect } from "effect"
import { ConnectEx, Simulated, SocketAddress } from "@effect-connectex/effect4"

const network = Simulated.network({
  "192.0.2.1:80": Simulated.refuse({ times: 2 }), // refused twice, then accepted
  "192.0.2.2:80": Simulated.blackhole({ synTimeout: "21 seconds" }) // the SYN is dropped
})

/** Dials the flaky server with back-off (50 ms, then 100 ms); what the network saw: [10061, 10061, 0]. */
export const flaky = Effect.scoped(Effect.gen(function*() {
  yield* ConnectEx.dial(SocketAddress.ipv4("192.0.2.1", 80), { retry: ConnectEx.retryPolicy(3) })
  return (yield* Simulated.attempts("192.0.2.1:80")).map((attempt) => attempt.status)
})).pipe(Effect.provide(ConnectEx.layerSimulated(network)))

/** Connects to the dark server: WSAETIMEDOUT after 21 s of Clock time (TestClock.adjust moves it). */
export const dark = Effect.scoped(
  ConnectEx.dial(SocketAddress.ipv4("192.0.2.2", 80)).pipe(
    Effect.as("connected"),
    Effect.catchTag("WSAETIMEDOUT", (error) => Effect.succeed(`timed out (${error.code})`))
  )
).pipe(Effect.provide(ConnectEx.layerSimulated(network)))
// --- end ---
