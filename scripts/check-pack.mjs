// What `npm publish` would ship for each publishable package, then a clean install as a user makes it:
//  1. `npm pack` each package: dist/ (JavaScript, types, source maps that carry their sources), README,
//     LICENSE (CHANGELOG for the library), package.json, and nothing else large;
//  2. a fresh project with effect@3 installs the library's tarball: no CLI dependencies in its tree, the
//     README's quick start type-checks with the README's tsconfig and runs against a local echo server;
//  3. a fresh project with effect@4 refuses it loudly (npm's peer-dependency error), never silently;
//  4. a fresh project with effect@4.1.0 installs the Effect 4 package's tarball, and its quick start
//     type-checks and runs on Node 22 (installed from the npm registry by scripts/install-node22.sh).
// Run after `npm run build`. Uses only the npm registry and 127.0.0.1.
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"

const root = Path.resolve(Path.dirname(new URL(import.meta.url).pathname), "..")
const problems = []
const npm = (args, cwd, options = {}) => spawnSync("npm", args, { cwd, encoding: "utf8", ...options })

const packages = {
  core: { dir: "packages/core", required: ["dist/index.js", "dist/index.d.ts", "dist/posix.js", "dist/windows.js"] },
  library: { dir: "packages/effect-connectex", required: ["dist/index.js", "dist/index.d.ts", "dist/Socket.js", "CHANGELOG.md"] },
  cli: { dir: "packages/cli", required: ["dist/connectex.js"] },
  effect4: { dir: "packages/effect4", required: ["dist/index.js", "dist/index.d.ts", "dist/Socket.js"] }
}
const work = mkdtempSync(Path.join(tmpdir(), "connectex-pack-"))
const tarballs = {}

// 1. contents ---------------------------------------------------------------------------------------------
for (const [key, { dir, required }] of Object.entries(packages)) {
  const cwd = Path.join(root, dir)
  const [pack] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd, encoding: "utf8" }))
  tarballs[key] = Path.join(work, pack.filename)
  const files = pack.files.map((f) => f.path)
  for (const file of [...required, "README.md", "LICENSE", "package.json"]) {
    if (!files.includes(file)) problems.push(`${pack.name}: missing ${file}`)
  }
  const allowed = (path) => path.startsWith("dist/") || ["README.md", "LICENSE", "CHANGELOG.md", "package.json"].includes(path)
  for (const path of files.filter((p) => !allowed(p))) problems.push(`${pack.name}: unexpected file ${path}`)
  for (const path of files.filter((p) => p.includes(".tsbuildinfo") || p.includes("/test"))) problems.push(`${pack.name}: test or build file ${path}`)
  for (const file of pack.files.filter((f) => f.size > 512 * 1024)) problems.push(`${pack.name}: large file ${file.path} (${file.size} bytes)`)
  // A source map must carry its sources: src/ is not shipped.
  for (const map of files.filter((p) => p.endsWith(".js.map"))) {
    const json = JSON.parse(readFileSync(Path.join(cwd, map), "utf8"))
    if (!Array.isArray(json.sourcesContent) || json.sourcesContent.some((s) => typeof s !== "string")) {
      problems.push(`${pack.name}: ${map} does not carry its sources`)
    }
  }
  const readmeText = readFileSync(Path.join(cwd, "README.md"), "utf8")
  for (const link of readmeText.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)) problems.push(`${pack.name}: README links to ${link[1]}, outside the package`)
  const manifest = JSON.parse(readFileSync(Path.join(cwd, "package.json"), "utf8"))
  for (const field of ["repository", "homepage", "keywords", "license"]) {
    if (manifest[field] === undefined) problems.push(`${pack.name}: package.json has no ${field}`)
  }
  if (key !== "cli" && manifest.sideEffects !== false) problems.push(`${pack.name}: package.json sideEffects is not false`)
  if (key === "library" || key === "effect4") {
    if (manifest.dependencies?.effect !== undefined) problems.push(`${pack.name}: effect must be a peer dependency`)
    if (manifest.peerDependencies?.effect === undefined) problems.push(`${pack.name}: effect is not a peer dependency`)
  }
  console.log(`${pack.name}@${pack.version}: ${files.length} files, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked`)
}

// 2. a fresh project with effect@3 --------------------------------------------------------------------------
const readme = readFileSync(Path.join(root, "README.md"), "utf8")
const quickStart = readFileSync(Path.join(root, "examples/quickstart.ts"), "utf8")
const tsconfigBlock = /```json\n(\{\n  "compilerOptions"[\s\S]*?)```/.exec(readme)?.[1]
if (tsconfigBlock === undefined) problems.push("README: no tsconfig block for users")
/**
 * A user's project: the README's tsconfig, `quickStart` as src/quickstart.ts and a main that runs its `hello`
 * against a local echo server. Installs `packages`, type-checks and runs with `node`; `checkTree` may add
 * problems about what was installed. `label` names the project in messages.
 */
