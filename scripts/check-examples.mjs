// Every exported value of a public module (packages/frontend/src/*.ts, written once for both front-ends, and each front-end's own src/*.ts) must carry a doc comment with an @example:
// the API reference is generated from these comments (npm run docs), and users read them in their editor.
import { readFileSync, readdirSync } from "node:fs"

import { existsSync } from "node:fs"

const missing = []
const modulesOf = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts").map((f) => `${dir}/${f}`) : [])
// The modules written once, and each front-end's own (the Effect 3 library, the Effect 4 package).
const publicModules = ["packages/frontend/src", "packages/effect-connectex/src", "packages/effect4/src"].flatMap((lib) => [...modulesOf(lib), ...modulesOf(`${lib}/errors`)])
for (const file of publicModules) {
  const text = readFileSync(file, "utf8")
  const pattern = /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?export (?:const|class|function) (\w+)/g
  for (const match of text.matchAll(pattern)) {
    const [, doc, name] = match
    if (doc === undefined || doc.includes("@internal")) {
      if (doc === undefined) missing.push(`${file}: ${name} has no doc comment`)
      continue
    }
    if (!doc.includes("@example")) missing.push(`${file}: ${name} has no @example`)
  }
}
if (missing.length > 0) {
  console.error(missing.join("\n"))
  console.error(`\n${missing.length} exported values without a documented example`)
  process.exit(1)
}
console.log("every exported value of the public modules has a doc comment with an @example")
