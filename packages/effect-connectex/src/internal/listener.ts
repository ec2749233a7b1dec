/**
 * The machinery behind `Listener`: a listening socket is a `SocketImpl` in the state machine's "listening"
 * state; an accepted connection is a `SocketImpl` born connected, tracked by the port and closed with the
 * caller's scope. Accepts go through `Port.submit` like every other long operation (cancel, then wait).
 */
import * as Core from "@effect-connectex/core"
import { Cause, Clock, Effect, ExecutionStrategy, Exit, Fiber, Runtime, Scope } from "effect"
import * as WsaError from "../errors/WsaError.js"
import { Iocp, portOf } from "../Iocp.js"
import { operation } from "./port.js"
import * as Socket from "../Socket.js"
import * as SocketAddress from "../SocketAddress.js"
import * as internal from "./socket.js"

const describe = Core.describe

export const TypeId: unique symbol = Symbol.for("effect-connectex/Listener")
export type TypeId = typeof TypeId

export class ListenerImpl {
  readonly [TypeId]: TypeId = TypeId
  constructor(readonly socket: internal.SocketImpl) {}
  get family(): Core.Family {
    return this.socket.family
  }
}

export const isListener = (u: unknown): u is ListenerImpl => u instanceof ListenerImpl

export interface ListenOptions {
  /** the kernel's queue of connections not accepted yet (default 511, as Node's) */
  readonly backlog?: number | undefined
  /**
   * SO_REUSEADDR before bind, so that a restarted server binds a port whose old connections are still in
   * TIME_WAIT. Default true, except on the Windows driver: there SO_REUSEADDR would let another socket take
   * a port that is in use, and TIME_WAIT never blocks a listener's bind anyway.
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

/** The close of a socket the library accepted. */
const closeCounted = (socket: internal.SocketImpl): void => internal.close(socket)

/** The scoped close of a socket the library opened or accepted. */
const closeWithScope = (socket: internal.SocketImpl) => Effect.addFinalizer(() => Effect.sync(() => closeCounted(socket)))

const empty = new Uint8Array(0)

const toListenError = WsaError.narrowingError(WsaError.listenTags)
const toAcceptError = WsaError.narrowingError(WsaError.acceptTags)
const listenError = internal.statusOnto(WsaError.listenTags)
const acceptError = internal.statusOnto(WsaError.acceptTags)
const addressError = internal.statusOnto(WsaError.addressTags)

const failWith = (error: WsaError.WsaError): Effect.Effect<never, WsaError.ListenError> => Effect.fail(toListenError(error))

export const listen = (
  address: SocketAddress.SocketAddress,
  options?: ListenOptions
): Effect.Effect<ListenerImpl, WsaError.ListenError, Scope.Scope | Iocp> =>
  Effect.gen(function*() {
    const local = SocketAddress.validateSync(address, "listen")
    if (WsaError.isWsaError(local)) return yield* failWith(local)
    const backlog = options?.backlog ?? 511
    if (typeof backlog !== "number" || !Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
      return yield* failWith(internal.wsaError("WSAEINVAL", "listen", local, `backlog must be an integer from 0, got ${describe(backlog)}`))
    }
    const service = yield* Iocp
    const port = portOf(service)
    // The socket lives in a scope of its own, closed at once when listen fails (a server retrying an address
    // in use must not pile up sockets until its own scope ends); on success it is the caller's.
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    return yield* Effect.onExit(
      Effect.flatMap(
        Scope.extend(Effect.mapError(Socket.open({ family: local.family }), toListenError), scope),
        (socket) => listenOn(socket as internal.SocketImpl, local, backlog, options)
      ),
      (exit) => (Exit.isFailure(exit) ? Scope.close(scope, exit) : Effect.void)
    )
  })

/** bind + listen on a fresh socket: every step checked by the state machine first. */
const listenOn = (
  impl: internal.SocketImpl,
  local: SocketAddress.SocketAddress,
  backlog: number,
  options: ListenOptions | undefined
): Effect.Effect<ListenerImpl, WsaError.ListenError> =>
  Effect.gen(function*() {
    const port = impl.port
    const reuse = options?.reuseAddress ?? port.driver.name !== "windows"
    if (reuse) {
      const status = port.driver.setOption(impl.native, "SO_REUSEADDR", true)
      if (status !== 0) return yield* failWith(listenError(status, "listen", local))
    }
    const refusal = Core.SocketState.checkBind(impl, local)
    if (refusal !== undefined) return yield* failWith(internal.refused(refusal, "bind", local))
    // No deferred port: a listener's port must be chosen now (connect never comes to choose it).
    const bound = port.driver.bind(impl.native, local, false)
    if (bound !== 0) return yield* failWith(listenError(bound, "bind", local))
    Core.SocketState.bound(impl)
    const listenRefusal = Core.SocketState.checkListen(impl)
    if (listenRefusal !== undefined) return yield* failWith(internal.refused(listenRefusal, "listen", local))
    const listened = port.driver.listen(impl.native, backlog)
    if (listened !== 0) return yield* failWith(listenError(listened, "listen", local))
    Core.SocketState.listening(impl)
    return new ListenerImpl(impl)
  })

/** A listener's socket; a plain socket is let through so that the state machine answers (WSAEINVAL). */
const usableListener = (u: unknown, operation: "accept" | "localAddress"): internal.SocketImpl | WsaError.WsaError => {
  const usable = (socket: unknown) => {
    const result = Core.Sockets.usable(socket, operation)
    return Core.isFailure(result) ? internal.errorOf(result) : result
  }
  if (isListener(u)) return usable(u.socket)
  if (internal.isSocket(u)) return usable(u)
  return internal.wsaError("WSAEINVAL", operation, undefined, "the value is not a listener made by Listener.listen")
}

export const address = (listener: ListenerImpl): Effect.Effect<SocketAddress.SocketAddress, WsaError.WsaError> =>
  Effect.suspend(() => {
    const socket = usableListener(listener, "localAddress")
    if (!internal.isSocket(socket)) return Effect.fail(socket)
    const result = socket.port.driver.localAddress(socket.native)
    return result.ok ? Effect.succeed(result.value) : Effect.fail(addressError(result.code, "localAddress"))
  })

/** The `receive` option of accept and serve: an integer from 0 to MAX_RECEIVE, else WSAEINVAL. */
const checkReceive = (receive: unknown) => {
  const detail = Core.Options.checkAcceptReceive(receive)
  return detail === undefined ? undefined : internal.wsaError("WSAEINVAL", "accept", undefined, detail)
}

/** Accepts on any socket (the state machine answers WSAEINVAL unless it listens): shared by `accept`. */
export const acceptOn = (
  socket: internal.SocketImpl | WsaError.WsaError,
  options?: AcceptOptions
): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> =>
  Effect.gen(function*() {
    if (!internal.isSocket(socket)) return yield* Effect.fail(toAcceptError(socket))
    const impl = socket
    const refusal = Core.SocketState.checkAccept(impl)
    if (refusal !== undefined) return yield* Effect.fail(toAcceptError(internal.refused(refusal, "accept")))
    const receive = options?.receive ?? 0
    const badReceive = checkReceive(receive)
    if (badReceive !== undefined) return yield* Effect.fail(badReceive)
    return yield* Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(acceptCompletion(impl, receive, restore), (completion) => adopt(impl, completion))
    )
  })

