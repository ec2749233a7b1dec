import { describe, expect, it } from "@effect/vitest"
import { constants } from "node:os"
import { Effect, type Scope } from "effect"
import { ConnectEx, type Iocp, Simulated, Socket, SocketAddress, WsaError } from "../src/index.js"
import { wsaFromErrno } from "../../core/src/native/posix/errno.js"

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

  it("a detail is a sentence of its own: capitalised (identifiers keep their case) and ended with a full stop", () => {
    const shut = new WsaError.WSAESHUTDOWN({ operation: "send", detail: "the sending direction was shut down" })
    expect(shut.message).toBe(
      "send failed with WSAESHUTDOWN: The socket has been shut down in this direction. The sending direction was shut down. Open a new connection."
    )
    const identifier = new WsaError.WSAEINVAL({ operation: "receive", detail: "maxBytes must be an integer." })
    expect(identifier.message).toContain(" maxBytes must be an integer. ")
    const method = new WsaError.WSAEINVAL({ operation: "connect", detail: "call Socket.bind first" })
    expect(method.message).toContain(" Call Socket.bind first. ")
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
    ["ECANCELED", "WSA_OPERATION_ABORTED"], ["EMFILE", "WSAEMFILE"], ["EPIPE", "WSAECONNRESET"],
    ["EINPROGRESS", "WSAEWOULDBLOCK"], ["EAGAIN", "WSAEWOULDBLOCK"]
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
  // Windows' mapping as ws2_32 applies it (Wine's NtStatusToWSAError, ReactOS' msafd), one row per status.
  const rows: ReadonlyArray<readonly [string, number, number | undefined, WsaError.WsaName]> = [
    ["STATUS_BUFFER_OVERFLOW", 0x80000005, 234, "WSAEMSGSIZE"],
    ["STATUS_NOT_IMPLEMENTED", 0xc0000002, undefined, "WSAEOPNOTSUPP"],
    ["STATUS_ACCESS_VIOLATION", 0xc0000005, undefined, "WSAEFAULT"],
    ["STATUS_PAGEFILE_QUOTA", 0xc0000007, undefined, "WSAENOBUFS"],
    ["STATUS_INVALID_HANDLE", 0xc0000008, 6, "WSAENOTSOCK"],
    ["STATUS_INVALID_PARAMETER", 0xc000000d, 87, "WSAEINVAL"],
    ["STATUS_NO_SUCH_DEVICE", 0xc000000e, undefined, "WSAENETDOWN"],
    ["STATUS_NO_SUCH_FILE", 0xc000000f, undefined, "WSAENETDOWN"],
    ["STATUS_NO_MEMORY", 0xc0000017, 8, "WSAENOBUFS"],
    ["STATUS_CONFLICTING_ADDRESSES", 0xc0000018, undefined, "WSAENOBUFS"],
    ["STATUS_ACCESS_DENIED", 0xc0000022, 5, "WSAEACCES"],
    ["STATUS_BUFFER_TOO_SMALL", 0xc0000023, undefined, "WSAEFAULT"],
    ["STATUS_OBJECT_TYPE_MISMATCH", 0xc0000024, undefined, "WSAENOTSOCK"],
    ["STATUS_OBJECT_NAME_NOT_FOUND", 0xc0000034, undefined, "WSAENETDOWN"],
    ["STATUS_OBJECT_PATH_NOT_FOUND", 0xc000003a, undefined, "WSAENETDOWN"],
    ["STATUS_SHARING_VIOLATION", 0xc0000043, undefined, "WSAEADDRINUSE"],
    ["STATUS_QUOTA_EXCEEDED", 0xc0000044, undefined, "WSAENOBUFS"],
    ["STATUS_TOO_MANY_PAGING_FILES", 0xc0000097, undefined, "WSAENOBUFS"],
    ["STATUS_INSUFFICIENT_RESOURCES", 0xc000009a, 1450, "WSAENOBUFS"],
    ["STATUS_WORKING_SET_QUOTA", 0xc00000a1, undefined, "WSAENOBUFS"],
    ["STATUS_DEVICE_NOT_READY", 0xc00000a3, undefined, "WSAEWOULDBLOCK"],
    ["STATUS_PIPE_DISCONNECTED", 0xc00000b0, 233, "WSAESHUTDOWN"],
    ["STATUS_IO_TIMEOUT", 0xc00000b5, 121, "WSAETIMEDOUT"],
    ["STATUS_NOT_SUPPORTED", 0xc00000bb, undefined, "WSAEOPNOTSUPP"],
    ["STATUS_REMOTE_NOT_LISTENING", 0xc00000bc, undefined, "WSAECONNREFUSED"],
    ["STATUS_BAD_NETWORK_PATH", 0xc00000be, undefined, "WSAENETUNREACH"],
    ["STATUS_NETWORK_BUSY", 0xc00000bf, undefined, "WSAENETDOWN"],
    ["STATUS_INVALID_NETWORK_RESPONSE", 0xc00000c3, undefined, "WSAENETDOWN"],
    ["STATUS_UNEXPECTED_NETWORK_ERROR", 0xc00000c4, undefined, "WSAENETDOWN"],
    ["STATUS_REQUEST_NOT_ACCEPTED", 0xc00000d0, undefined, "WSAEWOULDBLOCK"],
    ["STATUS_CANCELLED", 0xc0000120, 995, "WSA_OPERATION_ABORTED"],
    ["STATUS_COMMITMENT_LIMIT", 0xc000012d, undefined, "WSAENOBUFS"],
    ["STATUS_LOCAL_DISCONNECT", 0xc000013b, undefined, "WSAECONNABORTED"],
    ["STATUS_REMOTE_DISCONNECT", 0xc000013c, undefined, "WSAECONNRESET"],
    ["STATUS_REMOTE_RESOURCES", 0xc000013d, undefined, "WSAENOBUFS"],
    ["STATUS_LINK_FAILED", 0xc000013e, undefined, "WSAECONNRESET"],
    ["STATUS_LINK_TIMEOUT", 0xc000013f, undefined, "WSAETIMEDOUT"],
    ["STATUS_INVALID_CONNECTION", 0xc0000140, undefined, "WSAENOTCONN"],
    ["STATUS_INVALID_ADDRESS", 0xc0000141, undefined, "WSAEADDRNOTAVAIL"],
    ["STATUS_INVALID_BUFFER_SIZE", 0xc0000206, undefined, "WSAEMSGSIZE"],
    ["STATUS_INVALID_ADDRESS_COMPONENT", 0xc0000207, undefined, "WSAEADDRNOTAVAIL"],
    ["STATUS_TOO_MANY_ADDRESSES", 0xc0000209, undefined, "WSAENOBUFS"],
    ["STATUS_ADDRESS_ALREADY_EXISTS", 0xc000020a, undefined, "WSAEADDRINUSE"],
    ["STATUS_CONNECTION_DISCONNECTED", 0xc000020c, undefined, "WSAECONNRESET"],
    ["STATUS_CONNECTION_RESET", 0xc000020d, 64, "WSAECONNRESET"],
    ["STATUS_TRANSACTION_ABORTED", 0xc000020f, undefined, "WSAECONNABORTED"],
    ["STATUS_CONNECTION_REFUSED", 0xc0000236, 1225, "WSAECONNREFUSED"],
    ["STATUS_GRACEFUL_DISCONNECT", 0xc0000237, 1226, "WSAEDISCON"],
    ["STATUS_CONNECTION_ACTIVE", 0xc000023b, 1230, "WSAEISCONN"],
    ["STATUS_NETWORK_UNREACHABLE", 0xc000023c, 1231, "WSAENETUNREACH"],
    ["STATUS_HOST_UNREACHABLE", 0xc000023d, 1232, "WSAEHOSTUNREACH"],
    ["STATUS_PROTOCOL_UNREACHABLE", 0xc000023e, 1233, "WSAENETUNREACH"],
    ["STATUS_PORT_UNREACHABLE", 0xc000023f, 1234, "WSAECONNRESET"],
    ["STATUS_REQUEST_ABORTED", 0xc0000240, 1235, "WSAEINTR"],
    ["STATUS_CONNECTION_ABORTED", 0xc0000241, 1236, "WSAECONNABORTED"],
    ["STATUS_DATATYPE_MISALIGNMENT_ERROR", 0xc00002c5, undefined, "WSAEFAULT"],
    ["STATUS_HOST_DOWN", 0xc0000350, 1256, "WSAEHOSTDOWN"]
  ]
  it.each(rows)("%s (%d) / Win32 %s -> %s", (name, nt, win32, wsa) => {
    expect(WsaError.wsaFromNtStatus(nt)).toBe(wsa)
    expect(WsaError.wsaFromNtStatus(nt | 0)).toBe(wsa)
    expect(WsaError.ntStatusTable.find((row) => row.ntStatus === nt)?.name).toBe(name)
    if (win32 !== undefined) expect(WsaError.wsaFromWin32(win32)).toBe(wsa)
  })
  it("the table has exactly these rows, each status once", () => {
    expect(WsaError.ntStatusTable.length).toBe(rows.length)
    expect(new Set(WsaError.ntStatusTable.map((row) => row.ntStatus)).size).toBe(rows.length)
  })
  it("any other failing status is WSAEINVAL", () => {
    expect(WsaError.wsaFromNtStatus(0xc0000001)).toBe("WSAEINVAL")
  })
})

