/**
 * The message every WSA error carries, for both front-ends: what failed, where, what it means, the detail, and
 * what to do. An argument the library's own checks refused says which argument and why, and nothing more: the
 * table's meaning and advice are written for what the kernel reports.
 */
import { describeAddress } from "../address.js"
import type { ErrorContext } from "../failure.js"
import { type WsaName, wsaCodes } from "./codes.js"

/**
 * A detail as a sentence of its own: a plain first word is capitalised (an identifier such as `maxBytes` or
 * `Socket.bind` keeps its case) and a final full stop is added when missing.
 */
export const sentence = (text: string): string => {
  const trimmed = text.trim()
  if (trimmed === "") return ""
  const capitalised = /^[a-z]+\b(?![.(])/.test(trimmed) ? trimmed[0]!.toUpperCase() + trimmed.slice(1) : trimmed
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`
}

const where = (context: ErrorContext): string => context.address === undefined ? "" : ` (${describeAddress(context.address)})`

const detailOf = (context: ErrorContext): string => context.detail === undefined ? "" : sentence(context.detail)

/** The message of an error: operation, address, name, meaning, detail, advice. */
export const compose = (name: string, meaning: string, advice: string, context: ErrorContext): string => {
  const detail = detailOf(context)
  return `${context.operation}${where(context)} failed with ${name}: ${meaning}${detail === "" ? "" : ` ${detail}`} ${advice}`
}

/** The message of a WSA error by name: an argument error its detail alone, anything else with the table's words. */
export const wsaMessage = (name: WsaName, context: ErrorContext): string => {
  const detail = detailOf(context)
  if (context.argument === true && detail !== "") return `${context.operation}${where(context)} failed with ${name} (an invalid argument): ${detail}`
  const [, meaning, advice] = wsaCodes[name]
  return compose(name, meaning, advice, context)
}

/** The message of a code outside the table. */
export const unknownMessage = (code: number, context: ErrorContext): string =>
  compose(`WSA error ${code}`, "An error this library has no name for.", "See the Windows Sockets error code list for this number.", context)
