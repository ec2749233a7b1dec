/**
 * A deterministic in-memory network behind the same `Driver` interface as the Windows and POSIX backends,
 * for testing code that connects: script what each destination does (accept, refuse the first N attempts,
 * never answer, time out, be unreachable, reset, answer late) and read back what was sent.
 *
 * Nothing leaves the process: the addresses are only names in the script. Time-based behaviour (delays,
 * SYN timeouts, resets and closes after a while) runs on Effect's `Clock`, so `TestClock.adjust` moves it.
 *
 * @example
 * import { Simulated } from "effect-connectex"
 *
 * const network = Simulated.network({
 *   "127.0.0.1:8080": Simulated.accept({ echo: true }),
 *   "192.0.2.1:80": Simulated.refuse({ times: 2 }),          // refused twice, then accepted
 *   "192.0.2.2:80": Simulated.blackhole({ synTimeout: "21 seconds" }),
 *   "198.51.100.9:*": Simulated.unreachable("network")           // any port
 * }, { default: Simulated.refuse() })
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, FiberId, FiberSet } from "effect"
import type { Scope } from "effect"
import * as Core from "@effect-connectex/core"
import { wsa } from "@effect-connectex/core"
import type { Completion, Done, Driver, NativeSocket, Operation, Result, SocketOption, SocketOptions } from "@effect-connectex/core"
import { fail, OPERATION_ABORTED, ok } from "@effect-connectex/core"
import type { Family, SocketAddress } from "./SocketAddress.js"
import * as SocketAddressModule from "./SocketAddress.js"

// ---------------------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------------------

/**
 * The destination answers the SYN: the connect succeeds (after `delay`), the connect data and every send
 * are recorded, and the peer then behaves as configured.
 *
 * @since 0.1.0
 * @category models
 */
export interface Accept {
  readonly _tag: "Accept"
  /** time from connect to the completion (a round trip) */
  readonly delay: Duration.Duration
  /** whether the peer sends back every byte it receives (connect data included) */
  readonly echo: boolean
  /** bytes the peer sends as soon as the connection is established */
  readonly greeting: Uint8Array
  /** the peer resets the connection this long after it was established (send/receive then fail WSAECONNRESET) */
  readonly resetAfter: Duration.Duration | undefined
  /** the peer closes gracefully this long after it was established (receive then returns empty bytes) */
  readonly closeAfter: Duration.Duration | undefined
}

/**
 * Nothing listens: the connect fails `WSAECONNREFUSED` (after `delay`) for the first `times` attempts to the
 * address, then the address behaves as `then`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Refuse {
  readonly _tag: "Refuse"
  readonly times: number
  readonly then: Behaviour
  readonly delay: Duration.Duration
}

/**
 * The SYN is dropped: the connect stays pending until it is cancelled or its socket closed, or, with a
 * `synTimeout`, fails `WSAETIMEDOUT` once that much Clock time has passed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Blackhole {
  readonly _tag: "Blackhole"
  readonly synTimeout: Duration.Duration | undefined
}

/**
 * No route: the connect fails `WSAENETUNREACH` ("network") or `WSAEHOSTUNREACH` ("host") after `delay`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Unreachable {
  readonly _tag: "Unreachable"
  readonly target: "network" | "host"
  readonly delay: Duration.Duration
}

/**
 * One behaviour per attempt: the n-th connect to the address uses the n-th entry, the last one repeats.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sequence {
  readonly _tag: "Sequence"
  readonly behaviours: readonly [Behaviour, ...Array<Behaviour>]
}

/**
 * What a destination does when it is connected to.
 *
 * @since 0.1.0
 * @category models
 */
export type Behaviour = Accept | Refuse | Blackhole | Unreachable | Sequence

