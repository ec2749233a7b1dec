/**
 * The scripted network as plain data: what each destination does (behaviours with millisecond fields), the
 * route table keyed by `format` text, and what the n-th connect to a destination does. No Effect: the
 * front-ends build these records from their own DSL (Effect 3's `Duration` fields become milliseconds here).
 */
import { format, ipv4, ipv6, isInvalid, parse, type SocketAddress } from "../../address.js"
import { wsa } from "../../errors/codes.js"

/** The destination answers the SYN: the connect succeeds after `delayMillis`; the peer then behaves so. */
export interface Accept {
  readonly _tag: "Accept"
  readonly delayMillis: number
  /** the peer sends back every byte it receives (connect data included), and closes once it saw the end */
  readonly echo: boolean
  /** bytes the peer sends as soon as the connection is established */
  readonly greeting: Uint8Array
  /** the peer resets this long after the connection was established */
  readonly resetAfterMillis: number | undefined
  /** the peer closes gracefully this long after the connection was established */
  readonly closeAfterMillis: number | undefined
}

/** WSAECONNREFUSED after `delayMillis` for the first `times` attempts, then `then`. */
export interface Refuse {
  readonly _tag: "Refuse"
  readonly times: number
  readonly then: Behaviour
  readonly delayMillis: number
}

/** The SYN is dropped: pending until cancelled, or WSAETIMEDOUT after `synTimeoutMillis`. */
export interface Blackhole {
  readonly _tag: "Blackhole"
  readonly synTimeoutMillis: number | undefined
}

/** WSAENETUNREACH ("network") or WSAEHOSTUNREACH ("host") after `delayMillis`. */
export interface Unreachable {
  readonly _tag: "Unreachable"
  readonly target: "network" | "host"
  readonly delayMillis: number
}

/** The n-th connect to the address uses the n-th entry; the last one repeats. */
export interface Sequence {
  readonly _tag: "Sequence"
  readonly behaviours: readonly [Behaviour, ...Array<Behaviour>]
}

export type Behaviour = Accept | Refuse | Blackhole | Unreachable | Sequence

/** A scripted network: immutable; attempt counters live in each driver made from it. */
export interface Network {
  /** behaviours by `format` text; a port of `*` matches any port of that host */
  readonly routes: ReadonlyMap<string, Behaviour>
  /** for destinations with no route */
  readonly default: Behaviour
  /** the source IP a socket bound to the wildcard gets when it connects to a non-loopback destination */
  readonly localHost: { readonly ipv4: string; readonly ipv6: string }
}

/**
 * The canonical form of a route key: `"host:port"`, `"[ipv6]:port"` or `"host:*"` (any port), as `format`
 * writes it; undefined for a malformed key.
 */
export const routeKey = (key: string): string | undefined => {
  const anyPort = key.endsWith(":*")
  const parsed = parse(anyPort ? `${key.slice(0, -1)}0` : key)
  if (isInvalid(parsed)) return undefined
  const formatted = format(parsed)
  return anyPort ? `${formatted.slice(0, -1)}*` : formatted
}

/** A route table from a script of key -> behaviour; a malformed key throws (a programmer error). */
export const routeTable = <B>(routes: Readonly<Record<string, B>>): ReadonlyMap<string, B> =>
  new Map(Object.entries(routes).map(([text, behaviour]) => {
    const key = routeKey(text)
    if (key === undefined) {
      throw new TypeError(`Simulated.network: ${JSON.stringify(text)} is not "host:port", "[ipv6]:port" or "host:*"`)
    }
    return [key, behaviour] as const
  }))

/** The local hosts of a network (defaults 192.0.2.1 and 2001:db8::1), canonical; an invalid one throws. */
export const localHostOf = (options?: { readonly ipv4?: string; readonly ipv6?: string }): Network["localHost"] => {
  const v4 = ipv4(options?.ipv4 ?? "192.0.2.1", 0)
  const v6 = ipv6(options?.ipv6 ?? "2001:db8::1", 0)
  if (isInvalid(v4)) throw new TypeError(`Simulated.network: localHost.ipv4: ${v4.invalid}`)
  if (isInvalid(v6)) throw new TypeError(`Simulated.network: localHost.ipv6: ${v6.invalid}`)
  return { ipv4: v4.host, ipv6: v6.host }
}

/** The log's key of an address or of its text form (throws on malformed text: a programmer error). */
export const keyOf = (address: SocketAddress | string): string => {
  if (typeof address !== "string") return format(address)
  const key = routeKey(address)
  if (key === undefined) throw new TypeError(`Simulated: ${JSON.stringify(address)} is not "host:port" or "[ipv6]:port"`)
  return key
}

/** The behaviour of a destination: its own route, else its host's `host:*` route, else the default. */
export const routeOf = (net: Network, address: SocketAddress): Behaviour => {
  const key = format(address)
  return net.routes.get(key) ?? net.routes.get(`${key.slice(0, key.lastIndexOf(":"))}:*`) ?? net.default
}

export type Outcome =
  | { readonly _tag: "Accept"; readonly accept: Accept }
  | { readonly _tag: "Fail"; readonly code: number; readonly delayMillis: number }
  | { readonly _tag: "Pending"; readonly timeoutMillis: number | undefined }

/** What the `attempt`-th (0-based) connect to a destination with this behaviour does. */
export const outcomeOf = (behaviour: Behaviour, attempt: number): Outcome => {
  switch (behaviour._tag) {
    case "Accept":
      return { _tag: "Accept", accept: behaviour }
    case "Refuse":
      return attempt < behaviour.times
        ? { _tag: "Fail", code: wsa.WSAECONNREFUSED, delayMillis: behaviour.delayMillis }
        : outcomeOf(behaviour.then, attempt - behaviour.times)
    case "Blackhole":
      return { _tag: "Pending", timeoutMillis: behaviour.synTimeoutMillis }
    case "Unreachable":
      return {
        _tag: "Fail",
        code: behaviour.target === "network" ? wsa.WSAENETUNREACH : wsa.WSAEHOSTUNREACH,
        delayMillis: behaviour.delayMillis
      }
    case "Sequence": {
      const index = Math.min(attempt, behaviour.behaviours.length - 1)
      return outcomeOf(behaviour.behaviours[index] ?? behaviour.behaviours[0], attempt - index)
    }
  }
}
