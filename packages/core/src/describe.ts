/**
 * A user's value in an error message, whatever it is: strings quoted, everything else as String() gives it,
 * and a value on which String() or JSON.stringify() would throw (a BigInt, an object whose toString is not a
 * function, a null-prototype object) described by its type instead. A message must never turn an error
 * value into a thrown exception.
 */
export const describe = (u: unknown): string => {
  try {
    if (typeof u === "string") return JSON.stringify(u)
    if (typeof u === "bigint") return `${u}n`
    return String(u)
  } catch {
    return Object.prototype.toString.call(u)
  }
}