/**
 * One accept's completion: the driver's synchronous `tryAccept` first (a queued connection needs no
 * pending operation), otherwise an accept through the port (cancel, then wait). A connection that arrives
 * after an interruption (it won the race) is closed instead of leaked. Called uninterruptibly: only the
 * wait is `restore`d, so the caller takes ownership of the connection before an interruption can land.
 */
const acceptCompletion = (
  impl: internal.SocketImpl,
  receive: number,
  restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Effect.Effect<Core.Completion> => {
  const port = impl.port
  const driver = port.driver
  if (receive === 0 && driver.tryAccept !== undefined) {
    const now = driver.tryAccept(impl.native)
    if (now !== undefined) return Effect.succeed(now)
  }
  // The completion is kept here as it arrives: when the accept won the race with an interruption, the
  // waiting fiber is gone, and the connection it made is closed instead of leaked.
  let arrived: Core.Completion | undefined
  const start = (done: Core.Done) =>
    driver.accept(impl.native, receive, (completion) => {
      arrived = completion
      done(completion)
    })
  return restore(operation((onLater) => port.start(start, onLater))).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        if (arrived?.accepted !== undefined) driver.close(arrived.accepted.socket)
      })
    )
  )
}

const adopt = (
  listening: internal.SocketImpl,
  completion: Core.Completion
): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> => {
  const accepted = completion.accepted
  if (completion.status !== 0 || accepted === undefined) {
    const status = completion.status !== 0 ? completion.status : Core.wsa.WSAEINVAL
    return Effect.fail(acceptError(status, "accept"))
  }
  const port = listening.port
  return Effect.flatMap(Clock.currentTimeMillis, (now) => {
    port.track(accepted.socket)
    const socket = new Core.Sockets.Socket(listening.family, accepted.socket, port)
    Core.SocketState.acceptedInto(socket, now)
    return Effect.as(closeWithScope(socket), { socket, peer: accepted.peer, data: completion.data ?? new Uint8Array(0) })
  })
}

