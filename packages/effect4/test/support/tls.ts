/**
 * A self-signed certificate for "localhost", made at test time with openssl (in a temporary folder, removed at
 * once): nothing secret is kept in the repository. `openssl` says whether the tool is there (TLS cases skip
 * without it).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"

export const openssl: boolean = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

let made: { readonly key: Buffer; readonly cert: Buffer } | undefined

/** The key and certificate (made once per test file). */
export const selfSigned = (): { readonly key: Buffer; readonly cert: Buffer } => {
  if (made !== undefined) return made
  const dir = mkdtempSync(Path.join(tmpdir(), "connectex-e4-tls-"))
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", Path.join(dir, "key.pem"), "-out", Path.join(dir, "cert.pem"), "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"
    ], { stdio: "ignore" })
    made = { key: readFileSync(Path.join(dir, "key.pem")), cert: readFileSync(Path.join(dir, "cert.pem")) }
    return made
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
