/**
 * The server broker for the Wine lane (scripts/test-windows.sh): a Linux node process that starts and stops
 * the real servers of test/support/servers.ts (PostgreSQL, redis, MariaDB) and makes self-signed certificates
 * with openssl, for the Windows node under Wine, which cannot spawn Linux binaries. It runs the very functions
 * the Linux suite runs (`startPostgres`, `startRedis`, `startMariadb`, `selfSignedCertificate`); the servers
 * listen on 127.0.0.1, which Wine's ws2_32 shares with this host. servers.ts asks it when
 * CONNECTEX_SERVER_BROKER is set and it runs on win32.
 *
 * An HTTP server on 127.0.0.1, port 0, JSON answers (500 with `{ error }` when a start fails):
 *   POST /postgres | /redis | /mariadb   -> { id, name, host, port, ...the connection details }
 *   POST /stop/<id>                      -> {}  (the server stopped, its folder removed)
 *   POST /certificate                    -> { key, cert }  (PEM)
 * Once listening it writes one JSON line to stdout: { address: "127.0.0.1:<port>", missing: { postgres?, redis?,
 * mariadb?, openssl? } } (why a server cannot run on this Linux side). On SIGTERM / SIGINT, or when the process
 * whose id is in CONNECTEX_SERVER_BROKER_PARENT is gone, it stops every server it started and exits.
 *
 * Built by `npm run build:testing` (test/support/tsconfig.json) and run as
 * `node test/support/dist/test/support/serverBroker.js`.
 */
import * as http from "node:http"
import type * as net from "node:net"
import {
  HOST,
  mariadbMissing,
  opensslMissing,
  postgresMissing,
  redisMissing,
  type Running,
  selfSignedCertificate,
  startMariadb,
  startPostgres,
  startRedis
} from "./servers.js"

const running = new Map<number, Running>()
let nextId = 1

const starts: Record<string, () => Promise<Running>> = {
  "/postgres": startPostgres,
  "/redis": startRedis,
  "/mariadb": startMariadb
}

const answer = async (url: string): Promise<unknown> => {
  const start = starts[url]
  if (start !== undefined) {
    const server = await start()
    const id = nextId++
    running.set(id, server)
    const { stop: _stop, ...details } = server
    return { id, ...details }
  }
  const stop = /^\/stop\/(\d+)$/.exec(url)
  if (stop !== null) {
    const id = Number(stop[1])
    const server = running.get(id)
    if (server === undefined) throw new Error(`no server ${id}`)
    running.delete(id)
    await server.stop()
    return {}
  }
  if (url === "/certificate") {
    const pair = selfSignedCertificate()
    return { key: pair.key.toString("utf8"), cert: pair.cert.toString("utf8") }
  }
  throw new Error(`unknown request ${url}`)
}

const server = http.createServer((request, response) => {
  request.resume()
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json", connection: "close" })
    response.end(JSON.stringify(body))
  }
  if (request.method !== "POST") return reply(405, { error: "POST only" })
  answer(request.url ?? "").then(
    (body) => reply(200, body),
    (error: unknown) => reply(500, { error: error instanceof Error ? error.message : String(error) })
  )
})

let closing = false
const shutdown = async () => {
  if (closing) return
  closing = true
  server.close()
  const servers = [...running.values()]
  running.clear()
  await Promise.allSettled(servers.map((s) => s.stop()))
  process.exit(0)
}
process.on("SIGTERM", () => void shutdown())
process.on("SIGINT", () => void shutdown())

const parent = Number(process.env["CONNECTEX_SERVER_BROKER_PARENT"] ?? "")
if (Number.isInteger(parent) && parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      void shutdown()
    }
  }, 1_000).unref()
}

server.listen(0, HOST, () => {
  const { port } = server.address() as net.AddressInfo
  const missing = { postgres: postgresMissing, redis: redisMissing, mariadb: mariadbMissing, openssl: opensslMissing }
  process.stdout.write(JSON.stringify({ address: `${HOST}:${port}`, missing }) + "\n")
})
