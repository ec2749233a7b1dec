/**
 * The Duplex as a net.Socket to the code that receives it: each case does the same thing over node:net and
 * over a connector's Duplex, and compares what a client reads (events and their order, connecting / pending /
 * readyState, addresses, counters, the errors' code / errno / syscall), plus what node:net does not have (the
 * typed WSA error as the cause). ref/unref is checked by a child process that must exit by itself.
 */
import { Effect, Exit, ManagedRuntime, Scope } from "effect"
import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as ConnectEx from "../src/ConnectEx.js"
import type * as WsaError from "../src/errors/WsaError.js"
import * as Iocp from "../src/Iocp.js"
import * as Listener from "../src/Listener.js"
import * as NodeStream from "../src/NodeStream.js"
import * as Simulated from "../src/Simulated.js"
import * as Socket from "../src/Socket.js"
import * as SocketAddress from "../src/SocketAddress.js"
import { spawn } from "node:child_process"
import { buildDist, root } from "../../../test/support/node.js"

const runtime = ManagedRuntime.make(ConnectEx.layer)
let scope: Scope.CloseableScope
let connector: NodeStream.Connector

beforeAll(async () => {
  scope = await runtime.runPromise(Scope.make())
  connector = await runtime.runPromise(Scope.extend(NodeStream.connector(), scope))
})
afterAll(async () => {
  await runtime.runPromise(Scope.close(scope, Exit.void))
  await runtime.dispose()
})

interface Server {
  readonly port: number
  readonly connections: Array<net.Socket>
  readonly close: () => Promise<void>
}

/** A node:net server on 127.0.0.1; `onConnection` decides what it does. */
const serve = (onConnection: (connection: net.Socket) => void = (c) => c.pipe(c)): Promise<Server> =>
  new Promise((resolve) => {
    const connections: Array<net.Socket> = []
    const server = net.createServer((connection) => {
      connections.push(connection)
      connection.on("error", () => {})
      onConnection(connection)
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        connections,
        close: () =>
          new Promise<void>((done) => {
            for (const c of connections) c.destroy()
            server.close(() => done())
          })
      }))
  })

/** A port nothing listens on (a listener opened and closed at once). */
const closedPort = async (): Promise<number> => {
  const server = await serve()
  await server.close()
  return server.port
}

type Client = "node:net" | "Duplex"
const clients: ReadonlyArray<Client> = ["node:net", "Duplex"]

const connectWith = (client: Client, port: number, host = "127.0.0.1"): net.Socket | NodeStream.SocketDuplex =>
  client === "node:net" ? net.createConnection(port, host) : connector.createConnection(port, host)

/** What a client sees while connecting and once connected, in order. */
const connectAndLook = (client: Client, port: number) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    const socket = connectWith(client, port)
    const events: Array<string> = []
    const before = { connecting: socket.connecting, pending: socket.pending, readyState: socket.readyState }
    socket.once("connect", () => events.push("connect"))
    socket.once("ready", () => {
      events.push("ready")
      const after = {
        connecting: socket.connecting,
        pending: socket.pending,
        readyState: socket.readyState,
        remoteAddress: socket.remoteAddress,
        remotePort: socket.remotePort,
        remoteFamily: socket.remoteFamily,
        localAddress: socket.localAddress,
        localFamily: (socket as { localFamily?: string }).localFamily,
        hasLocalPort: typeof socket.localPort === "number" && socket.localPort > 0,
        address: { ...(socket.address() as net.AddressInfo), port: 0 }
      }
      socket.write("ping")
      socket.once("data", (chunk) => {
        const counters = { bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten, data: chunk.toString() }
        socket.end()
        socket.once("close", (hadError: boolean) => resolve({ before, events, after, counters, hadError, endState: socket.readyState }))
      })
    })
    socket.once("error", reject)
  })

interface Outcome {
  readonly error: NodeJS.ErrnoException & { cause?: unknown }
  readonly hadError: boolean
}

/** The error a client emits (and whether "close" said it came with one). */
const errorOf = (socket: net.Socket | NodeStream.SocketDuplex) =>
  new Promise<Outcome>((resolve) => {
    let error: (NodeJS.ErrnoException & { cause?: unknown }) | undefined
    socket.once("error", (e) => void (error = e))
    socket.once("close", (hadError: boolean) => resolve({ error: error!, hadError }))
  })

const nodeShape = (error: NodeJS.ErrnoException) => ({ code: error.code, errno: error.errno, syscall: error.syscall })

