/**
 * Every koffi poll handle the POSIX driver makes, watched (Linux only; a setup file of the suite and of
 * `npm run mutate`). The driver must close a socket's poll handle before its descriptor (libuv tracks watchers
 * by number, and the kernel hands numbers out again): a test in which a handle outlives its descriptor fails
 * here, whichever file it is in, even where `liveAllocations()` balances.
 *
 * Such a leak would otherwise surface as a crash: the next `koffi.node.poll` on the reused number fails inside
 * libuv, which koffi turns into a fatal error of the whole process (for Stryker, a test runner to restart and
 * a mutant to test again, several seconds each). So a leaked handle is closed as soon as it is found, and is
 * reported by the test's `afterEach`. `close` is idempotent in koffi.
 */
import { fstatSync } from "node:fs"
import { afterAll, afterEach, vi } from "vitest"
import type { PollHandle } from "../../packages/core/src/native/posix/libc.js"

interface Watched {
  readonly fd: number
  readonly handle: PollHandle
  /** what was asked of the handle, in order: "watch r", "start rw", "stop", "unref", "ref", "close" */
  readonly calls: Array<string>
}

const watched = vi.hoisted(() => {
  const byFd = new Map<number, Watched>()
  // What tests of the driver read (packages/core/test/support/pollCalls.ts): the calls on a descriptor's handle.
  ;(globalThis as Record<symbol, unknown>)[Symbol.for("connectex.pollCalls")] = (fd: number): ReadonlyArray<string> | undefined =>
    byFd.get(fd)?.calls
  return { byFd, closed: new WeakSet<object>(), callsOf: new WeakMap<object, Array<string>>(), leaks: [] as Array<string> }
})

const armedFor = (events: { readonly readable: boolean; readonly writable: boolean }): string =>
  `${events.readable ? "r" : ""}${events.writable ? "w" : ""}`

/** Records each call of `name` on `handle` (koffi's methods are read-only on the class: an own property). */
const record = (handle: PollHandle, calls: Array<string>, name: "stop" | "ref" | "unref" | "close", also?: () => void): void => {
  const method = handle[name].bind(handle)
  Object.defineProperty(handle, name, {
    value: (): void => {
      calls.push(name)
      also?.()
      method()
    }
  })
}

vi.mock(import("../../packages/core/src/native/posix/libc.js"), async (importOriginal) => {
  const libc = await importOriginal()
  return {
    ...libc,
    watch: (...args: Parameters<typeof libc.watch>): PollHandle => {
      const [fd] = args
      const previous = watched.byFd.get(fd)
      if (previous !== undefined && !watched.closed.has(previous.handle)) {
        watched.leaks.push(`a poll handle on descriptor ${fd} was still open when the number was watched again`)
        previous.handle.close()
      }
      const handle = libc.watch(...args)
      const calls = [`watch ${armedFor(args[1])}`]
      record(handle, calls, "close", () => watched.closed.add(handle))
      record(handle, calls, "stop")
      record(handle, calls, "ref")
      record(handle, calls, "unref")
      watched.byFd.set(fd, { fd, handle, calls })
      watched.callsOf.set(handle, calls)
      return handle
    },
    restart: (...args: Parameters<typeof libc.restart>): void => {
      const [handle, events] = args
      watched.callsOf.get(handle)?.push(`start ${armedFor(events)}`)
      libc.restart(...args)
    }
  }
})

const descriptorOpen = (fd: number): boolean => {
  try {
    fstatSync(fd)
    return true
  } catch {
    return false
  }
}

afterEach(() => {
  for (const entry of watched.byFd.values()) {
    if (watched.closed.has(entry.handle) || descriptorOpen(entry.fd)) continue
    watched.leaks.push(`a poll handle on descriptor ${entry.fd} is open, its descriptor closed`)
    entry.handle.close()
  }
  const leaks = watched.leaks.splice(0)
  if (leaks.length > 0) throw new Error(`poll handles leaked: ${leaks.join("; ")}`)
})

afterAll(() => {
  for (const entry of watched.byFd.values()) entry.handle.close()
  watched.byFd.clear()
})
