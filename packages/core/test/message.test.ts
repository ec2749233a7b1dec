/**
 * The words of every WSA error, to the character: the detail as a sentence, the address, the table's meaning
 * and advice, an argument error's own words, and a code outside the table.
 */
import { describe, expect, it } from "vitest"
import { makeIpv4 } from "../src/address.js"
import { wsaCodes } from "../src/errors/codes.js"
import { compose, sentence, unknownMessage, wsaMessage } from "../src/errors/message.js"
import { fieldsOf } from "../src/failure.js"

const [, refused, retry] = wsaCodes.WSAECONNREFUSED
const target = makeIpv4("127.0.0.1", 9)

describe("sentence", () => {
  it("trims, capitalises a plain first word, ends with a full stop; empty or blank stays empty", () => {
    expect(sentence("")).toBe("")
    expect(sentence("   ")).toBe("")
    expect(sentence("  the socket is closed ")).toBe("The socket is closed.")
    expect(sentence("already said!")).toBe("Already said!")
    // an identifier keeps its case
    expect(sentence("maxBytes must be positive")).toBe("maxBytes must be positive.")
    expect(sentence("bind(socket) first")).toBe("bind(socket) first.")
  })
})

describe("the message of an error", () => {
  it("operation, address, name, meaning and advice; an empty or absent detail adds nothing", () => {
    const plain = `connect (127.0.0.1:9) failed with WSAECONNREFUSED: ${refused} ${retry}`
    expect(wsaMessage("WSAECONNREFUSED", { operation: "connect", address: target })).toBe(plain)
    expect(wsaMessage("WSAECONNREFUSED", { operation: "connect", address: target, detail: "" })).toBe(plain)
    expect(wsaMessage("WSAECONNREFUSED", { operation: "connect" })).toBe(`connect failed with WSAECONNREFUSED: ${refused} ${retry}`)
  })

  it("a detail goes between the meaning and the advice, as a sentence", () => {
    expect(compose("X", "It broke.", "Try again.", { operation: "send", detail: "the peer left" })).toBe(
      "send failed with X: It broke. The peer left. Try again."
    )
  })

  it("an argument error says its detail alone; without a detail it has the table's words", () => {
    expect(wsaMessage("WSAEINVAL", { operation: "receive", argument: true, detail: "maxBytes must be positive" })).toBe(
      "receive failed with WSAEINVAL (an invalid argument): maxBytes must be positive."
    )
    const [, meaning, advice] = wsaCodes.WSAEINVAL
    expect(wsaMessage("WSAEINVAL", { operation: "receive", argument: true, detail: "" })).toBe(
      `receive failed with WSAEINVAL: ${meaning} ${advice}`
    )
  })

  it("a code outside the table is named by its number", () => {
    expect(unknownMessage(12345, { operation: "send" })).toBe(
      "send failed with WSA error 12345: An error this library has no name for. See the Windows Sockets error code list for this number."
    )
  })

  it("the argument mark shapes the message only: the error's fields leave it out", () => {
    expect(fieldsOf({ operation: "send", argument: true, detail: "d" })).toEqual({ operation: "send", detail: "d" })
    // unmarked, the context is the fields as they are (no copy)
    const unmarked = { operation: "send", detail: "d" } as const
    expect(fieldsOf(unmarked)).toBe(unmarked)
  })
})
