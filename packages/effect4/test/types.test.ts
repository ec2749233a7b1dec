/**
 * Type-level tests. The cases both front-ends share (each function's error union, the one table of error tags,
 * the run-time half: a kernel status outside a function's union is `Unknown`, a bad argument a typed error) are
 * written once in packages/frontend/test/types.ts and run here against this front-end; what Effect 4 spells its
 * own way (a Schedule's input) follows. Checked by `tsc -p tsconfig.test.json`, which the Effect 4 lane runs
 * before the suite (expectTypeOf does nothing at run time).
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { describe, expectTypeOf, it } from "vitest"
import { ConnectEx, SocketAddress, type WsaError } from "../src/index.js"
import "../../frontend/test/types.js"

const target = SocketAddress.ipv4("127.0.0.1", 80)

describe("retry is typed by what it receives", () => {
  it("retry takes a Schedule over WsaError.Retryable; a schedule for narrower inputs is rejected", () => {
    const dialed = ConnectEx.dial(target, { retry: ConnectEx.retryPolicy(3) })
    expectTypeOf<Effect.Error<typeof dialed>>().toEqualTypeOf<WsaError.DialFailure>()
    const tooNarrow = Schedule.recurs(3).pipe(Schedule.setInputType<WsaError.WSAECONNREFUSED>())
    // @ts-expect-error: dial may step the schedule with WSAENETUNREACH or WSAETIMEDOUT too
    ConnectEx.dial(target, { retry: tooNarrow })
  })
})
