/**
 * @since 0.1.0
 */
export * from "./WsaError.js"
export { errnoToWsa, ntStatusTable, wsaFromNtStatus, wsaFromWin32 } from "@effect-connectex/core"
