/** The Windows driver: ws2_32 ConnectEx / DisconnectEx and a real I/O completion port. */
export { makeWindowsDriver } from "./native/windows/driver.js"
