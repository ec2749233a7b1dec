import type { WsaName } from "./codes.js"

/**
 * How a failed overlapped operation's status becomes a WSA error on Windows: the NTSTATUS in
 * `OVERLAPPED.Internal`, the Win32 error `GetQueuedCompletionStatus` reports for it, and the WSA code
 * `WSAGetOverlappedResult` gives (the table of `shared/notes/anchors.md`, as libuv, .NET and Asio map it).
 *
 * @example
 * WsaError.ntStatusTable.find((row) => row.win32 === 1225)?.wsa // "WSAECONNREFUSED"
 * @since 0.1.0
 */
export const ntStatusTable: ReadonlyArray<{ readonly ntStatus: number; readonly win32: number | undefined; readonly wsa: WsaName }> = [
  { ntStatus: 0xc0000236, win32: 1225, wsa: "WSAECONNREFUSED" },
  { ntStatus: 0xc000023c, win32: 1231, wsa: "WSAENETUNREACH" },
  { ntStatus: 0xc000023d, win32: 1232, wsa: "WSAEHOSTUNREACH" },
  { ntStatus: 0xc000023f, win32: 1234, wsa: "WSAECONNRESET" },
  { ntStatus: 0xc0000241, win32: 1236, wsa: "WSAECONNABORTED" },
  { ntStatus: 0xc00000b5, win32: 121, wsa: "WSAETIMEDOUT" },
  { ntStatus: 0xc0000120, win32: 995, wsa: "WSA_OPERATION_ABORTED" },
  { ntStatus: 0xc000020d, win32: 64, wsa: "WSAECONNRESET" },
  { ntStatus: 0xc0000209, win32: undefined, wsa: "WSAENOBUFS" }
]

const byNtStatus = new Map(ntStatusTable.map((row) => [row.ntStatus, row.wsa] as const))
const byWin32 = new Map(
  ntStatusTable.flatMap((row) => (row.win32 === undefined ? [] : [[row.win32, row.wsa] as const]))
)

/**
 * The WSA error for a failed completion's NTSTATUS; any other failing status is `WSAEINVAL`, as Windows does.
 *
 * @example
 * WsaError.wsaFromNtStatus(0xc0000236) // "WSAECONNREFUSED"
 * @since 0.1.0
 */
export const wsaFromNtStatus = (ntStatus: number): WsaName => byNtStatus.get(ntStatus >>> 0) ?? "WSAEINVAL"

/**
 * The WSA error for a Win32 error from `GetQueuedCompletionStatus`, or undefined when the number is
 * not a completion status (WSA codes themselves pass through unchanged in `fromCode`).
 *
 * @example
 * WsaError.wsaFromWin32(1225) // "WSAECONNREFUSED"
 * @since 0.1.0
 */
export const wsaFromWin32 = (win32: number): WsaName | undefined => byWin32.get(win32)
