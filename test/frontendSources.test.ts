/**
 * The Effect code written once (packages/frontend/src) and each front-end's own src/ are one folder to the type
 * checker (rootDirs), to the build (scripts/build-frontend.mjs) and to vitest (scripts/frontendSources.ts):
 * docs/architecture.md. No module may be in both (the front-end's own would silently win in vitest), a front-end's
 * src/ holds only its own files, and the vitest plugin resolves as the type checker does.
 */
import { lstatSync, readdirSync } from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { frontendSources, sharedSources } from "../scripts/frontendSources.js"

const root = Path.resolve(import.meta.dirname, "..")
const frontEnds = ["packages/effect-connectex/src", "packages/effect4/src"]
const slashes = (path: string) => path.replace(/\\/g, "/")

const filesUnder = (dir: string, prefix = ""): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.posix.join(prefix, entry.name)
    return entry.isDirectory() ? filesUnder(Path.join(dir, entry.name), path) : [path]
  })

describe("the front-end code written once", () => {
  const shared = filesUnder(sharedSources)

  it("is there", () => {
    expect(shared).toContain("Socket.ts")
    expect(shared).toContain("errors/classes.ts")
    expect(shared).toContain("internal/dial.ts")
  })

  it.each(frontEnds)("%s holds only its own modules: none of the shared ones, no links", (dir) => {
    const own = filesUnder(Path.join(root, dir))
    expect(own).toContain("internal/effectVersion.ts")
    expect(own.filter((file) => shared.includes(file))).toEqual([])
    for (const file of own) expect(lstatSync(Path.join(root, dir, file)).isSymbolicLink(), file).toBe(false)
  })

  describe.each(frontEnds)("vitest's view of %s", (dir) => {
    const own = slashes(Path.join(root, dir)) + "/"
    const resolved: Array<[string, string | undefined]> = []
    const plugin = frontendSources(Path.join(root, dir))
    const context = {
      resolve: async (source: string, importer?: string) => {
        resolved.push([source, importer])
        return { id: `resolved:${source}` }
      }
    }
    const resolveId = (source: string, importer: string) => plugin.resolveId.call(context, source, importer, {})

    it("a shared module's relative import of a front-end module is the front-end's own file", () => {
      expect(resolveId("./internal/effectVersion.js", `${sharedSources}Socket.ts`)).toBe(`${own}internal/effectVersion.ts`)
      expect(resolveId("../internal/effectVersion.js", `${sharedSources}errors/WsaError.ts`)).toBe(`${own}internal/effectVersion.ts`)
    })

    it("a relative import of a shared module is the shared file, from the front-end's own modules and its tests", () => {
      expect(resolveId("../Socket.js", `${own}internal/port.ts`)).toBe(`${sharedSources}Socket.ts`)
      expect(resolveId("../src/index.js", `${own}../test/types.test.ts`)).toBe(`${sharedSources}index.ts`)
      expect(resolveId(`${own}Socket.ts`, `${own}../test/types.test.ts`)).toBe(`${sharedSources}index.ts`.replace("index", "Socket"))
    })

    it("a shared module's or shared test's packages resolve from the front-end (its own effect); the rest is left to vite", async () => {
      expect(await resolveId("effect/Effect", `${sharedSources}Socket.ts`)).toEqual({ id: "resolved:effect/Effect" })
      expect(resolved.at(-1)).toEqual(["effect/Effect", `${own}index.ts`])
      // the shared tests (packages/frontend/test) run under the front-end's own vitest and effect
      expect(await resolveId("vitest", `${sharedSources}../test/types.ts`)).toEqual({ id: "resolved:vitest" })
      expect(resolved.at(-1)).toEqual(["vitest", `${own}index.ts`])
      expect(resolveId("node:net", `${sharedSources}NodeStream.ts`)).toBe(null)
      expect(resolveId("effect/Effect", `${own}internal/port.ts`)).toBe(null)
      expect(resolveId("./support/doubles.js", slashes(Path.join(root, "test/cli.test.ts")))).toBe(null)
      expect(resolveId("./missing.js", `${sharedSources}Socket.ts`)).toBe(null)
    })
  })
})
