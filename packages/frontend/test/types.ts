/**
 * The type tests both front-ends run, written once: each public function's error type lists only what it can
 * produce, the same unions on Effect 3 and Effect 4. Imported by each front-end's test/types.test.ts, so that
 * `../src/` is that front-end (its own src/ and packages/frontend/src, docs/architecture.md) and `effect` its
 * own; checked by the type checker of each (the repository's `tsc -p tsconfig.json`, and
 * packages/effect4/tsconfig.test.json in the Effect 4 lane): expectTypeOf does nothing at run time. What the
 * two Effects spell differently (the timeout's error, a Schedule's input) stays in each front-end's file.
 * The run-time half: a kernel status outside a function's union is `Unknown`, a bad argument a typed error.
 */
import * as Effect from "effect/Effect"
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
import { type TimeoutError, timeoutTag } from "../src/internal/effectVersion.js"
import type { ErrorTags } from "./errorTags.js"

/** What an effect fails with, needs and gives: `Effect.Effect`'s parameters are the same on both. */
type ErrorOf<A> = A extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
type ServicesOf<A> = A extends Effect.Effect<infer _A, infer _E, infer R> ? R : never
type SuccessOf<A> = A extends Effect.Effect<infer S, infer _E, infer _R> ? S : never
type ErrorOfCall<F extends (...args: Array<never>) => unknown> = ErrorOf<ReturnType<F>>

// Only its type is used: the expressions below are built, never run.
const socket = undefined as unknown as Socket.Socket
const target = SocketAddress.ipv4("127.0.0.1", 80)

describe("each function's error type is its own union", () => {
  it("Socket.open: OpenError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.open>>().toEqualTypeOf<WsaError.OpenError>()
    expectTypeOf<WsaError.OpenError["_tag"]>().toEqualTypeOf<
      | "WSAEAFNOSUPPORT" | "WSANOTINITIALISED" | "WSAENETDOWN" | "WSAEMFILE" | "WSAENOBUFS" | "WSAEACCES" | "WSAEINVAL"
      | "WSAEPROTONOSUPPORT" | "WSAESOCKTNOSUPPORT" | "WSAEPROTOTYPE" | "Unknown"
    >()
  })
  it("Socket.bind: BindError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.bind>>().toEqualTypeOf<WsaError.BindError>()
    expectTypeOf<"WSAECONNREFUSED">().not.toMatchTypeOf<WsaError.BindError["_tag"]>()
  })
  it("Socket.setOption: SetOptionError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.setOption<"TCP_NODELAY">>>().toEqualTypeOf<WsaError.SetOptionError>()
  })
  it("Socket.send: SendError, without bind/connect-only tags", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.send>>().toEqualTypeOf<WsaError.SendError>()
    expectTypeOf<"WSAEADDRINUSE" | "WSAECONNREFUSED" | "WSAEISCONN">().not.toMatchTypeOf<WsaError.SendError["_tag"]>()
  })
  it("Socket.receive: ReceiveError; catching what it can produce leaves nothing but Unknown", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.receive>>().toEqualTypeOf<WsaError.ReceiveError>()
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
    expectTypeOf<ErrorOf<typeof caught>>().toEqualTypeOf<WsaError.Unknown>()
  })
  it("Socket.shutdown: ShutdownError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.shutdown>>().toEqualTypeOf<WsaError.ShutdownError>()
  })
  it("Socket.disconnect: DisconnectError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.disconnect>>().toEqualTypeOf<WsaError.DisconnectError>()
  })
  it("Socket.localAddress / peerAddress: AddressError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.localAddress>>().toEqualTypeOf<WsaError.AddressError>()
    expectTypeOf<ErrorOfCall<typeof Socket.peerAddress>>().toEqualTypeOf<WsaError.AddressError>()
  })
  it("Socket.connectTime: ConnectTimeError", () => {
    expectTypeOf<ErrorOfCall<typeof Socket.connectTime>>().toEqualTypeOf<WsaError.ConnectTimeError>()
  })
  it("ConnectEx.connect: ConnectError", () => {
    expectTypeOf<ErrorOfCall<typeof ConnectEx.connect>>().toEqualTypeOf<WsaError.ConnectError>()
    expectTypeOf<"WSAESHUTDOWN" | "WSAEMFILE">().not.toMatchTypeOf<WsaError.ConnectError["_tag"]>()
  })
  it("ConnectEx.dial: DialFailure (open, bind and connect), with the timeout's error only when a timeout is given", () => {
    const plain = ConnectEx.dial(target)
    const bounded = ConnectEx.dial(target, { timeout: "1 second" })
    expectTypeOf<ErrorOf<typeof plain>>().toEqualTypeOf<WsaError.DialFailure>()
    expectTypeOf<ErrorOf<typeof bounded>>().toEqualTypeOf<WsaError.DialFailure | TimeoutError>()
    expectTypeOf<WsaError.DialFailure>().toEqualTypeOf<WsaError.ConnectError | WsaError.OpenError | WsaError.BindError>()
    // an open failure such as WSAEMFILE is part of a dial's type (a connect alone cannot produce it)
    expectTypeOf<"WSAEMFILE">().toMatchTypeOf<WsaError.DialFailure["_tag"]>()
  })
  it("ConnectEx.dialName / dialList: a dial's failure when every attempt failed alike, DialError for mixed ones, WSAEINVAL for bad arguments", () => {
    expectTypeOf<ErrorOfCall<typeof ConnectEx.dialName>>().toEqualTypeOf<
      HappyEyeballs.DialError | WsaError.DialFailure | Resolver.ResolveError | WsaError.WSAEINVAL | TimeoutError
    >()
    expectTypeOf<ErrorOfCall<typeof ConnectEx.dialList>>().toEqualTypeOf<
      HappyEyeballs.DialError | WsaError.DialFailure | WsaError.WSAEINVAL | WsaError.WSAEAFNOSUPPORT | TimeoutError
    >()
    expectTypeOf<HappyEyeballs.FailedAttempt["error"]>().toEqualTypeOf<WsaError.DialFailure>()
    // a refusal and a timeout caught by their tags, as on `dial`
    const caught = ConnectEx.dialName("localhost", 8080, { timeout: "1 second" }).pipe(
      Effect.as("connected"),
      Effect.catchTags({
        WSAECONNREFUSED: () => Effect.succeed("refused"),
        [timeoutTag]: () => Effect.succeed("timed out")
      })
    )
    expectTypeOf<SuccessOf<typeof caught>>().toEqualTypeOf<string>()
    expectTypeOf<"WSAECONNREFUSED" | typeof timeoutTag>().not.toMatchTypeOf<ErrorOf<typeof caught>["_tag"]>()
  })
  it("Listener.listen / accept: ListenError / AcceptError", () => {
    expectTypeOf<ErrorOfCall<typeof Listener.listen>>().toEqualTypeOf<WsaError.ListenError>()
    expectTypeOf<ErrorOfCall<typeof Listener.accept>>().toEqualTypeOf<WsaError.AcceptError>()
  })
  it("NodeStream.toDuplex cannot fail; PlatformSocket.make needs only ConnectEx (the port comes with it)", () => {
    expectTypeOf<ErrorOfCall<typeof NodeStream.toDuplex>>().toEqualTypeOf<never>()
    expectTypeOf<ServicesOf<ReturnType<typeof PlatformSocket.make<never>>>>().toEqualTypeOf<ConnectEx.ConnectEx>()
  })
  it("fromName is typed by its name", () => {
    expectTypeOf(WsaError.fromName("WSAETIMEDOUT", { operation: "connect" })).toEqualTypeOf<WsaError.WSAETIMEDOUT>()
  })
})

