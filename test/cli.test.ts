/**
 * The built `connectex` CLI, run as users run it: `node packages/cli/dist/connectex.js ...`, its output a pipe
 * (and, for colour, a terminal made by `script`).
 */
import { Effect } from "effect"
import { execFile, execFileSync } from "node:child_process"
import * as Net from "node:net"
import * as Path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { SocketAddress } from "../packages/effect-connectex/src/index.js"
import { buildDist, root, type Run } from "./support/node.js"
import { refusedPort } from "./support/peers.js"

const bin = Path.join(root, "packages", "cli", "dist", "connectex.js")

// A CLI start takes 11-17 s under Wine on a loaded 2-core machine: each test gets room for that, and the child
// is killed (execFile's timeout) before its test gives up, so no process outlives the test.
const testTimeout = process.platform === "win32" ? 150_000 : 30_000

/** The environment without NO_COLOR, then `env`: whether output is plain is the CLI's decision, not ours. */
const environment = (env: Record<string, string>): NodeJS.ProcessEnv => {
  const { NO_COLOR: _, ...rest } = process.env
  return { ...rest, ...env }
}

const run = (file: string, args: ReadonlyArray<string>, env: Record<string, string>): Promise<Run> =>
  new Promise((resolve) => {
    execFile(file, [...args], { cwd: root, timeout: testTimeout - 10_000, env: environment(env) }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    })
  })

