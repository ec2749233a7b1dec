import { describe, expect, it } from "vitest"
import { isRetryableCode, nameByCode, retryableNames, wsa, wsaCodes, type WsaName } from "../src/errors/codes.js"
import { errnoToWsa } from "../src/errors/errno.js"
import { ntStatusTable, wsaFromNtStatus, wsaFromWin32 } from "../src/errors/ntstatus.js"

const names = Object.keys(wsaCodes) as Array<WsaName>

describe("WSA code tables", () => {
  it("every row: wsa[name] is its number, nameByCode gives the name back, meaning and advice are text", () => {
    expect(names.length).toBe(39)
    for (const name of names) {
      const [code, meaning, advice] = wsaCodes[name]
      expect(wsa[name]).toBe(code)
      expect(nameByCode.get(code)).toBe(name)
      expect(meaning.length).toBeGreaterThan(10)
      expect(advice.length).toBeGreaterThan(5)
    }
    expect(nameByCode.size).toBe(names.length)
    expect(nameByCode.get(0)).toBeUndefined()
    expect(wsa.WSAECONNREFUSED).toBe(10061)
    expect(wsa.WSA_OPERATION_ABORTED).toBe(995)
  })

  it("retryable: exactly refused, network unreachable, timed out", () => {
    expect([...retryableNames].sort()).toEqual(["WSAECONNREFUSED", "WSAENETUNREACH", "WSAETIMEDOUT"])
    const retryable = names.filter((name) => isRetryableCode(wsa[name]))
    expect(retryable.sort()).toEqual(["WSAECONNREFUSED", "WSAENETUNREACH", "WSAETIMEDOUT"])
    expect(isRetryableCode(0)).toBe(false)
    expect(isRetryableCode(10065)).toBe(false)
  })

  it("errno names map to WSA names that exist", () => {
    for (const [errno, name] of Object.entries(errnoToWsa)) {
      expect(wsaCodes[name], errno).toBeDefined()
    }
    expect(errnoToWsa.ECONNREFUSED).toBe("WSAECONNREFUSED")
    expect(errnoToWsa.EPIPE).toBe("WSAECONNRESET")
    expect(errnoToWsa.ECANCELED).toBe("WSA_OPERATION_ABORTED")
  })

  it("NTSTATUS and Win32 completion statuses map as the table says; unknown NTSTATUS is WSAEINVAL", () => {
    for (const row of ntStatusTable) {
      expect(wsaFromNtStatus(row.ntStatus)).toBe(row.wsa)
      // as a signed 32-bit number, as OVERLAPPED.Internal may be read
      expect(wsaFromNtStatus(row.ntStatus | 0)).toBe(row.wsa)
      if (row.win32 !== undefined) expect(wsaFromWin32(row.win32)).toBe(row.wsa)
    }
    expect(wsaFromNtStatus(0xc0000236)).toBe("WSAECONNREFUSED")
    expect(wsaFromNtStatus(0xc0001234)).toBe("WSAEINVAL")
    expect(wsaFromWin32(1225)).toBe("WSAECONNREFUSED")
    expect(wsaFromWin32(64)).toBe("WSAECONNRESET")
    expect(wsaFromWin32(10061)).toBeUndefined()
  })
})
