/**
 * Real clients over node:net, over the Effect 3 front-end's `NodeStream.connector` and over the Effect 4
 * front-end's: pg, ioredis, undici (RetryAgent, undici's SocketError, a child with one idle keep-alive
 * connection), mysql2 and node:tls against real servers on 127.0.0.1. The cases are test/support/clientCases.ts',
 * shared with the Effect 4 lane (packages/effect4/test/clients.test.ts); this file gives them vitest 3 and two
 * transports: the Effect 3 one from the sources, and the Effect 4 one from the BUILT package
 * (packages/effect4/dist, with its own effect 4 from packages/effect4/node_modules), as a user gets it. So the
 * Effect 4 connector runs here under this suite's node (Node 20) and, through `npm run test:windows`, under
 * Windows node on Wine against the real ws2_32 / IOCP driver, which the Effect 4 lane (Linux, Node 22) does not.
 * Under Wine every block runs too, for all three transports: the Linux servers (PostgreSQL, redis, MariaDB) and
 * the openssl certificate come from the server broker scripts/test-windows.sh runs (test/support/serverBroker.ts).
 * Run `npm run build` first: the Effect 4 transport and the idle children load the packages' dist/.
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

/**
 * The built `@effect-connectex/effect4` and the effect 4 its `effect` imports resolve to (its own
 * node_modules), loaded by file URL (the root's bare `effect` is effect 3). Typed by its built declarations. The package's `@effect-connectex/core` import is the core's sources here (vitest.config.ts' alias), the
 * one core both front-ends share in this suite.
 */
const loadEffect4 = async () => {
  const library = new URL("../packages/effect4/dist/index.js", import.meta.url).href
  const effect = new URL("../packages/effect4/node_modules/effect/dist/index.js", import.meta.url).href
  const [e4, { Exit, ManagedRuntime, Scope }] = await Promise.all([
    import(library) as Promise<typeof import("../packages/effect4/dist/index.js")>,
    import(effect) as Promise<typeof import("../packages/effect4/node_modules/effect/dist/index.js")>
  ])
  return { ...e4, Exit, ManagedRuntime, Scope }
}

/**
 * The Effect 4 Duplex, as packages/effect4/test/clients.test.ts makes it but from the built package: a
 * `NodeStream.connector` in a scope of an effect 4 ManagedRuntime with ConnectEx.layer. The idle child makes the
 * same with `@effect-connectex/effect4` and effect 4 imported by bare names from packages/effect4, under this
 * suite's node (Node 20 here and under Wine); it checks that it runs effect 4 before its request.
 */
const effect4Duplex = connectorTransport({
  name: "Effect 4 NodeStream connector (built)",
  make: async () => {
    const { ConnectEx, NodeStream, Exit, ManagedRuntime, Scope } = await loadEffect4()
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
    `if (!effectVersion.startsWith("4.")) throw new Error("the child runs effect " + effectVersion + " on node " + process.version + ": want effect 4")`,
    `const { ManagedRuntime, Scope } = await import("effect")`,
    `const { ConnectEx, NodeStream } = await import("@effect-connectex/effect4")`,
    `const runtime = ManagedRuntime.make(ConnectEx.layer)`,
    `const scope = await runtime.runPromise(Scope.make())`,
    `const { connect } = await runtime.runPromise(Scope.provide(scope)(NodeStream.connector()))`
  ],
  // packages/effect4: `@effect-connectex/effect4` (its dist) and its own effect 4 resolve from there.
  childRoot: fileURLToPath(new URL("../packages/effect4/", import.meta.url))
})

clientCases({ afterAll, beforeAll, describe, expect, it }, {
  file: "test/clients.test.ts",
  transports: [nodeNet, effect3Duplex, effect4Duplex],
  // The repository: `effect-connectex` and effect 3 from the root's node_modules (the Effect 4 transport has its own).
  childRoot: fileURLToPath(new URL("..", import.meta.url))
})
