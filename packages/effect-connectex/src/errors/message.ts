/** The message every WSA error carries: what failed, where, what it means, the detail, and what to do. */
import { describeAddress } from "@effect-connectex/core"
import type { Context } from "./WsaError.js"

/**
 * A detail as a sentence of its own: a plain first word is capitalised (an identifier such as `maxBytes` or
 * `Socket.bind` keeps its case) and a final full stop is added when missing.
 */
const sentence = (text: string): string => {
  const trimmed = text.trim()
  if (trimmed === "") return ""
  const capitalised = /^[a-z]+\b(?![.(])/.test(trimmed) ? trimmed[0]!.toUpperCase() + trimmed.slice(1) : trimmed
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`
}

/** @internal The message of an error: operation, address, name, meaning, detail, advice. */
export const describe = (name: string, meaning: string, advice: string, context: Context): string => {
  const where = context.address === undefined ? "" : ` (${describeAddress(context.address)})`
  const detail = context.detail === undefined || context.detail.trim() === "" ? "" : ` ${sentence(context.detail)}`
  return `${context.operation}${where} failed with ${name}: ${meaning}${detail} ${advice}`
}
