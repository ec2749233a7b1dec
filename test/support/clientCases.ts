/**
 * Real clients over a list of transports (test/support/transports.ts), each through its own documented hook,
 * against real servers on 127.0.0.1 (test/support/servers.ts): pg (`stream`) against PostgreSQL, ioredis
 * (`Connector`) against redis-server, undici (`connect`) against node:http, mysql2 (`stream`) against MariaDB,
 * node:tls (`{ socket }`) against a node:tls server. Each case runs over node:net first: a case that fails
 * there too is the set-up's. A server that cannot run here skips its block, naming what is missing; a case a
 * transport cannot pass yet (its `missing`) is listed as todo with the reason.
 *
 * Both front-ends run these cases: test/clients.test.ts (vitest 3: Effect 3 from the sources, Effect 4 from
 * its built package; also under Wine) and packages/effect4/test/clients.test.ts (Effect 4, vitest 5 under
 * Node 22), each calling `clientCases` with its own vitest functions and transports. So this module imports neither vitest nor effect.
 */
import { createHash, randomBytes } from "node:crypto"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import type { Duplex } from "node:stream"
import * as tls from "node:tls"
import { Redis } from "ioredis"
import mysql from "mysql2/promise"
import pg from "pg"
import { Agent, errors, RetryAgent } from "undici"
import {
  HOST,
  type Listening,
  mariadbMissing,
  opensslMissing,
  postgresMissing,
  redisMissing,
  type Running,
  startHttp,
  startMariadb,
  startPostgres,
  startRedis,
  startTlsEcho
} from "./servers.js"
import { asNetSocket, type Feature, lacking, redisConnector, type Transport, undiciConnect } from "./transports.js"

/** The matchers the cases use, as vitest 3's and vitest 5's `expect(...)` both have them. */
export interface Matchers {
  toBe(expected: unknown): void
  toEqual(expected: unknown): void
  toMatchObject(expected: object): void
  toMatch(expected: string | RegExp): void
  toBeInstanceOf(expected: unknown): void
  toBeGreaterThan(expected: number): void
  toBeLessThan(expected: number): void
}

/**
 * `expect` as the cases use it. (Either vitest's `ExpectStatic` is not assignable to the other's: their
 * `extend` and printer types differ.)
 */
export interface Expect {
  (actual: unknown, message?: string): Matchers & { readonly not: Matchers }
  stringMatching(expected: string | RegExp): unknown
  stringContaining(expected: string): unknown
}

/** The vitest functions the cases use: each test file passes its own (its vitest is the one running it). */
export interface TestApi {
  readonly describe: ((name: string, body: () => void) => void) & {
    readonly skipIf: (condition: boolean) => (name: string, body: () => void) => void
  }
  readonly it: ((name: string, body: () => Promise<void>, timeout?: number) => void) & {
    readonly todo: (name: string) => void
  }
  readonly beforeAll: (body: () => Promise<void>, timeout?: number) => void
  readonly afterAll: (body: () => Promise<void> | undefined) => void
  readonly expect: Expect
}

/** What a test file runs the cases with. */
export interface Suite {
  /** the test file, for the messages of skipped blocks */
  readonly file: string
  /** node:net first: the reference */
  readonly transports: ReadonlyArray<Transport>
  /**
   * The folder the idle child runs in (its script goes in `<childRoot>/.cache`): its bare imports (undici, the
   * front-end, its effect) resolve from there as a user's would. A transport's own `childRoot` overrides it.
   */
  readonly childRoot: string
}

