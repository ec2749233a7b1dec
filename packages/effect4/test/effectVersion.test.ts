/**
 * Each front-end compiles and runs against its own `effect`: this package must see effect 4, although the
 * workspace root hoists effect 3 for the Effect 3 package.
 */
import { assert, describe, it } from "@effect/vitest"
import { createRequire } from "node:module"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { SocketAddress, WsaError } from "../src/index.js"

describe("which effect", () => {
  it("the package's `effect` is 4.x, seen from its sources and from its tests", () => {
    const fromSrc = createRequire(new URL("../src/index.ts", import.meta.url))
    const fromTest = createRequire(import.meta.url)
    assert.match(fromSrc("effect/package.json").version, /^4\./)
    assert.match(fromTest("effect/package.json").version, /^4\./)
    assert.include(fromSrc.resolve("effect/package.json"), "packages/effect4/node_modules/effect/")
  })

  it("the errors are Effect 4 values (Cause.TimeoutError exists only in Effect 4)", () => {
    assert.isFunction(Cause.TimeoutError)
    const error = WsaError.fromCode(10061, { operation: "connect" })
    assert.strictEqual(error._tag, "WSAECONNREFUSED")
    assert.instanceOf(error, Error)
    assert.isFunction((error as unknown as Iterable<unknown>)[Symbol.iterator]) // yieldable: `yield* error` fails
  })

  it("the modules written once (packages/frontend/src) are compiled against effect 4 here", () => {
    // SocketAddress.ts is a shared module: what it makes are Effect 4 values (an Effect 3 effect is not one),
    // which this package's effect 4 runs
    assert.isTrue(Effect.isEffect(SocketAddress.parse("127.0.0.1:80")))
    assert.strictEqual(Effect.runSync(Effect.flip(SocketAddress.parse("no address")))._tag, "WSAEINVAL")
  })

  it("the runtime is Node 22", () => {
    assert.isAtLeast(Number(process.versions.node.split(".")[0]), 22)
  })
})
