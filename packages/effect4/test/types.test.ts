/**
 * Type-level tests: each public function's error type lists only what it can produce, the same unions as the
 * Effect 3 front-end's (the repository's packages/effect-connectex/test/types.test.ts). Checked by `tsc -p tsconfig.test.json`, which the
 * Effect 4 lane runs before the suite (expectTypeOf does nothing at run time); the run-time half (a kernel
 * status outside a function's union becomes `Unknown`, a bad argument is a typed error, never a throw) follows.
 */
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { describe, expect, expectTypeOf, it } from "vitest"
import {
  ConnectEx,
  type HappyEyeballs,
  Listener,
  type NodeStream,
  type PlatformSocket,
  type Resolver,
  Simulated,
  Socket,
  SocketAddress,
  WsaError
} from "../src/index.js"
import type { ErrorTags } from "../../../test/support/errorTags.js"

type ErrorOf<F extends (...args: Array<never>) => Effect.Effect<unknown, unknown, unknown>> = Effect.Error<ReturnType<F>>

// Only its type is used: the expressions below are built, never run.
const socket = undefined as unknown as Socket.Socket
const target = SocketAddress.ipv4("127.0.0.1", 80)

describe("each function's error type is its own union (as in the Effect 3 front-end)", () => {
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
    expectTypeOf<Effect.Error<ReturnType<typeof Socket.setOption<"TCP_NODELAY">>>>().toEqualTypeOf<WsaError.SetOptionError>()
  })
  it("Socket.send: SendError, without bind/connect-only tags", () => {
    expectTypeOf<ErrorOf<typeof Socket.send>>().toEqualTypeOf<WsaError.SendError>()
    expectTypeOf<"WSAEADDRINUSE" | "WSAECONNREFUSED" | "WSAEISCONN">().not.toMatchTypeOf<WsaError.SendError["_tag"]>()
  })
  it("Socket.receive: ReceiveError; catching what it can produce leaves nothing but Unknown", () => {
    expectTypeOf<ErrorOf<typeof Socket.receive>>().toEqualTypeOf<WsaError.ReceiveError>()
    const empty = () => Effect.succeed(new Uint8Array(0))
    const caught = Socket.receive(socket, 10).pipe(
      Effect.catchTags({
        WSAECONNRESET: empty,
        WSAECONNABORTED: empty,
        WSAENETRESET: empty,
        WSAENETDOWN: empty,
        WSAETIMEDOUT: empty,
        WSAENOBUFS: empty,
        WSA_OPERATION_ABORTED: empty,
        WSAEDISCON: empty,
        WSAENOTCONN: empty,
        WSAEINVAL: empty,
        WSAEFAULT: empty,
        WSAENOTSOCK: empty,
        WSANOTINITIALISED: empty
      })
    )
    expectTypeOf<Effect.Error<typeof caught>>().toEqualTypeOf<WsaError.Unknown>()
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
  it("ConnectEx.dial: DialFailure (open, bind and connect), with TimeoutError only when a timeout is given", () => {
    const plain = ConnectEx.dial(target)
    const bounded = ConnectEx.dial(target, { timeout: "1 second" })
    expectTypeOf<Effect.Error<typeof plain>>().toEqualTypeOf<WsaError.DialFailure>()
    expectTypeOf<Effect.Error<typeof bounded>>().toEqualTypeOf<WsaError.DialFailure | Cause.TimeoutError>()
    expectTypeOf<WsaError.DialFailure>().toEqualTypeOf<WsaError.ConnectError | WsaError.OpenError | WsaError.BindError>()
    // an open failure such as WSAEMFILE is part of a dial's type (a connect alone cannot produce it)
    expectTypeOf<"WSAEMFILE">().toMatchTypeOf<WsaError.DialFailure["_tag"]>()
  })
  it("ConnectEx.dialName / dialList: a dial's failure when every attempt failed alike, DialError for mixed ones, WSAEINVAL for bad arguments", () => {
    expectTypeOf<Effect.Error<ReturnType<typeof ConnectEx.dialName>>>().toEqualTypeOf<
      HappyEyeballs.DialError | WsaError.DialFailure | Resolver.ResolveError | WsaError.WSAEINVAL | Cause.TimeoutError
    >()
    expectTypeOf<Effect.Error<ReturnType<typeof ConnectEx.dialList>>>().toEqualTypeOf<
      HappyEyeballs.DialError | WsaError.DialFailure | WsaError.WSAEINVAL | WsaError.WSAEAFNOSUPPORT | Cause.TimeoutError
    >()
    expectTypeOf<HappyEyeballs.FailedAttempt["error"]>().toEqualTypeOf<WsaError.DialFailure>()
    // a refusal and a timeout caught by their tags, as on `dial`
    const caught = ConnectEx.dialName("localhost", 8080, { timeout: "1 second" }).pipe(
      Effect.as("connected"),
      Effect.catchTags({
        WSAECONNREFUSED: () => Effect.succeed("refused"),
        TimeoutError: () => Effect.succeed("timed out")
      })
    )
    expectTypeOf<Effect.Success<typeof caught>>().toEqualTypeOf<string>()
    expectTypeOf<"WSAECONNREFUSED" | "TimeoutError">().not.toMatchTypeOf<Effect.Error<typeof caught>["_tag"]>()
  })
  it("Listener.listen / accept: ListenError / AcceptError", () => {
    expectTypeOf<ErrorOf<typeof Listener.listen>>().toEqualTypeOf<WsaError.ListenError>()
    expectTypeOf<Effect.Error<ReturnType<typeof Listener.accept>>>().toEqualTypeOf<WsaError.AcceptError>()
  })
  it("NodeStream.toDuplex cannot fail; PlatformSocket.make needs only ConnectEx (the port comes with it)", () => {
    expectTypeOf<ErrorOf<typeof NodeStream.toDuplex>>().toEqualTypeOf<never>()
    expectTypeOf<Effect.Services<ReturnType<typeof PlatformSocket.make<never>>>>().toEqualTypeOf<ConnectEx.ConnectEx>()
  })
  it("fromName is typed by its name", () => {
    expectTypeOf(WsaError.fromName("WSAETIMEDOUT", { operation: "connect" })).toEqualTypeOf<WsaError.WSAETIMEDOUT>()
  })
})

