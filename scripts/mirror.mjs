// How much of the Effect 4 front-end stands again in the Effect 3 one (issue 18's measure): the share of
// packages/effect4/src's code lines that appear, word for word, in packages/effect-connectex/src. Code lines
// only: comments, imports and lines shorter than 12 characters are left out and whitespace is folded (the
// same counting as the session hook). Also each front-end's src/ line count (all lines, as wc -l).
// The modules written once live in packages/frontend/src, compiled into both front-ends (docs/architecture.md);
// they are in neither front-end's src/, and their size is printed beside them. A symbolic link would count as the
// file it points at (as the session hook reads it): the front-ends' src/ holds none (test/frontendSources.test.ts).
//   node scripts/mirror.mjs            the figures, then a JSON last line
//   node scripts/mirror.mjs --files    and the mirrored lines per Effect 4 file, most first
import { readdirSync, readFileSync } from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(Path.dirname(new URL(import.meta.url).pathname), "..")

const sourcesOf = (pkg) => {
  const out = []
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = Path.join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith(".ts")) out.push(path)
    }
  }
  walk(Path.join(root, "packages", pkg, "src"))
  return out.sort()
}

/** The code lines of a file, as the measure counts them. */
const codeLines = (text) => {
  const out = []
  let inComment = false
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/\s+/g, " ")
    if (inComment) {
      inComment = !line.includes("*/")
      continue
    }
    if (line.startsWith("/*")) {
      inComment = !line.includes("*/")
      continue
    }
    if (line === "" || line.startsWith("//") || line.startsWith("*") || line.startsWith("import ") || line.length < 12) continue
    out.push(line)
  }
  return out
}

const measure = (pkg) => {
  const files = sourcesOf(pkg).map((path) => {
    const text = readFileSync(path, "utf8")
    // wc -l counts newlines
    return { path: Path.relative(root, path), lines: (text.match(/\n/g) ?? []).length, code: codeLines(text) }
  })
  return { files, lines: files.reduce((n, f) => n + f.lines, 0) }
}

const effect3 = measure("effect-connectex")
const effect4 = measure("effect4")
const shared = measure("frontend")
const seen = new Set(effect3.files.flatMap((f) => f.code))
const perFile = effect4.files.map((f) => ({ path: f.path, code: f.code.length, mirrored: f.code.filter((l) => seen.has(l)).length }))
const code = perFile.reduce((n, f) => n + f.code, 0)
const mirrored = perFile.reduce((n, f) => n + f.mirrored, 0)
const share = code === 0 ? 0 : mirrored / code

if (process.argv.includes("--files")) {
  for (const f of [...perFile].sort((a, b) => b.mirrored - a.mirrored)) {
    if (f.mirrored > 0) console.log(`${String(f.mirrored).padStart(5)} of ${String(f.code).padStart(4)}  ${f.path}`)
  }
}
console.log(`mirror: ${mirrored} of ${code} code lines of packages/effect4/src stand again in packages/effect-connectex/src (${(share * 100).toFixed(1)}%; target <= 25%)`)
console.log(`src/ lines: packages/effect-connectex ${effect3.lines}, packages/effect4 ${effect4.lines} (target <= 2,500 each); written once for both, packages/frontend/src ${shared.lines}`)
console.log(JSON.stringify({ mirrored, code, share: Number(share.toFixed(4)), effect3Lines: effect3.lines, effect4Lines: effect4.lines, sharedLines: shared.lines }))
