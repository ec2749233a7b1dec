/**
 * A process whose completion port keeps a poll in flight (a pending AcceptEx, as a serving process has) exits
 * on `process.exit`: Node joins its threadpool at exit, and the port's wake-up packet releases the thread
 * blocked in GetQueuedCompletionStatusEx (`port.ts`). Windows only: run on Linux with `npm run test:windows`
 * (Wine).
 */
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"

const isWindows = process.platform === "win32"

// The built packages, as a user's process loads them (the lane builds dist/ before it runs).
const acceptThenExit = `
import { makeIpv4 } from "@effect-connectex/core"
import { makeWindowsDriver } from "@effect-connectex/core/windows"
const driver = makeWindowsDriver()
if (driver.startup() !== 0) process.exit(3)
const opened = driver.open("ipv4")
if (!opened.ok) process.exit(4)
if (driver.bind(opened.value, makeIpv4("127.0.0.1", 0), false) !== 0 || driver.listen(opened.value, 16) !== 0) process.exit(5)
driver.accept(opened.value, 0, () => {})
setTimeout(() => {
  console.log("accepting; exiting")
  process.exit(0)
}, 200)
`

describe.skipIf(!isWindows)("process exit with a poll in flight", () => {
  it("a process with an AcceptEx pending exits on process.exit (the poller's blocked call is released)", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", acceptThenExit], { stdio: ["ignore", "pipe", "pipe"] })
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
    expect(output).toContain("accepting; exiting")
    expect(code).toBe(0)
  }, 60_000)
})
