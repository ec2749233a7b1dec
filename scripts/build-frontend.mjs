// Builds a front-end package: its own src/ and packages/frontend/src (the Effect code written once) are copied
// into one folder, packages/<name>/build/src, which tsc compiles into packages/<name>/dist. The copy sits inside
// the package, so the shared modules' `effect` is the package's own (effect 4 in packages/effect4) and their
// relative imports reach the package's own modules, as TypeScript's `rootDirs` (the typecheck) and
// scripts/frontendSources.ts (vitest) see the two folders. Source maps name the files the code was written in.
// scripts/build.mjs builds the whole repository with `stage` and `pointSourceMaps` in one process.
//   node scripts/build-frontend.mjs effect-connectex effect4
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const shared = Path.join(root, "packages/frontend/src")
const tsc = Path.join(root, "node_modules/typescript/bin/tsc")

const filesUnder = (dir, prefix = "") =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(prefix, entry.name)
    return entry.isDirectory() ? filesUnder(Path.join(dir, entry.name), path) : [path]
  })

/** Which file each staged file was copied from, by its path under src/ (the front-end's own and the shared). */
const originsOf = (name) => {
  const own = Path.join(root, "packages", name, "src")
  const origin = new Map()
  for (const [dir, files] of [[shared, filesUnder(shared)], [own, filesUnder(own)]]) {
    for (const file of files) {
      if (origin.has(file)) throw new Error(`${name}: ${file} is both in packages/frontend/src and in its own src/`)
      origin.set(file, Path.join(dir, file))
    }
  }
  return origin
}

const stageOf = (name) => Path.join(root, "packages", name, "build/src")

/** Copies the front-end's own src/ and the shared folder into its build/src, ready for tsconfig.build.json. */
export const stage = (name) => {
  const stage = stageOf(name)
  const origin = originsOf(name)
  // The copy follows both folders: a file removed from them leaves it, a file unchanged is not written again
  // (tsc's incremental state then finds nothing to compile).
  if (existsSync(stage)) {
    for (const file of filesUnder(stage)) if (!origin.has(file)) rmSync(Path.join(stage, file))
  }
  for (const [file, from] of origin) {
    const to = Path.join(stage, file)
    if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) continue
    mkdirSync(Path.dirname(to), { recursive: true })
    cpSync(from, to)
  }
}

/** Points each source map of the front-end's dist/ at the file the code was written in (the copy is a build detail). */
export const pointSourceMaps = (name) => {
  const stage = stageOf(name)
  const origin = originsOf(name)
  const dist = Path.join(root, "packages", name, "dist")
  for (const file of filesUnder(dist).filter((f) => f.endsWith(".js.map"))) {
    const mapPath = Path.join(dist, file)
    const map = JSON.parse(readFileSync(mapPath, "utf8"))
    map.sources = map.sources.map((source) => {
      const staged = Path.relative(stage, Path.resolve(Path.dirname(mapPath), source))
      const written = origin.get(staged)
      return written === undefined ? source : Path.relative(Path.dirname(mapPath), written).split(Path.sep).join("/")
    })
    writeFileSync(mapPath, JSON.stringify(map))
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2)
  if (names.length === 0 || names.some((name) => !existsSync(Path.join(root, "packages", name, "tsconfig.build.json")))) {
    console.error("usage: node scripts/build-frontend.mjs <front-end package folder>... (effect-connectex, effect4)")
    process.exit(2)
  }
  for (const name of names) {
    stage(name)
    execFileSync(process.execPath, [tsc, "-b", Path.join(root, "packages", name, "tsconfig.build.json")], { stdio: "inherit" })
    pointSourceMaps(name)
  }
}
