/**
 * What the POSIX driver asks of a descriptor's poll handle, in order ("watch r", "start rw", "stop", "ref",
 * "unref", "close"), as test/support/pollHandles.setup.ts records them (a setup file of the suite on Linux).
 * Descriptor numbers are reused: `pollCalls(fd)` gives a reader of the calls made from now on only.
 */
export const pollCalls = (fd: number): (() => ReadonlyArray<string>) => {
  const read = (globalThis as Record<symbol, unknown>)[Symbol.for("connectex.pollCalls")] as
    | ((fd: number) => ReadonlyArray<string> | undefined)
    | undefined
  if (read === undefined) throw new Error("poll handles are not recorded: test/support/pollHandles.setup.ts is not a setup file of this run")
  const before = read(fd)
  const seen = before?.length ?? 0
  return () => {
    const now = read(fd) ?? []
    // the same handle: what came since; a handle made since: all of its calls
    return now === before ? now.slice(seen) : [...now]
  }
}
