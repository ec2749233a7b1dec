/**
 * A process that serves (its completion port keeps a poll in flight for the pending accept) exits on
 * `process.exit`. Windows only: run on Linux with `npm run test:windows` (Wine).
 */
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"

const isWindows = process.platform === "win32"

const serveThenExit = `
import { Effect, ManagedRuntime } from "effect"
import { ConnectEx, Listener, SocketAddress } from "effect-connectex"
const runtime = ManagedRuntime.make(ConnectEx.layer)
runtime.runFork(Effect.scoped(Effect.gen(function*() {
  const listener = yield* Listener.listen(SocketAddress.ipv4("127.0.0.1", 0))
  yield* Effect.fork(Listener.serve(listener, () => Effect.void))
  yield* Effect.sleep("200 millis")
  console.log("serving; exiting")
  process.exit(0)
})))
`

describe.skipIf(!isWindows)("process exit with a poll in flight", () => {
  it("a process serving with Listener.serve exits on process.exit (the poller's blocked call is released)", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", serveThenExit], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => void (output += String(chunk)))
    child.stderr.on("data", (chunk) => void (output += String(chunk)))
    const code = await new Promise<number | null | "hung">((resolve) => {
      const timer = setTimeout(() => resolve("hung"), 30_000)
      child.once("exit", (exitCode) => {
        clearTimeout(timer)
        resolve(exitCode)
      })
    })
    if (code === "hung") child.kill("SIGKILL")
    expect(output).toContain("serving; exiting")
    expect(code).toBe(0)
  }, 60_000)
})
