/**
 * The examples run: the quick start against a loopback echo server and a refusing port.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { echo, hello } from "../examples/quickstart.js"
import { echoServer, refusedPort } from "./support/peers.js"

describe("examples/quickstart.ts", () => {
  it.live("hello connects and sends; a refusal is a value", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      assert.strictEqual(yield* hello(server, new TextEncoder().encode("hi")), "connected, sent 2 bytes")
      const refused = yield* refusedPort("ipv4")
      assert.strictEqual(yield* hello(refused, new Uint8Array(0)), "refused (10061): nothing listens there")
    }).pipe(Effect.scoped))

  it.live("echo dials and reads the answer", () =>
    Effect.gen(function*() {
      const server = yield* echoServer("ipv4")
      assert.strictEqual(yield* echo(server, "ping"), "ping")
    }).pipe(Effect.scoped))
})
