/**
 * Real servers for the client tests, on 127.0.0.1 only: PostgreSQL, redis and MariaDB from the Debian packages
 * (started in a temporary folder on a free port, stopped and removed afterwards; see shared/notes/servers.md),
 * and node:http / node:tls servers in this process (the TLS pair made by openssl at test time).
 *
 * Each `*Missing` constant says why that server cannot run here (a binary not found, not root), or is
 * undefined: a test file skips on it, naming the reason. `start*` resolve once the server accepts connections;
 * if it does not come up, the start fails with the tail of its log and leaves nothing behind.
 *
 * Under Wine (win32) a Windows node cannot spawn the Linux binaries: scripts/test-windows.sh runs
 * test/support/serverBroker.ts with the Linux node, and its address in CONNECTEX_SERVER_BROKER (with why a server
 * cannot run there in CONNECTEX_SERVER_BROKER_MISSING). On win32 with that set, `startPostgres`, `startRedis`,
 * `startMariadb` and `startTlsEcho`'s certificate ask the broker, which runs this module's own functions on Linux.
 */
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from "node:child_process"
import { accessSync, chmodSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import * as tls from "node:tls"

export const HOST = "127.0.0.1"

/** A server process of ours: where it listens, and how to stop it (stops it and removes its folder). */
export interface Running {
  /** the server and its version, e.g. "PostgreSQL 15.14" */
  readonly name: string
  readonly host: string
  readonly port: number
  readonly stop: () => Promise<void>
}

// ---------------------------------------------------------------------------------------------------------
// Finding what is installed

// ---------------------------------------------------------------------------------------------------------
// The server broker (Wine lane): the Linux side starts the servers, this side gets their address

/** The broker's host:port, on win32 only (on Linux the servers start here). */
const broker: string | undefined = process.platform === "win32" ? process.env["CONNECTEX_SERVER_BROKER"] || undefined : undefined

/** Why a server cannot run on the broker's Linux side (what its servers.ts says there), or undefined. */
const brokerMissing = (kind: "postgres" | "redis" | "mariadb" | "openssl"): string | undefined => {
  const reasons = JSON.parse(process.env["CONNECTEX_SERVER_BROKER_MISSING"] ?? "{}") as Record<string, string | undefined>
  const reason = reasons[kind]
  return reason === undefined ? undefined : `${reason} (on the Linux side of the server broker)`
}

/** POSTs to the broker and gives its JSON answer; its error (a server that did not start) as an Error. */
const askBroker = <A>(address: string, path: string): Promise<A> =>
  new Promise((resolve, reject) => {
    const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))]
    const request = http.request({ host, port, path, method: "POST", agent: false }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("error", reject)
      response.on("end", () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as A & { readonly error?: string }
          if (response.statusCode === 200) resolve(body)
          else reject(new Error(`the server broker (${address}) answered ${path} with ${response.statusCode}: ${body.error}`))
        } catch (error) {
          reject(error)
        }
      })
    })
    request.on("error", (error) => reject(new Error(`the server broker (${address}) for ${path}: ${error.message}`)))
    request.end()
  })

