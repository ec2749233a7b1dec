/**
 * What the tests written once (packages/frontend/test) take from the front-end they run on, imported there as
 * `#test-kit` (vitest.config.ts' alias, tsconfig.json's paths): Effect 3's spelling of the test-side calls, and
 * the repository's loopback peers (which also know the Wine lane's pending-target host). The Effect 4 front-end's
 * test/support/kit.ts has the same exports.
 */
import { Effect, TestClock as Clock } from "effect"
import type * as SocketAddress from "../../src/SocketAddress.js"
import * as Peers from "../../../../test/support/peers.js"

/** The test clock: `adjust` moves it on, running what was due. */
export const TestClock = { adjust: Clock.adjust }

/** Forks an effect as a child of the current fiber (Effect 3's `fork`). */
export const forkChild = Effect.fork

/** A node:net echo server on the loopback address of `family`, closed with the scope: its address. */
export const echoServer = (family: SocketAddress.Family = "ipv4") => Effect.map(Peers.echoServer(family), (peer) => peer.address)

/** A loopback port that refuses connects, and a target whose connects stay pending. */
export const { pendingTarget, refusedPort } = Peers
