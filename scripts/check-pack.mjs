// What `npm publish` would ship: dist/ (JavaScript and types), README, LICENSE, CHANGELOG, package.json,
// and nothing else large. Reads `npm pack --dry-run --json`.
import { execFileSync } from "node:child_process"

const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" }))
const files = pack.files.map((f) => f.path)
const problems = []
for (const required of ["dist/index.js", "dist/index.d.ts", "dist/bin/connectex.js", "README.md", "LICENSE", "CHANGELOG.md", "package.json"]) {
  if (!files.includes(required)) problems.push(`missing ${required}`)
}
const allowed = (path) => path.startsWith("dist/") || ["README.md", "LICENSE", "CHANGELOG.md", "package.json"].includes(path)
for (const path of files.filter((p) => !allowed(p))) problems.push(`unexpected file ${path}`)
for (const file of pack.files.filter((f) => f.size > 256 * 1024)) problems.push(`large file ${file.path} (${file.size} bytes)`)
if (pack.unpackedSize > 4 * 1024 * 1024) problems.push(`unpacked size ${pack.unpackedSize} bytes`)
console.log(`${pack.name}@${pack.version}: ${files.length} files, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked`)
if (problems.length > 0) {
  console.error(problems.join("\n"))
  process.exit(1)
}