/** A server the broker started: stopping it asks the broker to stop it. */
const brokerStart = async <A extends object>(address: string, kind: string): Promise<Running & A> => {
  const { id, ...details } = await askBroker<{ readonly id: number } & Omit<Running, "stop"> & A>(address, `/${kind}`)
  return { ...(details as unknown as Omit<Running, "stop"> & A), stop: () => askBroker<object>(address, `/stop/${id}`).then(() => undefined) }
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** `name` on PATH or in the sbin folders (mariadbd is in /usr/sbin, which a non-login PATH may lack). */
const which = (name: string): string | undefined => {
  const dirs = [...(process.env["PATH"] ?? "").split(Path.delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"]
  return dirs.filter((dir) => dir !== "").map((dir) => Path.join(dir, name)).find(isExecutable)
}

/** uid and gid of a system user (from /etc/passwd), or undefined. */
const systemUser = (name: string): { readonly uid: number; readonly gid: number } | undefined => {
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`))
    const fields = line?.split(":")
    return fields === undefined ? undefined : { uid: Number(fields[2]), gid: Number(fields[3]) }
  } catch {
    return undefined
  }
}

const notRoot = (): string | undefined =>
  process.platform !== "linux"
    ? `needs Linux (this is ${process.platform})`
    : process.getuid?.() === 0
    ? undefined
    : "needs root (CI runs as root): the server runs as its own system user"

/** Debian keeps initdb and postgres off PATH: /usr/lib/postgresql/<version>/bin, the newest. */
const postgresBin = (): string | undefined => {
  try {
    const versions = readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((bin) => isExecutable(`${bin}/initdb`) && isExecutable(`${bin}/postgres`))
    if (found !== undefined) return found
  } catch {
    // not Debian's layout: PATH below
  }
  const initdb = which("initdb")
  return initdb !== undefined && isExecutable(Path.join(Path.dirname(initdb), "postgres")) ? Path.dirname(initdb) : undefined
}

/** Where a missing package comes from. */
const install = (pkg: string) => `Debian package ${pkg}, which .ci/run installs`

const pgBin = postgresBin()
/** Why PostgreSQL cannot run here, or undefined. */
export const postgresMissing: string | undefined = broker !== undefined ? brokerMissing("postgres") : notRoot() ??
  (pgBin === undefined ? `PostgreSQL's initdb/postgres not found in /usr/lib/postgresql/*/bin or on PATH (${install("postgresql")})` : undefined) ??
  (systemUser("postgres") === undefined ? "no `postgres` system user (the Debian package makes it)" : undefined)

const redisServer = which("redis-server")
/** Why redis cannot run here, or undefined (redis runs as the current user: no root needed). */
export const redisMissing: string | undefined = broker !== undefined
  ? brokerMissing("redis")
  : process.platform === "win32"
  ? "needs a Linux redis-server"
  : redisServer === undefined
  ? `redis-server not found on PATH (${install("redis-server")})`
  : undefined

const mariadbd = which("mariadbd")
const mariadbInstallDb = which("mariadb-install-db")
/** Why MariaDB cannot run here, or undefined. */
export const mariadbMissing: string | undefined = broker !== undefined ? brokerMissing("mariadb") : notRoot() ??
  (mariadbd === undefined || mariadbInstallDb === undefined ? `mariadbd / mariadb-install-db not found (${install("mariadb-server")})` : undefined) ??
  (systemUser("mysql") === undefined ? "no `mysql` system user (the Debian package makes it)" : undefined)

// ---------------------------------------------------------------------------------------------------------
// Running a server process

/** A port nobody listens on right now (the kernel's choice for port 0, released for the server to take). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once("error", reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })

/** A temporary folder everyone may enter (the servers run as their own users), removed by `remove`. */
const makeFolder = (kind: string): { readonly dir: string; readonly remove: () => void } => {
  const dir = mkdtempSync(Path.join(tmpdir(), `connectex-${kind}-`))
  chmodSync(dir, 0o755)
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The last bytes a process printed, for the error when it does not come up. */
const outputTail = (child: ChildProcess): (() => string) => {
  let text = ""
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-4_000)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  return () => text.trim()
}

/** Runs a set-up command to its end; throws with its output if it fails or takes over 40 s (it is killed then). */
const runToEnd = (command: string, args: ReadonlyArray<string>, options: SpawnOptions): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
    const tail = outputTail(child)
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000)
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`${Path.basename(command)} failed (${code ?? signal}):\n${tail()}`))
    })
  })

// Servers still running when this process exits some other way than their stop (a test file that dies):
// killed and their folders removed from the exit handler, which can only do synchronous work.
const leftovers = new Set<{ readonly child: ChildProcess; readonly remove: () => void }>()
process.on("exit", () => {
  for (const { child, remove } of leftovers) {
    child.kill("SIGKILL")
    remove()
  }
})

/**
 * Starts a server process and resolves once a line of its output matches `ready`; stopping sends `stopSignal`
 * (its fast clean shutdown), waits for the exit (SIGKILL after 10 s) and removes the folder. A process that
 * exits first or is not ready in `timeoutMs` is killed, its folder removed, and the start fails with its output.
 */
const startServer = (
  name: string,
  port: number,
  folder: { readonly remove: () => void },
  command: string,
  args: ReadonlyArray<string>,
  options: SpawnOptions & { readonly ready: RegExp; readonly stopSignal: NodeJS.Signals; readonly timeoutMs?: number }
): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
    const entry = { child, remove: folder.remove }
    leftovers.add(entry)
    const tail = outputTail(child)
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(options.stopSignal)
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        await exited
        clearTimeout(killer)
      }
      leftovers.delete(entry)
      folder.remove()
    }
    let settled = false
    const fail = (why: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void stop().then(() => reject(new Error(`${name} did not start: ${why}\n${tail()}`)))
    }
    const timer = setTimeout(() => fail(`not ready after ${options.timeoutMs ?? 20_000} ms`), options.timeoutMs ?? 20_000)
    child.once("error", (error) => fail(error.message))
    child.once("exit", (code, signal) => fail(`it exited (${code ?? signal})`))
    let seen = ""
    const watch = (chunk: Buffer) => {
      if (settled) return
      seen = (seen + chunk.toString("utf8")).slice(-4_000)
      if (!options.ready.test(seen)) return
      settled = true
      clearTimeout(timer)
      resolve({ name, host: HOST, port, stop })
    }
    child.stdout?.on("data", watch)
    child.stderr?.on("data", watch)
  })

