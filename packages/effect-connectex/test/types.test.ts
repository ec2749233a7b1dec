/**
 * Type-level tests: each public function's error type lists only what it can produce. These are checked by
 * `tsc -p tsconfig.json` (expectTypeOf does nothing at run time); the run-time half (a kernel status outside
 * a function's union becomes `Unknown`) is the last test.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { type Cause, Effect, Schedule } from "effect"
import type * as HappyEyeballs from "../src/HappyEyeballs.js"
import { ConnectEx, Listener, type Resolver, Socket, SocketAddress, WsaError } from "../src/index.js"
import type { ErrorTags } from "../../../test/support/errorTags.js"

type ErrorOf<F extends (...args: Array<never>) => Effect.Effect<unknown, unknown, unknown>> = Effect.Effect.Error<ReturnType<F>>

// Only its type is used: the expressions below are built, never run.
const socket = undefined as unknown as Socket.Socket
const target = SocketAddress.ipv4("127.0.0.1", 80)

describe("each function's error type is its own union", () => {
  it("Socket.open: OpenError", () => {
    expectTypeOf<ErrorOf<typeof Socket.open>>().toEqualTypeOf<WsaError.OpenError>()
    expectTypeOf<WsaError.OpenError["_tag"]>().toEqualTypeOf<
      | "WSAEAFNOSUPPORT" | "WSANOTINITIALISED" | "WSAENETDOWN" | "WSAEMFILE" | "WSAENOBUFS" | "WSAEACCES" | "WSAEINVAL"
      | "WSAEPROTONOSUPPORT" | "WSAESOCKTNOSUPPORT" | "WSAEPROTOTYPE" | "Unknown"
    >()
  })
  it("Socket.bind: BindError", () => {
    expectTypeOf<ErrorOf<typeof Socket.bind>>().toEqualTypeOf<WsaError.BindError>()
    expectTypeOf<"WSAECONNREFUSED">().not.toMatchTypeOf<WsaError.BindError["_tag"]>()
  })
  it("Socket.setOption: SetOptionError", () => {
    expectTypeOf<Effect.Effect.Error<ReturnType<typeof Socket.setOption<"TCP_NODELAY">>>>().toEqualTypeOf<WsaError.SetOptionError>()
  })
  it("Socket.send: SendError, without bind/connect-only tags", () => {
    expectTypeOf<ErrorOf<typeof Socket.send>>().toEqualTypeOf<WsaError.SendError>()
    expectTypeOf<"WSAEADDRINUSE" | "WSAECONNREFUSED" | "WSAEISCONN">().not.toMatchTypeOf<WsaError.SendError["_tag"]>()
  })
  it("Socket.receive: ReceiveError; catching what it can produce leaves nothing but Unknown", () => {
    expectTypeOf<ErrorOf<typeof Socket.receive>>().toEqualTypeOf<WsaError.ReceiveError>()
    const caught = Socket.receive(socket, 10).pipe(
      Effect.catchTags({
        WSAECONNRESET: () => Effect.succeed(new Uint8Array(0)),
        WSAECONNABORTED: () => Effect.succeed(new Uint8Array(0)),
        WSAENETRESET: () => Effect.succeed(new Uint8Array(0)),
        WSAENETDOWN: () => Effect.succeed(new Uint8Array(0)),
        WSAETIMEDOUT: () => Effect.succeed(new Uint8Array(0)),
        WSAENOBUFS: () => Effect.succeed(new Uint8Array(0)),
        WSA_OPERATION_ABORTED: () => Effect.succeed(new Uint8Array(0)),
        WSAEDISCON: () => Effect.succeed(new Uint8Array(0)),
        WSAENOTCONN: () => Effect.succeed(new Uint8Array(0)),
        WSAEINVAL: () => Effect.succeed(new Uint8Array(0)),
        WSAEFAULT: () => Effect.succeed(new Uint8Array(0)),
        WSAENOTSOCK: () => Effect.succeed(new Uint8Array(0)),
        WSANOTINITIALISED: () => Effect.succeed(new Uint8Array(0))
      })
    )
    expectTypeOf<Effect.Effect.Error<typeof caught>>().toEqualTypeOf<WsaError.Unknown>()
  })
  it("Socket.shutdown: ShutdownError", () => {
    expectTypeOf<ErrorOf<typeof Socket.shutdown>>().toEqualTypeOf<WsaError.ShutdownError>()
  })
  it("Socket.disconnect: DisconnectError", () => {
    expectTypeOf<ErrorOf<typeof Socket.disconnect>>().toEqualTypeOf<WsaError.DisconnectError>()
  })
  it("Socket.localAddress / peerAddress: AddressError", () => {
    expectTypeOf<ErrorOf<typeof Socket.localAddress>>().toEqualTypeOf<WsaError.AddressError>()
    expectTypeOf<ErrorOf<typeof Socket.peerAddress>>().toEqualTypeOf<WsaError.AddressError>()
  })
  it("Socket.connectTime: ConnectTimeError", () => {
    expectTypeOf<ErrorOf<typeof Socket.connectTime>>().toEqualTypeOf<WsaError.ConnectTimeError>()
  })
  it("ConnectEx.connect: ConnectError", () => {
    expectTypeOf<ErrorOf<typeof ConnectEx.connect>>().toEqualTypeOf<WsaError.ConnectError>()
    expectTypeOf<"WSAESHUTDOWN" | "WSAEMFILE">().not.toMatchTypeOf<WsaError.ConnectError["_tag"]>()
  })
  it("ConnectEx.dial: DialFailure, with TimeoutException only when a timeout is given", () => {
    const plain = ConnectEx.dial(target)
    const bounded = ConnectEx.dial(target, { timeout: "1 second" })
    expectTypeOf<Effect.Effect.Error<typeof plain>>().toEqualTypeOf<WsaError.DialFailure>()
    expectTypeOf<Effect.Effect.Error<typeof bounded>>().toEqualTypeOf<WsaError.DialFailure | Cause.TimeoutException>()
    expectTypeOf<WsaError.DialFailure>().toEqualTypeOf<WsaError.ConnectError | WsaError.OpenError | WsaError.BindError>()
  })
  it("ConnectEx.dialName / dialList: a dial's failure when every attempt failed alike, DialError for mixed ones, WSAEINVAL for bad arguments", () => {
    expectTypeOf<Effect.Effect.Error<ReturnType<typeof ConnectEx.dialName>>>().toEqualTypeOf<
      HappyEyeballs.DialError | WsaError.DialFailure | Resolver.ResolveError | WsaError.WSAEINVAL | Cause.TimeoutException
    >()
    expectTypeOf<Effect.Effect.Error<ReturnType<typeof ConnectEx.dialList>>>().toEqualTypeOf<
      HappyEyeballs.DialError | WsaError.DialFailure | WsaError.WSAEINVAL | WsaError.WSAEAFNOSUPPORT | Cause.TimeoutException
    >()
    // a refusal and a timeout caught by their tags, as on `dial`
    const caught = ConnectEx.dialName("localhost", 8080, { timeout: "1 second" }).pipe(
      Effect.as("connected"),
      Effect.catchTags({
        WSAECONNREFUSED: () => Effect.succeed("refused"),
        TimeoutException: () => Effect.succeed("timed out")
      })
    )
    expectTypeOf<Effect.Effect.Success<typeof caught>>().toEqualTypeOf<string>()
    expectTypeOf<"WSAECONNREFUSED" | "TimeoutException">().not.toMatchTypeOf<Effect.Effect.Error<typeof caught>["_tag"]>()
  })
})

describe("one table of error tags for both front-ends (test/support/errorTags.ts)", () => {
  it("every public function's tags are the table's", () => {
    type Tags<A> = A extends Effect.Effect<infer _A, infer E, infer _R> ? Exclude<E extends { readonly _tag: infer T } ? T : never, "TimeoutException"> : never
    const dialed = ConnectEx.dial(target)
    expectTypeOf<{
      readonly "Socket.open": Tags<ReturnType<typeof Socket.open>>
      readonly "Socket.bind": Tags<ReturnType<typeof Socket.bind>>
      readonly "Socket.setOption": Tags<ReturnType<typeof Socket.setOption<"TCP_NODELAY">>>
      readonly "Socket.send": Tags<ReturnType<typeof Socket.send>>
      readonly "Socket.receive": Tags<ReturnType<typeof Socket.receive>>
      readonly "Socket.shutdown": Tags<ReturnType<typeof Socket.shutdown>>
      readonly "Socket.disconnect": Tags<ReturnType<typeof Socket.disconnect>>
      readonly "Socket.localAddress": Tags<ReturnType<typeof Socket.localAddress>>
      readonly "Socket.peerAddress": Tags<ReturnType<typeof Socket.peerAddress>>
      readonly "Socket.connectTime": Tags<ReturnType<typeof Socket.connectTime>>
      readonly "ConnectEx.connect": Tags<ReturnType<typeof ConnectEx.connect>>
      readonly "ConnectEx.dial": Tags<typeof dialed>
      readonly "ConnectEx.dialName": Tags<ReturnType<typeof ConnectEx.dialName>>
      readonly "ConnectEx.dialList": Tags<ReturnType<typeof ConnectEx.dialList>>
      readonly "Listener.listen": Tags<ReturnType<typeof Listener.listen>>
      readonly "Listener.accept": Tags<ReturnType<typeof Listener.accept>>
    }>().toEqualTypeOf<ErrorTags>()
  })
})

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

describe("a kernel status outside a function's union", () => {
  it("becomes Unknown with the code and the reported tag in the message (the documented catch-all)", () => {
    const toSendError = WsaError.narrowing(WsaError.sendTags)
    expect(toSendError(10054, { operation: "send" })._tag).toBe("WSAECONNRESET")
    const outside = toSendError(10048, { operation: "send" })
    expect(outside._tag).toBe("Unknown")
    expect(outside.code).toBe(10048)
    expect(outside.message).toContain("WSAEADDRINUSE")
    expect(toSendError(4242, { operation: "send" })._tag).toBe("Unknown")
  })
})
