/**
 * What both front-ends do with their error classes, written once over whichever classes a front-end makes: the
 * error of a code or a name, the narrowing of any code onto one function's union (`Unknown` the catch-all), the
 * error of a core failure, and the guards. Each front-end gives its classes (one per WSA name, and `Unknown`)
 * and re-exports these under its own types.
 */
import type { SocketAddress } from "../address.js"
import { contextOf, type ErrorContext, type Failure, type Operation } from "../failure.js"
import { nameByCode, retryableNames, type RetryableName, type WsaName, wsaCodes } from "./codes.js"

/** What the core reads of a front-end's WSA error. */
export interface ErrorLike {
  readonly _tag: string
  readonly code: number
  readonly operation: Operation
  readonly address?: SocketAddress | undefined
  readonly detail?: string | undefined
}

/** A front-end's class of each WSA name. */
export type ClassesOf<E extends ErrorLike> = { readonly [K in WsaName]: new(context: ErrorContext) => Extract<E, { readonly _tag: K }> }

/** The `_tag` of every WSA error, `Unknown` included. */
export const allTags: ReadonlyArray<WsaName | "Unknown"> = [...(Object.keys(wsaCodes) as Array<WsaName>), "Unknown"]

const tagSet: ReadonlySet<string> = new Set(allTags)
const retryable: ReadonlySet<string> = new Set(retryableNames)

/** Whether a value is a WSA error of either front-end: by its tag and its code. */
export const isWsaErrorLike = (u: unknown): u is ErrorLike =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" && tagSet.has(u._tag) && "code" in u

export const makeErrors = <E extends ErrorLike, U extends E & { readonly _tag: "Unknown" }>(
  classes: ClassesOf<E>,
  Unknown: new(context: ErrorContext & { readonly code: number }) => U
) => {
  type Of<N extends WsaName> = Extract<E, { readonly _tag: N }>
  const fromCode = (code: number, context: ErrorContext): E => {
    const name = nameByCode.get(code)
    return name === undefined ? new Unknown({ ...context, code }) : new classes[name](context)
  }
  const fromName = <N extends WsaName>(name: N, context: ErrorContext): Of<N> => new classes[name](context)
  const narrowingError = <N extends WsaName>(tags: ReadonlyArray<N>) => {
    const allowed: ReadonlySet<string> = new Set(tags)
    const isAllowed = (error: E): error is Of<N> | U => allowed.has(error._tag) || error._tag === "Unknown"
    return (error: E): Of<N> | U =>
      isAllowed(error)
        ? error
        : new Unknown({
          operation: error.operation,
          address: error.address,
          code: error.code,
          detail: `the system reported ${error._tag}, which this call is not expected to produce`
        })
  }
  const narrowing = <N extends WsaName>(tags: ReadonlyArray<N>) => {
    const narrow = narrowingError(tags)
    return (code: number, context: ErrorContext): Of<N> | U => narrow(fromCode(code, context))
  }
  /** A core failure as one of a function's errors (see `narrowing`). */
  const failureOnto = <N extends WsaName>(tags: ReadonlyArray<N>) => {
    const narrow = narrowing(tags)
    return (failure: Failure): Of<N> | U => narrow(failure.code, contextOf(failure))
  }
  /** The error of any failure (its full union). */
  const errorOf = (failure: Failure): E => fromCode(failure.code, contextOf(failure))
  const isWsaError = (u: unknown): u is E => isWsaErrorLike(u)
  const isRetryable = (u: unknown): u is Of<RetryableName> => isWsaErrorLike(u) && retryable.has(u._tag)
  return { errorOf, failureOnto, fromCode, fromName, isRetryable, isWsaError, narrowing, narrowingError }
}
