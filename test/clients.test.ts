/**
 * Real clients over node:net and over the Effect 3 front-end's `NodeStream.connector`: pg, ioredis, undici
 * (RetryAgent, undici's SocketError, a child with one idle keep-alive connection), mysql2 and node:tls against
 * real servers on 127.0.0.1. The cases are test/support/clientCases.ts', shared with the Effect 4 lane
 * (packages/effect4/test/clients.test.ts); this file gives them vitest 3 and the Effect 3 transport.
 */
import { Exit, ManagedRuntime, Scope } from "effect"
import { ConnectEx, NodeStream } from "effect-connectex"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { clientCases } from "./support/clientCases.js"
import { connectorTransport, nodeNet } from "./support/transports.js"

/**
 * The Effect 3 Duplex: a `NodeStream.connector` (each connection dialed with `ConnectEx.dialName`) in a scope of
 * a ManagedRuntime with ConnectEx.layer; the idle child makes the same with the built `effect-connectex`.
 */
const effect3Duplex = connectorTransport({
  name: "NodeStream connector",
  make: async () => {
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const scope = await runtime.runPromise(Scope.make())
    const connector = await runtime.runPromise(Scope.extend(NodeStream.connector(), scope))
    return {
      connector,
      release: async () => {
        await runtime.runPromise(Scope.close(scope, Exit.void))
        await runtime.dispose()
      }
    }
  },
  childConnect: [
    `const { ManagedRuntime, Scope } = await import("effect")`,
    `const { ConnectEx, NodeStream } = await import("effect-connectex")`,
    `const runtime = ManagedRuntime.make(ConnectEx.layer)`,
    `const scope = await runtime.runPromise(Scope.make())`,
    `const { connect } = await runtime.runPromise(Scope.extend(NodeStream.connector(), scope))`
  ]
})

clientCases({ afterAll, beforeAll, describe, expect, it }, {
  file: "test/clients.test.ts",
  transports: [nodeNet, effect3Duplex],
  // The repository: `effect-connectex` and effect 3 from the root's node_modules.
  childRoot: fileURLToPath(new URL("..", import.meta.url))
})
