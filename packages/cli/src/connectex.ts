#!/usr/bin/env node
/**
 * The `connectex` command line's entry point. `--version` answers without loading Effect, @effect/cli or
 * the platform (a few milliseconds instead of seconds); everything else loads the CLI itself.
 *
 *   connectex                      demo: an embedded echo server, a probe of it, then a probe of a closed port
 *   connectex probe <host:port> [--data TEXT] [--bind ADDR] [--retries N] [--timeout DURATION] [--fast-open]
 *
 * Exit status: 0 when the (last) probe connected / the demo showed what it should, 1 when not, 2 for bad input.
 */
import { readVersion } from "./version.js"

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write(`${readVersion()}\n`)
} else {
  await import("./main.js")
}
