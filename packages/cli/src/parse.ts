/**
 * Command-line values for the `connectex` CLI: destinations, bind addresses, durations. Pure functions whose
 * refusals are phrases for the command line.
 *
 * @since 0.1.0
 */
import { Duration, Either } from "effect"
import { SocketAddress } from "effect-connectex"
import * as Net from "node:net"

const units: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|millis|milliseconds?)$/i, 1],
  [/^(s|secs?|seconds?)$/i, 1_000],
  [/^(m|mins?|minutes?)$/i, 60_000]
]

/**
 * Parses a positive duration: `500ms`, `2s`, `1.5 seconds`, `1m`. A bare number is refused (which unit?).
 *
 * @since 0.1.0
 */
export const parseDuration = (text: string): Either.Either<Duration.Duration, string> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text)
  const amount = match === null ? Number.NaN : Number(match[1])
  const unit = match === null ? undefined : units.find(([pattern]) => pattern.test(match[2] ?? ""))
  if (match === null || unit === undefined || !Number.isFinite(amount)) {
    return Either.left(`invalid duration ${JSON.stringify(text)}: expected a number and a unit, e.g. 500ms, 2s, 1m`)
  }
  if (amount <= 0) return Either.left(`invalid duration ${JSON.stringify(text)}: it must be more than zero`)
  return Either.right(Duration.millis(amount * unit[1]))
}

/**
 * A duration for people: `0.42 ms`, `12.3 ms`, `100 ms`, `1.25 s`.
 *
 * @since 0.1.0
 */
export const formatMillis = (duration: Duration.DurationInput): string => {
  const ms = Duration.toMillis(duration)
  return ms < 1_000 ? `${Number(ms.toFixed(ms < 10 ? 2 : 1))} ms` : `${Number((ms / 1_000).toFixed(2))} s`
}

/**
 * Where a probe goes: an IP address, or a host name to resolve and race (Happy Eyeballs) at run time.
 *
 * @since 0.1.0
 */
export type Target =
  | { readonly _tag: "Address"; readonly address: SocketAddress.SocketAddress }
  | { readonly _tag: "Name"; readonly host: string; readonly port: number }

const examples = "e.g. localhost:8080, 127.0.0.1:8080 or [::1]:8080"

// A DNS name: letters, digits, "-" and "_" in dot-separated labels of 1-63, at most 253 in all (a final dot allowed).
const isHostName = (host: string): boolean =>
  host.replace(/\.$/, "").length <= 253 &&
  host.replace(/\.$/, "").split(".").every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))

const parsePort = (text: string, lowest: 0 | 1): Either.Either<number, string> =>
  /^\d{1,5}$/.test(text) && Number(text) >= lowest && Number(text) <= 65535
    ? Either.right(Number(text))
    : Either.left(`the port must be a number from ${lowest} to 65535, got ${JSON.stringify(text)}`)

const parseIpv6 = (inner: string, port: number): Either.Either<SocketAddress.SocketAddress, string> => {
  const [host = "", zone, ...rest] = inner.split("%")
  if (rest.length > 0 || !Net.isIPv6(host)) return Either.left(`${JSON.stringify(`[${inner}]`)} is not an IPv6 address`)
  if (zone === undefined) return Either.right(SocketAddress.ipv6(host, port))
  // the library takes the zone as a number (the interface index); a name such as eth0 is not resolved here
  if (!/^\d{1,9}$/.test(zone)) {
    return Either.left(`the zone after "%" must be the interface's index (a number, e.g. [fe80::1%2]:80), got ${JSON.stringify(zone)}`)
  }
  return Either.right(SocketAddress.ipv6(host, port, { scopeId: Number(zone) }))
}

/** Splits `host:port` (`[ipv6]:port` for IPv6) and says what it is: an IP address or a host name. */
const parseHostPort = (text: string, lowestPort: 0 | 1): Either.Either<Target, string> => {
  if (text === "") return Either.left(`it is empty; give host:port, ${examples}`)
  if (text.includes("://")) return Either.left(`give host:port without a scheme, ${examples}`)
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text)
  if (bracketed !== null) {
    const [, inner = "", portText] = bracketed
    if (portText === undefined) return Either.left(`the port is missing; give [${inner}]:port, e.g. [${inner}]:8080`)
    return Either.flatMap(parsePort(portText, lowestPort), (port) =>
      Either.map(parseIpv6(inner, port), (address) => ({ _tag: "Address" as const, address })))
  }
  const colon = text.lastIndexOf(":")
  const host = text.slice(0, Math.max(colon, 0))
  const isIpv6 = (candidate: string) => Net.isIPv6(candidate.split("%")[0] ?? "")
  // "2001:db8::1:443" is itself an IPv6 address, but a port after an address is the likelier reading
  if (isIpv6(host) && /^\d+$/.test(text.slice(colon + 1))) {
    return Either.left(`an IPv6 address goes in brackets: [${host}]${text.slice(colon)}`)
  }
  if (isIpv6(text)) return Either.left(`an IPv6 address goes in brackets, followed by the port: [${text}]:8080`)
  if (colon < 0) return Either.left(`the port is missing; give host:port, e.g. ${text}:8080`)
  return Either.flatMap(parsePort(text.slice(colon + 1), lowestPort), (port): Either.Either<Target, string> => {
    if (Net.isIPv4(host)) return Either.right({ _tag: "Address", address: SocketAddress.ipv4(host, port) })
    if (/^[\d.]+$/.test(host)) return Either.left(`${JSON.stringify(host)} is not an IPv4 address (four numbers from 0 to 255, e.g. 127.0.0.1)`)
    if (!isHostName(host)) {
      return Either.left(`${JSON.stringify(host)} is neither an IP address nor a host name (letters, digits, "-" and "." only), ${examples}`)
    }
    return Either.right({ _tag: "Name", host, port })
  })
}

/**
 * The probe's destination: `localhost:8080`, `example.com:443`, `127.0.0.1:8080`, `[::1]:8080`,
 * `[fe80::1%2]:80`. Port 0 is refused: nothing can be reached there.
 *
 * @since 0.1.0
 */
export const parseTarget = (text: string): Either.Either<Target, string> =>
  Either.mapLeft(parseHostPort(text, 1), (why) => `invalid target ${JSON.stringify(text)}: ${why}`)

/**
 * The `--bind` address: an IP address of this machine and a port, 0 letting the system choose.
 *
 * @since 0.1.0
 */
export const parseBind = (text: string): Either.Either<SocketAddress.SocketAddress, string> =>
  Either.mapLeft(
    Either.flatMap(parseHostPort(text, 0), (target) =>
      target._tag === "Address"
        ? Either.right(target.address)
        : Either.left(`${JSON.stringify(target.host)} is a name; give an IP address of this machine, e.g. 127.0.0.1:0 or [::1]:0`)),
    (why) => `invalid --bind address ${JSON.stringify(text)}: ${why}`
  )
