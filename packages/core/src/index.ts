/**
 * The Effect-free core of effect-connectex: plain TypeScript that the Effect 3 and Effect 4 front-ends share.
 * Drivers are loaded through their own entry points (`@effect-connectex/core/posix`, `/windows`,
 * `/simulated`), so importing the core loads no native library.
 */
export * from "./address.js"
export * from "./completion.js"
export { describe } from "./describe.js"
export * from "./errors/codes.js"
export * from "./errors/errno.js"
export * from "./errors/ntstatus.js"
export * from "./errors/unions.js"
export * from "./native/Driver.js"
export * as SocketState from "./socket.js"
export * as HappyEyeballs from "./happyEyeballs.js"
export * as Resolver from "./resolver.js"
export * as Options from "./options.js"
export * from "./failure.js"
export * from "./port.js"
export { Fifo, type Turn } from "./fifo.js"
export * as Sockets from "./sockets.js"
export * as Io from "./io.js"
export * as Reader from "./reader.js"
export * as Duplex from "./duplex.js"
export * as Connectors from "./connectors.js"
export * as NodeErrors from "./nodeErrors.js"
export * as Calls from "./calls.js"
export * as Listening from "./listener.js"