describe("the Duplex as node:net's Socket", () => {
  it("connect: \"connect\" then \"ready\"; connecting, pending and readyState before and after; addresses and counters as node:net's", async () => {
    const server = await serve()
    try {
      const [overNet, overDuplex] = await Promise.all(clients.map((client) => connectAndLook(client, server.port)))
      expect(overDuplex).toEqual(overNet)
      expect(overNet).toMatchObject({
        before: { connecting: true, pending: true, readyState: "opening" },
        events: ["connect", "ready"],
        after: { connecting: false, pending: false, readyState: "open", remoteAddress: "127.0.0.1", remotePort: server.port, remoteFamily: "IPv4" },
        counters: { bytesRead: 4, bytesWritten: 4, data: "ping" },
        hadError: false
      })
    } finally {
      await server.close()
    }
  })

  it("socket() + connect(port, host, listener): a stream a client connects itself (as pg does)", async () => {
    const server = await serve()
    try {
      const duplex = connector.socket()
      expect(duplex.pending).toBe(true)
      expect(duplex.connecting).toBe(false)
      const echoed = await new Promise<string>((resolve, reject) => {
        duplex.once("error", reject)
        duplex.connect(server.port, "127.0.0.1", () => duplex.once("data", (chunk: Buffer) => resolve(chunk.toString())))
        expect(duplex.connecting).toBe(true)
        // written while connecting: sent once connected, as net.Socket does
        duplex.write("early")
      })
      expect(echoed).toBe("early")
      duplex.destroy()
    } finally {
      await server.close()
    }
  })

  it("a refused connect: the same code, errno and syscall as node:net's, the address in the error, WSAECONNREFUSED as the cause", async () => {
    const port = await closedPort()
    const [overNet, overDuplex] = (await Promise.all(clients.map((client) => errorOf(connectWith(client, port))))) as [Outcome, Outcome]
    expect(nodeShape(overDuplex.error)).toEqual(nodeShape(overNet.error))
    expect(overDuplex.error).toMatchObject({ code: "ECONNREFUSED", syscall: "connect", address: "127.0.0.1", port })
    expect(overDuplex.error.message).toBe(overNet.error.message)
    expect((overDuplex.error.cause as WsaError.WsaError)._tag).toBe("WSAECONNREFUSED")
    expect(overDuplex.hadError).toBe(overNet.hadError)
  })

  it("a host name: resolved and raced (Happy Eyeballs), \"localhost\" connects", async () => {
    const server = await serve()
    try {
      const duplex = connector.createConnection({ host: "localhost", port: server.port })
      await new Promise<void>((resolve, reject) => {
        duplex.once("error", reject)
        duplex.once("connect", () => resolve())
      })
      expect(duplex.remoteAddress).toBe("127.0.0.1")
      duplex.destroy()
    } finally {
      await server.close()
    }
  })

  it("a name that does not resolve: getaddrinfo ENOTFOUND, as node:net's", async () => {
    const host = "no-such-host.invalid"
    const [overNet, overDuplex] = (await Promise.all(clients.map((client) => errorOf(connectWith(client, 80, host))))) as [Outcome, Outcome]
    expect(overDuplex.error.code).toBe(overNet.error.code)
    expect(overDuplex.error.syscall).toBe(overNet.error.syscall)
    expect((overDuplex.error.cause as { _tag: string })._tag).toBe("ResolveError")
  })

  it("a peer that resets: \"read ECONNRESET\" with node:net's errno, WSAECONNRESET as the cause", async () => {
    const server = await serve((connection) => connection.once("data", () => connection.resetAndDestroy()))
    try {
      const outcomes = await Promise.all(clients.map((client) => {
        const socket = connectWith(client, server.port)
        socket.once("connect", () => socket.write("x"))
        socket.resume()
        return errorOf(socket)
      }))
      const [overNet, overDuplex] = outcomes as [Outcome, Outcome]
      expect(nodeShape(overDuplex.error)).toEqual(nodeShape(overNet.error))
      expect(overDuplex.error.message).toBe("read ECONNRESET")
      expect((overDuplex.error.cause as WsaError.WsaError)._tag).toBe("WSAECONNRESET")
      expect(overDuplex.hadError).toBe(true)
    } finally {
      await server.close()
    }
  })

  it("setTimeout: \"timeout\" after the idle time, the connection stays open; activity re-arms it", async () => {
    const server = await serve()
    try {
      const duplex = connector.createConnection(server.port, "127.0.0.1")
      await new Promise((resolve) => duplex.once("connect", resolve))
      const started = Date.now()
      await new Promise<void>((resolve) => duplex.setTimeout(50, () => resolve()))
      expect(Date.now() - started).toBeGreaterThanOrEqual(45)
      expect(duplex.destroyed).toBe(false)
      expect(duplex.timeout).toBe(50)
      duplex.setTimeout(0)
      duplex.destroy()
    } finally {
      await server.close()
    }
  })

  it("resetAndDestroy: the peer sees a reset, as with node:net", async () => {
    const endings: Array<string> = []
    const server = await serve((connection) => {
      connection.on("error", (error: NodeJS.ErrnoException) => endings.push(error.code ?? "error"))
      connection.on("end", () => endings.push("end"))
    })
    try {
      const duplex = connector.createConnection(server.port, "127.0.0.1")
      await new Promise((resolve) => duplex.once("connect", resolve))
      while (server.connections.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      duplex.resetAndDestroy()
      while (endings.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      expect(endings).toEqual(["ECONNRESET"])
    } finally {
      await server.close()
    }
  })

  it("closing the connector's scope destroys its connections; nothing stays pending", async () => {
    const server = await serve()
    try {
      const own = await runtime.runPromise(Scope.make())
      const mine = await runtime.runPromise(Scope.extend(NodeStream.connector(), own))
      const duplex = mine.createConnection(server.port, "127.0.0.1")
      await new Promise((resolve) => duplex.once("connect", resolve))
      duplex.resume()
      const closed = new Promise((resolve) => duplex.once("close", resolve))
      await runtime.runPromise(Scope.close(own, Exit.void))
      await closed
      expect(duplex.destroyed).toBe(true)
      for (let i = 0; i < 100 && (await runtime.runPromise(Iocp.stats)).pending > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect((await runtime.runPromise(Iocp.stats)).pending).toBe(0)
    } finally {
      await server.close()
    }
  })

  // Found by the shutdown soak: a Duplex with no read and no write in flight was never told that the layer's
  // close had closed its socket, so it never closed (and its hold on the event loop kept the process alive).
  // A net.Socket reads from the moment it connects; so does the Duplex, and the layer's close reaches it.
  it("closing the layer closes every Duplex, one nobody reads or writes included (as a net.Socket, it reads from its connect)", async () => {
    const server = await serve((c) => c.pause())
    try {
      for (const made of ["createConnection", "toDuplex"] as const) {
        for (const wrote of [false, true]) {
          const own = ManagedRuntime.make(ConnectEx.layer)
          const ownScope = await own.runPromise(Scope.make())
          const duplex = made === "createConnection"
            ? (await own.runPromise(Scope.extend(NodeStream.connector(), ownScope))).createConnection(server.port, "127.0.0.1")
            : await own.runPromise(Scope.extend(
              Effect.flatMap(ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", server.port)), ({ socket }) => NodeStream.toDuplex(socket)),
              ownScope
            ))
          duplex.on("error", () => {})
          if (duplex.connecting) await new Promise((resolve) => duplex.once("connect", resolve))
          if (wrote) await new Promise((resolve) => duplex.write("a write that completed", resolve))
          const closed = new Promise((resolve) => duplex.once("close", () => resolve("closed")))
          await own.dispose()
          const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve("still open"), 1_000))])
          duplex.destroy()
          await Effect.runPromise(Scope.close(ownScope, Exit.void))
          expect({ made, wrote, outcome }).toEqual({ made, wrote, outcome: "closed" })
        }
      }
    } finally {
      await server.close()
    }
  })

  // Found by the shutdown soak under Wine: with a driver that reads by operations (Windows', the simulated
  // network's), a Duplex whose reading paused at its high-water mark has nothing in flight, so the layer's
  // close of its socket never reached it. The Duplex watches its socket's close.
  it("closing the layer closes a Duplex paused at its high-water mark (nothing in flight; simulated network and platform driver): ECANCELED", async () => {
    for (const layer of [ConnectEx.layerSimulated(Simulated.network({})), ConnectEx.layer]) {
      const own = ManagedRuntime.make(layer)
      const ownScope = await own.runPromise(Scope.make())
      const listener = await own.runPromise(Scope.extend(Listener.listen(SocketAddress.ipv4("127.0.0.1", 0)), ownScope))
      const address = await own.runPromise(Listener.address(listener))
      // a server that sends 1 MiB, then waits for the client's end
      await own.runPromise(Effect.forkIn(
        Listener.serve(listener, ({ socket }) => Effect.ignore(Effect.zipRight(Socket.send(socket, new Uint8Array(1 << 20)), Socket.receive(socket, 16)))),
        ownScope
      ))
      const duplex = await own.runPromise(Scope.extend(
        Effect.flatMap(ConnectEx.dial(address), ({ socket }) => NodeStream.toDuplex(socket)),
        ownScope
      ))
      const errors: Array<string | undefined> = []
      duplex.on("error", (error: NodeJS.ErrnoException) => errors.push(error.code))
      for (let i = 0; i < 200 && duplex.readableLength < duplex.readableHighWaterMark; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(duplex.readableLength).toBeGreaterThanOrEqual(duplex.readableHighWaterMark)
      const closed = new Promise((resolve) => duplex.once("close", () => resolve("closed")))
      await own.dispose()
      const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve("still open"), 1_000))])
      duplex.destroy()
      expect({ outcome, errors }).toEqual({ outcome: "closed", errors: ["ECANCELED"] })
    }
  })

  it("an http.Agent from the connector: keep-alive requests over one connection", async () => {
    const http = await import("node:http")
    const server = http.createServer((request, response) => response.end(`you asked for ${request.url}`))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    const port = (server.address() as net.AddressInfo).port
    const agent = connector.agent({ keepAlive: true, maxSockets: 1 })
    try {
      const get = (path: string) =>
        new Promise<string>((resolve, reject) => {
          http.get({ host: "127.0.0.1", port, path, agent }, (response) => {
            let body = ""
            response.setEncoding("utf8")
            response.on("data", (chunk) => void (body += chunk))
            response.on("end", () => resolve(body))
          }).on("error", reject)
        })
      expect(await get("/a")).toBe("you asked for /a")
      expect(await get("/b")).toBe("you asked for /b")
      let connections = 0
      server.getConnections((_e, count) => void (connections = count))
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(connections).toBe(1)
    } finally {
      agent.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe("ref / unref", () => {
  beforeAll(buildDist, 240_000)

  /** A child that connects over `client`, says so, then (unref) unrefs the connection and waits for nothing else. */
  const child = (client: Client, port: number, unref: boolean) =>
    client === "node:net"
      ? `
    import * as net from "node:net"
    const socket = net.createConnection(${port}, "127.0.0.1")
    socket.on("connect", () => { ${unref ? "socket.unref();" : ""} console.log("connected") })`
      : `
    import { ManagedRuntime, Scope } from "effect"
    import { ConnectEx, NodeStream } from "effect-connectex"
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const scope = await runtime.runPromise(Scope.make())
    const connector = await runtime.runPromise(Scope.extend(NodeStream.connector(), scope))
    const socket = connector.createConnection(${port}, "127.0.0.1")
    socket.on("connect", () => { ${unref ? "socket.unref();" : ""} console.log("connected") })`

  /** Runs the child; once it said "connected", how long it lived on (undefined: still alive after `patience` ms). */
  const livesOn = (code: string, patience: number) =>
    new Promise<number | undefined>((resolve, reject) => {
      const process_ = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
      let connectedAt: number | undefined
      let stderr = ""
      let timer: ReturnType<typeof setTimeout> | undefined
      process_.stderr.on("data", (chunk) => void (stderr += chunk))
      process_.stdout.on("data", (chunk: Buffer) => {
        if (connectedAt !== undefined || !chunk.toString().includes("connected")) return
        connectedAt = Date.now()
        timer = setTimeout(() => {
          process_.kill()
          resolve(undefined)
        }, patience)
      })
      process_.on("exit", (code) => {
        if (timer !== undefined) clearTimeout(timer)
        if (connectedAt === undefined) return reject(new Error(`the child ended (${code}) before it connected: ${stderr}`))
        resolve(Date.now() - connectedAt)
      })
    })

  for (const client of clients) {
    it(`${client}: an idle connection that is unref'd lets the process exit; a ref'd one holds it`, async () => {
      const server = await serve()
      try {
        const unrefd = await livesOn(child(client, server.port, true), 5_000)
        expect(unrefd).toBeDefined()
        expect(unrefd!).toBeLessThan(1_000)
        expect(await livesOn(child(client, server.port, false), 1_000)).toBeUndefined()
      } finally {
        await server.close()
      }
    }, 60_000)
  }
})