/** The server a block's beforeAll started (a failed start fails the block's cases, not a later block). */
const started = <A>(value: A | undefined, what: string): A => {
  if (value === undefined) throw new Error(`${what} did not start (see the block's beforeAll)`)
  return value
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex")

/** Resolves when the stream has closed (at once if it already has). */
const closed = (stream: Duplex): Promise<void> =>
  stream.destroyed && stream.closed ? Promise.resolve() : once(stream, "close").then(() => undefined)

/** How soon after its request the child's event loop must have emptied (its own clock: its "exit" event). */
const IDLE_EXIT_BOUND_MS = 2_000
/** When a child still running counts as held open (and is killed): the bound, plus room for a slow process exit. */
const HOLD_LIMIT_MS = IDLE_EXIT_BOUND_MS + 10_000
/** How long the child may take to start and make its request (vite-node under Wine: about 40 s). */
const START_LIMIT_MS = 120_000

/**
 * Runs a child (plain node: `process.execPath`, the built packages) that GETs `url` once through an undici
 * Agent over the transport (its `childConnect`: for node:net a plain net.connect, for a library its
 * `NodeStream.connector`'s `connect`), prints what it got, and leaves the keep-alive connection idle; at its
 * "exit" event it prints how long after the request that was. Gives both, the exit code, and `held` when it was
 * still running HOLD_LIMIT_MS after the request (it is killed then). The script is written in
 * `<root>/.cache` and runs there, so that its bare imports resolve as a user's would.
 */
const idleKeepAliveChild = async (transport: Transport, url: string, root: string) => {
  mkdirSync(Path.join(root, ".cache"), { recursive: true })
  const dir = mkdtempSync(Path.join(root, ".cache", "idle-"))
  let child: ChildProcess | undefined
  try {
    const script = Path.join(dir, "idle.mjs")
    // writeSync: what is printed at "exit" must not wait for an asynchronous pipe.
    writeFileSync(script, [
      `import { writeSync } from "node:fs"`,
      `import { Agent } from "undici"`,
      ...transport.childConnect,
      `let socket`,
      `const agent = new Agent({ keepAliveTimeout: 60_000, connect: (options, callback) => connect(options, (error, s) => { socket = s; callback(error, s) }) })`,
      `const url = new URL(process.env.CLIENTS_URL)`,
      `const response = await agent.request({ origin: url.origin, path: url.pathname, method: "GET" })`,
      `const body = await response.body.text()`,
      `const idle = performance.now()`,
      `process.on("exit", () => writeSync(1, JSON.stringify({ exitAfterMs: performance.now() - idle }) + "\\n"))`,
      `writeSync(1, JSON.stringify({ statusCode: response.statusCode, body, open: socket !== undefined && !socket.destroyed }) + "\\n")`
    ].join("\n"))
    child = spawn(process.execPath, [script], {
      cwd: root,
      env: { ...process.env, CLIENTS_TRANSPORT: transport.name, CLIENTS_URL: url },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const running = child
    let stdout = ""
    let stderr = ""
    running.stderr?.setEncoding("utf8").on("data", (text: string) => (stderr += text))
    const printed = new Promise<"printed">((resolve) =>
      running.stdout?.setEncoding("utf8").on("data", (text: string) => {
        stdout += text
        if (stdout.includes("\n")) resolve("printed")
      })
    )
    // "close": exited, and its output all read.
    const exited = new Promise<number | null>((resolve) => running.once("close", (code: number | null) => resolve(code)))
    // Bounded, so that the finally below runs before the case's own timeout would abandon it.
    const start = new Promise<"slow">((resolve) => setTimeout(() => resolve("slow"), START_LIMIT_MS).unref())
    const first = await Promise.race([printed, exited.then(() => "exited" as const), start])
    if (first !== "printed") {
      throw new Error(`the child ${first === "slow" ? `did not finish its request in ${START_LIMIT_MS} ms` : "exited before its request was done"}:\n${stdout}${stderr}`)
    }
    const limit = new Promise<"held">((resolve) => setTimeout(() => resolve("held"), HOLD_LIMIT_MS).unref())
    const exit = await Promise.race([exited, limit])
    const [answer, last] = stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
    const exitAfterMs = last?.["exitAfterMs"]
    return {
      answer,
      held: exit === "held",
      exitCode: exit === "held" ? null : exit,
      exitAfterMs: typeof exitAfterMs === "number" ? exitAfterMs : undefined
    }
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = once(child, "exit")
      child.kill("SIGKILL")
      await gone
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Declares every block and case over `suite.transports`, with `api`'s vitest functions. */
export const clientCases = (api: TestApi, suite: Suite): void => {
  const { afterAll, beforeAll, describe, expect, it } = api
  const { transports } = suite

  beforeAll(async () => {
    for (const transport of transports) await transport.prepare?.()
  })
  afterAll(async () => {
    for (const transport of transports) await transport.dispose()
  })

  /** The case over every transport, node:net first; todo (not run) where a transport lacks what it needs. */
  const each = (name: string, needs: ReadonlyArray<Feature>, body: (transport: Transport) => Promise<void>, timeout?: number) => {
    for (const transport of transports) {
      const lacks = lacking(transport, needs)
      if (lacks.length > 0) it.todo(`${transport.name}: ${name} (TODO(lead): ${lacks.join("; ")})`)
      else it(`${transport.name}: ${name}`, () => body(transport), timeout)
    }
  }

  /** A block's title, with why it is skipped where it is (vitest shows the title of a skipped block). */
  const titled = (title: string, missing: string | undefined): string => {
    if (missing === undefined) return title
    console.warn(`${suite.file}: "${title}" skipped: ${missing}`)
    return `${title} (skipped: ${missing})`
  }

  // ---------------------------------------------------------------------------------------------------------

  describe.skipIf(postgresMissing !== undefined)(titled("pg 8 against PostgreSQL (stream: an unconnected socket)", postgresMissing), () => {
    let server: (Running & { readonly user: string; readonly database: string }) | undefined
    beforeAll(async () => {
      server = await startPostgres()
    }, 90_000)
    afterAll(() => server?.stop())

    /** A pg Client whose stream is the transport's unconnected socket; pg connects it itself. */
    const client = (transport: Transport) => {
      const s = started(server, "PostgreSQL")
      const streams: Array<Duplex> = []
      const socket = transport.socket
      if (socket === undefined) throw new Error(`${transport.name} has no socket(): list "connect" in its missing`)
      const c = new pg.Client({
        host: s.host,
        port: s.port,
        user: s.user,
        database: s.database,
        stream: () => {
          const stream = socket()
          streams.push(stream)
          return stream
        }
      })
      return { client: c, stream: () => streams[0], close: () => streams.forEach((stream) => stream.destroy()) }
    }

    each("connects: the server sees the socket's own address and port", ["connect", "addresses"], async (transport) => {
      const { client: c, stream, close } = client(transport)
      try {
        await c.connect()
        const { rows } = await c.query<{ addr: string; port: number; version: string }>(
          "SELECT host(inet_client_addr()) AS addr, inet_client_port() AS port, version() AS version"
        )
        const socket = asNetSocket(stream()!)
        expect(rows).toEqual([{ addr: HOST, port: socket.localPort, version: expect.stringMatching(/^PostgreSQL \d+/) }])
        expect(socket.remotePort).toBe(started(server, "PostgreSQL").port)
      } finally {
        await c.end().catch(() => {})
        close()
      }
    })

    each("queries: one row, then a thousand", ["connect"], async (transport) => {
      const { client: c, close } = client(transport)
      try {
        await c.connect()
        expect((await c.query("SELECT 1 + 1 AS two")).rows).toEqual([{ two: 2 }])
        const many = await c.query<{ n: number; pad: string }>("SELECT n, repeat('x', 100) AS pad FROM generate_series(1, 1000) AS n")
        expect(many.rowCount).toBe(1000)
        expect(many.rows[999]).toEqual({ n: 1000, pad: "x".repeat(100) })
      } finally {
        await c.end().catch(() => {})
        close()
      }
    })

    each("a parameterised query", ["connect"], async (transport) => {
      const { client: c, close } = client(transport)
      try {
        await c.connect()
        const { rows } = await c.query("SELECT $1::text AS name, $2::int + 1 AS next", ["zoë ☕", 41])
        expect(rows).toEqual([{ name: "zoë ☕", next: 42 }])
      } finally {
        await c.end().catch(() => {})
        close()
      }
    })

    each("an error from the server rejects the query; the connection goes on", ["connect"], async (transport) => {
      const { client: c, close } = client(transport)
      try {
        await c.connect()
        const error: unknown = await c.query("SELECT * FROM no_such_table").then(() => undefined, (e: unknown) => e)
        expect(error).toMatchObject({ code: "42P01", message: expect.stringContaining("no_such_table") })
        expect((await c.query("SELECT 'still here' AS s")).rows).toEqual([{ s: "still here" }])
      } finally {
        await c.end().catch(() => {})
        close()
      }
    })

    each("end(): resolves and the connection closes", ["connect"], async (transport) => {
      const { client: c, stream, close } = client(transport)
      try {
        await c.connect()
        const socket = stream()!
        await c.end()
        await closed(socket)
        expect(socket.destroyed).toBe(true)
      } finally {
        close()
      }
    })
  })

  // ---------------------------------------------------------------------------------------------------------

  describe.skipIf(redisMissing !== undefined)(titled("ioredis 5 against redis-server (Connector)", redisMissing), () => {
    let server: Running | undefined
    beforeAll(async () => {
      server = await startRedis()
    }, 90_000)
    afterAll(() => server?.stop())

    const open = (transport: Transport, connector = redisConnector(transport)) => {
      const s = started(server, "redis")
      return new Redis({ host: s.host, port: s.port, Connector: connector.Connector, lazyConnect: true, maxRetriesPerRequest: 2 })
    }

    each("SET / GET, and a 1 MiB value intact", [], async (transport) => {
      const redis = open(transport)
      try {
        await redis.connect()
        expect(await redis.set(`${transport.name}:k`, "value")).toBe("OK")
        expect(await redis.get(`${transport.name}:k`)).toBe("value")
        const big = randomBytes(1024 * 1024)
        expect(await redis.set(`${transport.name}:big`, big)).toBe("OK")
        expect(sha256((await redis.getBuffer(`${transport.name}:big`)) ?? Buffer.alloc(0))).toBe(sha256(big))
        expect(await redis.quit()).toBe("OK")
      } finally {
        redis.disconnect()
      }
    })

    each("a pipeline: every reply, in order", [], async (transport) => {
      const redis = open(transport)
      const key = `${transport.name}:counter`
      try {
        await redis.connect()
        const replies = await redis.pipeline().set(key, "1").incr(key).incrby(key, 40).get(key).del(key).exec()
        expect(replies).toEqual([[null, "OK"], [null, 2], [null, 42], [null, "42"], [null, 1]])
      } finally {
        redis.disconnect()
      }
    })

    each("pub/sub: a published message reaches the subscriber", [], async (transport) => {
      const subscriber = open(transport)
      const publisher = open(transport)
      const channel = `${transport.name}:news`
      try {
        await Promise.all([subscriber.connect(), publisher.connect()])
        expect(await subscriber.subscribe(channel)).toBe(1)
        const message = once(subscriber, "message")
        expect(await publisher.publish(channel, "hello")).toBe(1)
        expect(await message).toEqual([channel, "hello"])
      } finally {
        subscriber.disconnect()
        publisher.disconnect()
      }
    })

    each("reconnects after the server kills the connection (CLIENT KILL)", [], async (transport) => {
      const connector = redisConnector(transport)
      const s = started(server, "redis")
      const redis = new Redis({ host: s.host, port: s.port, Connector: connector.Connector, lazyConnect: true, retryStrategy: () => 20 })
      const admin = open(transport)
      try {
        let readies = 0
        const readyAgain = new Promise<void>((resolve) =>
          redis.on("ready", () => {
            if (++readies === 2) resolve()
          })
        )
        await Promise.all([redis.connect(), admin.connect()])
        const id = await redis.client("ID")
        expect(await admin.call("CLIENT", "KILL", "ID", String(id))).toBe(1)
        await readyAgain
        expect(await redis.client("ID")).not.toBe(id)
        expect(await redis.ping()).toBe("PONG")
        expect(connector.dials()).toBe(2)
      } finally {
        redis.disconnect()
        admin.disconnect()
      }
    })
  })

  // ---------------------------------------------------------------------------------------------------------

  describe("undici 7 against node:http (connect)", () => {
    let server: (Listening & { readonly connections: () => number }) | undefined
    // Requests per path, and the client port of each /cut connection, as the server saw them.
    const seen = new Map<string, number>()
    const cutPorts: Array<number | undefined> = []
    beforeAll(async () => {
      server = await startHttp((request, response) => {
        const path = request.url ?? "/"
        seen.set(path, (seen.get(path) ?? 0) + 1)
        if (path === "/echo") {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const body = Buffer.concat(chunks)
            response.setHeader("content-type", "application/json")
            response.end(JSON.stringify({ length: body.length, sha256: sha256(body) }))
          })
        } else if (path.startsWith("/reset-once/") && seen.get(path) === 1) {
          request.socket.resetAndDestroy()
        } else if (path.startsWith("/reset-always/")) {
          request.socket.resetAndDestroy()
        } else if (path === "/cut") {
          // Ten bytes announced, three sent, then the connection closed: the client's body fails mid-way.
          cutPorts.push(request.socket.remotePort)
          response.writeHead(200, { "content-length": "10" })
          response.write("abc", () => request.socket.destroy())
        } else {
          response.end(`answer to ${path}`)
        }
      })
    })
    afterAll(() => server?.close())
    const origin = () => `http://${HOST}:${started(server, "the http server").port}`

    /** An Agent dialing through the transport; `dials()` counts the connections it made. Cases end it with
     * destroy(): a failed case leaves no request pending. */
    const agentOver = (transport: Transport) => {
      const connect = undiciConnect(transport)
      let dials = 0
      // One connection per origin: a second request waits for the first one's connection, never opens another.
      const agent = new Agent({
        connections: 1,
        keepAliveTimeout: 30_000,
        connect: (options, callback) => {
          dials++
          connect(options, callback)
        }
      })
      return { agent, dials: () => dials }
    }

    each("GETs over one keep-alive connection", [], async (transport) => {
      const { agent, dials } = agentOver(transport)
      const before = started(server, "the http server").connections()
      try {
        for (let i = 1; i <= 5; i++) {
          const response = await agent.request({ origin: origin(), path: `/hello/${i}`, method: "GET" })
          expect(response.statusCode).toBe(200)
          expect(await response.body.text()).toBe(`answer to /hello/${i}`)
        }
        expect(dials()).toBe(1)
        expect(started(server, "the http server").connections() - before).toBe(1)
      } finally {
        await agent.destroy()
      }
    })

    each("a POST with a 1 MiB body", [], async (transport) => {
      const { agent } = agentOver(transport)
      const body = randomBytes(1024 * 1024)
      try {
        const response = await agent.request({ origin: origin(), path: "/echo", method: "POST", body })
        expect(response.statusCode).toBe(200)
        expect(await response.body.json()).toEqual({ length: body.length, sha256: sha256(body) })
      } finally {
        await agent.destroy()
      }
    })

    each("RetryAgent retries a request whose connection the server resets (the error is ECONNRESET)", ["errorCodes"], async (transport) => {
      const { agent, dials } = agentOver(transport)
      const retrying = new RetryAgent(agent, { minTimeout: 10, maxTimeout: 50, maxRetries: 2 })
      const once = `/reset-once/${encodeURIComponent(transport.name)}`
      const always = `/reset-always/${encodeURIComponent(transport.name)}`
      try {
        const response = await retrying.request({ origin: origin(), path: once, method: "GET" })
        expect(response.statusCode).toBe(200)
        expect(await response.body.text()).toBe(`answer to ${once}`)
        expect(seen.get(once)).toBe(2)
        expect(dials()).toBe(2)
        // What RetryAgent decided on, as a plain request gets it.
        const error: unknown = await agent.request({ origin: origin(), path: always, method: "GET" }).then(() => undefined, (e: unknown) => e)
        expect(error).toMatchObject({ code: "ECONNRESET" })
      } finally {
        await retrying.destroy()
      }
    })

    each("a connection cut mid-body: undici's SocketError carries the connection's addresses and counters", ["addresses"], async (transport) => {
      const { agent } = agentOver(transport)
      try {
        const response = await agent.request({ origin: origin(), path: "/cut", method: "GET" })
        expect(response.statusCode).toBe(200)
        const error: unknown = await response.body.text().then(() => undefined, (e: unknown) => e)
        expect(error).toBeInstanceOf(errors.SocketError)
        const info = (error as errors.SocketError).socket
        expect(info).toMatchObject({
          remoteAddress: HOST,
          remotePort: started(server, "the http server").port,
          remoteFamily: "IPv4",
          localAddress: HOST,
          localPort: cutPorts[cutPorts.length - 1]
        })
        expect(info?.bytesWritten).toBeGreaterThan(0)
        expect(info?.bytesRead).toBeGreaterThan(0)
      } finally {
        await agent.destroy()
      }
    })

    each("a child process with one idle keep-alive connection exits by itself", ["unref"], async (transport) => {
      const child = await idleKeepAliveChild(transport, `${origin()}/idle`, transport.childRoot ?? suite.childRoot)
      expect(child.answer).toEqual({ statusCode: 200, body: "answer to /idle", open: true })
      expect(child.held, `still running ${HOLD_LIMIT_MS} ms after its request`).toBe(false)
      expect(child.exitCode).toBe(0)
      // node:net: 0.3-0.7 s here (undici's own timers run out first).
      expect(child.exitAfterMs).toBeLessThan(IDLE_EXIT_BOUND_MS)
    }, START_LIMIT_MS + HOLD_LIMIT_MS + 15_000)
  })

  // ---------------------------------------------------------------------------------------------------------

  describe.skipIf(mariadbMissing !== undefined)(titled("mysql2 3 against MariaDB (stream)", mariadbMissing), () => {
    let server: (Running & { readonly user: string; readonly password: string; readonly database: string }) | undefined
    beforeAll(async () => {
      server = await startMariadb()
    }, 90_000)
    afterAll(() => server?.stop())

    /** A mysql2 connection over a connection the transport dialed (mysql2 takes a connected stream). */
    const connect = async (transport: Transport) => {
      const s = started(server, "MariaDB")
      const stream = await transport.dial(s.port, s.host)
      try {
        const connection = await mysql.createConnection({ stream: asNetSocket(stream), user: s.user, password: s.password, database: s.database })
        return { connection, stream }
      } catch (error) {
        stream.destroy()
        throw error
      }
    }

    each("connects: the server is MariaDB and sees the client at 127.0.0.1", [], async (transport) => {
      const { connection, stream } = await connect(transport)
      try {
        const [rows] = await connection.query("SELECT VERSION() AS version, CURRENT_USER() AS user")
        expect(rows).toEqual([{ version: expect.stringMatching(/MariaDB/), user: `app@${HOST}` }])
      } finally {
        connection.destroy()
        stream.destroy()
      }
    })

    each("queries: a table written and read back, with a prepared statement", [], async (transport) => {
      const { connection, stream } = await connect(transport)
      const table = `t_${transport.name.replace(/\W/g, "_")}`
      try {
        await connection.query(`CREATE TEMPORARY TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(40))`)
        for (const [id, name] of [[1, "one"], [2, "zoë ☕"]] as const) {
          await connection.execute(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [id, name])
        }
        const [rows] = await connection.execute(`SELECT id, name FROM ${table} WHERE id >= ? ORDER BY id`, [1])
        expect(rows).toEqual([{ id: 1, name: "one" }, { id: 2, name: "zoë ☕" }])
      } finally {
        connection.destroy()
        stream.destroy()
      }
    })

    each("end(): resolves and the connection closes", [], async (transport) => {
      const { connection, stream } = await connect(transport)
      try {
        await connection.end()
        await closed(stream)
        expect(stream.destroyed).toBe(true)
      } finally {
        stream.destroy()
      }
    })
  })

  // ---------------------------------------------------------------------------------------------------------

  describe.skipIf(opensslMissing !== undefined)(titled("node:tls against a node:tls server (tls.connect({ socket }))", opensslMissing), () => {
    let server: (Listening & { readonly cert: Buffer; readonly handshakes: () => number }) | undefined
    beforeAll(async () => {
      server = await startTlsEcho()
    })
    afterAll(() => server?.close())

    const secure = async (transport: Transport, options: tls.ConnectionOptions) => {
      const s = started(server, "the TLS server")
      const raw = await transport.dial(s.port, HOST)
      return { raw, secure: tls.connect({ ...options, socket: raw }) }
    }

    each("handshake: the server's certificate verified against its CA, for localhost", [], async (transport) => {
      const before = started(server, "the TLS server").handshakes()
      const { raw, secure: socket } = await secure(transport, { ca: server?.cert, servername: "localhost" })
      try {
        await once(socket, "secureConnect")
        expect(socket.authorized).toBe(true)
        expect(socket.getPeerCertificate().subject.CN).toBe("localhost")
        expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/)
        // Under TLS 1.3 the client is done first: one echo later the server has its side too.
        socket.write("ping")
        expect(String((await once(socket, "data"))[0])).toBe("ping")
        expect(started(server, "the TLS server").handshakes()).toBe(before + 1)
      } finally {
        socket.destroy()
        raw.destroy()
      }
    })

    each("echo: 256 KiB through TLS and back, intact", [], async (transport) => {
      const { raw, secure: socket } = await secure(transport, { ca: server?.cert, servername: "localhost" })
      const data = randomBytes(256 * 1024)
      try {
        await once(socket, "secureConnect")
        const back = new Promise<Buffer>((resolve, reject) => {
          const chunks: Array<Buffer> = []
          let length = 0
          socket.on("error", reject)
          socket.on("data", (chunk: Buffer) => {
            chunks.push(chunk)
            length += chunk.length
            if (length >= data.length) resolve(Buffer.concat(chunks))
          })
        })
        socket.write(data)
        expect(sha256(await back)).toBe(sha256(data))
      } finally {
        socket.destroy()
        raw.destroy()
      }
    })

    each("a handshake failure is an error: a name the certificate does not carry, a CA that did not sign it", [], async (transport) => {
      const attempts: ReadonlyArray<readonly [tls.ConnectionOptions, string]> = [
        [{ ca: server?.cert, servername: "wrong.example" }, "ERR_TLS_CERT_ALTNAME_INVALID"],
        [{ servername: "localhost" }, "DEPTH_ZERO_SELF_SIGNED_CERT"]
      ]
      for (const [options, code] of attempts) {
        const { raw, secure: socket } = await secure(transport, options)
        try {
          let connected = false
          socket.once("secureConnect", () => (connected = true))
          const [error] = await once(socket, "error") as [NodeJS.ErrnoException]
          expect(error.code).toBe(code)
          expect(connected).toBe(false)
        } finally {
          socket.destroy()
          raw.destroy()
        }
      }
    })
  })
}