const bytesOf = (data: Uint8Array | string | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === "string" ? new TextEncoder().encode(data) : data.slice()

const durationOf = (input: Duration.DurationInput | undefined): Duration.Duration =>
  input === undefined ? Duration.zero : Duration.decode(input)

const optionalDuration = (input: Duration.DurationInput | undefined): Duration.Duration | undefined =>
  input === undefined ? undefined : Duration.decode(input)

/**
 * A listening peer. Options: `delay` before the connect completes, `echo` to send back what it receives,
 * `greeting` bytes it sends first, `resetAfter` / `closeAfter` to end the connection after a while.
 *
 * @example
 * Simulated.accept({ echo: true, delay: "20 millis", greeting: "220 ready\r\n" })
 * @since 0.1.0
 * @category constructors
 */
export const accept = (options?: {
  readonly delay?: Duration.DurationInput
  readonly echo?: boolean
  readonly greeting?: Uint8Array | string
  readonly resetAfter?: Duration.DurationInput
  readonly closeAfter?: Duration.DurationInput
}): Accept => ({
  _tag: "Accept",
  delay: durationOf(options?.delay),
  echo: options?.echo ?? false,
  greeting: bytesOf(options?.greeting),
  resetAfter: optionalDuration(options?.resetAfter),
  closeAfter: optionalDuration(options?.closeAfter)
})

/**
 * Refuses (`WSAECONNREFUSED`). Without `times` every attempt is refused; with `times` the first `times`
 * attempts are, and later ones behave as `then` (default: `accept()`).
 *
 * @example
 * Simulated.refuse({ times: 2, then: Simulated.accept({ echo: true }) })
 * @since 0.1.0
 * @category constructors
 */
export const refuse = (options?: {
  readonly times?: number
  readonly then?: Behaviour
  readonly delay?: Duration.DurationInput
}): Refuse => {
  const times = options?.times ?? Infinity
  if (!(times >= 0) || (Number.isFinite(times) && !Number.isInteger(times))) {
    throw new TypeError(`Simulated.refuse: times must be a non-negative integer, got ${String(times)}`)
  }
  return { _tag: "Refuse", times, then: options?.then ?? accept(), delay: durationOf(options?.delay) }
}

/**
 * Drops the SYN: pending until cancelled, or `WSAETIMEDOUT` after `synTimeout` of Clock time.
 *
 * @example
 * Simulated.blackhole({ synTimeout: "21 seconds" })
 * @since 0.1.0
 * @category constructors
 */
export const blackhole = (options?: { readonly synTimeout?: Duration.DurationInput }): Blackhole => ({
  _tag: "Blackhole",
  synTimeout: optionalDuration(options?.synTimeout)
})

/**
 * No route to the network (`WSAENETUNREACH`, the default) or to the host (`WSAEHOSTUNREACH`).
 *
 * @example
 * Simulated.unreachable("host")
 * @since 0.1.0
 * @category constructors
 */
export const unreachable = (
  target: "network" | "host" = "network",
  options?: { readonly delay?: Duration.DurationInput }
): Unreachable => ({ _tag: "Unreachable", target, delay: durationOf(options?.delay) })

/**
 * Accepts, then resets at once (or after `after`): the connect succeeds, send and receive fail
 * `WSAECONNRESET`. Shorthand for `accept({ resetAfter })`.
 *
 * @example
 * Simulated.reset({ after: "1 second" })
 * @since 0.1.0
 * @category constructors
 */
export const reset = (options?: {
  readonly after?: Duration.DurationInput
  readonly delay?: Duration.DurationInput
}): Accept => accept({ resetAfter: options?.after ?? Duration.zero, delay: options?.delay ?? Duration.zero })

/**
 * One behaviour per attempt; the last one repeats.
 *
 * @example
 * Simulated.sequence(Simulated.blackhole(), Simulated.unreachable("host"), Simulated.accept())
 * @since 0.1.0
 * @category constructors
 */
export const sequence = (first: Behaviour, ...rest: Array<Behaviour>): Sequence => ({
  _tag: "Sequence",
  behaviours: [first, ...rest]
})

// ---------------------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------------------

/**
 * A scripted network: an immutable description, reusable across tests (attempt counters live in each
 * driver made from it).
 *
 * @since 0.1.0
 * @category models
 */
export interface Network {
  /** behaviours by `SocketAddress.format` text; a port of `*` matches any port of that host */
  readonly routes: ReadonlyMap<string, Behaviour>
  /** for destinations with no route */
  readonly default: Behaviour
  /** the source IP a socket bound to the wildcard gets when it connects to a non-loopback destination */
  readonly localHost: { readonly ipv4: string; readonly ipv6: string }
}

const parseKey = (key: string): string => {
  const anyPort = key.endsWith(":*")
  const text = anyPort ? `${key.slice(0, -1)}0` : key
  const parsed = Core.parse(text)
  if (Core.isInvalid(parsed)) {
    throw new TypeError(`Simulated.network: ${JSON.stringify(key)} is not "host:port", "[ipv6]:port" or "host:*"`)
  }
  const formatted = Core.format(parsed)
  return anyPort ? `${formatted.slice(0, -1)}*` : formatted
}

/**
 * A network from a script of `"host:port"` (or `"host:*"`) -> behaviour. Unlisted destinations behave as
 * `options.default` (default: `refuse()`, as a host with nothing listening). A malformed key throws.
 *
 * @example
 * const network = Simulated.network(
 *   { "127.0.0.1:80": Simulated.accept({ echo: true }), "[::1]:80": Simulated.reset() },
 *   { default: Simulated.unreachable("host") }
 * )
 * @since 0.1.0
 * @category constructors
 */
export const network = (
  routes: Readonly<Record<string, Behaviour>>,
  options?: {
    readonly default?: Behaviour
    readonly localHost?: { readonly ipv4?: string; readonly ipv6?: string }
  }
): Network => ({
  routes: new Map(Object.entries(routes).map(([key, behaviour]) => [parseKey(key), behaviour] as const)),
  default: options?.default ?? refuse(),
  localHost: {
    ipv4: SocketAddressModule.ipv4(options?.localHost?.ipv4 ?? "192.0.2.1", 0).host,
    ipv6: SocketAddressModule.ipv6(options?.localHost?.ipv6 ?? "2001:db8::1", 0).host
  }
})

const routeOf = (net: Network, address: SocketAddress): Behaviour => {
  const key = SocketAddressModule.format(address)
  return net.routes.get(key) ?? net.routes.get(`${key.slice(0, key.lastIndexOf(":"))}:*`) ?? net.default
}

type Outcome =
  | { readonly _tag: "Accept"; readonly accept: Accept }
  | { readonly _tag: "Fail"; readonly code: number; readonly delay: Duration.Duration }
  | { readonly _tag: "Pending"; readonly timeout: Duration.Duration | undefined }

/** What the `attempt`-th (0-based) connect to a destination does. */
const outcomeOf = (behaviour: Behaviour, attempt: number): Outcome => {
  switch (behaviour._tag) {
    case "Accept":
      return { _tag: "Accept", accept: behaviour }
    case "Refuse":
      return attempt < behaviour.times
        ? { _tag: "Fail", code: wsa.WSAECONNREFUSED, delay: behaviour.delay }
        : outcomeOf(behaviour.then, attempt - behaviour.times)
    case "Blackhole":
      return { _tag: "Pending", timeout: behaviour.synTimeout }
    case "Unreachable":
      return {
        _tag: "Fail",
        code: behaviour.target === "network" ? wsa.WSAENETUNREACH : wsa.WSAEHOSTUNREACH,
        delay: behaviour.delay
      }
    case "Sequence": {
      const last = behaviour.behaviours.length - 1
      const index = Math.min(attempt, last)
      return outcomeOf(behaviour.behaviours[index] ?? behaviour.behaviours[0], attempt - index)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scheduler and log
// ---------------------------------------------------------------------------------------------------------

/**
 * How the driver tells time: `now` in milliseconds, and `sleep` that calls `callback` once `millis` have
 * passed and returns a function that cancels it. `makeDriverEffect` implements it on Effect's Clock;
 * `manualScheduler` is a hand-cranked one for tests of the driver alone.
 *
 * @since 0.1.0
 * @category models
 */
export interface Scheduler {
  /** the current time in milliseconds */
  readonly now: () => number
  /** runs `callback` once `millis` have passed; the returned function cancels it */
  readonly sleep: (millis: number, callback: () => void) => () => void
}

/**
 * One connect attempt as the simulated network saw it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt {
  /** 1-based, in the order the attempts started (across all destinations) */
  readonly id: number
  /** 1-based: the how-many-th attempt to this destination */
  readonly attempt: number
  /** the simulated socket's number */
  readonly socket: number
  readonly peer: SocketAddress
  /** the local address at the time of the attempt (after an ephemeral port was chosen) */
  readonly local: SocketAddress
  /** Clock milliseconds */
  readonly startedAt: number
  /** undefined while pending; 0 = connected, else the WSA code it failed with (995 = cancelled) */
  readonly status: number | undefined
  readonly completedAt: number | undefined
  /** the connect data and every send on this connection, in order */
  readonly sent: Uint8Array
  /** how the connection ended, once it has: "reset" by the peer, "peer-closed", "disconnected", "closed" here */
  readonly ended: "reset" | "peer-closed" | "disconnected" | "closed" | undefined
}

/**
 * What the simulated network recorded. Every read is a snapshot (copies).
 *
 * @since 0.1.0
 * @category models
 */
export interface Log {
  /** every connect attempt, optionally only those to `address` (a SocketAddress or its text form) */
  readonly attempts: (address?: SocketAddress | string) => ReadonlyArray<Attempt>
  /** the attempts that connected */
  readonly connections: (address?: SocketAddress | string) => ReadonlyArray<Attempt>
  /** every byte sent to `address`, over all its connections, in order */
  readonly sent: (address: SocketAddress | string) => Uint8Array
}

/**
 * The log of the simulated network a layer was built with, for tests that check what was sent.
 *
 * @example
 * const log = yield* Simulated.NetworkLog
 * const sent = log.sent("192.0.2.1:80")
 * @since 0.1.0
 * @category tags
 */
export class NetworkLog extends Context.Tag("effect-connectex/Simulated/NetworkLog")<NetworkLog, Log>() {}

/**
 * Every byte sent to `address` so far.
 *
 * @example
 * const bytes = yield* Simulated.sent("127.0.0.1:8080")
 * @since 0.1.0
 * @category accessors
 */
export const sent = (address: SocketAddress | string): Effect.Effect<Uint8Array, never, NetworkLog> =>
  Effect.map(NetworkLog, (log) => log.sent(address))

/**
 * The connect attempts so far, optionally only those to `address`.
 *
 * @example
 * const attempts = yield* Simulated.attempts("192.0.2.1:80")
 * // attempts.map((a) => a.status) -> [10061, 10061, 0]
 * @since 0.1.0
 * @category accessors
 */
export const attempts = (
  address?: SocketAddress | string
): Effect.Effect<ReadonlyArray<Attempt>, never, NetworkLog> => Effect.map(NetworkLog, (log) => log.attempts(address))

// ---------------------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------------------

type Ended = NonNullable<Attempt["ended"]>

interface AttemptState {
  readonly id: number
  readonly attempt: number
  readonly socket: number
  readonly peer: SocketAddress
  readonly peerKey: string
  local: SocketAddress
  readonly startedAt: number
  status: number | undefined
  completedAt: number | undefined
  readonly chunks: Array<Uint8Array>
  ended: Ended | undefined
}

interface Pending {
  readonly socket: SimSocket
  readonly done: Done
  /** cancels the operation's own timer, if any */
  timer: (() => void) | undefined
  /** what else to do when the operation ends early (cancelled or closed) */
  readonly onAbort: () => void
}

interface Connection {
  readonly record: AttemptState
  readonly echo: boolean
  /** bytes the peer sent that were not received yet */
  readonly inbox: Array<Uint8Array>
  /** receives waiting for data, in order */
  readonly receivers: Array<{ readonly pending: Pending; readonly maxBytes: number }>
  state: "open" | "reset" | "peer-closed"
  /** this side ended its sending direction (shutdownSend) */
  sendShut: boolean
  readonly timers: Array<() => void>
}

interface SimSocket {
  readonly id: number
  readonly handle: NativeSocket
  readonly family: Family
  state: "open" | "bound" | "connecting" | "connected" | "disconnected"
  local: SocketAddress | undefined
  /** the port is chosen at connect (bind with deferPort and port 0) */
  deferPort: boolean
  connection: Connection | undefined
  readonly pending: Set<Pending>
  readonly options: Map<SocketOption, SocketOptions[SocketOption]>
}

const FIRST_EPHEMERAL_PORT = 49152
const LAST_EPHEMERAL_PORT = 65535

const code = {
  connRefused: wsa.WSAECONNREFUSED,
  connReset: wsa.WSAECONNRESET,
  timedOut: wsa.WSAETIMEDOUT,
  notSock: wsa.WSAENOTSOCK,
  notConn: wsa.WSAENOTCONN,
  isConn: wsa.WSAEISCONN,
  already: wsa.WSAEALREADY,
  inval: wsa.WSAEINVAL,
  addrInUse: wsa.WSAEADDRINUSE,
  noBufs: wsa.WSAENOBUFS,
  afNoSupport: wsa.WSAEAFNOSUPPORT,
  shutdown: wsa.WSAESHUTDOWN
} as const

const isLoopback = (address: SocketAddress): boolean =>
  address.family === "ipv4" ? address.host.startsWith("127.") : address.host === "::1"

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/** Takes up to `maxBytes` from the front of a byte stream kept as chunks (TCP has no message boundaries). */
const take = (inbox: Array<Uint8Array>, maxBytes: number): Uint8Array => {
  const taken: Array<Uint8Array> = []
  let room = maxBytes
  for (let chunk = inbox[0]; chunk !== undefined && room > 0; chunk = inbox[0]) {
    if (chunk.length <= room) {
      inbox.shift()
      taken.push(chunk)
      room -= chunk.length
    } else {
      taken.push(chunk.slice(0, room))
      inbox[0] = chunk.subarray(room)
      room = 0
    }
  }
  return concat(taken)
}

const noop = () => {}
const finished: Operation = { cancel: noop }

const withPort = (address: SocketAddress, port: number): SocketAddress =>
  address.family === "ipv4"
    ? SocketAddressModule.ipv4(address.host, port)
    : SocketAddressModule.ipv6(address.host, port, { flowInfo: address.flowInfo, scopeId: address.scopeId })

const withHost = (address: SocketAddress, host: string): SocketAddress =>
  address.family === "ipv4"
    ? SocketAddressModule.ipv4(host, address.port)
    : SocketAddressModule.ipv6(host, address.port, { flowInfo: address.flowInfo, scopeId: address.scopeId })

const keyOf = (address: SocketAddress | string): string =>
  typeof address === "string" ? parseKey(address) : SocketAddressModule.format(address)

/**
 * A driver on the scripted network, with time from `scheduler`, and the log of what it saw.
 *
 * - `bind` keeps the address; port 0 gets an ephemeral port (49152 upwards) at bind, or at connect with
 *   `deferPort`; two sockets on the same family and port fail `WSAEADDRINUSE` unless both set `SO_REUSEADDR`.
 * - `connect` follows the destination's behaviour; a failed or cancelled connect leaves the socket bound
 *   and ready to connect again. A socket bound to the wildcard gets a loopback source address for loopback
 *   destinations and `network.localHost` otherwise.
 * - `send` completes at once (recorded; echoed by an echo peer); `receive` completes when the peer has
 *   bytes (up to `maxBytes` of the byte stream, across sends), closed (empty bytes) or reset (`WSAECONNRESET`).
 * - `disconnect` completes at once; pending receives complete with 995.
 * - `close` completes every pending operation of the socket with 995 before it returns.
 * - `liveAllocations` = open sockets + pending operations.
 *
 * @example
 * const manual = Simulated.manualScheduler()
 * const { driver, log } = Simulated.makeDriver(Simulated.network({}), manual.scheduler)
 * @since 0.1.0
 * @category constructors
 */
export const makeDriver = (net: Network, scheduler: Scheduler): { readonly driver: Driver; readonly log: Log } => {
  const sockets = new Map<NativeSocket, SimSocket>()
  const pendings = new Set<Pending>()
  const attemptCounts = new Map<string, number>()
  const records: Array<AttemptState> = []
  let nextSocketId = 1
  let nextEphemeral = FIRST_EPHEMERAL_PORT

  // -- operations -----------------------------------------------------------------------------------------

  /** Completes an operation once; later calls do nothing. */
  const complete = (pending: Pending, completion: Completion): void => {
    if (!pendings.delete(pending)) return
    pending.socket.pending.delete(pending)
    pending.timer?.()
    pending.done(completion)
  }

  const abort = (pending: Pending): void => {
    if (!pendings.has(pending)) return
    pending.onAbort()
    complete(pending, { status: OPERATION_ABORTED, bytes: 0 })
  }

  const start = (socket: SimSocket, done: Done, onAbort: () => void = noop): Pending => {
    const pending: Pending = { socket, done, timer: undefined, onAbort }
    pendings.add(pending)
    socket.pending.add(pending)
    return pending
  }

  const operationOf = (pending: Pending): Operation => ({ cancel: () => abort(pending) })

  /** Runs `f` after `duration` (at once when zero), as part of `pending` (cancelled with it). */
  const after = (pending: Pending, duration: Duration.Duration, f: () => void): void => {
    const millis = Duration.toMillis(duration)
    if (millis <= 0) f()
    else if (Number.isFinite(millis)) pending.timer = scheduler.sleep(millis, f)
  }

  const immediately = (done: Done, status: number): Operation => {
    done({ status, bytes: 0 })
    return finished
  }

  // -- ports ----------------------------------------------------------------------------------------------

  const conflicts = (socket: SimSocket, family: Family, port: number): boolean => {
    const reuse = socket.options.get("SO_REUSEADDR") === true
    for (const other of sockets.values()) {
      if (other === socket || other.local === undefined || other.family !== family || other.local.port !== port) continue
      if (!(reuse && other.options.get("SO_REUSEADDR") === true)) return true
    }
    return false
  }

  const ephemeralPort = (socket: SimSocket): number | undefined => {
    for (let tries = 0; tries <= LAST_EPHEMERAL_PORT - FIRST_EPHEMERAL_PORT; tries++) {
      const port = nextEphemeral
      nextEphemeral = port === LAST_EPHEMERAL_PORT ? FIRST_EPHEMERAL_PORT : port + 1
      if (!conflicts(socket, socket.family, port)) return port
    }
    return undefined
  }

  // -- connections ----------------------------------------------------------------------------------------

  const deliver = (connection: Connection): void => {
    while (connection.receivers.length > 0) {
      const head = connection.receivers[0]
      if (head === undefined) return
      if (connection.state === "reset") {
        connection.receivers.shift()
        complete(head.pending, { status: code.connReset, bytes: 0 })
        continue
      }
      const chunk = connection.inbox[0]
      if (chunk === undefined) {
        if (connection.state !== "peer-closed") return
        connection.receivers.shift()
        complete(head.pending, { status: 0, bytes: 0, data: new Uint8Array(0) })
        continue
      }
      connection.receivers.shift()
      const data = take(connection.inbox, head.maxBytes)
      complete(head.pending, { status: 0, bytes: data.length, data })
    }
  }

  const endConnection = (socket: SimSocket, ended: Ended): void => {
    const connection = socket.connection
    if (connection === undefined) return
    socket.connection = undefined
    for (const cancel of connection.timers.splice(0)) cancel()
    connection.record.ended ??= ended
    for (const receiver of connection.receivers.splice(0)) abort(receiver.pending)
  }

  const establish = (socket: SimSocket, record: AttemptState, behaviour: Accept): void => {
    const connection: Connection = {
      record,
      echo: behaviour.echo,
      inbox: [],
      receivers: [],
      state: "open",
      sendShut: false,
      timers: []
    }
    socket.state = "connected"
    socket.connection = connection
    if (behaviour.greeting.length > 0) connection.inbox.push(behaviour.greeting.slice())
    if (behaviour.echo) for (const chunk of record.chunks) if (chunk.length > 0) connection.inbox.push(chunk.slice())
    const peerEvent = (duration: Duration.Duration | undefined, state: "reset" | "peer-closed") => {
      if (duration === undefined) return
      const happen = () => {
        if (socket.connection !== connection || connection.state === "reset") return
        connection.state = state
        record.ended ??= state
        deliver(connection)
      }
      const millis = Duration.toMillis(duration)
      if (millis <= 0) happen()
      else if (Number.isFinite(millis)) connection.timers.push(scheduler.sleep(millis, happen))
    }
    peerEvent(behaviour.resetAfter, "reset")
    peerEvent(behaviour.closeAfter, "peer-closed")
  }

  // -- the driver -----------------------------------------------------------------------------------------

  const lookup = (handle: NativeSocket): SimSocket | undefined => sockets.get(handle)

  const closeSocket = (socket: SimSocket): void => {
    if (!sockets.has(socket.handle)) return
    for (const pending of [...socket.pending]) abort(pending)
    endConnection(socket, "closed")
    sockets.delete(socket.handle)
  }

  const driver: Driver = {
    name: "simulated",
    startup: () => 0,
    cleanup: () => {
      for (const socket of [...sockets.values()]) closeSocket(socket)
    },

    open: (family) => {
      if (family !== "ipv4" && family !== "ipv6") return fail(code.afNoSupport)
      const handle: NativeSocket = { family }
      sockets.set(handle, {
        id: nextSocketId++,
        handle,
        family,
        state: "open",
        local: undefined,
        deferPort: false,
        connection: undefined,
        pending: new Set(),
        options: new Map()
      })
      return ok(handle)
    },

    bind: (handle, address, deferPort) => {
      const socket = lookup(handle)
      if (socket === undefined) return code.notSock
      if (socket.local !== undefined) return code.inval
      if (address.family !== socket.family) return code.afNoSupport
      if (address.port === 0) {
        if (deferPort) {
          socket.local = address
          socket.deferPort = true
        } else {
          const port = ephemeralPort(socket)
          if (port === undefined) return code.noBufs
          socket.local = withPort(address, port)
        }
      } else {
        if (conflicts(socket, address.family, address.port)) return code.addrInUse
        socket.local = address
      }
      if (socket.state === "open") socket.state = "bound"
      return 0
    },

    connect: (handle, address, data, done) => {
      const socket = lookup(handle)
      if (socket === undefined) return immediately(done, code.notSock)
      switch (socket.state) {
        case "connecting":
          return immediately(done, code.already)
        case "connected":
          return immediately(done, code.isConn)
        case "open":
        case "disconnected":
          return immediately(done, code.inval)
        case "bound":
          break
      }
      if (address.family !== socket.family) return immediately(done, code.afNoSupport)
      let local = socket.local
      if (local === undefined) return immediately(done, code.inval)
      if (local.port === 0) {
        const port = ephemeralPort(socket)
        if (port === undefined) return immediately(done, code.noBufs)
        local = withPort(local, port)
        socket.local = local
      }
      const connectedLocal = SocketAddressModule.isUnspecified(local)
        ? withHost(
          local,
          isLoopback(address)
            ? (address.family === "ipv4" ? "127.0.0.1" : "::1")
            : (address.family === "ipv4" ? net.localHost.ipv4 : net.localHost.ipv6)
        )
        : local

      const peerKey = SocketAddressModule.format(address)
      const attempt = attemptCounts.get(peerKey) ?? 0
      attemptCounts.set(peerKey, attempt + 1)
      const payload = data === undefined ? new Uint8Array(0) : data.slice()
      const record: AttemptState = {
        id: records.length + 1,
        attempt: attempt + 1,
        socket: socket.id,
        peer: address,
        peerKey,
        local: connectedLocal,
        startedAt: scheduler.now(),
        status: undefined,
        completedAt: undefined,
        chunks: [],
        ended: undefined
      }
      records.push(record)

      const settle = (status: number) => {
        record.status = status
        record.completedAt = scheduler.now()
        if (status !== 0 && socket.state === "connecting") socket.state = "bound"
      }
      socket.state = "connecting"
      const pending = start(socket, done, () => settle(OPERATION_ABORTED))
      const failWith = (status: number) => {
        settle(status)
        complete(pending, { status, bytes: 0 })
      }
      const outcome = outcomeOf(routeOf(net, address), attempt)
      switch (outcome._tag) {
        case "Accept":
          after(pending, outcome.accept.delay, () => {
            settle(0)
            socket.local = connectedLocal
            if (payload.length > 0) record.chunks.push(payload)
            establish(socket, record, outcome.accept)
            complete(pending, { status: 0, bytes: payload.length })
          })
          break
        case "Fail":
          after(pending, outcome.delay, () => failWith(outcome.code))
          break
        case "Pending":
          if (outcome.timeout !== undefined) after(pending, outcome.timeout, () => failWith(code.timedOut))
          break
      }
      return operationOf(pending)
    },

    resetConnect: (handle) => {
      const socket = lookup(handle)
      if (socket === undefined) return code.notSock
      if (socket.state === "connecting") return code.already
      if (socket.state === "connected") return code.isConn
      if (socket.local !== undefined) socket.state = "bound"
      return 0
    },

    send: (handle, data, done) => {
      const socket = lookup(handle)
      if (socket === undefined) return immediately(done, code.notSock)
      const connection = socket.connection
      if (connection === undefined) return immediately(done, code.notConn)
      if (connection.state === "reset") return immediately(done, code.connReset)
      if (connection.sendShut) return immediately(done, code.shutdown)
      const copy = data.slice()
      connection.record.chunks.push(copy)
      if (connection.echo && copy.length > 0 && connection.state === "open") {
        connection.inbox.push(copy.slice())
        deliver(connection)
      }
      done({ status: 0, bytes: copy.length })
      return finished
    },

    receive: (handle, maxBytes, done) => {
      const socket = lookup(handle)
      if (socket === undefined) return immediately(done, code.notSock)
      const connection = socket.connection
      if (connection === undefined) return immediately(done, code.notConn)
      if (connection.state === "reset") return immediately(done, code.connReset)
      if (maxBytes <= 0) {
        done({ status: 0, bytes: 0, data: new Uint8Array(0) })
        return finished
      }
      const pending = start(socket, done, () => {
        const index = connection.receivers.findIndex((receiver) => receiver.pending === pending)
        if (index >= 0) connection.receivers.splice(index, 1)
      })
      connection.receivers.push({ pending, maxBytes })
      deliver(connection)
      return operationOf(pending)
    },

    shutdownSend: (handle) => {
      const socket = lookup(handle)
      if (socket === undefined) return code.notSock
      const connection = socket.connection
      if (connection === undefined) return code.notConn
      connection.sendShut = true
      // An echo peer, like a server that does not allow half-open connections, closes when it sees the end.
      if (connection.echo && connection.state === "open") {
        connection.state = "peer-closed"
        deliver(connection)
      }
      return 0
    },

    disconnect: (handle, reuse, done) => {
      const socket = lookup(handle)
      if (socket === undefined) return immediately(done, code.notSock)
      if (socket.connection === undefined) return immediately(done, code.notConn)
      endConnection(socket, "disconnected")
      socket.state = reuse ? "bound" : "disconnected"
      done({ status: 0, bytes: 0 })
      return finished
    },

    close: (handle) => {
      const socket = lookup(handle)
      if (socket !== undefined) closeSocket(socket)
    },

    localAddress: (handle): Result<SocketAddress> => {
      const socket = lookup(handle)
      if (socket === undefined) return fail(code.notSock)
      return socket.local === undefined ? fail(code.inval) : ok(socket.local)
    },

    peerAddress: (handle): Result<SocketAddress> => {
      const socket = lookup(handle)
      if (socket === undefined) return fail(code.notSock)
      return socket.connection === undefined ? fail(code.notConn) : ok(socket.connection.record.peer)
    },

    setOption: (handle, option, value) => {
      const socket = lookup(handle)
      if (socket === undefined) return code.notSock
      socket.options.set(option, value)
      return 0
    },

    liveAllocations: () => sockets.size + pendings.size
  }

  const snapshot = (record: AttemptState): Attempt => ({
    id: record.id,
    attempt: record.attempt,
    socket: record.socket,
    peer: record.peer,
    local: record.local,
    startedAt: record.startedAt,
    status: record.status,
    completedAt: record.completedAt,
    sent: concat(record.chunks),
    ended: record.ended
  })

  const select = (address: SocketAddress | string | undefined): Array<AttemptState> => {
    if (address === undefined) return records
    const key = keyOf(address)
    return records.filter((record) => record.peerKey === key)
  }

  const log: Log = {
    attempts: (address) => select(address).map(snapshot),
    connections: (address) => select(address).filter((record) => record.status === 0).map(snapshot),
    sent: (address) => concat(select(address).flatMap((record) => record.chunks))
  }

  return { driver, log }
}

// ---------------------------------------------------------------------------------------------------------
// Schedulers
// ---------------------------------------------------------------------------------------------------------

/**
 * A scheduler on the current Effect Clock: each sleep is a fiber running `Effect.sleep`, so `TestClock`
 * moves it; the fibers are interrupted when the scope closes.
 *
 * @example
 * const scheduler = yield* Simulated.clockScheduler // TestClock.adjust moves it
 * @since 0.1.0
 * @category constructors
 */
export const clockScheduler: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const clock = yield* Effect.clock
  const fibers = yield* FiberSet.make<void, never>()
  const run = yield* FiberSet.runtime(fibers)<never>()
  return {
    now: () => clock.unsafeCurrentTimeMillis(),
    sleep: (millis, callback) => {
      let live = true
      const fiber = run(
        Effect.sleep(Duration.millis(millis)).pipe(
          Effect.andThen(Effect.sync(() => {
            if (!live) return
            live = false
            callback()
          }))
        ),
        // start now, so that the sleep is registered with the Clock before `sleep` returns
        { immediate: true }
      )
      return () => {
        if (!live) return
        live = false
        fiber.unsafeInterruptAsFork(FiberId.none)
      }
    }
  }
})

/**
 * A driver on the scripted network whose time is the current Effect Clock (so `TestClock.adjust` moves
 * delays and timeouts). When the scope closes, its timers stop and any socket still open is closed.
 * This is what `ConnectEx.layerSimulated` is built from.
 *
 * @example
 * import { Effect, TestClock } from "effect"
 * import { Simulated, SocketAddress } from "effect-connectex"
 *
 * const program = Effect.gen(function*() {
 *   const { driver, log } = yield* Simulated.makeDriverEffect(
 *     Simulated.network({ "192.0.2.1:80": Simulated.blackhole({ synTimeout: "21 seconds" }) })
 *   )
 *   const opened = driver.open("ipv4")
 *   if (!opened.ok) return
 *   driver.bind(opened.value, SocketAddress.wildcard("ipv4"), false)
 *   driver.connect(opened.value, SocketAddress.ipv4("192.0.2.1", 80), undefined, (c) => console.log(c.status))
 *   yield* TestClock.adjust("21 seconds") // logs 10060 (WSAETIMEDOUT)
 *   console.log(log.attempts())
 * }).pipe(Effect.scoped)
 * @since 0.1.0
 * @category constructors
 */
export const makeDriverEffect = (
  net: Network
): Effect.Effect<{ readonly driver: Driver; readonly log: Log }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scheduler = yield* clockScheduler
    const made = makeDriver(net, scheduler)
    yield* Effect.addFinalizer(() => Effect.sync(() => made.driver.cleanup()))
    return made
  })

