/**
 * This package's README.md as a user meets it: every TypeScript block is a module of its own, compiled with the
 * README's tsconfig against this package's own effect 4 and the package by its name; the quick start is run as
 * the README says (compiled, then `node dist/quickstart.js`, under this lane's Node 22) and prints what the
 * README says it prints; the simulated-network examples run on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import { beforeAll } from "vitest"

const here = Path.dirname(fileURLToPath(import.meta.url))
const packageRoot = Path.resolve(here, "..")
const repositoryRoot = Path.resolve(packageRoot, "..", "..")
const project = Path.join(packageRoot, ".readme-check")

const blocks = (markdown: string, language: string): Array<string> =>
  [...markdown.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((match) => match[1]!)

const readme = readFileSync(Path.join(packageRoot, "README.md"), "utf8")
const code = blocks(readme, "ts")

/** `node ...args`; the exit code and the output, never a rejection. */
const run = (args: ReadonlyArray<string>, timeout: number) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve) =>
    execFile(process.execPath, [...args], { cwd: project, timeout, env: { ...process.env, NO_COLOR: "1" } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })))

describe("README.md", () => {
  beforeAll(() => {
    rmSync(project, { recursive: true, force: true })
    mkdirSync(Path.join(project, "src"), { recursive: true })
    const tsconfig = JSON.parse(blocks(readme, "json")[0]!) as { compilerOptions: Record<string, unknown> }
    writeFileSync(Path.join(project, "tsconfig.json"), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, types: ["node"] } }))
    writeFileSync(Path.join(project, "package.json"), JSON.stringify({ type: "module", private: true }))
    code.forEach((block, i) => writeFileSync(Path.join(project, "src", i === 0 ? "quickstart.ts" : `block${i}.ts`), block))
  })

  it("every TypeScript block compiles with the README's tsconfig against effect 4", async () => {
    const tsc = await run([Path.join(repositoryRoot, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], 240_000)
    assert.strictEqual(`${tsc.stdout}${tsc.stderr}`, "")
    assert.strictEqual(tsc.code, 0)
  }, 300_000)

  it("the quick start prints what the README says", async () => {
    const quickstart = await run(["dist/quickstart.js"], 60_000)
    assert.strictEqual(quickstart.stderr, "")
    const promised = readme.slice(readme.indexOf("It prints `") + "It prints `".length)
    assert.strictEqual(quickstart.stdout.trim(), promised.slice(0, promised.indexOf("`")))
  }, 120_000)

  it.effect("the simulated network's examples: flaky retried ([10061, 10061, 0]); dark times out after 21 s", () =>
    Effect.gen(function*() {
      const index = code.findIndex((block) => block.includes("export const flaky"))
      const module = yield* Effect.promise(() => import(pathToFileURL(Path.join(project, "dist", `block${index}.js`)).href))
      const flaky = yield* Effect.forkChild(module.flaky as Effect.Effect<ReadonlyArray<number>>)
      yield* TestClock.adjust("150 millis")
      assert.deepStrictEqual(yield* Fiber.join(flaky), [10061, 10061, 0])
      const dark = yield* Effect.forkChild(module.dark as Effect.Effect<string>)
      yield* TestClock.adjust("21 seconds")
      assert.strictEqual(yield* Fiber.join(dark), "timed out (10060)")
    }))
})