/** The first line of `command --version`, for the server's name. */
const versionOf = (command: string, pattern: RegExp): string => {
  try {
    return execFileSync(command, ["--version"], { encoding: "utf8" }).match(pattern)?.[1] ?? "?"
  } catch {
    return "?"
  }
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL, redis, MariaDB

type Folder = ReturnType<typeof makeFolder>

/**
 * Runs `start` with a home for a server that runs as the system user `owner`: a folder of its own in a fresh
 * temporary folder. If `start` fails, the whole temporary folder is removed.
 */
const withHome = async <R>(
  kind: string,
  owner: string,
  start: (home: string, folder: Folder, user: { readonly uid: number; readonly gid: number }) => Promise<R>
): Promise<R> => {
  const user = systemUser(owner)
  if (user === undefined) throw new Error(`no \`${owner}\` system user`)
  const folder = makeFolder(kind)
  try {
    const home = Path.join(folder.dir, "home")
    mkdirSync(home)
    chownSync(home, user.uid, user.gid)
    return await start(home, folder, user)
  } catch (error) {
    folder.remove()
    throw error
  }
}

/** PostgreSQL as the `postgres` user, trust authentication: connect as `postgres` to database `postgres`. */
export const startPostgres = (): Promise<Running & { readonly user: string; readonly database: string }> => {
  if (broker !== undefined) return brokerStart(broker, "postgres")
  const bin = pgBin
  if (postgresMissing !== undefined || bin === undefined) return Promise.reject(new Error(`PostgreSQL cannot run here: ${postgresMissing}`))
  return withHome("pg", "postgres", async (home, folder, user) => {
    const data = Path.join(home, "data")
    // The server refuses to run as root: both steps as the postgres user (spawn's uid/gid, no su).
    const asPostgres = { uid: user.uid, gid: user.gid, cwd: home, env: { ...process.env, LC_ALL: "C" } }
    await runToEnd(`${bin}/initdb`, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgres)
    const port = await freePort()
    const server = await startServer(`PostgreSQL ${versionOf(`${bin}/postgres`, /(\d+\.\d+)/)}`, port, folder, `${bin}/postgres`, [
      "-D", data, "-p", String(port), "-c", `listen_addresses=${HOST}`, "-c", `unix_socket_directories=${home}`,
      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"
    ], { ...asPostgres, ready: /ready to accept connections/, stopSignal: "SIGINT" })
    return { ...server, user: "postgres", database: "postgres" }
  })
}

/** redis-server with no persistence, as the current user. */
export const startRedis = async (): Promise<Running> => {
  if (broker !== undefined) return brokerStart(broker, "redis")
  if (redisMissing !== undefined || redisServer === undefined) throw new Error(`redis cannot run here: ${redisMissing}`)
  const folder = makeFolder("redis")
  const port = await freePort()
  return startServer(`redis ${versionOf(redisServer, /v=(\S+)/)}`, port, folder, redisServer, [
    "--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", folder.dir
  ], { cwd: folder.dir, ready: /Ready to accept connections/, stopSignal: "SIGTERM" })
}

/** MariaDB as the `mysql` user: user `app` / password `pw`, database `app` (made by an init file at start). */
export const startMariadb = (): Promise<Running & { readonly user: string; readonly password: string; readonly database: string }> => {
  if (broker !== undefined) return brokerStart(broker, "mariadb")
  const [server, installDb] = [mariadbd, mariadbInstallDb]
  if (mariadbMissing !== undefined || server === undefined || installDb === undefined) {
    return Promise.reject(new Error(`MariaDB cannot run here: ${mariadbMissing}`))
  }
  return withHome("mariadb", "mysql", async (home, folder, user) => {
    const data = Path.join(home, "data")
    // --no-defaults: none of /etc/mysql's settings (its datadir, socket, log files) apply to ours.
    await runToEnd(installDb, [
      "--no-defaults", "--user=mysql", `--datadir=${data}`, "--auth-root-authentication-method=socket", "--skip-test-db"
    ], { cwd: home })
    const init = Path.join(home, "init.sql")
    // One statement a line: the server reads an init file line by line.
    writeFileSync(init, [
      "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'pw';",
      "CREATE DATABASE app;",
      "GRANT ALL ON app.* TO 'app'@'127.0.0.1';",
      ""
    ].join("\n"))
    chownSync(init, user.uid, user.gid)
    const port = await freePort()
    const running = await startServer(`MariaDB ${versionOf(server, /Ver (\S+?)-MariaDB/)}`, port, folder, server, [
      "--no-defaults", "--user=mysql", `--datadir=${data}`, `--port=${port}`, `--bind-address=${HOST}`,
      `--socket=${home}/mysqld.sock`, `--pid-file=${home}/mysqld.pid`, "--skip-log-bin", "--innodb-buffer-pool-size=64M",
      // The user is 'app'@'127.0.0.1': without this, 127.0.0.1 is looked up and becomes 'localhost'.
      "--skip-name-resolve",
      // --no-defaults leaves the compiled-in latin1; Debian's own configuration says utf8mb4.
      "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
      `--init-file=${init}`
    ], { cwd: home, ready: /ready for connections/, stopSignal: "SIGTERM" })
    return { ...running, user: "app", password: "pw", database: "app" }
  })
}

// ---------------------------------------------------------------------------------------------------------
// In-process servers: node:http and node:tls

/** A node:net or node:http server listening on 127.0.0.1: its port, and a close that ends every connection. */
export interface Listening {
  readonly port: number
  readonly close: () => Promise<void>
}

/** Listens on 127.0.0.1, port 0; `close` destroys the open connections first (keep-alive ones included). */
export const listen = (server: net.Server): Promise<Listening> =>
  new Promise((resolve, reject) => {
    const open = new Set<net.Socket>()
    server.on("connection", (c: net.Socket) => {
      open.add(c)
      c.once("close", () => open.delete(c))
    })
    // A tls.Server reports the TCP connection as "connection" too; the TLS socket is "secureConnection".
    server.once("error", reject)
    server.listen(0, HOST, () => {
      server.removeListener("error", reject)
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const c of open) c.destroy()
            server.close(() => done())
          })
      })
    })
  })

