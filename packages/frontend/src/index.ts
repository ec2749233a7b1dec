/**
 * Typed, composable, completion-based TCP connections for Effect: `effect-connectex` on Effect 3,
 * `@effect-connectex/effect4` on Effect 4 (the same modules and types; each compiled against its own `effect`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as ConnectEx from "./ConnectEx.js"
/** @since 0.1.0 */
export * as HappyEyeballs from "./HappyEyeballs.js"
/** @since 0.1.0 */
export * as Iocp from "./Iocp.js"
/** @since 0.1.0 */
export * as Listener from "./Listener.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as NodeStream from "./NodeStream.js"
/** @since 0.1.0 */
export * as PlatformSocket from "./PlatformSocket.js"
/** @since 0.1.0 */
export * as PlatformSocketServer from "./PlatformSocketServer.js"
/** @since 0.1.0 */
export * as Resolver from "./Resolver.js"
/** @since 0.1.0 */
export * as Socket from "./Socket.js"
/** @since 0.1.0 */
export * as SocketAddress from "./SocketAddress.js"
/** @since 0.1.0 */
export * as WsaError from "./errors/index.js"
/** @since 0.1.0 */
export * as Simulated from "./Simulated.js"
