import { constants } from "node:os"
import { wsa } from "../../errors/codes.js"
import { errnoToWsa } from "../../errors/errno.js"

/** errno numbers of this platform, by symbolic name (from Node's own table, never hard-coded). */
export const errno = constants.errno as Readonly<Record<string, number>>

const codeByErrno = new Map<number, number>()
for (const [name, wsaName] of Object.entries(errnoToWsa)) {
  const number = errno[name]
  if (number !== undefined && !codeByErrno.has(number)) codeByErrno.set(number, wsa[wsaName])
}

/** The WSA code for an errno; an errno outside the table stays visible as WSA 'Unknown' (its negation). */
export const wsaFromErrno = (n: number): number => codeByErrno.get(n) ?? -n