describe("narrowing onto one function's union", () => {
  it("narrowing: the code's own error when its tag is listed, Unknown naming the tag otherwise, Unknown kept", () => {
    const toSendError = WsaError.narrowing(["WSAECONNRESET", "WSAENOTCONN"])
    const reset = toSendError(10054, { operation: "send" })
    expect(reset._tag).toBe("WSAECONNRESET")
    const other = toSendError(10048, { operation: "send" })
    expect(other._tag).toBe("Unknown")
    expect(other.code).toBe(10048)
    expect(other.message).toContain("The system reported WSAEADDRINUSE, which this call is not expected to produce.")
    const unknown = toSendError(12345, { operation: "send" })
    expect(unknown._tag).toBe("Unknown")
    expect(unknown.code).toBe(12345)
    expect(unknown.message).not.toContain("not expected")
  })

  it("narrowingError: an error already made is kept when listed (or Unknown), else Unknown with its code and context", () => {
    const toAcceptError = WsaError.narrowingError(WsaError.acceptTags)
    const listed = new WsaError.WSAEINVAL({ operation: "accept" })
    expect(toAcceptError(listed)).toBe(listed)
    const unknown = new WsaError.Unknown({ operation: "accept", code: 1 })
    expect(toAcceptError(unknown)).toBe(unknown)
    const address = WsaError.fromCode(10048, { operation: "accept" })
    const narrowed = toAcceptError(new WsaError.WSAEADDRINUSE({ operation: "bind", detail: "x" }))
    expect(narrowed._tag).toBe("Unknown")
    expect(narrowed.code).toBe(10048)
    expect(narrowed.operation).toBe("bind")
    expect(narrowed.message).toContain("The system reported WSAEADDRINUSE, which this call is not expected to produce.")
    expect(address._tag).toBe("WSAEADDRINUSE")
  })

  it("isWsaError: a tagged value with a code; a look-alike without a code or with another tag is not", () => {
    expect(WsaError.isWsaError(new WsaError.WSAEINVAL({ operation: "bind" }))).toBe(true)
    expect(WsaError.isWsaError({ _tag: "WSAEINVAL" })).toBe(false)
    expect(WsaError.isWsaError({ _tag: "Nope", code: 1 })).toBe(false)
    expect(WsaError.isWsaError({ _tag: 1, code: 1 })).toBe(false)
    expect(WsaError.isWsaError(null)).toBe(false)
  })
})

