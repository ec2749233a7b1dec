/**
 * The accepting side as plain machines: `listen` (bind + listen on a fresh socket, every step checked by the
 * state machine first), `accept` (one connection: the driver's synchronous `tryAccept` first, else an accept
 * through the port), and `serve`'s accept loop (slots, posted accepts, draining the kernel's queue after
 * each wake-up, the first bytes of each connection waited for on its own). What runs per connection (an
 * Effect handler in a fiber, say) is the front-end's: `serve` hands it each connection with a `done`.
 */
import type { SocketAddress } from "./address.js"
import { describe } from "./describe.js"
import { wsa } from "./errors/codes.js"
import { argumentFailure, type Failure, isFailure, statusFailure } from "./failure.js"
import { checkReadSize, validAddress } from "./io.js"
import { type Completion, defaultCapabilities, type Driver } from "./native/Driver.js"
import { checkAcceptReceive } from "./options.js"
import { isNow, isThrown, type Pending, type Port, type Started } from "./port.js"
import { type PushRead, pushRead } from "./reader.js"
import * as SocketState from "./socket.js"
import { close, isSocket, onClose, refused, Socket, usable } from "./sockets.js"

export const TypeId: unique symbol = Symbol.for("effect-connectex/Listener")
export type TypeId = typeof TypeId

/** A listening socket made by `listen`. */
export class Listener {
  readonly [TypeId]: TypeId = TypeId
  constructor(readonly socket: Socket) {}
  get family(): Socket["family"] {
    return this.socket.family
  }
}

export const isListener = (u: unknown): u is Listener => u instanceof Listener

/** A driver's capabilities, the defaults where it says nothing. */
export const capabilitiesOf = (driver: Driver) => driver.capabilities ?? defaultCapabilities

export interface ListenOptions {
  /** the kernel's queue of connections not accepted yet (default 511, as Node's) */
  readonly backlog?: number | undefined
  /** SO_REUSEADDR before bind (default: the driver's `reuseAddressByDefault`) */
  readonly reuseAddress?: boolean | undefined
}

/** listen's arguments: a valid address and a backlog from 0. */
export const checkListen = (address: unknown, options: ListenOptions | undefined): { readonly local: SocketAddress; readonly backlog: number } | Failure => {
  const local = validAddress(address, "listen")
  if (isFailure(local)) return local
  const backlog = options?.backlog ?? 511
  if (typeof backlog !== "number" || !Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
    return argumentFailure("WSAEINVAL", "listen", `backlog must be an integer from 0, got ${describe(backlog)}`, local)
  }
  return { local, backlog }
}

/**
 * Binds and listens on a fresh socket (opened by the caller, who closes it when this fails): SO_REUSEADDR as
 * asked or as the driver's default, a bind that chooses its port now (no connect will), listen.
 */
export const listenOn = (socket: Socket, local: SocketAddress, backlog: number, options: ListenOptions | undefined): Listener | Failure => {
  const driver = socket.port.driver
  if (options?.reuseAddress ?? capabilitiesOf(driver).reuseAddressByDefault) {
    const status = driver.setOption(socket.native, "SO_REUSEADDR", true)
    if (status !== 0) return statusFailure(status, "listen", local)
  }
  const bindRefusal = SocketState.checkBind(socket, local)
  if (bindRefusal !== undefined) return refused(bindRefusal, "bind", local)
  const bound = driver.bind(socket.native, local, false)
  if (bound !== 0) return statusFailure(bound, "bind", local)
  SocketState.bound(socket)
  const listenRefusal = SocketState.checkListen(socket)
  if (listenRefusal !== undefined) return refused(listenRefusal, "listen", local)
  const listened = driver.listen(socket.native, backlog)
  if (listened !== 0) return statusFailure(listened, "listen", local)
  SocketState.listening(socket)
  return new Listener(socket)
}

