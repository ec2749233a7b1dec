/**
 * The system resolver and what a resolver is: written apart from `Resolver.ts`, which re-exports them, so that
 * each front-end's `Resolver` service (internal/services.ts) can default to `node` without an import cycle.
 */
import { Resolver as Core } from "@effect-connectex/core"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { callback } from "./effectVersion.js"

/**
 * Why a name did not resolve: `"NotFound"` (no such name, or a name with no address), `"TryAgain"` (the
 * resolver could not answer now: EAI_AGAIN), `"Failed"` (anything else; `code` says what).
 *
 * @example
 * const retryable = (error: Resolver.ResolveError) => error.reason === "TryAgain"
 * @since 0.1.0
 * @category models
 */
export type ResolveFailure = Core.ResolveFailure

/**
 * A host name that did not resolve to any address.
 *
 * @example
 * const program = ConnectEx.dialName("no-such-host.invalid", 80).pipe(
 *   Effect.catchTag("ResolveError", (error) => Effect.logWarning(error.message))
 * )
 * @since 0.1.0
 * @category errors
 */
export class ResolveError extends Data.TaggedError("ResolveError")<{
  readonly host: string
  readonly reason: ResolveFailure
  /** the resolver's own code where it gave one, such as "ENOTFOUND" or "EAI_AGAIN" */
  readonly code?: string | undefined
  readonly message: string
}> {}

/**
 * What a resolver does: a host name to its address literals.
 *
 * @example
 * const fixed: Resolver.Service = { resolve: () => Effect.succeed(["192.0.2.1"]) }
 * program.pipe(Effect.provideService(Resolver.Resolver, fixed))
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * The IP address literals of `host`, in preference order: IPv4 dotted quads and IPv6 text, an IPv6
   * link-local address possibly with its `%zone`. Never empty on success.
   */
  readonly resolve: (host: string) => Effect.Effect<ReadonlyArray<string>, ResolveError>
}

/**
 * The system resolver: `node:dns` `lookup(host, { all: true, verbatim: true })`. A failure is a
 * `ResolveError` whose `code` is the resolver's (`ENOTFOUND`, `EAI_AGAIN`, ...). Interrupting it abandons
 * the lookup (getaddrinfo cannot be cancelled; its answer is ignored).
 *
 * @example
 * const addresses = yield* Resolver.node.resolve("localhost") // e.g. ["::1", "127.0.0.1"]
 * @since 0.1.0
 * @category constructors
 */
export const node: Service = {
  resolve: (host) =>
    callback<ReadonlyArray<string>, ResolveError>((resume) =>
      Core.lookup(host, (failure, literals) => resume(failure !== undefined ? Effect.fail(new ResolveError(failure)) : Effect.succeed(literals)))
    )
}
