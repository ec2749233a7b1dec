/**
 * Name resolution for `ConnectEx.dialName`: a service that turns a host name into IP address literals.
 *
 * The default, used when nothing is provided, is the operating system's resolver through `node:dns`
 * `lookup(host, { all: true })` (the same answers `getaddrinfo` gives, `/etc/hosts` included, in the order
 * the system sorted them). Tests replace it with `layerStatic`.
 *
 * @example
 * import { Effect } from "effect"
 * import { Resolver } from "effect-connectex"
 *
 * const addresses = Resolver.resolve("example.test").pipe(
 *   Effect.provide(Resolver.layerStatic({ "example.test": ["2001:db8::1", "192.0.2.1"] }))
 * ) // Effect<ReadonlyArray<string>, ResolveError>
 *
 * @since 0.1.0
 */
import { Resolver as Core } from "@effect-connectex/core"
import { Context, Data, Effect, Layer } from "effect"

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
    Effect.async<ReadonlyArray<string>, ResolveError>((resume) =>
      Core.lookup(host, (failure, literals) => resume(failure !== undefined ? Effect.fail(new ResolveError(failure)) : Effect.succeed(literals)))
    )
}

/**
 * The resolver `dialName` uses: the system resolver (`node`) unless a layer provides another.
 *
 * @example
 * const resolver = yield* Resolver.Resolver
 * const addresses = yield* resolver.resolve("localhost")
 * @since 0.1.0
 * @category tags
 */
export class Resolver extends Context.Reference<Resolver>()("effect-connectex/Resolver", {
  defaultValue: (): Service => node
}) {}

/**
 * The system resolver as a layer (it is also the default when no layer provides one).
 *
 * @example
 * program.pipe(Effect.provide(Resolver.layerNode))
 * @since 0.1.0
 * @category layers
 */
export const layerNode: Layer.Layer<Resolver> = Layer.succeed(Resolver, node)

/**
 * A resolver from a fixed table, for tests: each name maps to its address literals (in preference order).
 * A name not in the table, or mapped to an empty list, is `ResolveError` "NotFound". Invalid literals throw
 * (a programmer error).
 *
 * @example
 * const resolver = Resolver.layerStatic({ "db.test": ["2001:db8::5", "192.0.2.5"] })
 * @since 0.1.0
 * @category layers
 */
export const layerStatic = (table: Readonly<Record<string, ReadonlyArray<string>>>): Layer.Layer<Resolver> => {
  const lookup = Core.staticTable(table)
  return Layer.succeed(Resolver, {
    resolve: (host) =>
      Effect.suspend(() => {
        const answer = lookup(host)
        return "reason" in answer ? Effect.fail(new ResolveError(answer)) : Effect.succeed(answer)
      })
  })
}

/**
 * Resolves `host` with the current resolver.
 *
 * @example
 * const addresses = yield* Resolver.resolve("localhost")
 * @since 0.1.0
 * @category accessors
 */
export const resolve = (host: string): Effect.Effect<ReadonlyArray<string>, ResolveError> =>
  Effect.flatMap(Resolver, (resolver) => resolver.resolve(host))