/**
 * A scheduler moved by hand, for tests of the driver without Effect: `advance(millis)` runs, in time order,
 * every callback due by then.
 *
 * @example
 * const manual = Simulated.manualScheduler()
 * const { driver } = Simulated.makeDriver(network, manual.scheduler)
 * manual.advance(1000)
 * @since 0.1.0
 * @category constructors
 */
export const manualScheduler = (): {
  /** the scheduler to give `makeDriver` */
  readonly scheduler: Scheduler
  /** moves time forward, running every callback due by then in time order */
  readonly advance: (millis: number) => void
  /** callbacks not yet run */
  readonly pending: () => number
} => {
  let now = 0
  let sequenceNumber = 0
  const timers = new Map<number, { readonly at: number; readonly callback: () => void }>()
  const next = (until: number): [number, { readonly at: number; readonly callback: () => void }] | undefined => {
    let best: [number, { readonly at: number; readonly callback: () => void }] | undefined
    for (const entry of timers) {
      if (entry[1].at <= until && (best === undefined || entry[1].at < best[1].at)) best = entry
    }
    return best
  }
  return {
    scheduler: {
      now: () => now,
      sleep: (millis, callback) => {
        const id = sequenceNumber++
        timers.set(id, { at: now + Math.max(0, millis), callback })
        return () => {
          timers.delete(id)
        }
      }
    },
    advance: (millis) => {
      const until = now + millis
      for (let due = next(until); due !== undefined; due = next(until)) {
        timers.delete(due[0])
        now = due[1].at
        due[1].callback()
      }
      now = until
    },
    pending: () => timers.size
  }
}
