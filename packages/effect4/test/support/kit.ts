/**
 * What the tests written once (packages/frontend/test) take from the front-end they run on, imported there as
 * `#test-kit` (vitest.config.ts' alias, tsconfig.test.json's paths): Effect 4's spelling of the test-side calls,
 * and this suite's loopback peers. The Effect 3 front-end's test/support/kit.ts has the same exports.
 */
import * as Effect from "effect/Effect"
import { TestClock as Clock } from "effect/testing"
import { echoServer, pendingTarget, refusedPort } from "./peers.js"

/** The test clock: `adjust` moves it on, running what was due. */
export const TestClock = { adjust: Clock.adjust }

/** Forks an effect as a child of the current fiber. */
export const forkChild = Effect.forkChild

/** A node:net echo server, a loopback port that refuses connects, a target whose connects stay pending. */
export { echoServer, pendingTarget, refusedPort }
