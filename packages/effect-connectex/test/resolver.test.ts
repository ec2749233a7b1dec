/**
 * The system resolver's failure mapping, with `node:dns` lookup stubbed: each resolver code becomes the
 * documented `ResolveError` reason (NotFound / TryAgain / Failed), keeping the code; an empty answer is
 * NotFound; an empty host never reaches the resolver.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { beforeEach, vi } from "vitest"
import { Resolver } from "../src/index.js"

type Answer = { readonly error: NodeJS.ErrnoException } | { readonly addresses: ReadonlyArray<{ address: string; family: number }> }

const stub = vi.hoisted(() => ({ answer: undefined as Answer | undefined, calls: [] as Array<string> }))

vi.mock("node:dns", async (original) => {
  const actual = await original<typeof import("node:dns")>()
  const lookup = (host: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: unknown) => void) => {
    stub.calls.push(host)
    const answer = stub.answer!
    queueMicrotask(() => ("error" in answer ? callback(answer.error, undefined) : callback(null, answer.addresses)))
  }
  return { ...actual, default: { ...actual, lookup }, lookup }
})

const failing = (code: string | undefined, message = `getaddrinfo ${code ?? "failure"} example.test`): Answer => {
  const error: NodeJS.ErrnoException = new Error(message)
  if (code !== undefined) error.code = code
  return { error }
}

beforeEach(() => {
  stub.answer = undefined
  stub.calls.length = 0
})

describe("Resolver.node: the resolver's failures mapped onto ResolveError", () => {
  it.each([
    ["ENOTFOUND", "NotFound"],
    ["ENODATA", "NotFound"],
    ["EAI_NONAME", "NotFound"],
    ["EAI_NODATA", "NotFound"],
    ["EAI_AGAIN", "TryAgain"],
    ["ETIMEOUT", "TryAgain"],
    ["EAI_FAIL", "Failed"],
    ["ESERVFAIL", "Failed"]
  ] as const)("%s -> %s, keeping the code", (code, reason) =>
    Effect.runPromise(Effect.gen(function*() {
      stub.answer = failing(code)
      const error = yield* Effect.flip(Resolver.node.resolve("example.test"))
      expect(error._tag).toBe("ResolveError")
      expect(error.reason).toBe(reason)
      expect(error.code).toBe(code)
      expect(error.host).toBe("example.test")
      expect(error.message).toContain(code)
      // Only a temporary failure says that retrying may help.
      expect(error.message.includes("retrying may help")).toBe(reason === "TryAgain")
      expect(stub.calls).toEqual(["example.test"])
    })))

  it.effect("an error without a code -> Failed, with the resolver's message and no code", () =>
    Effect.gen(function*() {
      stub.answer = failing(undefined, "something broke")
      const error = yield* Effect.flip(Resolver.node.resolve("example.test"))
      expect(error.reason).toBe("Failed")
      expect(error.code).toBeUndefined()
      expect(error.message).toContain("something broke")
    }))

  it.effect("an empty answer -> NotFound with code ENODATA", () =>
    Effect.gen(function*() {
      stub.answer = { addresses: [] }
      const error = yield* Effect.flip(Resolver.node.resolve("example.test"))
      expect(error.reason).toBe("NotFound")
      expect(error.code).toBe("ENODATA")
    }))

  it.effect("addresses come back in the resolver's order, as literals", () =>
    Effect.gen(function*() {
      stub.answer = { addresses: [{ address: "2001:db8::1", family: 6 }, { address: "192.0.2.1", family: 4 }] }
      expect(yield* Resolver.node.resolve("example.test")).toEqual(["2001:db8::1", "192.0.2.1"])
    }))

  it.effect("an empty host never reaches the resolver: Failed with code EINVAL", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Resolver.node.resolve(""))
      expect(error.reason).toBe("Failed")
      expect(error.code).toBe("EINVAL")
      expect(stub.calls).toEqual([])
    }))

  it.effect("the default Resolver is the system one: Resolver.resolve goes through the same mapping", () =>
    Effect.gen(function*() {
      stub.answer = failing("EAI_AGAIN")
      const error = yield* Effect.flip(Resolver.resolve("example.test"))
      expect(error.reason).toBe("TryAgain")
    }))
})
