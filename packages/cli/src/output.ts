/**
 * Colour only where a person reads it: ANSI escapes reach a stream only when it is a terminal and `NO_COLOR`
 * is unset or empty (https://no-color.org). @effect/cli colours its help and usage errors unconditionally,
 * so the escapes are taken out on the way to a plain stream.
 *
 * @since 0.1.0
 */
import { Console } from "effect"

/**
 * Whether a stream gets colour: a terminal, and no `NO_COLOR` with a value.
 *
 * @since 0.1.0
 */
export const wantsColour = (stream: { readonly isTTY?: boolean | undefined }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env["NO_COLOR"] ?? "") === ""

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks, titles).
const escapes = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g

/**
 * The text without ANSI escape sequences.
 *
 * @since 0.1.0
 */
export const stripAnsi = (text: string): string => text.replace(escapes, "")

const plainArgs = (args: ReadonlyArray<unknown>): Array<unknown> =>
  args.map((arg) => (typeof arg === "string" ? stripAnsi(arg) : arg))

/**
 * `base`, with escapes taken out of what goes to stdout (log, info, debug) unless `stdout` is true, and out
 * of what goes to stderr (error, warn) unless `stderr` is true.
 *
 * @since 0.1.0
 */
export const withColours = (base: Console.Console, colour: { readonly stdout: boolean; readonly stderr: boolean }): Console.Console => {
  const out = colour.stdout ? (args: ReadonlyArray<unknown>) => args : plainArgs
  const err = colour.stderr ? (args: ReadonlyArray<unknown>) => args : plainArgs
  return {
    ...base,
    log: (...args) => base.log(...out(args)),
    info: (...args) => base.info(...out(args)),
    debug: (...args) => base.debug(...out(args)),
    error: (...args) => base.error(...err(args)),
    warn: (...args) => base.warn(...err(args)),
    unsafe: {
      ...base.unsafe,
      log: (...args) => base.unsafe.log(...out(args)),
      info: (...args) => base.unsafe.info(...out(args)),
      debug: (...args) => base.unsafe.debug(...out(args)),
      error: (...args) => base.unsafe.error(...err(args)),
      warn: (...args) => base.unsafe.warn(...err(args))
    }
  }
}