export const accept = (listener: ListenerImpl | Socket.Socket, options?: AcceptOptions): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> =>
  Effect.suspend(() => acceptOn(usableListener(listener, "accept"), options))

export interface ServeOptions {
  /** connections handled at once (default unbounded); an accept waits for a free slot first */
  readonly concurrency?: number | "unbounded" | undefined
  /**
   * accepts kept posted at once (default 4 on the Windows driver, as IIS/.NET keep several AcceptEx
   * pending under load; 1 elsewhere, where each wake-up drains the kernel's queue with the driver's tryAccept)
   */
  readonly accepts?: number | undefined
  /**
   * start each handler with the client's first bytes (up to this many; empty when the client closed first),
   * as an accept with `receive` gives them. Each connection waits for them on its own, through a driver
   * callback (no fiber), so clients that connect and send nothing hold up no other connection.
   */
  readonly receive?: number | undefined
}

/** Accept errors that pass (the process is out of descriptors or buffers for a moment): wait, then go on. */
const transient = (error: WsaError.AcceptError): boolean => error._tag === "WSAEMFILE" || error._tag === "WSAENOBUFS"

/** Connections taken from the kernel's queue in one synchronous step after a wake-up, at most. */
const DRAIN_MAX = 64

/**
 * The serving loop, kept cheap per connection: after each wake-up the kernel's queue is drained with the
 * driver's synchronous `tryAccept` (no pending operation, the listening fd stays armed), and each connection
 * gets one fiber, started from the serve's runtime, that owns its socket from the first step: a scope for
 * the handler, then the close. No semaphore when concurrency is unbounded; with a bound, a slot is taken
 * before each accept and handed back when the connection's fiber ends.
 */
