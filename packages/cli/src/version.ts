/** The CLI's version, from its package.json (read, not imported: no JSON import assertions needed). */
import { readFileSync } from "node:fs"

export const readVersion = (): string =>
  (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version
