import { describe as group, expect, it } from "vitest"
import * as R from "../src/resolver.js"

group("resolver: the code onto a reason", () => {
  it("no such name or no data is NotFound; could not answer now is TryAgain; the rest Failed", () => {
    for (const code of ["ENOTFOUND", "ENODATA", "EAI_NONAME", "EAI_NODATA"]) expect(R.reasonOf(code)).toBe("NotFound")
    for (const code of ["EAI_AGAIN", "ETIMEOUT"]) expect(R.reasonOf(code)).toBe("TryAgain")
    for (const code of ["EINVAL", "ESERVFAIL", "ECONNREFUSED", undefined]) expect(R.reasonOf(code)).toBe("Failed")
  })

  it("notFound: NotFound unless a code says otherwise, with the name and what to check", () => {
    expect(R.notFound("db.test")).toEqual({
      host: "db.test",
      reason: "NotFound",
      code: undefined,
      message: `cannot resolve "db.test": no address for this name. Check the name and the resolver (DNS, /etc/hosts).`
    })
    expect(R.notFound("x", "EINVAL", "bad").reason).toBe("Failed")
  })
})

group("resolver: lookup", () => {
  it("an empty or non-string host fails at once, synchronously", () => {
    const calls: Array<unknown> = []
    R.lookup("", (failure, literals) => calls.push([failure?.reason, failure?.code, literals]))
    R.lookup(42, (failure, literals) => calls.push([failure?.host, failure?.code, literals]))
    expect(calls).toEqual([["Failed", "EINVAL", []], ["42", "EINVAL", []]])
  })

  it("an IP literal resolves to itself", async () => {
    const result = await new Promise<[R.Failure | undefined, ReadonlyArray<string>]>((resolve) =>
      R.lookup("127.0.0.1", (failure, literals) => resolve([failure, literals]))
    )
    expect(result).toEqual([undefined, ["127.0.0.1"]])
  })
})

group("resolver: staticTable", () => {
  it("answers a name without regard to case; an unknown or empty name is NotFound", () => {
    const lookup = R.staticTable({ "DB.test": ["2001:db8::5", "192.0.2.5"], "empty.test": [] })
    expect(lookup("db.TEST")).toEqual(["2001:db8::5", "192.0.2.5"])
    expect(lookup("empty.test")).toMatchObject({ host: "empty.test", reason: "NotFound" })
    expect(lookup("other.test")).toMatchObject({ host: "other.test", reason: "NotFound" })
  })

  it("a literal that is not an IP address throws; a zone is allowed", () => {
    expect(() => R.staticTable({ "a.test": ["fe80::1%eth0"] })).not.toThrow()
    expect(() => R.staticTable({ "a.test": ["db.test"] })).toThrow(
      `Resolver.layerStatic: "db.test" (for "a.test") is not an IP address`
    )
  })
})