export const serve = <E, R>(
  listener: ListenerImpl,
  handler: (connection: Accepted) => Effect.Effect<unknown, E, R>,
  options?: ServeOptions
): Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const concurrency = options?.concurrency ?? "unbounded"
      let free = typeof concurrency === "number" ? Math.max(1, concurrency) : Infinity
      const receive = options?.receive ?? 0
      const badReceive = checkReceive(receive)
      if (badReceive !== undefined) return yield* Effect.fail(badReceive)
      const driverName = isListener(listener) ? listener.socket.port.driver.name : "posix"
      const accepts = Math.max(1, options?.accepts ?? (driverName === "windows" ? 4 : 1))
      // Interruptible whatever the caller's region: serve's end interrupts the handlers and waits for them.
      const runFork = Runtime.runFork(yield* Effect.interruptible(Effect.runtime<Exclude<R, Scope.Scope>>()))
      const clock = yield* Effect.clock
      const live = new Set<Fiber.RuntimeFiber<void>>()
      // Connections accepted but still waiting for their first bytes (with `receive`): no fiber yet.
      const waitingForBytes = new Set<Core.Submitted>()
      let stopping = false
      yield* Effect.addFinalizer(() =>
        Effect.zipRight(
          Effect.async<void>((resume) => {
            stopping = true
            let left = waitingForBytes.size
            if (left === 0) return resume(Effect.void)
            for (const waiting of [...waitingForBytes]) {
              waiting.whenCompleted(() => void (--left === 0 && resume(Effect.void)))
              waiting.cancel()
            }
          }),
          Effect.suspend(() => Fiber.interruptAll([...live]))
        )
      )

      // A bounded serve's accept loops wait here for a slot freed by a connection's end.
      const slotWaiters = new Set<() => void>()
      const freeSlot = (): void => {
        free++
        for (const wake of slotWaiters) wake()
        slotWaiters.clear()
      }
      const slotFreed = Effect.async<void>((resume) => {
        const wake = () => resume(Effect.void)
        slotWaiters.add(wake)
        return Effect.sync(() => void slotWaiters.delete(wake))
      })

      const handle = (socket: internal.SocketImpl, connection: Accepted): Effect.Effect<void, never, Exclude<R, Scope.Scope>> =>
        Effect.suspend(() => handler(connection)).pipe(
          Effect.scoped,
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logWarning("Listener.serve: a connection handler failed", cause)
          ),
          Effect.ensuring(Effect.sync(() => closeCounted(socket)))
        ) as Effect.Effect<void, never, Exclude<R, Scope.Scope>>

      /** Runs the handler of a connection (its slot already taken) in a fiber of its own, synchronously. */
      const run = (socket: internal.SocketImpl, connection: Accepted): void => {
        const fiber = runFork(handle(socket, connection))
        live.add(fiber)
        fiber.addObserver(() => {
          live.delete(fiber)
          freeSlot()
        })
      }

      /**
       * With `receive`: the connection's first bytes through a driver callback, then its handler. A client
       * that resets first (or a serve that stops meanwhile) closes the connection; its end gives empty data.
       */
      const runWithFirstBytes = (socket: internal.SocketImpl, peer: SocketAddress.SocketAddress): void => {
        const firstBytes = (completion: Core.Completion): void => {
          if (stopping || completion.status !== 0) {
            closeCounted(socket)
            return freeSlot()
          }
          run(socket, { socket, peer, data: completion.data ?? empty })
        }
        const started = socket.port.start((done) => socket.port.driver.receive(socket.native, receive, done), (completion) => {
          waitingForBytes.delete(started as Core.Submitted)
          firstBytes(completion)
        })
        if (Core.isNow(started)) return firstBytes(started.now)
        if (Core.isThrown(started)) {
          closeCounted(socket)
          return freeSlot()
        }
        waitingForBytes.add(started)
      }

      /** Takes an accepted connection into the port's sockets and hands it on, synchronously. */
      const start = (impl: internal.SocketImpl, completion: Core.Completion): void => {
        const accepted = completion.accepted!
        const port = impl.port
        port.track(accepted.socket)
        const socket = new Core.Sockets.Socket(impl.family, accepted.socket, port)
        Core.SocketState.acceptedInto(socket, clock.unsafeCurrentTimeMillis())
        if (receive > 0) runWithFirstBytes(socket, accepted.peer)
        else run(socket, { socket, peer: accepted.peer, data: completion.data ?? empty })
      }

      /** The first connection of a wake-up, then whatever else is queued (while slots last). */
      const admit = (impl: internal.SocketImpl, first: Core.Completion): Effect.Effect<void, WsaError.AcceptError> => {
        let completion: Core.Completion | undefined = first
        for (let taken = 0; completion !== undefined; taken++) {
          if (completion.status !== 0 || completion.accepted === undefined) {
            freeSlot()
            const status = completion.status !== 0 ? completion.status : Core.wsa.WSAEINVAL
            return Effect.fail(acceptError(status, "accept"))
          }
          start(impl, completion)
          const tryAccept = impl.port.driver.tryAccept
          if (tryAccept === undefined || free <= 0 || taken + 1 >= DRAIN_MAX) break
          free--
          completion = tryAccept(impl.native)
          if (completion === undefined) free++
        }
        return Effect.void
      }

      // One round: a wait for a slot, or an accept (only the waits interruptible) and the connections handed
      // over. A round that waited for a slot ends there: the loop starts the next one in its own mask, so the
      // accept that follows is interruptible too (a recursive round here ran under this round's mask, and a
      // serve waiting for a connection after a slot wait could not be stopped).
      const round: Effect.Effect<void, WsaError.AcceptError> = Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          if (free <= 0) return restore(slotFreed)
          const socket = usableListener(listener, "accept")
          if (!internal.isSocket(socket)) return Effect.fail(toAcceptError(socket))
          const refusal = Core.SocketState.checkAccept(socket)
          if (refusal !== undefined) return Effect.fail(toAcceptError(internal.refused(refusal, "accept")))
          free--
          // Plain accepts: with `receive` each connection waits for its first bytes on its own (runWithFirstBytes).
          return Effect.matchCauseEffect(acceptCompletion(socket, 0, restore), {
            onFailure: (cause) => Effect.zipRight(Effect.sync(freeSlot), Effect.failCause(cause)),
            onSuccess: (completion) => admit(socket, completion)
          })
        })
      )
      const loop: Effect.Effect<never, WsaError.AcceptError> = Effect.forever(
        Effect.catchIf(round, transient, () => Effect.sleep("50 millis"))
      )
      // Several loops keep several accepts posted; the first failure (the listener closed) stops them all.
      yield* Effect.all(Array.from({ length: accepts }, () => loop), { concurrency: "unbounded", discard: true })
      return yield* Effect.never
    })
  ) as Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>>
