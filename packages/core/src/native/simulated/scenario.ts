/**
 * The scenario builder of the simulated network, for both front-ends: `accept`, `refuse`, `blackhole`,
 * `unreachable`, `reset`, `sequence` and `network`, over whatever a front-end calls a duration. A front-end gives
 * its durations (how to read one, zero, and its milliseconds): its behaviours keep its own `Duration` fields, and
 * `toNetwork` gives the driver the same description in milliseconds.
 */
import { type Behaviour, localHostOf, type Network, routeTable } from "./network.js"

/** How a front-end's durations are read, and what each is in milliseconds. */
export interface Durations<In, D> {
  readonly decode: (input: In) => D
  readonly zero: D
  readonly toMillis: (duration: D) => number
}

/** The destination answers the SYN: the connect succeeds (after `delay`); the peer then behaves as configured. */
export interface AcceptOf<D> {
  readonly _tag: "Accept"
  /** time from connect to the completion (a round trip) */
  readonly delay: D
  /** whether the peer sends back every byte it receives (connect data included) */
  readonly echo: boolean
  /** bytes the peer sends as soon as the connection is established */
  readonly greeting: Uint8Array
  /** the peer resets the connection this long after it was established (send/receive then fail WSAECONNRESET) */
  readonly resetAfter: D | undefined
  /** the peer closes gracefully this long after it was established (receive then returns empty bytes) */
  readonly closeAfter: D | undefined
}

/** `WSAECONNREFUSED` (after `delay`) for the first `times` attempts, then `then`. */
export interface RefuseOf<D> {
  readonly _tag: "Refuse"
  readonly times: number
  readonly then: BehaviourOf<D>
  readonly delay: D
}

/** The SYN is dropped: pending until cancelled, or `WSAETIMEDOUT` after `synTimeout`. */
export interface BlackholeOf<D> {
  readonly _tag: "Blackhole"
  readonly synTimeout: D | undefined
}

/** No route: `WSAENETUNREACH` ("network") or `WSAEHOSTUNREACH` ("host") after `delay`. */
export interface UnreachableOf<D> {
  readonly _tag: "Unreachable"
  readonly target: "network" | "host"
  readonly delay: D
}

/** One behaviour per attempt: the n-th connect uses the n-th entry, the last one repeats. */
export interface SequenceOf<D> {
  readonly _tag: "Sequence"
  readonly behaviours: readonly [BehaviourOf<D>, ...Array<BehaviourOf<D>>]
}

/** What a destination does when it is connected to. */
export type BehaviourOf<D> = AcceptOf<D> | RefuseOf<D> | BlackholeOf<D> | UnreachableOf<D> | SequenceOf<D>

/** A scripted network: an immutable description (attempt counters live in each driver made from it). */
export interface NetworkOf<D> {
  /** behaviours by `SocketAddress.format` text; a port of `*` matches any port of that host */
  readonly routes: ReadonlyMap<string, BehaviourOf<D>>
  /** for destinations with no route */
  readonly default: BehaviourOf<D>
  /** the source IP a socket bound to the wildcard gets when it connects to a non-loopback destination */
  readonly localHost: { readonly ipv4: string; readonly ipv6: string }
}

/** The options of `accept`. */
export interface AcceptOptions<In> {
  readonly delay?: In
  readonly echo?: boolean
  readonly greeting?: Uint8Array | string
  readonly resetAfter?: In
  readonly closeAfter?: In
}

/** The options of `refuse`. */
export interface RefuseOptions<In, D> {
  readonly times?: number
  readonly then?: BehaviourOf<D>
  readonly delay?: In
}

/** The options of `network`. */
export interface NetworkOptions<D> {
  readonly default?: BehaviourOf<D>
  readonly localHost?: { readonly ipv4?: string; readonly ipv6?: string }
}

