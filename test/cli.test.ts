/**
 * The built `connectex` CLI, run as users run it: `node packages/cli/dist/connectex.js ...`.
 */
import { Effect } from "effect"
import * as Net from "node:net"
import * as Path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { SocketAddress } from "../packages/effect-connectex/src/index.js"
import { buildDist, root, runNode } from "./support/node.js"
import { refusedPort } from "./support/peers.js"

const bin = Path.join(root, "packages", "cli", "dist", "connectex.js")

// A CLI start takes 11-17 s under Wine on a loaded 2-core machine: each test gets room for that, and the child
// is killed (execFile's timeout) before its test gives up, so no process outlives the test.
const testTimeout = process.platform === "win32" ? 150_000 : 30_000
const connectex = (...args: Array<string>) => runNode([bin, ...args], testTimeout - 10_000)

/** A loopback server that reads and discards; closed when `use` is done. */
const withSink = async <A>(use: (port: number) => Promise<A>): Promise<A> => {
  const server = Net.createServer((socket) => {
    socket.on("error", () => socket.destroy())
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  try {
    return await use(typeof address === "object" && address !== null ? address.port : 0)
  } finally {
    server.close()
  }
}

const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "")

beforeAll(buildDist, 300_000)

describe("connectex CLI", { timeout: testTimeout }, () => {
  it("--version prints the package's version without loading the CLI", async () => {
    const result = await connectex("--version")
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it("probe --bind connects from the given local address", async () => {
    const result = await withSink((port) => connectex("probe", `127.0.0.1:${port}`, "--bind", "127.0.0.1:0", "--data", "x"))
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/attempt 1: connected, 1 byte sent/)
    expect(result.stdout).toMatch(/bound to 127.0.0.1:0/)
  })

  it("probe --bind with an address of the other family is refused as bad input", async () => {
    const result = await withSink((port) => connectex("probe", `127.0.0.1:${port}`, "--bind", "[::1]:0"))
    expect(result.code).toBe(2)
    expect(stripAnsi(result.stdout + result.stderr)).toMatch(/--bind \[::1\]:0 is ipv6 but the target .* is ipv4/)
  })

  it("probe --fast-open connects and sends the data", async () => {
    const result = await withSink((port) => connectex("probe", `127.0.0.1:${port}`, "--fast-open", "--data", "ping"))
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/attempt 1: connected, 4 bytes sent/)
  })

  it("with no arguments runs the demo: a success with its echo, then a typed WSAECONNREFUSED, exit 0", async () => {
    const result = await connectex()
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/attempt 1: connected, 20 bytes sent, echo "hello from connectex" received/)
    expect(result.stdout).toMatch(/attempt 1: WSAECONNREFUSED \(code 10061\)/)
    expect(result.stdout).toMatch(/retrying in 100 ms/)
    expect(result.stdout).toMatch(/demo done/)
  })

  it("probe of a refusing loopback port prints each attempt with the tag and exits non-zero", async () => {
    // held by a bound socket that never listens for as long as the probe runs: nothing can take it meanwhile
    const result = await Effect.runPromise(Effect.scoped(Effect.flatMap(refusedPort(), (refused) =>
      Effect.promise(() => connectex("probe", SocketAddress.format(refused), "--retries", "1", "--timeout", "2s")))))
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/attempt 1: WSAECONNREFUSED \(code 10061\)/)
    expect(result.stdout).toMatch(/attempt 2: WSAECONNREFUSED/)
    expect(result.stdout).toMatch(/summary: .* not connected after 2 attempts/)
  })

  it("probe of a listening port with data connects and exits 0", async () => {
    const result = await withSink((port) => connectex("probe", `127.0.0.1:${port}`, "--data", "ping"))
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/attempt 1: connected, 4 bytes sent/)
  })

  it("a malformed address is a readable error, no stack trace, non-zero exit", async () => {
    const result = await connectex("probe", "not-an-address")
    expect(result.code).not.toBe(0)
    expect(result.code).not.toBeNull()
    const output = stripAnsi(result.stdout + result.stderr)
    expect(output).toMatch(/invalid target "not-an-address"/)
    expect(output).not.toMatch(/\n\s+at /)
  })

  it.each([
    [["probe", "127.0.0.1:80", "--timeout", "soon"], /invalid duration "soon"/],
    [["probe", "127.0.0.1:80", "--retries=-1"], /--retries -1: it must be 0 or more/],
    [["probe", "127.0.0.1:70000"], /port must be 0-65535/]
  ])("bad input %j is refused with a clear message", async (args, message) => {
    const result = await connectex(...args)
    expect(result.code).toBe(2)
    const output = stripAnsi(result.stdout + result.stderr)
    expect(output).toMatch(message)
    expect(output).not.toMatch(/\n\s+at /)
  })
})
