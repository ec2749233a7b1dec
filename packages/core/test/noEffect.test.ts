/** The core is Effect-free: no source file of it imports `effect` (or an `@effect/` package). */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const sourcesOf = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourcesOf(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

describe("the core", () => {
  it("imports neither effect nor any @effect/ package, nor a front-end", () => {
    const root = fileURLToPath(new URL("../src", import.meta.url))
    const files = sourcesOf(root)
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      const imports = [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1])
      for (const specifier of imports) {
        expect(specifier, file).not.toMatch(/^(effect|effect\/|@effect\/|effect-connectex|@effect-connectex\/effect4)/)
      }
    }
  })
})