/** A listener's socket, checked; a plain socket is let through so that the state machine answers (WSAEINVAL). */
export const listeningSocket = (u: unknown, operation: "accept" | "localAddress"): Socket | Failure => {
  const socket = isListener(u) ? usable(u.socket, operation) : isSocket(u) ? usable(u, operation) : undefined
  if (socket === undefined) return argumentFailure("WSAEINVAL", operation, "the value is not a listener made by Listener.listen")
  if (isFailure(socket) || operation === "localAddress") return socket
  const refusal = SocketState.checkAccept(socket)
  return refusal === undefined ? socket : refused(refusal, operation)
}

/** The listener's local address, with the real port after a port-0 listen. */
export const address = (u: unknown): SocketAddress | Failure => {
  const socket = listeningSocket(u, "localAddress")
  if (isFailure(socket)) return socket
  const result = socket.port.driver.localAddress(socket.native)
  return result.ok ? result.value : statusFailure(result.code, "localAddress")
}

/** The `receive` of an accept or a serve: 0 to MAX_RECEIVE, else WSAEINVAL. */
export const checkReceive = (receive: unknown): Failure | undefined => {
  const detail = checkAcceptReceive(receive)
  return detail === undefined ? undefined : argumentFailure("WSAEINVAL", "accept", detail)
}

/** What an accept's completion hands over: the new connection, adopted (tracked, connected since `now`). */
export interface Accepted {
  readonly socket: Socket
  readonly peer: SocketAddress
  /** with `receive`: the first bytes (empty when the client closed without sending, or without `receive`) */
  readonly data: Uint8Array
}

const empty = new Uint8Array(0)

/** Takes the connection a successful accept made into the port's sockets; a failed one is its failure. */
export const adopt = (listening: Socket, completion: Completion, now: number): Accepted | Failure => {
  const accepted = completion.accepted
  if (completion.status !== 0 || accepted === undefined) {
    return statusFailure(completion.status !== 0 ? completion.status : wsa.WSAEINVAL, "accept")
  }
  const port = listening.port
  port.track(accepted.socket)
  const socket = new Socket(listening.family, accepted.socket, port)
  SocketState.acceptedInto(socket, now)
  return { socket, peer: accepted.peer, data: completion.data ?? empty }
}

/**
 * One accept: the driver's synchronous `tryAccept` first (a queued connection needs no pending operation; not
 * with `receive`), otherwise an accept through the port. A connection that arrives after the accept was
 * cancelled (it won the race) is closed by the caller through `orphan`, never leaked.
 */
export const accept = (listening: Socket, receive: number, onLater: (completion: Completion) => void): Started => {
  const driver = listening.port.driver
  if (receive === 0 && driver.tryAccept !== undefined) {
    const now = driver.tryAccept(listening.native)
    if (now !== undefined) return { now }
  }
  return listening.port.start((done) => driver.accept(listening.native, receive, done), onLater)
}

/** Closes a connection an accept made that nobody will adopt (the accept lost its race with a cancel). */
export const closeUnadopted = (driver: Driver, completion: Completion | undefined): void => {
  if (completion?.accepted !== undefined) driver.close(completion.accepted.socket)
}

// ---------------------------------------------------------------------------------------------------------
// serve

export interface ServeOptions {
  /** connections handled at once (default unbounded); an accept waits for a free slot first */
  readonly concurrency?: number | "unbounded" | undefined
  /** accepts kept posted at once (default: the driver's `postedAccepts`) */
  readonly accepts?: number | undefined
  /** each connection's first bytes, up to this many, before its handler (waited for on its own) */
  readonly receive?: number | undefined
}

export interface ServeHooks {
  /** the front-end's clock, in milliseconds (an accepted socket is connected since then) */
  readonly now: () => number
  /** runs `then` after `ms` on the front-end's clock (a TestClock moves it); gives a cancel */
  readonly sleep: (ms: number, then: () => void) => () => void
  /**
   * A connection for its handler; its slot is taken. `done` (once the handler is over) closes the socket and
   * frees the slot. Called from driver callbacks: start the handler, do not run it here.
   */
  readonly connection: (accepted: Accepted, done: () => void) => void
  /** The listener failed (closed, or a failure that is not transient): the serve is over; nothing follows. */
  readonly failed: (outcome: Failure | { readonly defect: unknown }) => void
}

