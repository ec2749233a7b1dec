/**
 * Name resolution for `ConnectEx.dialName`: a service that turns a host name into IP address literals.
 *
 * The default, used when nothing is provided, is the operating system's resolver through `node:dns`
 * `lookup(host, { all: true })` (the same answers `getaddrinfo` gives, `/etc/hosts` included, in the order
 * the system sorted them). Tests replace it with `layerStatic`.
 *
 * @example
 * import { Effect } from "effect"
 * import { Resolver } from "effect-connectex" // Effect 4: "@effect-connectex/effect4"
 *
 * const addresses = Resolver.resolve("example.test").pipe(
 *   Effect.provide(Resolver.layerStatic({ "example.test": ["2001:db8::1", "192.0.2.1"] }))
 * ) // Effect<ReadonlyArray<string>, ResolveError>
 *
 * @since 0.1.0
 */
import { Resolver as Core } from "@effect-connectex/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { serviceWithEffect } from "./internal/effectVersion.js"
import { Resolver, type ResolverLayer } from "./internal/services.js"
import { node, ResolveError } from "./internal/systemResolver.js"

export { node, ResolveError, type ResolveFailure, type Service } from "./internal/systemResolver.js"


export { Resolver }

/**
 * The system resolver as a layer (it is also the default when no layer provides one).
 *
 * @example
 * program.pipe(Effect.provide(Resolver.layerNode))
 * @since 0.1.0
 * @category layers
 */
export const layerNode: ResolverLayer = Layer.succeed(Resolver, node)

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
export const layerStatic = (table: Readonly<Record<string, ReadonlyArray<string>>>): ResolverLayer => {
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
  serviceWithEffect(Resolver, (resolver) => resolver.resolve(host))
