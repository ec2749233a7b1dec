/**
 * The machinery behind `Listener`, over the core's (`Core.Listening`): listen, accept and serve's accept loop
 * are the core's; what is this front-end's is the scope each socket lives in, the wait (cancel, then wait, on
 * interruption) and the fiber each served connection's handler runs in.
 */
import * as Core from "@effect-connectex/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as WsaError from "../errors/WsaError.js"
import type { Iocp } from "../Iocp.js"
import * as Socket from "../Socket.js"
import type * as SocketAddress from "../SocketAddress.js"
import { operation } from "./port.js"
import * as internal from "./socket.js"

export const TypeId: typeof Core.Listening.TypeId = Core.Listening.TypeId
export type TypeId = typeof TypeId

export type ListenerImpl = Core.Listening.Listener

export const isListener = (u: unknown): u is ListenerImpl => Core.Listening.isListener(u)

export interface ListenOptions {
  /** the kernel's queue of connections not accepted yet (default 511, as Node's) */
  readonly backlog?: number | undefined
  /**
   * SO_REUSEADDR before bind, so that a restarted server binds a port whose old connections are still in
   * TIME_WAIT. Default: the driver's (true, except on Windows: there SO_REUSEADDR would let another socket
   * take a port that is in use, and TIME_WAIT never blocks a listener's bind anyway).
   */
  readonly reuseAddress?: boolean | undefined
}

export interface AcceptOptions {
  /** also wait for the client's first bytes (up to this many), as AcceptEx with a receive does */
  readonly receive?: number | undefined
}

export interface Accepted {
  /** the connection, closed with the scope of the accept */
  readonly socket: Socket.Socket
  /** the client's address */
  readonly peer: SocketAddress.SocketAddress
  /** with `receive`: the first bytes (empty when the client closed without sending, or without `receive`) */
  readonly data: Uint8Array
}

const listenError = internal.failureOnto(WsaError.listenTags)
const toListenError = WsaError.narrowingError(WsaError.listenTags)
const acceptError = internal.failureOnto(WsaError.acceptTags)
const addressError = internal.failureOnto(WsaError.addressTags)

export const listen = (
  address: SocketAddress.SocketAddress,
  options?: ListenOptions
): Effect.Effect<ListenerImpl, WsaError.ListenError, Scope.Scope | Iocp> =>
  Effect.gen(function*() {
    const checked = Core.Listening.checkListen(address, options)
    if (Core.isFailure(checked)) return yield* Effect.fail(listenError(checked))
    const { backlog, local } = checked
    // The socket lives in a scope of its own, closed at once when listen fails (a server retrying an address
    // in use must not pile up sockets until its own scope ends); on success it is the caller's.
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    return yield* Effect.onExit(
      Effect.flatMap(Scope.provide(scope)(Effect.mapError(Socket.open({ family: local.family }), toListenError)), (socket) => {
        const listener = internal.isSocket(socket)
          ? Core.Listening.listenOn(socket, local, backlog, options)
          : Core.failure("WSAENOTSOCK", "listen", local)
        return Core.isFailure(listener) ? Effect.fail(listenError(listener)) : Effect.succeed(listener)
      }),
      (exit) => (Exit.isFailure(exit) ? Scope.close(scope, exit) : Effect.void)
    )
  })

export const address = (listener: ListenerImpl): Effect.Effect<SocketAddress.SocketAddress, WsaError.AddressError> =>
  Effect.suspend(() => {
    const result = Core.Listening.address(listener)
    return Core.isFailure(result) ? Effect.fail(addressError(result)) : Effect.succeed(result)
  })

/**
 * Accepts one connection (the state machine answers WSAEINVAL on a socket that does not listen). Only the wait
 * is interruptible, so the caller owns the connection before an interruption can land; a connection that
 * arrives after an interruption (it won the race) is closed instead of leaked.
 */
export const accept = (listener: ListenerImpl | Socket.Socket, options?: AcceptOptions): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> =>
  Effect.suspend(() => {
    const listening = Core.Listening.listeningSocket(listener, "accept")
    if (Core.isFailure(listening)) return Effect.fail(acceptError(listening))
    const receive = options?.receive ?? 0
    const badReceive = Core.Listening.checkReceive(receive)
    if (badReceive !== undefined) return Effect.fail(acceptError(badReceive))
    let arrived: Core.Completion | undefined
    return Effect.uninterruptibleMask((restore) =>
      restore(operation((onLater) => Core.Listening.accept(listening, receive, (completion) => onLater(arrived = completion)))).pipe(
        Effect.onInterrupt(() => Effect.sync(() => Core.Listening.closeUnadopted(listening.port.driver, arrived))),
        Effect.flatMap((completion) => adopt(listening, completion))
      )
    )
  })

const adopt = (listening: internal.SocketImpl, completion: Core.Completion): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const accepted = Core.Listening.adopt(listening, completion, now)
    if (Core.isFailure(accepted)) return Effect.fail(acceptError(accepted))
    return Effect.as(Effect.addFinalizer(() => Effect.sync(() => internal.close(accepted.socket))), accepted)
  })

export type ServeOptions = Core.Listening.ServeOptions

/**
 * The core's accept loop with a fiber per connection, forked with the serve's context: a scope for the
 * handler, then the socket's close and the slot's release (the core's `done`). Stopping the serve stops the
 * loop (pending accepts and first-bytes waits cancelled, their sockets closed), then interrupts the handlers
 * and waits for them.
 */
export const serve = <E, R>(
  listener: ListenerImpl,
  handler: (connection: Accepted) => Effect.Effect<unknown, E, R>,
  options?: ServeOptions
): Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const checked = Core.Listening.checkServe(listener, options)
      if (Core.isFailure(checked)) return yield* Effect.fail(acceptError(checked))
      const runFork = Effect.runForkWith(yield* Effect.context<Exclude<R, Scope.Scope>>())
      const clock = yield* Effect.clockWith(Effect.succeed)
      const failed = yield* Deferred.make<never, WsaError.AcceptError>()
      const live = new Set<Fiber.Fiber<void>>()

      const handle = (connection: Accepted): Effect.Effect<void, never, Exclude<R, Scope.Scope>> =>
        Effect.suspend(() => handler(connection)).pipe(
          Effect.scoped,
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logWarning("Listener.serve: a connection handler failed", cause)
          )
        )

      const serving = Core.Listening.serve(checked, {
        now: () => clock.currentTimeMillisUnsafe(),
        sleep: (ms, then) => {
          const fiber = runFork(Effect.andThen(Effect.sleep(ms), Effect.sync(then)))
          return () => fiber.interruptUnsafe()
        },
        connection: (connection, done) => {
          // started from the driver's callback: the handler's first step waits for the scheduler, not in it
          const fiber = runFork(Effect.andThen(Effect.yieldNow, handle(connection)))
          live.add(fiber)
          fiber.addObserver(() => {
            live.delete(fiber)
            done()
          })
        },
        failed: (outcome) => Deferred.doneUnsafe(failed, "defect" in outcome ? Exit.die(outcome.defect) : Exit.fail(acceptError(outcome)))
      })
      yield* Effect.addFinalizer(() =>
        Effect.andThen(
          Effect.callback<void>((resume) => serving.stop(() => resume(Effect.void))),
          Effect.suspend(() => Fiber.interruptAll([...live]))
        )
      )
      return yield* Deferred.await(failed)
    })
  )
