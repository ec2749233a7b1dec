// The repository's build in one process (npm run build, and the suite's buildDist for a run that did not come
// through npm test): both front-ends' sources staged (scripts/build-frontend.mjs), then every project compiled by
// TypeScript's solution builder in one pass, as `tsc -b` would (what is up to date is skipped): the core, both
// front-ends, the CLI and, with --testing, the test helpers. One process, no child: under Wine a spawn can fail.
//   node scripts/build.mjs [--testing]
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { pointSourceMaps, stage } from "./build-frontend.mjs"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const frontEnds = ["effect-connectex", "effect4"]
const projects = [
  "packages/core",
  ...frontEnds.map((name) => `packages/${name}/tsconfig.build.json`),
  // after the Effect 3 front-end, whose dist/ types it compiles against (its tsconfig references it)
  "packages/cli",
  ...(process.argv.includes("--testing") ? ["test/support/tsconfig.json"] : [])
].map((project) => Path.join(root, project))

for (const name of frontEnds) stage(name)
const host = ts.createSolutionBuilderHost(ts.sys, undefined, ts.createDiagnosticReporter(ts.sys, false))
const status = ts.createSolutionBuilder(host, projects, {}).build()
if (status !== ts.ExitStatus.Success) process.exit(1)
for (const name of frontEnds) pointSourceMaps(name)