describe("one table of error tags for both front-ends (errorTags.ts)", () => {
  it("every public function's tags are the table's", () => {
    type Tags<A> = A extends Effect.Effect<infer _A, infer E, infer _R>
      ? Exclude<E extends { readonly _tag: infer T } ? T : never, typeof timeoutTag>
      : never
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
  /** The tag the effect fails with (a success or a defect rejects: a bad argument is never a defect). */
  const failedWith = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E, ConnectEx.ConnectEx | Scope.Scope>) =>
    Effect.runPromise(
      effect.pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(network)), Effect.flip, Effect.map((error) => error._tag))
    )

  it("dialList: a list that is not an array, an invalid address or an invalid timeout is WSAEINVAL (never a defect)", async () => {
    expect(await failedWith(ConnectEx.dialList(42 as never))).toBe("WSAEINVAL")
    expect(await failedWith(ConnectEx.dialList([{ family: "ipv4", host: "nope", port: 80 } as never]))).toBe("WSAEINVAL")
    expect(await failedWith(ConnectEx.dialList([target], { timeout: "soon" as never }))).toBe("WSAEINVAL")
    expect(await failedWith(ConnectEx.dialList([target], { attemptDelay: "later" as never }))).toBe("WSAEINVAL")
    expect(await failedWith(ConnectEx.dialList([target], 42 as never))).toBe("WSAEINVAL")
  })

  it("dialName: an invalid timeout is WSAEINVAL when run, not a throw at the call", async () => {
    const call = () => ConnectEx.dialName("localhost", 80, { timeout: "soon" as never })
    expect(call).not.toThrow()
    expect(await failedWith(call())).toBe("WSAEINVAL")
    expect(await failedWith(ConnectEx.dialName("", 80))).toBe("WSAEINVAL")
    expect(await failedWith(ConnectEx.dialName("localhost", 70_000))).toBe("WSAEINVAL")
  })

  it("every attempt refused alike: the refusal itself (catchTag works as on one dial); attempts that differ: a DialError", async () => {
    const refusing = [SocketAddress.ipv4("192.0.2.1", 80), SocketAddress.ipv4("192.0.2.2", 80)]
    expect(await failedWith(ConnectEx.dialList(refusing))).toBe("WSAECONNREFUSED")
    const caught = ConnectEx.dialList(refusing).pipe(Effect.as("connected"), Effect.catchTag("WSAECONNREFUSED", () => Effect.succeed("refused")))
    expect(await Effect.runPromise(caught.pipe(Effect.scoped, Effect.provide(ConnectEx.layerSimulated(network))))).toBe("refused")
    expect(await failedWith(ConnectEx.dialList([...refusing, SocketAddress.ipv4("192.0.2.3", 80)]))).toBe("DialError")
  })
})
