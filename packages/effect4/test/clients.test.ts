/**
 * Real clients over node:net and over the Effect 4 front-end's `NodeStream.connector`: pg, ioredis, undici
 * (RetryAgent, undici's SocketError, a child with one idle keep-alive connection), mysql2 and node:tls against
 * real servers on 127.0.0.1. The cases and the servers are the repository's (test/support/clientCases.ts,
 * test/support/servers.ts), shared with the Effect 3 suite; this file gives them vitest 5 and the Effect 4
 * transport. The clients come from the repository's node_modules.
 */
import * as Exit from "effect/Exit"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Scope from "effect/Scope"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { clientCases } from "../../../test/support/clientCases.js"
import { connectorTransport, nodeNet } from "../../../test/support/transports.js"
import { ConnectEx, NodeStream } from "../src/index.js"

/**
 * The Effect 4 Duplex: a `NodeStream.connector` (each connection dialed with `ConnectEx.dialName`) in a scope of
 * a ManagedRuntime with ConnectEx.layer. The idle child makes the same with the built
 * `@effect-connectex/effect4` and effect 4, imported by bare names from a folder of this package, under this
 * lane's node (Node 22); it checks both before its request.
 */
const effect4Duplex = connectorTransport({
  name: "Effect 4 NodeStream connector",
  make: async () => {
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const scope = await runtime.runPromise(Scope.make())
    const connector = await runtime.runPromise(Scope.provide(scope)(NodeStream.connector()))
    return {
      connector,
      release: async () => {
        await runtime.runPromise(Scope.close(scope, Exit.void))
        await runtime.dispose()
      }
    }
  },
  childConnect: [
    `const { createRequire } = await import("node:module")`,
    `const effectVersion = createRequire(import.meta.url)("effect/package.json").version`,
    `if (!effectVersion.startsWith("4.") || Number(process.versions.node.split(".")[0]) < 22) throw new Error("the child runs effect " + effectVersion + " on node " + process.version + ": want effect 4 on node 22")`,
    `const { ManagedRuntime, Scope } = await import("effect")`,
    `const { ConnectEx, NodeStream } = await import("@effect-connectex/effect4")`,
    `const runtime = ManagedRuntime.make(ConnectEx.layer)`,
    `const scope = await runtime.runPromise(Scope.make())`,
    `const { connect } = await runtime.runPromise(Scope.provide(scope)(NodeStream.connector()))`
  ]
})

clientCases({ afterAll, beforeAll, describe, expect, it }, {
  file: "packages/effect4/test/clients.test.ts",
  transports: [nodeNet, effect4Duplex],
  // This package: `@effect-connectex/effect4` (its dist) and its own effect 4 resolve from here.
  childRoot: fileURLToPath(new URL("..", import.meta.url))
})