export interface Serving {
  /** Stops accepting (pending accepts and first-bytes waits cancelled, their sockets closed); `then` once none is left. */
  readonly stop: (then: () => void) => void
}

/** Accept failures that pass (the process is out of descriptors or buffers for a moment): wait, then go on. */
const isTransient = (status: number): boolean => status === wsa.WSAEMFILE || status === wsa.WSAENOBUFS

/** How long a transient accept failure pauses the accept loop. */
const TRANSIENT_PAUSE_MS = 50

/** Connections taken from the kernel's queue in one synchronous step after a wake-up, at most. */
const DRAIN_MAX = 64

/** serve's arguments, checked before anything is accepted. */
export const checkServe = (listener: unknown, options: ServeOptions | undefined): { readonly socket: Socket; readonly receive: number; readonly slots: number; readonly accepts: number } | Failure => {
  const receive = options?.receive ?? 0
  const badReceive = checkReceive(receive)
  if (badReceive !== undefined) return badReceive
  const socket = listeningSocket(listener, "accept")
  if (isFailure(socket)) return socket
  const concurrency = options?.concurrency ?? "unbounded"
  const slots = typeof concurrency === "number" && Number.isFinite(concurrency) ? Math.max(1, Math.floor(concurrency)) : Infinity
  const accepts = Math.max(1, Math.floor(options?.accepts ?? capabilitiesOf(socket.port.driver).postedAccepts))
  return { socket, receive, slots, accepts }
}

/** The options of a chunk serve: those of `serve`, and `readSize` (the most one chunk holds, default 65536). */
export interface ServeChunksOptions extends ServeOptions {
  readonly readSize?: number | undefined
}

/** A chunk serve's arguments: `checkServe`'s, then a `readSize` from 1 to MAX_RECEIVE. */
export const checkServeChunks = (listener: unknown, options: ServeChunksOptions | undefined): (Exclude<ReturnType<typeof checkServe>, Failure> & { readonly readSize: number }) | Failure => {
  const checked = checkServe(listener, options)
  if (isFailure(checked)) return checked
  const readSize = options?.readSize ?? 64 * 1024
  return checkReadSize("readSize", readSize, "accept") ?? { ...checked, readSize }
}

/**
 * The serving loop, cheap per connection: after each wake-up the kernel's queue is drained with the driver's
 * synchronous `tryAccept` (no pending operation, the listening fd stays armed), and each connection is handed
 * to `hooks.connection` as soon as it is there (or, with `receive`, once its first bytes came: a client that
 * connects and sends nothing holds up no other). With a bound, a slot is taken before each accept and freed
 * by the connection's `done`.
 */