describe("advice only where it applies (issue 20)", () => {
  const layer = ConnectEx.layerSimulated(Simulated.network({}))
  const messageOf = <A, E extends { readonly message: string }>(effect: Effect.Effect<A, E, ConnectEx.ConnectEx | Iocp.Iocp | Scope.Scope>) =>
    Effect.map(Effect.flip(Effect.scoped(effect)), (error) => error.message).pipe(Effect.provide(layer))
  const tableAdvice = "open, bind, then connect"

  it.effect("a bad argument says which argument and why, and gives no generic advice", () =>
    Effect.gen(function*() {
      expect(yield* messageOf(ConnectEx.dialName("", 80))).toBe("resolve failed with WSAEINVAL (an invalid argument): The host is empty.")
      const port = yield* messageOf(ConnectEx.dialName("localhost", 70_000))
      expect(port).toBe("resolve failed with WSAEINVAL (an invalid argument): The port must be an integer from 0 to 65535, got 70000.")
      const bind = yield* messageOf(Effect.flatMap(Socket.open({ family: "ipv4" }), (s) => Socket.bind(s, { family: "ipv4", host: "1.2.3.4", port: 70_000 })))
      expect(bind).toBe("bind failed with WSAEINVAL (an invalid argument): The address is invalid: port must be an integer from 0 to 65535, got 70000.")
      const receive = yield* messageOf(Effect.flatMap(Socket.open({ family: "ipv4" }), (s) => Socket.receive(s, 0)))
      expect(receive).not.toContain(tableAdvice)
      for (const message of [port, bind]) expect(message).not.toContain(tableAdvice)
    }))

  it.effect("what the socket's state or the kernel reports keeps the table's meaning and advice", () =>
    Effect.gen(function*() {
      const twice = yield* messageOf(Effect.gen(function*() {
        const socket = yield* Socket.open({ family: "ipv4" })
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
        yield* Socket.bind(socket, SocketAddress.wildcard("ipv4"))
      }))
      expect(twice).toMatch(/^bind \(0\.0\.0\.0:0\) failed with WSAEINVAL: An argument is invalid or the socket is in the wrong state/)
      expect(twice).toContain(tableAdvice)
      expect(WsaError.fromCode(10022, { operation: "connect" }).message).toContain(tableAdvice)
    }))

  it("the argument mark shapes the message only: the error keeps code, operation, address, detail and message", () => {
    const error = new WsaError.WSAEINVAL({ operation: "connect", detail: "timeout is not a duration", argument: true })
    const plain = new WsaError.WSAEINVAL({ operation: "connect", detail: "timeout is not a duration" })
    expect(Object.keys(error).sort()).toEqual(Object.keys(plain).sort())
    expect("argument" in error).toBe(false)
    expect(error.message).toBe("connect failed with WSAEINVAL (an invalid argument): Timeout is not a duration.")
  })
})
