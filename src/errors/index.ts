/**
 * @since 0.1.0
 */
export * from "./WsaError.js"
export { errnoToWsa } from "./errno.js"
export { ntStatusTable, wsaFromNtStatus, wsaFromWin32 } from "./ntstatus.js"
