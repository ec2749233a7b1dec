/**
 * README.md as a user meets it: every TypeScript block is a module of its own, compiled as a user's project
 * would compile it (the README's own tsconfig, the package by its name, strict), and the quick start is run
 * as the README says (compiled, then `node dist/quickstart.js`) and prints what the README says it prints.
 * The simulated-network example is run too. The Effect 4 README is checked the same way in the Effect 4 lane.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestContext } from "effect"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { beforeAll } from "vitest"
import { buildDist, root, runNode } from "./support/node.js"

/** The fenced blocks of a language in a Markdown text, in order. */
export const blocks = (markdown: string, language: string): Array<string> =>
  [...markdown.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((match) => match[1]!)

const readme = readFileSync(Path.join(root, "README.md"), "utf8")
const project = Path.join(root, ".readme-check")

/** The README's tsconfig (its only `json` block), as a user copies it. */
const tsconfig = JSON.parse(blocks(readme, "json")[0]!) as { compilerOptions: Record<string, unknown> }

describe("README.md", () => {
  beforeAll(async () => {
    await buildDist()
    rmSync(project, { recursive: true, force: true })
    mkdirSync(Path.join(project, "src"), { recursive: true })
    // The README's tsconfig as it is, plus node's types (the examples use node:http) and the package by name.
    const config = { ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, types: ["node"] } }
    writeFileSync(Path.join(project, "tsconfig.json"), JSON.stringify(config, null, 2))
    // A package.json of type module, as the README's ESM setup needs.
    writeFileSync(Path.join(project, "package.json"), JSON.stringify({ type: "module", private: true }))
    const code = blocks(readme, "ts")
    code.forEach((block, i) => writeFileSync(Path.join(project, "src", i === 0 ? "quickstart.ts" : `block${i}.ts`), block))
  }, 300_000)

  it("has a quick start, the API in one screen and the other examples as TypeScript blocks", () => {
    const code = blocks(readme, "ts")
    expect(code.length).toBeGreaterThanOrEqual(6)
    expect(code[0]).toContain("Effect.runPromise")
    // the API screen imports every module it uses
    const api = code.find((block) => block.includes("declare const socket"))!
    for (const module of ["ConnectEx", "HappyEyeballs", "Iocp", "Listener", "NodeStream", "PlatformSocket", "PlatformSocketServer", "Simulated", "Socket", "SocketAddress", "WsaError"]) {
      expect(api.slice(0, api.indexOf("from \"effect-connectex\"")), module).toContain(module)
    }
  })

  it("every TypeScript block compiles with the README's tsconfig (strict, NodeNext)", async () => {
    const tsc = await runNode([Path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", Path.join(project, "tsconfig.json")], 240_000)
    expect(`${tsc.stdout}${tsc.stderr}`).toBe("")
    expect(tsc.code).toBe(0)
  }, 300_000)

  it("the quick start runs as the README says: `node dist/quickstart.js` prints what the README says", async () => {
    const run = await runNode([Path.join(project, "dist", "quickstart.js")], 60_000)
    expect(run.stderr).toBe("")
    const promised = readme.slice(readme.indexOf("It prints `") + "It prints `".length)
    expect(run.stdout.trim()).toBe(promised.slice(0, promised.indexOf("`")))
  }, 120_000)

  it.effect("the simulated network's example: refused twice, then connected", () =>
    Effect.gen(function*() {
      const index = blocks(readme, "ts").findIndex((block) => block.includes("retryPolicyTest"))
      const module = yield* Effect.promise(() => import(pathToFileURL(Path.join(project, "dist", `block${index}.js`)).href))
      const test = module.retryPolicyTest as Effect.Effect<ReadonlyArray<number>>
      expect(yield* test.pipe(Effect.provide(TestContext.TestContext))).toEqual([10061, 10061, 0])
    }))
})
