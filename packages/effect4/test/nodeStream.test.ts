/**
 * NodeStream (Effect 4): the core's Duplex as a net.Socket to the code that receives it, wrapped by this
 * front-end. Each case does the same thing over node:net and over a connector's Duplex and compares what a
 * client reads (events and their order, connecting / pending / readyState, addresses, counters, the errors'
 * code / errno / syscall), plus what node:net does not have (the typed WSA error as the cause). ref/unref is
 * checked by a child process that must exit by itself. The Effect 4 twin of the repository's
 * packages/effect-connectex/test/duplex.test.ts and packages/effect-connectex/test/nodeStream.test.ts.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as http from "node:http"
import * as net from "node:net"
import { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import * as tls from "node:tls"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConnectEx, Iocp, NodeStream, SocketAddress, type WsaError } from "../src/index.js"
import { pendingTarget } from "./support/peers.js"
import { openssl, selfSigned } from "./support/tls.js"

const runtime = ManagedRuntime.make(ConnectEx.layer)
let scope: Scope.Closeable
let connector: NodeStream.Connector

beforeAll(async () => {
  scope = await runtime.runPromise(Scope.make())
  connector = await runtime.runPromise(Scope.provide(scope)(NodeStream.connector()))
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

/** A node:net server on 127.0.0.1; `onConnection` decides what it does (echo by default). */
const serve = (onConnection: (connection: net.Socket) => void = (c) => c.pipe(c), options: net.ServerOpts = {}): Promise<Server> =>
  new Promise((resolve) => {
    const connections: Array<net.Socket> = []
    const server = net.createServer(options, (connection) => {
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

/** Dials 127.0.0.1:port with `ConnectEx.dial` in a scope of its own, closed when the Duplex closes. */
const dialDuplex = (port: number, options?: NodeStream.Options): Promise<NodeStream.SocketDuplex> =>
  runtime.runPromise(Effect.gen(function*() {
    const own = yield* Scope.make()
    const duplex = yield* Effect.flatMap(ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", port)), ({ socket }) =>
      NodeStream.toDuplex(socket, options)).pipe(Scope.provide(own))
    duplex.once("close", () => void runtime.runPromise(Scope.close(own, Exit.void)))
    return duplex
  }))

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

describe("NodeStream.toDuplex", () => {
  it("echo: 4 MiB piped through intact under a slow consumer, end() is a half-close and the peer's end ends the readable", async () => {
    const server = await serve((c) => c.pipe(c), { allowHalfOpen: true })
    try {
      const duplex = await dialDuplex(server.port, { allowHalfOpen: true })
      const data = Buffer.alloc(4 * 1024 * 1024)
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff
      const received: Array<Buffer> = []
      await Promise.all([
        pipeline(Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), duplex),
        pipeline(duplex, new Writable({
          highWaterMark: 1024,
          write(chunk: Buffer, _encoding, callback) {
            received.push(chunk)
            setImmediate(callback)
          }
        }))
      ])
      expect(Buffer.concat(received).equals(data)).toBe(true)
      expect(duplex.bytesRead).toBe(data.length)
    } finally {
      await server.close()
    }
  })

  it.skipIf(!openssl)("node:tls over the Duplex: a TLS session with an in-process node:tls server, its certificate made here", async () => {
    const { cert, key } = selfSigned()
    const server = tls.createServer({ key, cert }, (secure) => secure.end(`secure ${secure.getProtocol()}`))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    try {
      const duplex = await dialDuplex((server.address() as net.AddressInfo).port)
      const secure = tls.connect({ socket: duplex, ca: cert, servername: "localhost" })
      const said = await new Promise<string>((resolve, reject) => {
        let text = ""
        secure.on("data", (chunk: Buffer) => void (text += chunk.toString()))
        secure.on("end", () => resolve(text))
        secure.on("error", reject)
      })
      expect(said).toMatch(/^secure TLSv1\.[23]$/)
      secure.destroy()
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("a value that is not a socket of ours: the Duplex's first write fails EBADF with WSAENOTSOCK as the cause", async () => {
    const duplex = await runtime.runPromise(NodeStream.toDuplex({} as never))
    const error = await new Promise<NodeJS.ErrnoException & { cause?: unknown }>((resolve) => {
      duplex.once("error", resolve)
      duplex.write("x")
    })
    expect(error.code).toBe("EBADF")
    expect((error.cause as WsaError.WsaError)._tag).toBe("WSAENOTSOCK")
  })
})

describe("the connector's Duplex as node:net's Socket", () => {
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

  it("socket() + connect(port, host, listener): a stream a client connects itself (as pg does); a write while connecting goes once connected", async () => {
    const server = await serve()
    try {
      const duplex = connector.socket()
      expect(duplex.pending).toBe(true)
      expect(duplex.connecting).toBe(false)
      const echoed = await new Promise<string>((resolve, reject) => {
        duplex.once("error", reject)
        duplex.connect(server.port, "127.0.0.1", () => duplex.once("data", (chunk: Buffer) => resolve(chunk.toString())))
        expect(duplex.connecting).toBe(true)
        duplex.write("early")
      })
      expect(echoed).toBe("early")
      duplex.destroy()
    } finally {
      await server.close()
    }
  })

  it("a refused connect: the same code, errno, syscall and message as node:net's, WSAECONNREFUSED as the cause", async () => {
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

  it("a name that does not resolve: getaddrinfo ENOTFOUND, as node:net's, the ResolveError as the cause", async () => {
    const host = "no-such-host.invalid"
    const [overNet, overDuplex] = (await Promise.all(clients.map((client) => errorOf(connectWith(client, 80, host))))) as [Outcome, Outcome]
    expect(overDuplex.error.code).toBe(overNet.error.code)
    expect(overDuplex.error.syscall).toBe(overNet.error.syscall)
    expect((overDuplex.error.cause as { _tag: string })._tag).toBe("ResolveError")
  })

  it("a connector whose timeout passes: ETIMEDOUT, the TimeoutError as the cause; the pending connect is cancelled", async () => {
    const own = await runtime.runPromise(Scope.make())
    try {
      const target = await runtime.runPromise(Scope.provide(own)(pendingTarget("ipv4")))
      const timing = await runtime.runPromise(Scope.provide(own)(NodeStream.connector({ timeout: "100 millis" })))
      const outcome = await errorOf(timing.createConnection(target.port, target.host))
      expect(outcome.error.code).toBe("ETIMEDOUT")
      expect((outcome.error.cause as { _tag: string })._tag).toBe("TimeoutError")
      expect((await runtime.runPromise(Iocp.stats)).pending).toBe(0)
    } finally {
      await runtime.runPromise(Scope.close(own, Exit.void))
    }
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

  it("closing the connector's scope destroys its connections; nothing stays pending", async () => {
    const server = await serve()
    try {
      const own = await runtime.runPromise(Scope.make())
      const mine = await runtime.runPromise(Scope.provide(own)(NodeStream.connector()))
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

  it("an http.Agent from the connector: keep-alive requests over one connection", async () => {
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
      const connections = await new Promise<number>((resolve) => server.getConnections((_e, count) => resolve(count)))
      expect(connections).toBe(1)
    } finally {
      agent.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("undici's connect signature: the callback gets the connected Duplex; a refusal gets ECONNREFUSED", async () => {
    const server = await serve()
    try {
      const connected = await new Promise<net.Socket | tls.TLSSocket | null>((resolve, reject) =>
        connector.connect({ hostname: "127.0.0.1", protocol: "http:", port: server.port }, (...[error, socket]) => error ? reject(error) : resolve(socket)))
      expect(connected?.remotePort).toBe(server.port)
      connected?.destroy()
    } finally {
      await server.close()
    }
    const port = await closedPort()
    const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      connector.connect({ hostname: "127.0.0.1", protocol: "http:", port }, (...[error]) => resolve(error)))
    expect(refused?.code).toBe("ECONNREFUSED")
  })
})

describe("ref / unref", () => {
  const packageRoot = fileURLToPath(new URL("..", import.meta.url))

  /** A child that connects over `client`, says so, then (unref) unrefs the connection and waits for nothing else. */
  const child = (client: Client, port: number, unref: boolean) =>
    client === "node:net"
      ? `
    import * as net from "node:net"
    const socket = net.createConnection(${port}, "127.0.0.1")
    socket.on("connect", () => { ${unref ? "socket.unref();" : ""} console.log("connected") })`
      : `
    import { ManagedRuntime, Scope } from "effect"
    import { ConnectEx, NodeStream } from "@effect-connectex/effect4"
    const runtime = ManagedRuntime.make(ConnectEx.layer)
    const scope = await runtime.runPromise(Scope.make())
    const connector = await runtime.runPromise(Scope.provide(scope)(NodeStream.connector()))
    const socket = connector.createConnection(${port}, "127.0.0.1")
    socket.on("connect", () => { ${unref ? "socket.unref();" : ""} console.log("connected") })`

  /** Runs the child; once it said "connected", how long it lived on (undefined: still alive after `patience` ms). */
  const livesOn = (code: string, patience: number) =>
    new Promise<number | undefined>((resolve, reject) => {
      const process_ = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: packageRoot, stdio: ["ignore", "pipe", "pipe"] })
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