export const serve = (checked: Exclude<ReturnType<typeof checkServe>, Failure>, hooks: ServeHooks): Serving => {
  const { accepts, receive, socket: listening } = checked
  const port: Port = listening.port
  const driver = port.driver
  let free = checked.slots
  let stopped = false
  let over = false
  /** accepts in flight, first-bytes waits, and pauses: all cancelled by `stop` */
  const inFlight = new Set<Pending>()
  const pauses = new Set<() => void>()
  /** lanes (each keeps one accept going) waiting for a free slot */
  const waitingForSlot: Array<() => void> = []
  let whenStopped: Array<() => void> = []

  const settleStop = (): void => {
    if (!stopped || inFlight.size > 0) return
    for (const then of whenStopped.splice(0)) then()
  }

  const fail = (outcome: Failure | { readonly defect: unknown }): void => {
    if (over || stopped) return
    over = true
    unwatch()
    hooks.failed(outcome)
  }
  // The listener's close fails its accepts in flight, and so the serve; while every lane waits for a slot there
  // is none, so the close itself tells the serve (else a bounded serve with busy slots would go on for ever).
  const unwatch = onClose(listening, () => fail(statusFailure(wsa.WSA_OPERATION_ABORTED, "accept")))

  const freeSlot = (): void => {
    free++
    const lane = waitingForSlot.shift()
    if (lane !== undefined && !stopped && !over) lane()
  }

  /** Hands a connection on: its handler now, or once its first bytes came. */
  const start = (accepted: Accepted): void => {
    let finished = false
    const done = (): void => {
      if (finished) return
      finished = true
      close(accepted.socket)
      freeSlot()
    }
    if (receive === 0) return hooks.connection(accepted, done)
    const firstBytes = (completion: Completion): void => {
      if (stopped || completion.status !== 0) return done()
      hooks.connection({ ...accepted, data: completion.data ?? empty }, done)
    }
    const started: Started = port.start((d) => driver.receive(accepted.socket.native, receive, d), (completion) => {
      inFlight.delete(started as Pending)
      firstBytes(completion)
      settleStop()
    })
    if (isNow(started)) return firstBytes(started.now)
    if (isThrown(started)) return done()
    inFlight.add(started)
  }

  /** One accept's completion, then whatever else is queued (while slots last); true to go on at once. */
  const admit = (completion: Completion): boolean => {
    let next: Completion | undefined = completion
    for (let taken = 0; next !== undefined; taken++) {
      if (stopped) {
        closeUnadopted(driver, next)
        free++
        return false
      }
      const accepted = adopt(listening, next, hooks.now())
      if (isFailure(accepted)) {
        free++
        if (isTransient(accepted.code)) return pause(), false
        return fail(accepted), false
      }
      start(accepted)
      if (driver.tryAccept === undefined || free <= 0 || taken + 1 >= DRAIN_MAX) break
      free--
      next = driver.tryAccept(listening.native)
      if (next === undefined) free++
    }
    return true
  }

  const pause = (): void => {
    const cancel = hooks.sleep(TRANSIENT_PAUSE_MS, () => {
      pauses.delete(cancel)
      lane()
    })
    pauses.add(cancel)
  }

  /** One lane keeps one accept going: a slot, an accept, the connections handed over; again. */
  const lane = (): void => {
    for (let rounds = 0;; rounds++) {
      if (stopped || over) return
      if (free <= 0) return void waitingForSlot.push(lane)
      const socket = listeningSocket(listening, "accept")
      if (isFailure(socket)) return fail(socket)
      // A listener that keeps having connections yields now and then, so that it cannot starve the rest.
      if (rounds >= DRAIN_MAX) return void setImmediate(lane)
      free--
      const started: Started = accept(listening, 0, (completion) => {
        inFlight.delete(started as Pending)
        if (admit(completion)) lane()
        settleStop()
      })
      if (isThrown(started)) {
        free++
        return fail({ defect: started.thrown })
      }
      if (!isNow(started)) return void inFlight.add(started)
      if (!admit(started.now)) return
    }
  }

  for (let i = 0; i < accepts && !stopped && !over; i++) lane()

  return {
    stop: (then) => {
      whenStopped.push(then)
      if (!stopped) {
        stopped = true
        unwatch()
        for (const cancel of pauses) cancel()
        pauses.clear()
        waitingForSlot.length = 0
        for (const pending of [...inFlight]) pending.cancel()
      }
      settleStop()
    }
  }
}


// ---------------------------------------------------------------------------------------------------------
// serving chunk by chunk: no fiber per connection

/**
 * How a front-end runs the handler of one chunk; `H` is what it runs it in (a fiber), `X` what a handler's
 * `close` is (an Effect). `run` gives "done" when the handler finished in place, "failed" when it failed there
 * (the front-end has reported it), or the handler still running; `observe` calls `then` once a running handler
 * ended (true when it succeeded; the front-end reports a failure itself); `interrupt` stops a running handler
 * and calls `then` once it ended; `close` makes a connection's `close` (on demand: nothing kept per connection).
 */
