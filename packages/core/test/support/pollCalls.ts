/**
 * What the POSIX driver asked of a descriptor's poll handle, in order ("watch r", "start rw", "stop", "ref",
 * "unref", "close"), as test/support/pollHandles.setup.ts records it (a setup file of the suite on Linux).
 */
export const pollCalls = (fd: number): ReadonlyArray<string> => {
  const read = (globalThis as Record<symbol, unknown>)[Symbol.for("connectex.pollCalls")] as
    | ((fd: number) => ReadonlyArray<string> | undefined)
    | undefined
  if (read === undefined) throw new Error("poll handles are not recorded: test/support/pollHandles.setup.ts is not a setup file of this run")
  return [...(read(fd) ?? [])]
}
