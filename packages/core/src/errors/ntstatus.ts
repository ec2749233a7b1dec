import type { WsaName } from "./codes.js"

/**
 * How a failed overlapped operation's status becomes a WSA error on Windows: the NTSTATUS in
 * `OVERLAPPED.Internal`, the Win32 error `GetQueuedCompletionStatus` reports for it (where it is one a
 * completion gives), and the WSA code `WSAGetOverlappedResult` gives. The NTSTATUS -> WSA pairs are the ones
 * ws2_32 applies (AFD's mapping as ReactOS' msafd and Wine's ws2_32 `NtStatusToWSAError` write it down); any
 * other failing status is `WSAEINVAL`, as there.
 *
 * @example
 * WsaError.ntStatusTable.find((row) => row.win32 === 1225)?.wsa // "WSAECONNREFUSED"
 * @since 0.1.0
 */
export const ntStatusTable: ReadonlyArray<{
  readonly name: string
  readonly ntStatus: number
  readonly win32: number | undefined
  readonly wsa: WsaName
}> = [
  { name: "STATUS_BUFFER_OVERFLOW", ntStatus: 0x80000005, win32: 234, wsa: "WSAEMSGSIZE" },
  { name: "STATUS_NOT_IMPLEMENTED", ntStatus: 0xc0000002, win32: undefined, wsa: "WSAEOPNOTSUPP" },
  { name: "STATUS_ACCESS_VIOLATION", ntStatus: 0xc0000005, win32: undefined, wsa: "WSAEFAULT" },
  { name: "STATUS_PAGEFILE_QUOTA", ntStatus: 0xc0000007, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_INVALID_HANDLE", ntStatus: 0xc0000008, win32: 6, wsa: "WSAENOTSOCK" },
  { name: "STATUS_INVALID_PARAMETER", ntStatus: 0xc000000d, win32: 87, wsa: "WSAEINVAL" },
  { name: "STATUS_NO_SUCH_DEVICE", ntStatus: 0xc000000e, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_NO_SUCH_FILE", ntStatus: 0xc000000f, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_NO_MEMORY", ntStatus: 0xc0000017, win32: 8, wsa: "WSAENOBUFS" },
  { name: "STATUS_CONFLICTING_ADDRESSES", ntStatus: 0xc0000018, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_ACCESS_DENIED", ntStatus: 0xc0000022, win32: 5, wsa: "WSAEACCES" },
  { name: "STATUS_BUFFER_TOO_SMALL", ntStatus: 0xc0000023, win32: undefined, wsa: "WSAEFAULT" },
  { name: "STATUS_OBJECT_TYPE_MISMATCH", ntStatus: 0xc0000024, win32: undefined, wsa: "WSAENOTSOCK" },
  { name: "STATUS_OBJECT_NAME_NOT_FOUND", ntStatus: 0xc0000034, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_OBJECT_PATH_NOT_FOUND", ntStatus: 0xc000003a, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_SHARING_VIOLATION", ntStatus: 0xc0000043, win32: undefined, wsa: "WSAEADDRINUSE" },
  { name: "STATUS_QUOTA_EXCEEDED", ntStatus: 0xc0000044, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_TOO_MANY_PAGING_FILES", ntStatus: 0xc0000097, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_INSUFFICIENT_RESOURCES", ntStatus: 0xc000009a, win32: 1450, wsa: "WSAENOBUFS" },
  { name: "STATUS_WORKING_SET_QUOTA", ntStatus: 0xc00000a1, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_DEVICE_NOT_READY", ntStatus: 0xc00000a3, win32: undefined, wsa: "WSAEWOULDBLOCK" },
  { name: "STATUS_PIPE_DISCONNECTED", ntStatus: 0xc00000b0, win32: 233, wsa: "WSAESHUTDOWN" },
  { name: "STATUS_IO_TIMEOUT", ntStatus: 0xc00000b5, win32: 121, wsa: "WSAETIMEDOUT" },
  { name: "STATUS_NOT_SUPPORTED", ntStatus: 0xc00000bb, win32: undefined, wsa: "WSAEOPNOTSUPP" },
  { name: "STATUS_REMOTE_NOT_LISTENING", ntStatus: 0xc00000bc, win32: undefined, wsa: "WSAECONNREFUSED" },
  { name: "STATUS_BAD_NETWORK_PATH", ntStatus: 0xc00000be, win32: undefined, wsa: "WSAENETUNREACH" },
  { name: "STATUS_NETWORK_BUSY", ntStatus: 0xc00000bf, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_INVALID_NETWORK_RESPONSE", ntStatus: 0xc00000c3, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_UNEXPECTED_NETWORK_ERROR", ntStatus: 0xc00000c4, win32: undefined, wsa: "WSAENETDOWN" },
  { name: "STATUS_REQUEST_NOT_ACCEPTED", ntStatus: 0xc00000d0, win32: undefined, wsa: "WSAEWOULDBLOCK" },
  { name: "STATUS_CANCELLED", ntStatus: 0xc0000120, win32: 995, wsa: "WSA_OPERATION_ABORTED" },
  { name: "STATUS_COMMITMENT_LIMIT", ntStatus: 0xc000012d, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_LOCAL_DISCONNECT", ntStatus: 0xc000013b, win32: undefined, wsa: "WSAECONNABORTED" },
  { name: "STATUS_REMOTE_DISCONNECT", ntStatus: 0xc000013c, win32: undefined, wsa: "WSAECONNRESET" },
  { name: "STATUS_REMOTE_RESOURCES", ntStatus: 0xc000013d, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_LINK_FAILED", ntStatus: 0xc000013e, win32: undefined, wsa: "WSAECONNRESET" },
  { name: "STATUS_LINK_TIMEOUT", ntStatus: 0xc000013f, win32: undefined, wsa: "WSAETIMEDOUT" },
  { name: "STATUS_INVALID_CONNECTION", ntStatus: 0xc0000140, win32: undefined, wsa: "WSAENOTCONN" },
  { name: "STATUS_INVALID_ADDRESS", ntStatus: 0xc0000141, win32: undefined, wsa: "WSAEADDRNOTAVAIL" },
  { name: "STATUS_INVALID_BUFFER_SIZE", ntStatus: 0xc0000206, win32: undefined, wsa: "WSAEMSGSIZE" },
  { name: "STATUS_INVALID_ADDRESS_COMPONENT", ntStatus: 0xc0000207, win32: undefined, wsa: "WSAEADDRNOTAVAIL" },
  { name: "STATUS_TOO_MANY_ADDRESSES", ntStatus: 0xc0000209, win32: undefined, wsa: "WSAENOBUFS" },
  { name: "STATUS_ADDRESS_ALREADY_EXISTS", ntStatus: 0xc000020a, win32: undefined, wsa: "WSAEADDRINUSE" },
  { name: "STATUS_CONNECTION_DISCONNECTED", ntStatus: 0xc000020c, win32: undefined, wsa: "WSAECONNRESET" },
  { name: "STATUS_CONNECTION_RESET", ntStatus: 0xc000020d, win32: 64, wsa: "WSAECONNRESET" },
  { name: "STATUS_TRANSACTION_ABORTED", ntStatus: 0xc000020f, win32: undefined, wsa: "WSAECONNABORTED" },
  { name: "STATUS_CONNECTION_REFUSED", ntStatus: 0xc0000236, win32: 1225, wsa: "WSAECONNREFUSED" },
  { name: "STATUS_GRACEFUL_DISCONNECT", ntStatus: 0xc0000237, win32: 1226, wsa: "WSAEDISCON" },
  { name: "STATUS_CONNECTION_ACTIVE", ntStatus: 0xc000023b, win32: 1230, wsa: "WSAEISCONN" },
  { name: "STATUS_NETWORK_UNREACHABLE", ntStatus: 0xc000023c, win32: 1231, wsa: "WSAENETUNREACH" },
  { name: "STATUS_HOST_UNREACHABLE", ntStatus: 0xc000023d, win32: 1232, wsa: "WSAEHOSTUNREACH" },
  { name: "STATUS_PROTOCOL_UNREACHABLE", ntStatus: 0xc000023e, win32: 1233, wsa: "WSAENETUNREACH" },
  { name: "STATUS_PORT_UNREACHABLE", ntStatus: 0xc000023f, win32: 1234, wsa: "WSAECONNRESET" },
  { name: "STATUS_REQUEST_ABORTED", ntStatus: 0xc0000240, win32: 1235, wsa: "WSAEINTR" },
  { name: "STATUS_CONNECTION_ABORTED", ntStatus: 0xc0000241, win32: 1236, wsa: "WSAECONNABORTED" },
  { name: "STATUS_DATATYPE_MISALIGNMENT_ERROR", ntStatus: 0xc00002c5, win32: undefined, wsa: "WSAEFAULT" },
  { name: "STATUS_HOST_DOWN", ntStatus: 0xc0000350, win32: 1256, wsa: "WSAEHOSTDOWN" }
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
