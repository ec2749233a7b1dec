/**
 * The services of the modules written once (packages/frontend/src), declared as Effect 4 declares them;
 * those modules re-export them. The Effect 3 front-end's file of the same name declares the same services.
 */
import type { Log } from "@effect-connectex/core/simulated"
import * as Context from "effect/Context"
import type * as Layer from "effect/Layer"
import type { Service as PortService } from "../Iocp.js"
import type { Service as ConnectExService } from "./dial.js"
import { node, type Service as ResolverService } from "./systemResolver.js"

/**
 * The completion port service.
 *
 * @example
 * const { pending } = yield* Iocp.stats
 * @since 0.1.0
 * @category services
 */
export class Iocp extends Context.Service<Iocp, PortService>()("@effect-connectex/effect4/Iocp") {}

/**
 * The log of the simulated network a layer was built with, for tests that check what was sent.
 *
 * @example
 * const log = yield* Simulated.NetworkLog
 * const sent = log.sent("192.0.2.1:80")
 * @since 0.1.0
 * @category services
 */
export class NetworkLog extends Context.Service<NetworkLog, Log>()("@effect-connectex/effect4/Simulated/NetworkLog") {}

/**
 * The ConnectEx service: present when a layer with a working driver was built.
 *
 * @example
 * const { driver } = yield* ConnectEx.ConnectEx // "posix", "windows" or "simulated"
 * @since 0.1.0
 * @category services
 */
export class ConnectEx extends Context.Service<ConnectEx, ConnectExService>()("@effect-connectex/effect4/ConnectEx") {}

/**
 * The resolver `dialName` uses: a `Context.Reference` whose default is the system resolver (`node`), so
 * nothing needs to provide it; a layer (`layerStatic`, `layerNode`) or `Effect.provideService` replaces it.
 * Being a reference, it never appears in an effect's requirements (its layers are `Layer<never>`).
 *
 * @example
 * const resolver = yield* Resolver.Resolver
 * const addresses = yield* resolver.resolve("localhost")
 * @since 0.1.0
 * @category services
 */
export const Resolver: Context.Reference<ResolverService> = Context.Reference<ResolverService>("@effect-connectex/effect4/Resolver", {
  defaultValue: (): ResolverService => node
})

/** What a resolver layer provides: nothing a requirement names (a reference; in Effect 3 the `Resolver` tag). */
export type ResolverLayer = Layer.Layer<never>