/** An http server: `handler` answers each request; the server keeps connections alive for a minute. */
export const startHttp = (handler: http.RequestListener): Promise<Listening & { readonly connections: () => number }> => {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handler)
  let connections = 0
  server.on("connection", () => connections++)
  return listen(server).then((l) => ({ ...l, connections: () => connections }))
}

const openssl = which("openssl")
/** Why a certificate cannot be made here, or undefined. */
export const opensslMissing: string | undefined = broker !== undefined
  ? brokerMissing("openssl")
  : openssl === undefined ? `openssl not found on PATH (${install("openssl")})` : undefined

/** A fresh self-signed P-256 certificate for `localhost` (a day), made with openssl in a folder removed at once. */
export const selfSignedCertificate = (): { readonly key: Buffer; readonly cert: Buffer } => {
  if (broker !== undefined) throw new Error("under Wine the server broker makes the certificate: startTlsEcho asks it")
  if (openssl === undefined) throw new Error(opensslMissing)
  const folder = makeFolder("tls")
  try {
    const key = Path.join(folder.dir, "key.pem")
    const cert = Path.join(folder.dir, "cert.pem")
    execFileSync(openssl, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
      "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"
    ], { stdio: "ignore" })
    return { key: readFileSync(key), cert: readFileSync(cert) }
  } finally {
    folder.remove()
  }
}

/** A certificate as `selfSignedCertificate` makes it, made by the server broker (on its Linux side). */
const brokerCertificate = async (address: string): Promise<{ readonly key: Buffer; readonly cert: Buffer }> => {
  const { key, cert } = await askBroker<{ readonly key: string; readonly cert: string }>(address, "/certificate")
  return { key: Buffer.from(key), cert: Buffer.from(cert) }
}

/** A node:tls server that echoes what it receives, with a fresh self-signed certificate (its `cert` is the CA). */
export const startTlsEcho = async (): Promise<Listening & { readonly cert: Buffer; readonly handshakes: () => number }> => {
  // Under Wine the broker makes it with the Linux openssl.
  const pair = broker === undefined ? selfSignedCertificate() : await brokerCertificate(broker)
  let handshakes = 0
  const server = tls.createServer({ key: pair.key, cert: pair.cert }, (socket) => {
    handshakes++
    socket.on("error", () => {})
    socket.pipe(socket)
  })
  // A client that rejects the certificate aborts the handshake: the server sees an error, not a connection.
  server.on("tlsClientError", () => {})
  const l = await listen(server)
  return { ...l, cert: pair.cert, handshakes: () => handshakes }
}
