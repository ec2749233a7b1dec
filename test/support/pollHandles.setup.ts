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
}

const watched = vi.hoisted(() => ({ byFd: new Map<number, Watched>(), closed: new WeakSet<object>(), leaks: [] as Array<string> }))

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
      // koffi defines `close` read-only on the class (an assignment throws): an own property takes its place
      const close = handle.close.bind(handle)
      Object.defineProperty(handle, "close", {
        value: (): void => {
          watched.closed.add(handle)
          close()
        }
      })
      watched.byFd.set(fd, { fd, handle })
      return handle
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
