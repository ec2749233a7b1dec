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
import {
  callback,
  catchAllCause,
  clockMillisUnsafe,
  currentClock,
  deferredDoneUnsafe,
  forkScope,
  inScope,
  isInterruptedOnly,
  pollUnsafe,
  type RunFork,
  runForkFrom,
  type RunningFiber,
  yieldNow
} from "./effectVersion.js"
import type { Iocp } from "../Iocp.js"
import * as Socket from "../Socket.js"
import type * as SocketAddress from "../SocketAddress.js"
import { operation } from "./port.js"
import { sleepOn } from "./sleep.js"
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
    const scope = yield* forkScope(yield* Effect.scope)
    return yield* Effect.onExit(
      Effect.flatMap(inScope(scope)(Effect.mapError(Socket.open({ family: local.family }), toListenError)), (socket) => {
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

/** The accept loop's hooks both serving forms share: the clock, its sleeps, and the listener's failure. */
const loopHooks = <R>(
  runFork: RunFork<R>,
  clock: Clock.Clock,
  failed: Deferred.Deferred<never, WsaError.AcceptError>
): Omit<Core.Listening.ServeHooks, "connection"> => ({
  now: () => clockMillisUnsafe(clock),
  sleep: sleepOn(runFork),
  failed: (outcome) => deferredDoneUnsafe(failed, "defect" in outcome ? Exit.die(outcome.defect) : Exit.fail(acceptError(outcome)))
})

/**
 * Starts the core's accept loop with its stop already in the serve's scope. The stop is registered first:
 * a handler forked while the loop starts may let other fibers run (Effect 4's scheduler), and one of them can
 * interrupt the serve before the loop returned; registered after, that stop would never run and the loop
 * would go on serving.
 */
const startLoop = (
  start: () => Core.Listening.Serving,
  stopped: (then: () => void) => void
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.suspend(() => {
    let loop: Core.Listening.Serving | undefined
    return Effect.andThen(
      Effect.addFinalizer(() =>
        callback<void>((resume) => {
          if (loop === undefined) return resume(Effect.void)
          loop.stop(() => stopped(() => resume(Effect.void)))
        })
      ),
      Effect.sync(() => {
        loop = start()
      })
    )
  })

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
      const runFork = yield* runForkFrom<Exclude<R, Scope.Scope>>()
      const clock = yield* currentClock
      const failed = yield* Deferred.make<never, WsaError.AcceptError>()
      const live = new Set<RunningFiber<void>>()

      const handle = (connection: Accepted): Effect.Effect<void, never, Exclude<R, Scope.Scope>> =>
        Effect.suspend(() => handler(connection)).pipe(
          Effect.scoped,
          catchAllCause((cause) =>
            isInterruptedOnly(cause) ? Effect.void : Effect.logWarning("Listener.serve: a connection handler failed", cause)
          )
        )

      yield* startLoop(
        () =>
          Core.Listening.serve(checked, {
            ...loopHooks(runFork, clock, failed),
            connection: (connection, done) => {
              // started from the driver's callback: the handler's first step waits for the scheduler, not in it
              const fiber = runFork(Effect.andThen(yieldNow, handle(connection)))
              live.add(fiber)
              fiber.addObserver(() => {
                live.delete(fiber)
                done()
              })
            }
          }),
        // the loop stopped: the handlers are interrupted, and waited for
        (then) => void runFork(Fiber.interruptAll([...live])).addObserver(then)
      )
      return yield* Deferred.await(failed)
    })
  )

/** What `serveChunks` hands the handler with each chunk: the connection (its socket works with every `Socket` call). */
export interface Connection {
  readonly socket: Socket.Socket
  readonly peer: SocketAddress.SocketAddress
  /** Ends this connection now (the socket closes; the chunks after this one are not handled). */
  readonly close: Effect.Effect<void>
}

export type ServeChunksOptions = Core.Listening.ServeChunksOptions

/**
 * The core's accept loop with no fiber per connection (the core's `ChunkServing`): each connection is read by
 * the driver's streaming read and `handler` runs per chunk, in place when it returns nothing, in a fiber of its
 * own (the reading paused until it ends) when it returns an Effect. The peer's end, a read error or a failing
 * handler closes the connection (a failure is logged); stopping the serve stops the loop, interrupts the
 * handlers in progress and closes every connection, and ends once nothing of theirs is left in flight.
 */
export const serveChunks = <E = never, R = never>(
  listener: ListenerImpl,
  handler: (chunk: Uint8Array, connection: Connection) => Effect.Effect<unknown, E, R> | void,
  options?: ServeChunksOptions
): Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const checked = Core.Listening.checkServeChunks(listener, options)
      if (Core.isFailure(checked)) return yield* Effect.fail(acceptError(checked))
      const runFork = yield* runForkFrom<Exclude<R, Scope.Scope>>()
      const clock = yield* currentClock
      const failed = yield* Deferred.make<never, WsaError.AcceptError>()
      const logFailure = (cause: Cause.Cause<unknown>): void => {
        if (!isInterruptedOnly(cause)) runFork(Effect.logWarning("Listener.serveChunks: a connection handler failed", cause))
      }
      // The core serves each connection; this front-end runs a handler's Effect in a fiber (polled once: a
      // handler that finished at once, as a send the kernel took whole, lets the reading go on with no resume).
      const serving = new Core.Listening.ChunkServing<RunningFiber<unknown, E>, Effect.Effect<void>>({
        run: (chunk, connection) => {
          let result: Effect.Effect<unknown, E, R> | void
          try {
            result = handler(chunk, connection)
          } catch (defect) {
            logFailure(Cause.die(defect))
            return "failed"
          }
          if (!Effect.isEffect(result)) return "done"
          const fiber = runFork(result as Effect.Effect<unknown, E, Exclude<R, Scope.Scope>>)
          const now = pollUnsafe(fiber)
          if (now === undefined) {
            fiber.addObserver((exit) => Exit.isFailure(exit) && logFailure(exit.cause))
            return { running: fiber }
          }
          if (Exit.isSuccess(now)) return "done"
          logFailure(now.cause)
          return "failed"
        },
        observe: (fiber, then) => void fiber.addObserver((exit) => then(Exit.isSuccess(exit))),
        interrupt: (fiber, then) => void runFork(Fiber.interrupt(fiber)).addObserver(then),
        close: (connection) => Effect.sync(() => connection.closeNow())
      }, checked.readSize)
      yield* startLoop(
        () => Core.Listening.serve(checked, { ...loopHooks(runFork, clock, failed), connection: serving.begin }),
        // the loop stopped: every connection is closed, and waited for
        (then) => serving.closeAll(then)
      )
      return yield* Deferred.await(failed)
    })
  )
