/**
 * The pure parts of name resolution that both front-ends wrap: the system resolver over a callback, the
 * resolver's code onto a reason, and the fixed table of a test resolver. The front-ends make their
 * `ResolveError` from the fields given here.
 */
import * as dns from "node:dns"
import { isIP } from "node:net"

/**
 * Why a name did not resolve: `"NotFound"` (no such name, or a name with no address), `"TryAgain"` (the
 * resolver could not answer now: EAI_AGAIN), `"Failed"` (anything else; `code` says what).
 */
export type ResolveFailure = "NotFound" | "TryAgain" | "Failed"

/** What a `ResolveError` carries. */
export interface Failure {
  readonly host: string
  readonly reason: ResolveFailure
  readonly code: string | undefined
  readonly message: string
}

/** The resolver's code (errno or EAI_*) onto a reason. */
export const reasonOf = (code: string | undefined): ResolveFailure =>
  code === "ENOTFOUND" || code === "ENODATA" || code === "EAI_NONAME" || code === "EAI_NODATA"
    ? "NotFound"
    : code === "EAI_AGAIN" || code === "ETIMEOUT"
    ? "TryAgain"
    : "Failed"

/** A name with no address (or, with `code`, the resolver's own reason). */
export const notFound = (host: string, code?: string, detail?: string): Failure => ({
  host,
  reason: reasonOf(code ?? "ENOTFOUND"),
  code,
  message: `cannot resolve ${JSON.stringify(host)}: ${detail ?? "no address for this name"}. Check the name and the resolver (DNS, /etc/hosts).`
})

/**
 * The system resolver: `node:dns` `lookup(host, { all: true, verbatim: true })`, calling `done` once with a
 * failure, or with no failure and the literals (never empty). A host that is empty or not a string fails at
 * once, synchronously.
 */
export const lookup = (
  host: unknown,
  done: (failure: Failure | undefined, literals: ReadonlyArray<string>) => void
): void => {
  if (typeof host !== "string" || host.length === 0) {
    return done(notFound(String(host), "EINVAL", "the host name is empty or not a string"), [])
  }
  dns.lookup(host, { all: true, verbatim: true }, (error, addresses) => {
    if (error !== null) {
      const code = typeof error.code === "string" ? error.code : undefined
      const reason = reasonOf(code)
      return done({
        host,
        reason,
        code,
        message: `cannot resolve ${JSON.stringify(host)}: ${code ?? error.message}${reason === "TryAgain" ? " (the resolver could not answer now; retrying may help)" : ""}.`
      }, [])
    }
    const literals = addresses.map((entry) => entry.address)
    done(literals.length === 0 ? notFound(host, "ENODATA") : undefined, literals)
  })
}

/**
 * A fixed table, for a test resolver: each name (matched without regard to case) to its literals. A literal
 * that is not an IP address throws (a programmer error); a name not in the table, or mapped to nothing, is
 * `notFound`.
 */
export const staticTable = (
  table: Readonly<Record<string, ReadonlyArray<string>>>
): (host: unknown) => Failure | ReadonlyArray<string> => {
  const entries = new Map<string, ReadonlyArray<string>>()
  for (const [name, literals] of Object.entries(table)) {
    for (const literal of literals) {
      if (isIP(literal.replace(/%.*$/, "")) === 0) {
        throw new TypeError(`Resolver.layerStatic: ${JSON.stringify(literal)} (for ${JSON.stringify(name)}) is not an IP address`)
      }
    }
    entries.set(name.toLowerCase(), [...literals])
  }
  return (host) => {
    const literals = entries.get(String(host).toLowerCase())
    return literals === undefined || literals.length === 0 ? notFound(String(host)) : literals
  }
}
