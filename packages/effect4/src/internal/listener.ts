/**
 * The machinery behind `Listener` (the Effect 3 front-end's internal/listener.ts, written the Effect 4 way): a
 * listening socket is a `SocketImpl` in the state machine's "listening" state; an accepted connection is a
 * `SocketImpl` born connected, tracked by the port and closed with the caller's scope. Accepts wait through
 * `operation` like every other long operation (cancel, then wait).
 */
import * as Core from "@effect-connectex/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as WsaError from "../errors/WsaError.js"
import { Iocp, portOf } from "../Iocp.js"
import * as Socket from "../Socket.js"
import * as SocketAddress from "../SocketAddress.js"
import { operation } from "./port.js"
import * as internal from "./socket.js"

const describe = Core.describe

export const TypeId: unique symbol = Symbol.for("@effect-connectex/effect4/Listener")
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

/** The scoped close of an accepted socket. */
const closeWithScope = (socket: internal.SocketImpl) => Effect.addFinalizer(() => Effect.sync(() => internal.close(socket)))

const toListenError = WsaError.narrowingError(WsaError.listenTags)
const toAcceptError = WsaError.narrowingError(WsaError.acceptTags)
const listenError = WsaError.narrowing(WsaError.listenTags)
const acceptError = WsaError.narrowing(WsaError.acceptTags)

const failListen = (error: WsaError.WsaError): Effect.Effect<never, WsaError.ListenError> => Effect.fail(toListenError(error))
const failAccept = (error: WsaError.WsaError): Effect.Effect<never, WsaError.AcceptError> => Effect.fail(toAcceptError(error))

export const listen = (
  address: SocketAddress.SocketAddress,
  options?: ListenOptions
): Effect.Effect<ListenerImpl, WsaError.ListenError, Scope.Scope | Iocp> =>
  Effect.gen(function*() {
    const local = SocketAddress.validateSync(address, "listen")
    if (WsaError.isWsaError(local)) return yield* failListen(local)
    const backlog = options?.backlog ?? 511
    if (typeof backlog !== "number" || !Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
      return yield* failListen(internal.wsaError("WSAEINVAL", "listen", local, `backlog must be an integer from 0, got ${describe(backlog)}`))
    }
    const port = portOf(yield* Iocp)
    // The socket lives in a scope of its own under the caller's: a listen that fails closes it at once
    // (a server retrying an address in use does not pile up sockets until its scope ends).
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    return yield* Effect.onExit(
      Effect.flatMap(Scope.provide(scope)(Effect.mapError(Socket.open({ family: local.family }), toListenError)), (socket) =>
        bindAndListen(port, socket as internal.SocketImpl, local, backlog, options)),
      (exit) => Exit.isFailure(exit) ? Scope.close(scope, exit) : Effect.void
    )
  })

const bindAndListen = (
  port: internal.SocketImpl["port"],
  s: internal.SocketImpl,
  local: SocketAddress.SocketAddress,
  backlog: number,
  options: ListenOptions | undefined
): Effect.Effect<ListenerImpl, WsaError.ListenError> =>
  Effect.suspend(() => {
    const reuse = options?.reuseAddress ?? port.driver.name !== "windows"
    if (reuse) {
      const status = port.driver.setOption(s.native, "SO_REUSEADDR", true)
      if (status !== 0) return Effect.fail(listenError(status, { operation: "listen", address: local }))
    }
    const refusal = Core.SocketState.checkBind(s, local)
    if (refusal !== undefined) return failListen(internal.refused(refusal, "bind", local))
    // No deferred port: a listener's port must be chosen now (connect never comes to choose it).
    const bound = port.driver.bind(s.native, local, false)
    if (bound !== 0) return Effect.fail(listenError(bound, { operation: "bind", address: local }))
    Core.SocketState.bound(s)
    const listenRefusal = Core.SocketState.checkListen(s)
    if (listenRefusal !== undefined) return failListen(internal.refused(listenRefusal, "listen", local))
    const listened = port.driver.listen(s.native, backlog)
    if (listened !== 0) return Effect.fail(listenError(listened, { operation: "listen", address: local }))
    Core.SocketState.listening(s)
    return Effect.succeed(new ListenerImpl(s))
  })

/** A listener's socket; a plain socket is let through so that the state machine answers (WSAEINVAL). */
const usableListener = (u: unknown, call: "accept" | "localAddress"): internal.SocketImpl | WsaError.WsaError => {
  const usable = (socket: unknown) => {
    const result = Core.Sockets.usable(socket, call)
    return Core.isFailure(result) ? internal.errorOf(result) : result
  }
  if (isListener(u)) return usable(u.socket)
  if (internal.isSocket(u)) return usable(u)
  return internal.wsaError("WSAEINVAL", call, undefined, "the value is not a listener made by Listener.listen")
}

export const address = (listener: ListenerImpl): Effect.Effect<SocketAddress.SocketAddress, WsaError.WsaError> =>
  Effect.suspend(() => {
    const s = usableListener(listener, "localAddress")
    if (!internal.isSocket(s)) return Effect.fail(s)
    const result = s.port.driver.localAddress(s.native)
    return result.ok ? Effect.succeed(result.value) : Effect.fail(WsaError.fromCode(result.code, { operation: "localAddress" }))
  })

