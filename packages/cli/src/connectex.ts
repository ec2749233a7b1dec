#!/usr/bin/env node
/**
 * The `connectex` command line's entry point. `--version` answers without loading Effect, @effect/cli or
 * the platform (a few milliseconds instead of seconds); everything else loads the CLI itself.
 *
 *   connectex                      demo: an embedded echo server, a probe of it, then a probe of a closed port
 *   connectex probe <host:port> [--data TEXT] [--bind ADDR] [--retries N] [--timeout DURATION] [--fast-open]
 *                                  host: a name (resolved, its addresses raced: Happy Eyeballs), an IPv4
 *                                  address, or an IPv6 address in brackets ([::1]:8080)
 *
 * Exit status: 0 when the (last) probe connected / the demo showed what it should, 1 when not (refused,
 * unreachable, timed out, or the name did not resolve), 2 for bad input.
 * Output is plain text (no ANSI escapes) unless it is a terminal and NO_COLOR is unset or empty.
 */
import { readVersion } from "./version.js"

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write(`${readVersion()}\n`)
} else {
  await import("./main.js")
}