const tryQuickStart = ({ checkTree, label, library, node, packages, quickStart }) => {
  const dir = Path.join(work, label.replace(/[^a-z0-9.]+/gi, "-"))
  execFileSync("mkdir", ["-p", Path.join(dir, "src")])
  writeFileSync(Path.join(dir, "package.json"), JSON.stringify({ name: "user", private: true, type: "module" }, null, 2))
  writeFileSync(Path.join(dir, "tsconfig.json"), tsconfigBlock ?? "{}")
  writeFileSync(Path.join(dir, "src/quickstart.ts"), quickStart)
  writeFileSync(Path.join(dir, "src/main.ts"), `import { Effect } from "effect"
import * as net from "node:net"
import { SocketAddress } from "${library}"
import { hello } from "./quickstart.js"
// internal modules are not the package's API: importing one is refused, as in Effect's own packages
const internalPath: string = "${library}/internal/socket"
const internal = await import(internalPath).then(() => "importable", (e: { code?: string }) => e.code)
console.log(\`internal modules: \${internal}\`)
const server = net.createServer((c) => c.pipe(c)).listen(0, "127.0.0.1", async () => {
  const { port } = server.address() as net.AddressInfo
  console.log(await Effect.runPromise(hello(SocketAddress.ipv4("127.0.0.1", port), new TextEncoder().encode("hello"))))
  server.close()
})
`)
  const install = npm(["install", "--no-audit", "--no-fund", "--loglevel=error", ...packages], dir)
  if (install.status !== 0) return void problems.push(`${label} project: npm install failed:\n${install.stderr}`)
  checkTree?.(npm(["ls", "--all", "--parseable"], dir).stdout)
  const tsc = spawnSync(node, [Path.join(dir, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" })
  if (tsc.status !== 0) return void problems.push(`${label} project: the quick start does not type-check:\n${tsc.stdout}${tsc.stderr}`)
  const run = spawnSync(node, [Path.join(dir, "dist/main.js")], { encoding: "utf8", timeout: 30_000 })
  if (!run.stdout.includes("internal modules: ERR_PACKAGE_PATH_NOT_EXPORTED")) problems.push(`${label} project: ${library}/internal/* is importable:\n${run.stdout}${run.stderr}`)
  if (!run.stdout.includes("connected, sent 5 bytes")) problems.push(`${label} project: the quick start did not connect:\n${run.stdout}${run.stderr}`)
  else console.log(`${label} project: installed, type-checked and ran the quick start on ${spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim()} (${run.stdout.trim()})`)
}

tryQuickStart({
  label: "effect@3",
  library: "effect-connectex",
  node: process.execPath,
  packages: [tarballs.core, tarballs.library, "effect@^3.22", "typescript@5.9.3", "@types/node@20"],
  quickStart,
  checkTree: (tree) => {
    for (const unwanted of ["@effect/cli", "@effect/platform-node", "@parcel/watcher"]) {
      if (tree.includes(`${Path.sep}${unwanted}`)) problems.push(`effect@3 project: ${unwanted} was installed with the library`)
    }
  }
})

// 3. a fresh project with effect@4 must refuse the Effect 3 library -----------------------------------------
const user4 = Path.join(work, "user-effect4")
execFileSync("mkdir", ["-p", user4])
writeFileSync(Path.join(user4, "package.json"), JSON.stringify({ name: "user4", private: true, type: "module", dependencies: { effect: "4.1.0" } }, null, 2))
const install4 = npm(["install", "--no-audit", "--no-fund", tarballs.core, tarballs.library], user4)
if (install4.status === 0) problems.push("effect@4 project: installing the Effect 3 library succeeded silently")
else if (!/ERESOLVE/.test(install4.stderr)) problems.push(`effect@4 project: failed, but not with npm's peer-dependency error:\n${install4.stderr}`)
else console.log("effect@4 project: npm refuses the Effect 3 library (ERESOLVE), as it should")

// 4. a fresh project with effect@4.1.0 and the Effect 4 package, on Node 22 ------------------------------------
tryQuickStart({
  label: "effect@4.1.0",
  library: "@effect-connectex/effect4",
  node: execFileSync("bash", [Path.join(root, "scripts/install-node22.sh")], { encoding: "utf8" }).trim(),
  packages: [tarballs.core, tarballs.effect4, "effect@4.1.0", "typescript@5.9.3", "@types/node@22"],
  quickStart: readFileSync(Path.join(root, "packages/effect4/examples/quickstart.ts"), "utf8")
})

rmSync(work, { recursive: true, force: true })
if (problems.length > 0) {
  console.error(problems.join("\n"))
  process.exit(1)
}
console.log("package checks passed")
