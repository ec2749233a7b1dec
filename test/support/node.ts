/** Running this repository's built scripts (dist/, bench/) in a child node process, as users run them. */
import { execFile } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `node ...args` from the repository's root; never rejects: the exit code and output are the result. */
export const runNode = (args: ReadonlyArray<string>, timeout = 60_000): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [...args],
      { cwd: root, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
      }
    )
  })

/**
 * Builds the packages' dist/ and the test-only native helpers the soak bench loads (for a vitest run that
 * did not come through `npm test`, which builds first; what is up to date is skipped): scripts/build.mjs, in one
 * child process.
 */
export const buildDist = async (): Promise<void> => {
  const build = await runNode([Path.join(root, "scripts", "build.mjs"), "--testing"], 240_000)
  if (build.code !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`)
}