const adopt = (
  listening: internal.SocketImpl,
  completion: Core.Completion
): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> => {
  const accepted = completion.accepted
  if (completion.status !== 0 || accepted === undefined) {
    const status = completion.status !== 0 ? completion.status : Core.wsa.WSAEINVAL
    return Effect.fail(acceptError(status, { operation: "accept" }))
  }
  const port = listening.port
  return Effect.flatMap(Clock.currentTimeMillis, (now) => {
    port.track(accepted.socket)
    const socket = new Core.Sockets.Socket(listening.family, accepted.socket, port)
    Core.SocketState.acceptedInto(socket, now)
    return Effect.as(closeWithScope(socket), { socket, peer: accepted.peer, data: completion.data ?? new Uint8Array(0) })
  })
}

/** The `receive` option of accept and serve: an integer from 0 to MAX_RECEIVE, else WSAEINVAL. */
const checkReceive = (receive: unknown) => {
  const detail = Core.Options.checkAcceptReceive(receive)
  return detail === undefined ? undefined : internal.wsaError("WSAEINVAL", "accept", undefined, detail)
}

/** Accepts on any socket (the state machine answers WSAEINVAL unless it listens). */
const acceptOn = (
  socket: internal.SocketImpl | WsaError.WsaError,
  options?: AcceptOptions
): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> => {
  if (!internal.isSocket(socket)) return failAccept(socket)
  const s = socket
  const refusal = Core.SocketState.checkAccept(s)
  if (refusal !== undefined) return failAccept(internal.refused(refusal, "accept"))
  const receive = options?.receive ?? 0
  const badReceive = checkReceive(receive)
  if (badReceive !== undefined) return failAccept(badReceive)
  const port = s.port
  // The completion is kept here as it arrives: when the accept won the race with an interruption, the
  // waiting fiber is gone, and the connection it made is closed instead of leaked.
  let arrived: Core.Completion | undefined
  const start = (done: Core.Done) =>
    port.driver.accept(s.native, receive, (completion) => {
      arrived = completion
      done(completion)
    })
  return Effect.uninterruptibleMask((restore) =>
    restore(operation((onLater) => port.start(start, onLater))).pipe(
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          if (arrived?.accepted !== undefined) port.driver.close(arrived.accepted.socket)
        })
      ),
      Effect.flatMap((completion) => adopt(s, completion))
    )
  )
}

export const accept = (listener: ListenerImpl | Socket.Socket, options?: AcceptOptions): Effect.Effect<Accepted, WsaError.AcceptError, Scope.Scope> =>
  Effect.suspend(() => acceptOn(usableListener(listener, "accept"), options))

export interface ServeOptions {
  /** connections handled at once (default unbounded); an accept waits for a free slot first */
  readonly concurrency?: number | "unbounded" | undefined
  /**
   * accepts kept posted at once (default 4 on the Windows driver, as IIS/.NET keep several AcceptEx
   * pending under load; 1 elsewhere, where readiness wakes one accept per queued connection anyway)
   */
  readonly accepts?: number | undefined
  /**
   * start each handler with the client's first bytes (up to this many; empty when the client closed first).
   * Each connection waits for them in its own fiber, after a plain accept, so clients that connect and send
   * nothing hold up no other connection.
   */
  readonly receive?: number | undefined
}

/** Accept errors that pass (the process is out of descriptors or buffers for a moment): wait, then go on. */
const transient = (error: WsaError.AcceptError): boolean => error._tag === "WSAEMFILE" || error._tag === "WSAENOBUFS"

export const serve = <E, R>(
  listener: ListenerImpl,
  handler: (connection: Accepted) => Effect.Effect<unknown, E, R>,
  options?: ServeOptions
): Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const connections = yield* Effect.scope
      const concurrency = options?.concurrency ?? "unbounded"
      const slots = typeof concurrency === "number" ? yield* Semaphore.make(Math.max(1, concurrency)) : undefined
      const driverName = isListener(listener) ? listener.socket.port.driver.name : "posix"
      const accepts = Math.max(1, options?.accepts ?? (driverName === "windows" ? 4 : 1))
      const receive = options?.receive ?? 0
      const badReceive = checkReceive(receive)
      if (badReceive !== undefined) return yield* Effect.fail(badReceive)
      // With `receive`, the first bytes are read in the connection's fiber (a client that resets first is
      // dropped quietly), never by the accept: a silent client then holds only its own connection.
      const withFirstBytes = (connection: Accepted): Effect.Effect<Option.Option<Accepted>> =>
        receive === 0
          ? Effect.succeed(Option.some(connection))
          : Effect.map(Effect.option(Socket.receive(connection.socket, receive)), Option.map((data) => ({ ...connection, data })))
      const one = Effect.gen(function*() {
        if (slots !== undefined) yield* Semaphore.take(slots, 1)
        const scope = yield* Scope.fork(connections, "sequential")
        const release = (exit: Exit.Exit<unknown, unknown>) =>
          Effect.andThen(Scope.close(scope, exit), slots === undefined ? Effect.void : Semaphore.release(slots, 1))
        const connection = yield* accept(listener).pipe(
          Scope.provide(scope),
          Effect.onExit((exit) => (Exit.isFailure(exit) ? release(exit) : Effect.void))
        )
        yield* Effect.flatMap(withFirstBytes(connection), Option.match({ onNone: () => Effect.void, onSome: handler })).pipe(
          Scope.provide(scope),
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logWarning("Listener.serve: a connection handler failed", cause)
          ),
          Effect.onExit(release),
          Effect.forkIn(connections)
        )
      })
      const loop = Effect.forever(Effect.catchIf(one, transient, () => Effect.sleep("50 millis")))
      // Several loops keep several accepts posted; the first failure (the listener closed) stops them all.
      yield* Effect.all(Array.from({ length: accepts }, () => loop), { concurrency: "unbounded", discard: true })
      return yield* Effect.never
    })
  ) as Effect.Effect<never, WsaError.AcceptError, Exclude<R, Scope.Scope>>