export interface ChunkHandling<H, X> {
  readonly run: (chunk: Uint8Array, connection: ChunkConnection<H, X>) => "done" | "failed" | { readonly running: H }
  readonly observe: (running: H, then: (succeeded: boolean) => void) => void
  readonly interrupt: (running: H, then: () => void) => void
  readonly close: (connection: ChunkConnection<H, X>) => X
}

/** What every connection of one chunk serve shares (one object per serve, not fields per connection). */
export class ChunkServing<H, X> {
  /** the open connections: closing one stops its read and interrupts its handler in progress */
  readonly open = new Set<ChunkConnection<H, X>>()
  constructor(readonly handling: ChunkHandling<H, X>, readonly readSize: number) {}

  /** A connection the accept loop handed over: served from now on. */
  readonly begin = (accepted: Accepted, done: () => void): void => {
    const connection = new ChunkConnection(accepted.socket, accepted.peer, done, this)
    this.open.add(connection)
    // The first bytes of an accept with `receive` are the first chunk.
    if (accepted.data.byteLength === 0 || connection.handle(accepted.data, connection.start)) connection.start()
  }

  /**
   * Closes every connection still open (the serve stopped); `then` once nothing of theirs is left in flight:
   * their reads' cancelled receives completed (on Windows those come later, through the port) and their
   * handlers ended.
   */
  closeAll(then: () => void): void {
    const closing = [...this.open]
    let left = closing.length + 1
    const one = (): void => void (--left === 0 && then())
    for (const connection of closing) connection.closeNow(one)
    one()
  }
}

/**
 * One connection served chunk by chunk: the driver's streaming read, the handler while one runs, its close.
 * A class (its steps on the prototype, two callbacks bound per connection) because an idle connection keeps it
 * alive. It is what the handler is given: the socket, the client's address, and `close`.
 */
export class ChunkConnection<H, X> {
  private handling: H | undefined = undefined
  private read: PushRead | undefined = undefined

  constructor(
    readonly socket: Socket,
    readonly peer: SocketAddress,
    private readonly done: () => void,
    private readonly serving: ChunkServing<H, X>
  ) {}

  /** Ends this connection now (the socket closes; the chunks after this one are not handled). */
  get close(): X {
    return this.serving.handling.close(this)
  }

  /** Starts reading (after the first bytes' handler, if there were first bytes). */
  readonly start = (): void => {
    if (!this.serving.open.has(this)) return
    this.read = pushRead(this.socket, this.serving.readSize, {
      chunk: this.handle,
      // The peer's end or a broken connection: this connection is over (after the chunk in progress).
      end: () => (this.handling === undefined ? this.closeNow() : this.serving.handling.observe(this.handling, () => this.closeNow()))
    })
  }

  /** One chunk to the handler; true when reading may go on at once. */
  readonly handle = (bytes: Uint8Array, resume: () => void): boolean => {
    const ran = this.serving.handling.run(bytes, this)
    if (ran === "done") return true
    if (ran === "failed") return this.closeNow(), false
    const running = ran.running
    this.handling = running
    this.serving.handling.observe(running, (succeeded) => {
      this.handling = undefined
      if (!succeeded) return this.closeNow()
      resume()
    })
    return false
  }

  /**
   * Ends this connection now: its read stops, its handler in progress is interrupted, its socket closes and its
   * slot is freed; `then` (if given) once its read has nothing in flight and its handler ended.
   */
  closeNow(then?: () => void): void {
    if (!this.serving.open.delete(this)) return then?.()
    const handling = this.handling
    let left = 2
    const one = (): void => void (--left === 0 && then?.())
    if (this.read === undefined) one()
    else this.read.stop(one)
    if (handling === undefined) one()
    else this.serving.handling.interrupt(handling, one)
    this.done()
  }
}
