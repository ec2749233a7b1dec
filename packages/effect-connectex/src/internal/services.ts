/**
 * The service tags of the modules written once (packages/frontend/src), declared as Effect 3 declares them;
 * those modules re-export them. The Effect 4 front-end's file of the same name declares the same services.
 */
import type { Log } from "@effect-connectex/core/simulated"
import { Context, type Layer } from "effect"
import type { Service as PortService } from "../Iocp.js"
import type { Service as ConnectExService } from "./dial.js"
import { node, type Service as ResolverService } from "./systemResolver.js"

/**
 * The completion port service.
 *
 * @example
 * const port = yield* Iocp.Iocp
 * const { pending } = yield* port.stats
 * @since 0.1.0
 * @category tags
 */
export class Iocp extends Context.Tag("effect-connectex/Iocp")<Iocp, PortService>() {}

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
 * The ConnectEx service: present when a layer with a working driver was built.
 *
 * @example
 * const { driver } = yield* ConnectEx.ConnectEx // "posix", "windows" or "simulated"
 * @since 0.1.0
 * @category tags
 */
export class ConnectEx extends Context.Tag("effect-connectex/ConnectEx")<ConnectEx, ConnectExService>() {}

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
  defaultValue: (): ResolverService => node
}) {}

/** What a resolver layer provides: the `Resolver` tag (in Effect 4 a reference needs no providing: `never`). */
export type ResolverLayer = Layer.Layer<Resolver>
