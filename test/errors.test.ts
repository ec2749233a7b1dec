import { describe, expect, it } from "@effect/vitest"
import { constants } from "node:os"
import { WsaError } from "../packages/effect-connectex/src/index.js"
import { wsaFromErrno } from "../packages/core/src/native/posix/errno.js"

// The fifteen codes the ConnectEx documentation lists, and the others connect/bind/send/receive produce.
const documented: ReadonlyArray<readonly [WsaError.WsaName, number]> = [
  ["WSANOTINITIALISED", 10093], ["WSAENETDOWN", 10050], ["WSAEADDRINUSE", 10048], ["WSAEALREADY", 10037],
  ["WSAEADDRNOTAVAIL", 10049], ["WSAEAFNOSUPPORT", 10047], ["WSAECONNREFUSED", 10061], ["WSAEFAULT", 10014],
  ["WSAEINVAL", 10022], ["WSAEISCONN", 10056], ["WSAENETUNREACH", 10051], ["WSAEHOSTUNREACH", 10065],
  ["WSAENOBUFS", 10055], ["WSAENOTSOCK", 10038], ["WSAETIMEDOUT", 10060],
  ["WSAEACCES", 10013], ["WSAECONNRESET", 10054], ["WSAECONNABORTED", 10053], ["WSAENOTCONN", 10057],
  ["WSAESHUTDOWN", 10058], ["WSAEOPNOTSUPP", 10045], ["WSAEMFILE", 10024], ["WSA_OPERATION_ABORTED", 995]
]

describe("WsaError classes", () => {
  it.each(documented)("%s is code %i, with _tag, code, operation, address and a message", (name, code) => {
    const error = WsaError.fromCode(code, { operation: "connect" })
    expect(error._tag).toBe(name)
    expect(error.code).toBe(code)
    expect(error.operation).toBe("connect")
    expect(error).toBeInstanceOf((WsaError as unknown as Record<string, new (...a: Array<never>) => unknown>)[name])
    expect(error.message).toContain(name)
    expect(error.message.length).toBeGreaterThan(40)
    expect(WsaError.isWsaError(error)).toBe(true)
  })

  it("every row of the table round-trips through fromCode and fromName", () => {
    for (const name of Object.keys(WsaError.wsaCodes) as Array<WsaError.WsaName>) {
      const code = WsaError.wsaCodes[name][0]
      expect(WsaError.fromCode(code, { operation: "bind" })._tag).toBe(name)
      expect(WsaError.fromName(name, { operation: "bind" }).code).toBe(code)
    }
  })

  it("an unknown code becomes Unknown carrying the number", () => {
    const error = WsaError.fromCode(12345, { operation: "send" })
    expect(error._tag).toBe("Unknown")
    expect(error.code).toBe(12345)
    expect(error.message).toContain("12345")
  })

  it("the message names the address", () => {
    const error = new WsaError.WSAECONNREFUSED({ operation: "connect", address: { family: "ipv6", host: "::1", port: 80, flowInfo: 0, scopeId: 0 } })
    expect(error.message).toContain("[::1]:80")
  })

  it("isRetryable is exactly WSAECONNREFUSED, WSAENETUNREACH and WSAETIMEDOUT", () => {
    const retryable = WsaError.tags.filter((tag) =>
      WsaError.isRetryable(tag === "Unknown" ? WsaError.fromCode(1, { operation: "connect" }) : WsaError.fromName(tag, { operation: "connect" }))
    )
    expect(retryable.sort()).toEqual(["WSAECONNREFUSED", "WSAENETUNREACH", "WSAETIMEDOUT"])
    expect(WsaError.isRetryable(new Error("x"))).toBe(false)
    expect(WsaError.isRetryable({ _tag: "WSAECONNREFUSED" })).toBe(false)
  })
})

describe("errno -> WSA (Linux), keyed by symbolic name", () => {
  const rows: ReadonlyArray<readonly [string, WsaError.WsaName]> = [
    ["ECONNREFUSED", "WSAECONNREFUSED"], ["ENETUNREACH", "WSAENETUNREACH"], ["EHOSTUNREACH", "WSAEHOSTUNREACH"],
    ["ETIMEDOUT", "WSAETIMEDOUT"], ["EADDRINUSE", "WSAEADDRINUSE"], ["EADDRNOTAVAIL", "WSAEADDRNOTAVAIL"],
    ["EAFNOSUPPORT", "WSAEAFNOSUPPORT"], ["EALREADY", "WSAEALREADY"], ["EISCONN", "WSAEISCONN"],
    ["ENOTCONN", "WSAENOTCONN"], ["ENOTSOCK", "WSAENOTSOCK"], ["EBADF", "WSAENOTSOCK"], ["EFAULT", "WSAEFAULT"],
    ["EINVAL", "WSAEINVAL"], ["ENOBUFS", "WSAENOBUFS"], ["ENOMEM", "WSAENOBUFS"], ["ENETDOWN", "WSAENETDOWN"],
    ["EACCES", "WSAEACCES"], ["EPERM", "WSAEACCES"], ["ECONNRESET", "WSAECONNRESET"], ["ECONNABORTED", "WSAECONNABORTED"],
    ["ECANCELED", "WSA_OPERATION_ABORTED"], ["EMFILE", "WSAEMFILE"], ["EPIPE", "WSAECONNRESET"]
  ]
  it.each(rows)("%s -> %s", (errno, wsa) => {
    expect(WsaError.errnoToWsa[errno]).toBe(wsa)
    const number = (constants.errno as Record<string, number>)[errno]
    if (number !== undefined && process.platform === "linux") expect(wsaFromErrno(number)).toBe(WsaError.wsaCodes[wsa][0])
  })
  it("an errno outside the table stays visible as Unknown", () => {
    expect(WsaError.fromCode(wsaFromErrno(9999), { operation: "connect" })._tag).toBe("Unknown")
  })
})

describe("NTSTATUS -> Win32 -> WSA (Windows completions)", () => {
  const rows: ReadonlyArray<readonly [number, number | undefined, WsaError.WsaName]> = [
    [0xc0000236, 1225, "WSAECONNREFUSED"], [0xc000023c, 1231, "WSAENETUNREACH"], [0xc000023d, 1232, "WSAEHOSTUNREACH"],
    [0xc000023f, 1234, "WSAECONNRESET"], [0xc0000241, 1236, "WSAECONNABORTED"], [0xc00000b5, 121, "WSAETIMEDOUT"],
    [0xc0000120, 995, "WSA_OPERATION_ABORTED"], [0xc000020d, 64, "WSAECONNRESET"], [0xc0000209, undefined, "WSAENOBUFS"]
  ]
  it.each(rows)("NTSTATUS %d / Win32 %s -> %s", (nt, win32, wsa) => {
    expect(WsaError.wsaFromNtStatus(nt)).toBe(wsa)
    expect(WsaError.wsaFromNtStatus(nt | 0)).toBe(wsa)
    if (win32 !== undefined) expect(WsaError.wsaFromWin32(win32)).toBe(wsa)
  })
  it("any other failing status is WSAEINVAL", () => {
    expect(WsaError.wsaFromNtStatus(0xc0000001)).toBe("WSAEINVAL")
  })
})