describe("one table of error tags for both front-ends (test/support/errorTags.ts)", () => {
  it("every public function's tags are the table's", () => {
    type Tags<A> = A extends Effect.Effect<infer _A, infer E, infer _R> ? Exclude<E extends { readonly _tag: infer T } ? T : never, "TimeoutError"> : never
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
  it("retry takes a Schedule over WsaError.Retryable; a schedule for narrower inputs is rejected", () => {
    const dialed = ConnectEx.dial(target, { retry: ConnectEx.retryPolicy(3) })
    expectTypeOf<Effect.Error<typeof dialed>>().toEqualTypeOf<WsaError.DialFailure>()
    const tooNarrow = Schedule.recurs(3).pipe(Schedule.setInputType<WsaError.WSAECONNREFUSED>())
    // @ts-expect-error: dial may step the schedule with WSAENETUNREACH or WSAETIMEDOUT too
    ConnectEx.dial(target, { retry: tooNarrow })
  })
})

describe("at run time", () => {
  it("a kernel status outside a function's union becomes Unknown with the code and the reported tag in the message", () => {
    const toSendError = WsaError.narrowing(WsaError.sendTags)
    expect(toSendError(10054, { operation: "send" })._tag).toBe("WSAECONNRESET")
    const outside = toSendError(10048, { operation: "send" })
    expect(outside._tag).toBe("Unknown")
    expect(outside.code).toBe(10048)
    expect(outside.message).toContain("WSAEADDRINUSE")
    expect(toSendError(4242, { operation: "send" })._tag).toBe("Unknown")
  })

  const network = Simulated.network({
    "192.0.2.1:80": Simulated.refuse(),
    "192.0.2.2:80": Simulated.refuse(),
    "192.0.2.3:80": Simulated.unreachable("host")
  })
  const run = <A, E>(effect: Effect.Effect<A, E, ConnectEx.ConnectEx | Scope.Scope>) =>
    Effect.runPromise(Effect.exit(effect.pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(network)))))
  const failedWith = (exit: Exit.Exit<unknown, unknown>) =>
    Exit.isFailure(exit) ? exit.cause.reasons.map((reason) => reason._tag === "Fail" ? (reason.error as { _tag: string })._tag : reason._tag) : []

  it("dialList: a list that is not an array, an invalid address or an invalid timeout is WSAEINVAL (never a defect)", async () => {
    expect(failedWith(await run(ConnectEx.dialList(42 as never)))).toEqual(["WSAEINVAL"])
    expect(failedWith(await run(ConnectEx.dialList([{ family: "ipv4", host: "nope", port: 80 } as never])))).toEqual(["WSAEINVAL"])
    expect(failedWith(await run(ConnectEx.dialList([target], { timeout: "soon" as never })))).toEqual(["WSAEINVAL"])
    expect(failedWith(await run(ConnectEx.dialList([target], { attemptDelay: "later" as never })))).toEqual(["WSAEINVAL"])
    expect(failedWith(await run(ConnectEx.dialList([target], 42 as never)))).toEqual(["WSAEINVAL"])
  })

  it("dialName: an invalid timeout is WSAEINVAL when run, not a throw at the call", async () => {
    const call = () => ConnectEx.dialName("localhost", 80, { timeout: "soon" as never })
    expect(call).not.toThrow()
    expect(failedWith(await run(call()))).toEqual(["WSAEINVAL"])
    expect(failedWith(await run(ConnectEx.dialName("", 80)))).toEqual(["WSAEINVAL"])
    expect(failedWith(await run(ConnectEx.dialName("localhost", 70_000)))).toEqual(["WSAEINVAL"])
  })

  it("every attempt refused alike: the refusal itself (catchTag works as on one dial); attempts that differ: a DialError", async () => {
    const refusing = [SocketAddress.ipv4("192.0.2.1", 80), SocketAddress.ipv4("192.0.2.2", 80)]
    expect(failedWith(await run(ConnectEx.dialList(refusing)))).toEqual(["WSAECONNREFUSED"])
    const caught = await run(ConnectEx.dialList(refusing).pipe(Effect.as("connected"), Effect.catchTag("WSAECONNREFUSED", () => Effect.succeed("refused"))))
    expect(caught).toEqual(Exit.succeed("refused"))
    const mixed = await run(ConnectEx.dialList([...refusing, SocketAddress.ipv4("192.0.2.3", 80)]))
    expect(failedWith(mixed)).toEqual(["DialError"])
  })
})