/** `connectex ...args` with its stdout and stderr pipes. */
const connectex = (...args: Array<string>) => run(process.execPath, [bin, ...args], {})

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`

/** `connectex ...args` on a terminal: util-linux `script` runs it on a pseudo-terminal (stdout and stderr both). */
const onTerminal = (env: Record<string, string>, ...args: Array<string>) =>
  run("script", ["-qec", [process.execPath, bin, ...args].map(quote).join(" "), "/dev/null"], env)

const hasScript = process.platform !== "win32" && (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/** A loopback server that reads and discards; closed when `use` is done. */
const withSink = async <A>(use: (port: number) => Promise<A>, host = "127.0.0.1"): Promise<A> => {
  const server = Net.createServer((socket) => {
    socket.on("error", () => socket.destroy())
    socket.resume()
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, host, resolve)
  })
  const address = server.address()
  try {
    return await use(typeof address === "object" && address !== null ? address.port : 0)
  } finally {
    server.close()
  }
}

const escape = /\u001b/

/** What a user at a shell reads: no stack trace, no advice meant for a program using the library. */
const expectCommandLineWords = (output: string) => {
  expect(output).not.toMatch(/\n\s+at /)
  expect(output).not.toMatch(/dialName|ConnectEx\.|SocketAddress\.|Effect\.|open, bind, then connect/)
  expect(output).not.toMatch(escape)
}

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
    expect(result.stderr).toMatch(/--bind \[::1\]:0 is ipv6 but the target .* is ipv4: give --bind an ipv4 address/)
    expectCommandLineWords(result.stdout + result.stderr)
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
    expect(result.stdout).not.toMatch(escape)
  })

  it("probe of a refusing loopback port prints each attempt with the tag and exits non-zero", async () => {
    // held by a bound socket that never listens for as long as the probe runs: nothing can take it meanwhile
    const result = await Effect.runPromise(Effect.scoped(Effect.flatMap(refusedPort(), (refused) =>
      Effect.promise(() => connectex("probe", SocketAddress.format(refused), "--retries", "1", "--timeout", "2s")))))
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/attempt 1: WSAECONNREFUSED \(code 10061\)/)
    expect(result.stdout).toMatch(/attempt 2: WSAECONNREFUSED/)
    expect(result.stdout).toMatch(/summary: .* not connected after 2 attempts/)
    expect(result.stdout).toMatch(/Check the port and that the service runs there/)
    expectCommandLineWords(result.stdout + result.stderr)
  })

  it("probe of a listening port with data connects and exits 0", async () => {
    const result = await withSink((port) => connectex("probe", `127.0.0.1:${port}`, "--data", "ping"))
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/attempt 1: connected, 4 bytes sent/)
  })

  it("a malformed target is a readable error naming the argument, with where to find the usage, exit 2", async () => {
    const result = await connectex("probe", "not-an-address")
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/invalid target "not-an-address": the port is missing; give host:port, e.g. not-an-address:8080/)
    expect(result.stderr).toMatch(/run `connectex probe --help` for the usage/)
    expectCommandLineWords(result.stdout + result.stderr)
  })

  it.each([
    [["probe", "127.0.0.1:80", "--timeout", "soon"], /invalid duration "soon"/],
    [["probe", "127.0.0.1:80", "--retries=-1"], /--retries -1: it must be 0 or more/],
    [["probe", "127.0.0.1:70000"], /invalid target "127.0.0.1:70000": the port must be a number from 1 to 65535/],
    [["probe", "127.0.0.1:0"], /the port must be a number from 1 to 65535, got "0"/],
    [["probe", "::1:80"], /an IPv6 address goes in brackets: \[::1\]:80/],
    [["probe", "::1"], /an IPv6 address goes in brackets, followed by the port: \[::1\]:8080/],
    [["probe", "1.2.3:80"], /"1.2.3" is not an IPv4 address/],
    [["probe", "http://example.com:80"], /give host:port without a scheme/],
    [["probe", "bad name:80"], /"bad name" is neither an IP address nor a host name/],
    [["probe", "localhost:80", "--bind", "localhost:0"], /invalid --bind address "localhost:0": "localhost" is a name; give an IP address of this machine/],
    [["probe", "localhost:80", "--fast-open"], /--fast-open needs an IP address target, and localhost is a name/],
    [["probe"], /Missing argument <host:port>/],
    [["frob"], /Invalid subcommand/]
  ])("bad input %j is refused with a clear message, exit 2", async (args, message) => {
    const result = await connectex(...args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expectCommandLineWords(result.stdout + result.stderr)
  })

  it("probe of a name resolves it and connects to the address that answers (localhost)", async () => {
    const result = await withSink((port) => connectex("probe", `localhost:${port}`, "--data", "ping"))
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/probe localhost:\d+: .*races its addresses \(Happy Eyeballs\)/)
    // the sink listens on 127.0.0.1 only: an IPv6 answer for localhost is refused and the race goes on
    expect(result.stdout).toMatch(/attempt 1: connected to 127\.0\.0\.1:\d+, 4 bytes sent/)
    expect(result.stdout).toMatch(/summary: localhost:\d+ connected on attempt 1/)
  })

  it("probe of a name whose every address refuses names the code and exits 1", async () => {
    const result = await Effect.runPromise(Effect.scoped(Effect.flatMap(refusedPort(), (refused) =>
      Effect.promise(() => connectex("probe", `localhost:${refused.port}`)))))
    expect(result.code).toBe(1)
    // (the addresses after the code come from DialError's attempts; a single code for "all refused" needs none)
    expect(result.stdout).toMatch(/attempt 1: WSAECONNREFUSED \(code 10061\)/)
    expect(result.stdout).toMatch(/last error WSAECONNREFUSED/)
    expectCommandLineWords(result.stdout + result.stderr)
  })

  it("probe of a name that does not resolve says so in command-line words and exits 1", async () => {
    // .invalid never resolves (RFC 6761); without a name server the answer is EAI_AGAIN, also a ResolveError
    const result = await connectex("probe", "no-such-host.invalid:80", "--timeout", "10s")
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/attempt 1: ResolveError: .*"no-such-host\.invalid"/)
    expect(result.stdout).toMatch(/summary: no-such-host\.invalid:80 not connected/)
    expectCommandLineWords(result.stdout + result.stderr)
  })

  it("probe of an IPv6 literal in brackets connects", async (context) => {
    const result = await withSink((port) => connectex("probe", `[::1]:${port}`), "::1").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRNOTAVAIL" || error.code === "EAFNOSUPPORT") return context.skip("no IPv6 loopback here")
      throw error
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/probe \[::1\]:\d+: /)
    expect(result.stdout).toMatch(/attempt 1: connected, 0 bytes sent/)
  })

  it("help on a pipe is plain text (no ANSI escapes), NO_COLOR unset", async () => {
    const result = await connectex("probe", "--help")
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/USAGE/)
    expect(result.stdout).toMatch(/a host name \(resolved; its addresses are raced, IPv6 first\)/)
    expect(result.stdout + result.stderr).not.toMatch(escape)
  })

  describe.skipIf(!hasScript)("on a terminal", () => {
    it("help is coloured without NO_COLOR, and with an empty NO_COLOR (no-color.org: only a value counts)", async () => {
      for (const env of [{}, { NO_COLOR: "" }]) {
        const result = await onTerminal(env, "--help")
        expect(result.code).toBe(0)
        expect(result.stdout).toMatch(/USAGE/)
        expect(result.stdout).toMatch(escape)
      }
    })

    it.each(["1", "0", "false"])("NO_COLOR=%s gives plain help and plain usage errors", async (value) => {
      const help = await onTerminal({ NO_COLOR: value }, "--help")
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(/USAGE/)
      expect(help.stdout).not.toMatch(escape)
      const bad = await onTerminal({ NO_COLOR: value }, "probe", "not-an-address")
      expect(bad.code).toBe(2)
      expect(bad.stdout).toMatch(/invalid target "not-an-address"/)
      expect(bad.stdout).not.toMatch(escape)
    })
  })
})
