/** Node's errno numbers are libuv's, and libuv's differ by platform (Linux's errno, Windows' UV_ constants). */
export const platformErrno = process.platform === "win32"
  ? { ECONNRESET: -4077, EAGAIN: -4088, ECONNREFUSED: -4078 }
  : { ECONNRESET: -104, EAGAIN: -11, ECONNREFUSED: -111 }
