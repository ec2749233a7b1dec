/** The POSIX driver: libc non-blocking sockets driven by libuv's poll handle (Linux). */
export { makePosixDriver } from "./native/posix/driver.js"
