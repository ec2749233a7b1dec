/**
 * The Effect code written once (packages/frontend/src) reaches both front-ends through symbolic links at the same
 * paths in their src/ (docs/architecture.md). Every shared file has its link in both, each link points at its
 * shared file, and neither front-end keeps a file of its own where a link belongs.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"

const root = Path.resolve(import.meta.dirname, "..")
const shared = Path.join(root, "packages/frontend/src")
const frontEnds = ["packages/effect-connectex/src", "packages/effect4/src"].map((dir) => Path.join(root, dir))

const filesUnder = (dir: string, prefix = ""): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(prefix, entry.name)
    return entry.isDirectory() ? filesUnder(Path.join(dir, entry.name), path) : [path]
  })

describe.skipIf(process.platform === "win32")("the front-end code written once", () => {
  const files = filesUnder(shared)

  it("is there", () => {
    expect(files).toContain("Socket.ts")
    expect(files).toContain("errors/classes.ts")
  })

  it.each(frontEnds.map((dir) => [Path.relative(root, dir), dir]))("%s links every shared file, at its path", (_, dir) => {
    for (const file of files) {
      const link = Path.join(dir, file)
      expect(lstatSync(link).isSymbolicLink(), `${link} is a link`).toBe(true)
      expect(Path.isAbsolute(readlinkSync(link)), `${link} is relative (the clone may move)`).toBe(false)
      expect(realpathSync(link)).toBe(Path.join(shared, file))
    }
  })

  it.each(frontEnds.map((dir) => [Path.relative(root, dir), dir]))("%s has no link that points elsewhere", (_, dir) => {
    for (const file of filesUnder(dir)) {
      const path = Path.join(dir, file)
      if (lstatSync(path).isSymbolicLink()) expect(realpathSync(path)).toBe(Path.join(shared, file))
    }
  })
})
