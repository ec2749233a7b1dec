/**
 * Type-level tests. The cases both front-ends share (each function's error union, the one table of error tags,
 * the run-time half) are written once in packages/frontend/test/types.ts and run here against this front-end;
 * what Effect 3 spells its own way (a Schedule's input) follows. Checked by `tsc -p tsconfig.json`
 * (expectTypeOf does nothing at run time).
 */
import { describe, expectTypeOf, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { ConnectEx, SocketAddress, type WsaError } from "../src/index.js"
import "../../frontend/test/types.js"

const target = SocketAddress.ipv4("127.0.0.1", 80)

describe("retry is typed by what it receives", () => {
  it("retry takes a Schedule of WsaError.Retryable: tapInput on it sees the three tags; narrower schedules are rejected", () => {
    const tapped = Schedule.recurs(3).pipe(
      Schedule.tapInput((e: WsaError.Retryable) => {
        expectTypeOf(e._tag).toEqualTypeOf<"WSAECONNREFUSED" | "WSAENETUNREACH" | "WSAETIMEDOUT">()
        return Effect.void
      })
    )
    const dialed = ConnectEx.dial(target, { retry: tapped })
    expectTypeOf<Effect.Effect.Error<typeof dialed>>().toEqualTypeOf<WsaError.DialFailure>()
    // Effect 3's Schedule.tapInput has its own free input type (In2), so TypeScript cannot infer `e` from the
    // retry option; annotated with WsaError.Retryable it type-checks, with anything narrower it does not.
    const narrowed = Schedule.tapInput(ConnectEx.retryPolicy(3), (e: WsaError.Retryable) => Effect.log(e._tag))
    ConnectEx.dial(target, { retry: narrowed })
    const tooNarrow = Schedule.recurs(3).pipe(Schedule.tapInput((e: WsaError.WSAECONNREFUSED) => Effect.log(e._tag)))
    // @ts-expect-error: dial may step the schedule with WSAENETUNREACH or WSAETIMEDOUT too
    ConnectEx.dial(target, { retry: tooNarrow })
    const unrelated = Schedule.recurs(3).pipe(Schedule.tapInput((e: WsaError.WSAEISCONN) => Effect.log(e._tag)))
    // @ts-expect-error: a schedule for an error dial never retries on
    ConnectEx.dial(target, { retry: unrelated })
  })
})
