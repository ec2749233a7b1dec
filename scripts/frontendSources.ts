/**
 * A front-end's sources, as vitest loads them: its own `src/` and `packages/frontend/src` (the Effect code
 * written once) seen as one folder, what TypeScript's `rootDirs` says to the type checker and
 * scripts/build-frontend.mjs does for the build (docs/architecture.md).
 *
 * - A relative or absolute path into either folder is looked up in the front-end's own `src/` first, then in
 *   the shared one: `./internal/effectVersion.js` from a shared module is the front-end's own file, `../src/Socket.js`
 *   from a test is the shared `Socket.ts`.
 * - A package name imported by a shared module or shared test (`effect`, `vitest`, `@effect-connectex/core`;
 *   anything under packages/frontend) is resolved as if the front-end's own `src/index.ts` imported it: the
 *   shared code runs against the front-end's own `effect`, and packages/frontend/test under its own vitest.
 *
 * Only `resolveId` of vite's plugin interface, so that vitest 3 (vite 6/7) and vitest 5 (vite 8) both take it.
 */
import { existsSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** The slice of vite's plugin interface used here (vite itself is not imported: each vitest brings its own). */
interface ResolvePlugin {
  readonly name: string
  readonly enforce: "pre"
  resolveId(
    this: { resolve(source: string, importer?: string, options?: object): Promise<{ id: string } | null> },
    source: string,
    importer: string | undefined,
    options: object
  ): Promise<string | { id: string } | null> | string | null
}

const slashes = (path: string) => path.replace(/\\/g, "/")

/** Whether `path` is inside `dir` (both with forward slashes): Windows' paths compare without case. */
const within = (path: string, dir: string) =>
  process.platform === "win32" ? path.toLowerCase().startsWith(dir.toLowerCase()) : path.startsWith(dir)

/** `packages/frontend/`, with forward slashes (vite's ids use them on Windows too). */
const sharedPackage = slashes(fileURLToPath(new URL("../packages/frontend/", import.meta.url)))

/** `packages/frontend/src/`: the Effect code written once. */
export const sharedSources = `${sharedPackage}src/`

/** The plugin for the front-end whose own sources are in `ownSources` (a folder path). */
export const frontendSources = (ownSources: string): ResolvePlugin => {
  const own = slashes(Path.resolve(ownSources)) + "/"
  const roots = [own, sharedSources]
  const fromOwn = `${own}index.ts`
  return {
    name: "effect-connectex:frontend-sources",
    enforce: "pre",
    resolveId(source, importer, options) {
      if (importer === undefined || source.startsWith("\0")) return null
      const from = slashes(importer)
      if (source.startsWith(".") || Path.isAbsolute(source)) {
        const candidate = slashes(Path.resolve(Path.dirname(from), source))
        const root = roots.find((dir) => within(candidate, dir))
        if (root === undefined) return null
        const rest = candidate.slice(root.length).replace(/\.js$/, ".ts")
        for (const dir of roots) {
          if (existsSync(dir + rest)) return dir + rest
        }
        return null
      }
      if (within(from, sharedPackage) && !source.startsWith("node:")) {
        return this.resolve(source, fromOwn, { ...options, skipSelf: true })
      }
      return null
    }
  }
}
