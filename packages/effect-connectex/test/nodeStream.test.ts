/**
 * NodeStream.toDuplex: a connected socket as a node:stream Duplex, under node's own clients: an HTTPS
 * request through `tls.connect({ socket })` to a local TLS server with a self-signed certificate made here,
 * and HTTP/1.1 keep-alive through an `http.Agent` whose createConnection dials with ConnectEx.dial.
 */
import { Effect, Exit, ManagedRuntime, Scope } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { pipeline } from "node:stream/promises"
import { Duplex, Readable, Writable } from "node:stream"
import * as tls from "node:tls"
import { afterAll, describe, expect, it } from "vitest"
import * as ConnectEx from "../src/ConnectEx.js"
import * as NodeStream from "../src/NodeStream.js"
import * as SocketAddress from "../src/SocketAddress.js"

const runtime = ManagedRuntime.make(ConnectEx.layer)
afterAll(() => runtime.dispose())

/** Dials 127.0.0.1:port in a scope of its own, closed when the Duplex closes. */
const dialDuplex = (port: number, options?: NodeStream.Options): Promise<NodeStream.SocketDuplex> =>
  runtime.runPromise(Effect.gen(function*() {
    const scope = yield* Scope.make()
    const duplex = yield* Effect.flatMap(ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", port)), ({ socket }) =>
      NodeStream.toDuplex(socket, options)).pipe(Scope.extend(scope))
    duplex.once("close", () => void runtime.runPromise(Scope.close(scope, Exit.void)))
    return duplex
  }))

const listen = (server: net.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)))

const close = (server: net.Server & { closeAllConnections?: () => void }): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections?.()
    server.close(() => resolve())
  })

/** node's callback type wants a stream even with an error; it is ignored then */
const duplexPlaceholder = new Duplex()

const openssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

describe("NodeStream.toDuplex", () => {
  it("echo: 4 MiB piped through intact, end() is a half-close and the peer's end ends the readable", async () => {
    const { createServer } = await import("node:net")
    const server = createServer({ allowHalfOpen: true }, (c) => c.pipe(c))
    const port = await listen(server)
    try {
      const duplex = await dialDuplex(port, { allowHalfOpen: true })
      const data = Buffer.alloc(4 * 1024 * 1024)
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff
      const received: Array<Buffer> = []
      await Promise.all([
        pipeline(Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]), duplex),
        pipeline(duplex, new Writable({
          highWaterMark: 1024,
          write(chunk: Buffer, _e, cb) {
            received.push(chunk)
            // A slow consumer: back-pressure reaches the reads.
            setImmediate(cb)
          }
        }))
      ])
      expect(Buffer.concat(received).equals(data)).toBe(true)
    } finally {
      await close(server)
    }
  }, 30_000)

  it.skipIf(!openssl)("HTTPS: tls.connect({ socket: duplex }) to a local TLS server with a self-signed certificate", async () => {
    const dir = mkdtempSync(Path.join(tmpdir(), "connectex-tls-"))
    try {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", Path.join(dir, "key.pem"), "-out", Path.join(dir, "cert.pem"), "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"
      ], { stdio: "ignore" })
      const key = readFileSync(Path.join(dir, "key.pem"))
      const cert = readFileSync(Path.join(dir, "cert.pem"))
      const server = https.createServer({ key, cert }, (request, response) => {
        response.end(`secure ${request.url}`)
      })
      const port = await listen(server)
      try {
        const body = await new Promise<string>((resolve, reject) => {
          class TlsOverConnectEx extends https.Agent {
            override createConnection(_options: http.RequestOptions, done?: (error: Error | null, stream: Duplex) => void) {
              dialDuplex(port).then(
                (duplex) => done?.(null, tls.connect({ socket: duplex, ca: cert, servername: "localhost" })),
                (error: unknown) => done?.(error as Error, duplexPlaceholder)
              )
              return undefined
            }
          }
          const agent = new TlsOverConnectEx()
          const request = https.request({
            host: "localhost",
            path: "/hello",
            agent
          } as https.RequestOptions, (response) => {
            let text = ""
            response.setEncoding("utf8")
            response.on("data", (chunk: string) => (text += chunk))
            response.on("end", () => resolve(text))
          })
          request.on("error", reject)
          request.end()
        })
        expect(body).toBe("secure /hello")
      } finally {
        await close(server)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)

  it("HTTP/1.1 keep-alive through an http.Agent whose createConnection dials with ConnectEx.dial", async () => {
    let connections = 0
    const server = http.createServer({ keepAlive: true }, (request, response) => {
      response.end(`answer to ${request.url}`)
    })
    server.on("connection", () => connections++)
    const port = await listen(server)
    let dials = 0
    class ConnectExAgent extends http.Agent {
      override createConnection(_options: http.RequestOptions, done?: (error: Error | null, stream: Duplex) => void) {
        dials++
        dialDuplex(port).then((duplex) => done?.(null, duplex), (error: unknown) => done?.(error as Error, duplexPlaceholder))
        return undefined
      }
    }
    const agent = new ConnectExAgent({ keepAlive: true, maxSockets: 1 })
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path, agent }, (response) => {
          let text = ""
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => (text += chunk))
          response.on("end", () => resolve(text))
        }).on("error", reject)
      })
    try {
      expect(await get("/one")).toBe("answer to /one")
      expect(await get("/two")).toBe("answer to /two")
      expect(await get("/three")).toBe("answer to /three")
      expect(dials).toBe(1)
      expect(connections).toBe(1)
    } finally {
      agent.destroy()
      await close(server)
    }
  }, 30_000)
})