const bytesOf = (data: Uint8Array | string | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === "string" ? new TextEncoder().encode(data) : data.slice()

/** The builder over a front-end's durations. */
export const scenario = <In, D>(durations: Durations<In, D>) => {
  const durationOf = (input: In | undefined): D => input === undefined ? durations.zero : durations.decode(input)
  const optional = (input: In | undefined): D | undefined => input === undefined ? undefined : durations.decode(input)
  const millisOf = (duration: D | undefined): number | undefined => duration === undefined ? undefined : durations.toMillis(duration)

  const accept = (options?: AcceptOptions<In>): AcceptOf<D> => ({
    _tag: "Accept",
    delay: durationOf(options?.delay),
    echo: options?.echo ?? false,
    greeting: bytesOf(options?.greeting),
    resetAfter: optional(options?.resetAfter),
    closeAfter: optional(options?.closeAfter)
  })

  const refuse = (options?: RefuseOptions<In, D>): RefuseOf<D> => {
    const times = options?.times ?? Infinity
    if (!(times >= 0) || (Number.isFinite(times) && !Number.isInteger(times))) {
      throw new TypeError(`Simulated.refuse: times must be a non-negative integer, got ${String(times)}`)
    }
    return { _tag: "Refuse", times, then: options?.then ?? accept(), delay: durationOf(options?.delay) }
  }

  const blackhole = (options?: { readonly synTimeout?: In }): BlackholeOf<D> => ({
    _tag: "Blackhole",
    synTimeout: optional(options?.synTimeout)
  })

  const unreachable = (target: "network" | "host" = "network", options?: { readonly delay?: In }): UnreachableOf<D> => ({
    _tag: "Unreachable",
    target,
    delay: durationOf(options?.delay)
  })

  const reset = (options?: { readonly after?: In; readonly delay?: In }): AcceptOf<D> => ({
    ...accept(),
    delay: durationOf(options?.delay),
    resetAfter: durationOf(options?.after)
  })

  const sequence = (first: BehaviourOf<D>, ...rest: Array<BehaviourOf<D>>): SequenceOf<D> => ({
    _tag: "Sequence",
    behaviours: [first, ...rest]
  })

  const network = (routes: Readonly<Record<string, BehaviourOf<D>>>, options?: NetworkOptions<D>): NetworkOf<D> => ({
    routes: routeTable(routes),
    default: options?.default ?? refuse(),
    localHost: localHostOf(options?.localHost)
  })

  /** The driver's behaviour: the same record with its durations in milliseconds. */
  const toBehaviour = (behaviour: BehaviourOf<D>): Behaviour => {
    switch (behaviour._tag) {
      case "Accept":
        return {
          _tag: "Accept",
          delayMillis: durations.toMillis(behaviour.delay),
          echo: behaviour.echo,
          greeting: behaviour.greeting,
          resetAfterMillis: millisOf(behaviour.resetAfter),
          closeAfterMillis: millisOf(behaviour.closeAfter)
        }
      case "Refuse":
        return { _tag: "Refuse", times: behaviour.times, then: toBehaviour(behaviour.then), delayMillis: durations.toMillis(behaviour.delay) }
      case "Blackhole":
        return { _tag: "Blackhole", synTimeoutMillis: millisOf(behaviour.synTimeout) }
      case "Unreachable":
        return { _tag: "Unreachable", target: behaviour.target, delayMillis: durations.toMillis(behaviour.delay) }
      case "Sequence": {
        const [first, ...rest] = behaviour.behaviours
        return { _tag: "Sequence", behaviours: [toBehaviour(first), ...rest.map(toBehaviour)] }
      }
    }
  }

  /** The driver's network: the same description in milliseconds. */
  const toNetwork = (net: NetworkOf<D>): Network => ({
    routes: new Map([...net.routes].map(([key, behaviour]) => [key, toBehaviour(behaviour)] as const)),
    default: toBehaviour(net.default),
    localHost: net.localHost
  })

  return { accept, blackhole, network, refuse, reset, sequence, toNetwork, unreachable }
}
