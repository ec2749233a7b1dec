/**
 * A connection as a node:net `Socket` to the code that receives it: a node:stream `Duplex` driven straight
 * from the driver's callbacks (no fiber, no Effect per chunk or per write), as Node's `lib/net.js` drives its
 * handle. Reading is the push read (chunks handed over from the driver's completions; `push` answering false
 * pauses it until the next `_read`); writing is the send machine (tried synchronously from the chunk's bytes
 * first); `end()` is a half-close (a FIN after the data); `destroy()` closes the connection.
 *
 * It is a net.Socket in what clients look at: `connect(port, host)` / `connect(options)` with "connect" and
 * "ready", `connecting`, `pending`, `readyState`, the addresses and counters, `setNoDelay`, `setKeepAlive`,
 * `setTimeout`, `ref` / `unref`, `address()`, `resetAndDestroy()`, and errors made as node:net makes them
 * (`code`, `errno`, `syscall`, the library's typed WSA error as `cause`). Connecting is the front-end's: it
 * hands a `Dialer` that dials through its own `dial` / `dialName` (typed errors, retries, timeout, Happy
 * Eyeballs) and gives back the connected socket.
 */
import { Duplex } from "node:stream"
import type { SocketAddress } from "./address.js"
import { wsa } from "./errors/codes.js"
import { type Failure, isFailure, statusFailure } from "./failure.js"
import { checkSend, checkShutdown, send, shutdown } from "./io.js"
import type { Completion } from "./native/Driver.js"
import { type NodeError, nodeError } from "./nodeErrors.js"
import { isNow, isThrown, type Started } from "./port.js"
import { localAddress, peerAddress, setOption } from "./calls.js"
import { checkPush, isDefectOf, pushRead, type PushRead } from "./reader.js"
import { close, isSocket, onClose, type Socket, usable } from "./sockets.js"

/** What a connect asks the front-end's dialer for. */
export interface DialRequest {
  /** a host name or an address literal */
  readonly host: string
  readonly port: number
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
  /** 4 or 6 restricts the addresses of a name to that family; 0 or undefined takes both */
  readonly family?: number | undefined
}

/**
 * A dial's outcome: the connected socket and how to let it go, or the failure: a WSA code (or a Node code as
 * it is, a resolver's `ENOTFOUND`), the call that failed ("connect" unless said: "getaddrinfo") and the
 * front-end's typed error.
 */
export type DialOutcome =
  | { readonly socket: Socket; readonly release: () => void }
  | { readonly code: number | string; readonly syscall?: string | undefined; readonly cause: Error }

/** Dials for a Duplex; the function it returns cancels the dial (its outcome then still comes, and is let go). */
export type Dialer = (request: DialRequest, callback: (outcome: DialOutcome) => void) => () => void

export interface Hooks {
  /** the front-end's typed error for a failure: the `cause` of the Node error a Duplex emits */
  readonly errorOf: (failure: Failure) => Error
  /** how the Duplex connects (a connector's); without one, `connect` fails with EISCONN or EINVAL */
  readonly dialer?: Dialer | undefined
}

export interface Options {
  /** the most one read takes (default 65536) */
  readonly readSize?: number | undefined
  /**
   * keep the writable side open after the peer's end (default false, as net.Socket: the peer's end ends the
   * writable side too, a FIN back)
   */
  readonly allowHalfOpen?: boolean | undefined
  /** the readable side's buffer before reading pauses (default 64 KiB) */
  readonly highWaterMark?: number | undefined
}

const DEFAULT_READ_SIZE = 64 * 1024

type Callback = (error?: Error | null) => void

/** node:net's family names. */
const familyName = (address: SocketAddress): "IPv4" | "IPv6" => (address.family === "ipv4" ? "IPv4" : "IPv6")

/** net.Socket#connect's arguments: (options[, listener]) or (port[, host][, listener]). */
const connectArguments = (args: ReadonlyArray<unknown>): { readonly request: Partial<DialRequest> & { readonly path?: unknown }; readonly listener?: () => void } => {
  const last = args[args.length - 1]
  const listener = typeof last === "function" ? (last as () => void) : undefined
  const [first, second] = args
  if (typeof first === "object" && first !== null) {
    const options = first as Partial<DialRequest> & { readonly path?: unknown }
    return { request: options, ...(listener === undefined ? {} : { listener }) }
  }
  const request = { port: Number(first), host: typeof second === "string" ? second : "localhost" }
  return { request, ...(listener === undefined ? {} : { listener }) }
}

export class SocketDuplex extends Duplex {
  /** as net.Socket: true between `connect()` and the "connect" event */
  connecting = false
  /** the idle timeout set by `setTimeout` (ms; 0 = none) */
  timeout = 0
  /** as net.Socket's (Happy Eyeballs): the address that was connected to, as `host:port` */
  autoSelectFamilyAttemptedAddresses: Array<string> = []
  // The addresses, as net.Socket's: set once connected, and kept after the close (undici reads them then).
  remoteAddress: string | undefined = undefined
  remotePort: number | undefined = undefined
  remoteFamily: string | undefined = undefined
  localAddress?: string
  localPort?: number
  localFamily?: string
  /** the connection (a value that is no socket of ours fails every call with WSAENOTSOCK) */
  #socket: unknown
  #release: (() => void) | undefined
  #unwatchClose: (() => void) | undefined = undefined
  #cancelDial: (() => void) | undefined
  #reading: PushRead | undefined = undefined
  #resumeReading: (() => void) | undefined = undefined
  #wantsRead = false
  #bytesReceived = 0
  #bytesSent = 0
  #local: SocketAddress | undefined = undefined
  #remote: SocketAddress | undefined = undefined
  #idleTimer: ReturnType<typeof setTimeout> | undefined = undefined
  /**
   * As a net.Socket's handle, an open connection keeps the process alive while it is ref'd, reading or not:
   * the driver's waits hold the event loop only while something waits, so an idle ref'd connection holds it
   * with this (an interval that never fires in practice), dropped by `unref` and by `destroy`.
   */
  #hold: ReturnType<typeof setInterval> | undefined = undefined
  #referenced = true
  #noDelay: boolean | undefined = undefined
  #keepAlive: boolean | undefined = undefined
  /** a write or the end that came while connecting: done once connected */
  #waitingForConnect: Array<() => void> = []
  readonly #readSize: number

  readonly #hooks: Hooks

  constructor(
    hooks: Hooks,
    options: Options | undefined,
    connected?: { readonly socket: unknown; readonly release: () => void }
  ) {
    super({
      allowHalfOpen: options?.allowHalfOpen ?? false,
      readableHighWaterMark: options?.highWaterMark ?? 64 * 1024,
      decodeStrings: true,
      // as net.Socket: "close" is emitted by _destroy, with whether an error caused it
      emitClose: false,
      autoDestroy: true
    })
    this.#hooks = hooks
    this.#readSize = options?.readSize ?? DEFAULT_READ_SIZE
    if (connected !== undefined) {
      this.#adopt(connected.socket, connected.release)
      this.#startReading()
    }
  }

  // --- what clients read of a net.Socket --------------------------------------------------------------

  /** as net.Socket: true until the connection is established (or while it is being made) */
  get pending(): boolean {
    return this.#socket === undefined || this.connecting
  }

  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.connecting) return "opening"
    if (this.#socket === undefined || this.destroyed) return "closed"
    if (this.readable && this.writable) return "open"
    if (this.readable) return "readOnly"
    if (this.writable) return "writeOnly"
    return "closed"
  }

  get bytesRead(): number {
    return this.#bytesReceived
  }
  /** bytes sent, and those still waiting to be (as net.Socket counts them) */
  get bytesWritten(): number {
    return this.#bytesSent + this.writableLength
  }
  /** @deprecated as net.Socket's: `writableLength` */
  get bufferSize(): number {
    return this.writableLength
  }

  /** net.Socket#address(): the local end. */
  address(): { readonly address: string; readonly family: string; readonly port: number } | Record<string, never> {
    const local = this.#local
    return local === undefined ? {} : { address: local.host, family: familyName(local)!, port: local.port }
  }

  // --- connecting --------------------------------------------------------------------------------------

  /** net.Socket#connect: (port[, host][, listener]) or (options[, listener]); dials through the connector. */
  connect(...args: ReadonlyArray<unknown>): this {
    const { listener, request } = connectArguments(args)
    if (listener !== undefined) this.once("connect", listener)
    const dialer = this.#hooks.dialer
    if (this.#socket !== undefined || this.connecting || dialer === undefined) {
      const code = this.#socket !== undefined || this.connecting ? wsa.WSAEISCONN : wsa.WSAEINVAL
      const detail = dialer === undefined ? "this Duplex was made from a connected socket; a connector's Duplex connects" : "already connected"
      process.nextTick(() => this.destroy(this.#failed(statusFailure(code, "connect", undefined, detail), "connect")))
      return this
    }
    if (typeof request.path === "string" && request.path !== "") {
      process.nextTick(() => this.destroy(this.#failed(statusFailure(wsa.WSAEAFNOSUPPORT, "connect", undefined, "IPC paths are not TCP"), "connect")))
      return this
    }
    const host = request.host ?? "localhost"
    const port = Number(request.port)
    const { keepAlive, noDelay, timeout } = request as { readonly keepAlive?: unknown; readonly noDelay?: unknown; readonly timeout?: unknown }
    if (typeof noDelay === "boolean") this.setNoDelay(noDelay)
    if (typeof keepAlive === "boolean") this.setKeepAlive(keepAlive)
    if (typeof timeout === "number") this.setTimeout(timeout)
    this.connecting = true
    // A dialer may answer inside the call (a loopback connect can): node:net never emits "connect" before
    // connect() returns, so such an answer waits for the next tick, and no cancel is kept for a dial that is over.
    let inCall = true
    let answered: DialOutcome | undefined
    const cancel = dialer({ ...request, host, port }, (outcome) => {
      if (inCall) answered = outcome
      else this.#dialed(outcome, host, port)
    })
    inCall = false
    if (answered === undefined) {
      this.#cancelDial = cancel
    } else {
      const outcome = answered
      process.nextTick(() => this.#dialed(outcome, host, port))
    }
    return this
  }

  /** The dial's outcome: the connection adopted (released if the Duplex was destroyed meanwhile), or the error. */
  #dialed(outcome: DialOutcome, host: string, port: number): void {
    this.#cancelDial = undefined
    if ("socket" in outcome) {
      if (this.destroyed) return outcome.release()
      this.connecting = false
      this.#adopt(outcome.socket, outcome.release)
      this.emit("connect")
      this.emit("ready")
      for (const waiting of this.#waitingForConnect.splice(0)) waiting()
      if (this.#wantsRead) this._read()
      else this.#startReading()
      return
    }
    this.connecting = false
    if (!this.destroyed) this.destroy(nodeError(outcome.code, outcome.syscall ?? "connect", outcome.cause, { host, port }))
  }

  #adopt(socket: unknown, release: () => void): void {
    this.#socket = socket
    this.#release = release
    const local = localAddress(socket)
    const remote = peerAddress(socket)
    if (!isFailure(local)) {
      this.#local = local
      this.localAddress = local.host
      this.localPort = local.port
      this.localFamily = familyName(local)
    }
    if (!isFailure(remote)) {
      this.#remote = remote
      this.remoteAddress = remote.host
      this.remotePort = remote.port
      this.remoteFamily = familyName(remote)
      this.autoSelectFamilyAttemptedAddresses = [`${remote.host}:${remote.port}`]
    }
    if (this.#noDelay !== undefined) this.setNoDelay(this.#noDelay)
    if (this.#keepAlive !== undefined) this.setKeepAlive(this.#keepAlive)
    this.#hold = setInterval(() => {}, 0x7fffffff)
    this.#setReferenced(this.#referenced)
    // The socket closed under the Duplex (its scope, or the layer) while nothing was in flight on it (reading
    // paused at the high-water mark with a driver that reads by operations): told here, it errors as a read
    // in flight would (ECANCELED, WSA_OPERATION_ABORTED as the cause).
    if (isSocket(socket)) {
      this.#unwatchClose = onClose(socket, () => this.destroy(this.#failed(statusFailure(wsa.WSA_OPERATION_ABORTED, "receive"), "read")))
    }
  }

  // --- reading -----------------------------------------------------------------------------------------

  /**
   * As a net.Socket (its constructor with a handle, its afterConnect): reading starts once connected, unless
   * paused, whether or not anyone consumes yet (up to the high-water mark). So the peer's end, a reset, or the
   * socket's close by its scope or the layer reaches the Duplex even while it has nothing else in flight.
   */
  #startReading(): void {
    if (this.readable && !this.isPaused()) this.read(0)
  }

  override _read(): void {
    if (this.#socket === undefined || this.connecting) return void (this.#wantsRead = true)
    if (this.#reading === undefined) {
      const socket = checkPush(this.#socket)
      if (isFailure(socket)) return void this.destroy(this.#failed(socket, "read"))
      this.#reading = pushRead(socket, this.#readSize, {
        chunk: (bytes, resume) => {
          this.#bytesReceived += bytes.byteLength
          this.#activity()
          if (this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) return true
          this.#resumeReading = resume
          return false
        },
        end: (outcome) => {
          if (outcome === undefined) return void this.push(null)
          this.destroy(isDefectOf(outcome) ? asError(outcome.defect) : this.#failed(outcome, "read"))
        }
      })
      return
    }
    const resume = this.#resumeReading
    this.#resumeReading = undefined
    resume?.()
  }

  // --- writing -----------------------------------------------------------------------------------------

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    if (this.connecting) return void this.#waitingForConnect.push(() => this._write(chunk, _encoding, callback))
    const socket = this.#socket === undefined ? notConnected("send") : checkSend(this.#socket, chunk)
    if (isFailure(socket)) return callback(this.#failed(socket, "write"))
    this.#settle(send(socket, chunk, (completion) => this.#wrote(completion, callback)), (c) => this.#wrote(c, callback))
  }

  override _writev(chunks: Array<{ readonly chunk: Buffer }>, callback: Callback): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), "binary", callback)
  }

  #wrote(completion: Completion, callback: Callback): void {
    if (completion.status !== 0) return callback(this.#failed(statusFailure(completion.status, "send"), "write"))
    this.#bytesSent += completion.bytes
    this.#activity()
    callback()
  }

  // end(): a FIN after the data; the readable side goes on until the peer's end.
  override _final(callback: Callback): void {
    if (this.connecting) return void this.#waitingForConnect.push(() => this._final(callback))
    const socket = this.#socket === undefined ? notConnected("send") : checkShutdown(this.#socket, "send")
    if (socket === "done") return callback()
    if (isFailure(socket)) return callback(this.#failed(socket, "shutdown"))
    this.#settle(shutdown(socket, (c) => this.#shut(c, callback)), (c) => this.#shut(c, callback))
  }

  #shut(completion: Completion, callback: Callback): void {
    callback(completion.status === 0 ? null : this.#failed(statusFailure(completion.status, "send"), "shutdown"))
  }

  /** A started operation's completion to `then`: at once when it came at once (a driver defect destroys). */
  #settle(started: Started, then: (completion: Completion) => void): void {
    if (isNow(started)) then(started.now)
    else if (isThrown(started)) this.destroy(asError(started.thrown))
  }

  override _destroy(error: Error | null, callback: Callback): void {
    this.#clearIdle()
    if (this.#hold !== undefined) clearInterval(this.#hold)
    this.#hold = undefined
    this.#cancelDial?.()
    this.#cancelDial = undefined
    this.connecting = false
    this.#reading?.stop()
    this.#reading = undefined
    this.#unwatchClose?.()
    this.#unwatchClose = undefined
    const release = this.#release
    this.#release = undefined
    release?.()
    callback(error)
    process.nextTick(() => this.emit("close", error !== null))
  }

  /** net.Socket#resetAndDestroy: a reset (SO_LINGER 0), not a FIN. */
  resetAndDestroy(): this {
    if (!this.destroyed) setOption(this.#socket, "SO_LINGER", 0)
    return this.destroy()
  }

  /** net.Socket#destroySoon: end, then destroy once written. */
  destroySoon(): void {
    if (this.writable) this.end()
    if (this.writableFinished) this.destroy()
    else this.once("finish", () => this.destroy())
  }

  // --- options ---------------------------------------------------------------------------------------------

  /** TCP_NODELAY, as net.Socket#setNoDelay (kept until connected when connecting). */
  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay
    if (this.#socket !== undefined && !this.destroyed) setOption(this.#socket, "TCP_NODELAY", noDelay)
    return this
  }

  /** SO_KEEPALIVE, as net.Socket#setKeepAlive (the system's idle time before the first probe). */
  setKeepAlive(enable = false, _initialDelay?: number): this {
    this.#keepAlive = enable
    if (this.#socket !== undefined && !this.destroyed) setOption(this.#socket, "SO_KEEPALIVE", enable)
    return this
  }

  /** An idle timeout that emits "timeout", as net.Socket#setTimeout (the connection stays open). */
  setTimeout(timeout: number, callback?: () => void): this {
    this.timeout = timeout
    if (callback !== undefined) {
      if (timeout === 0) this.removeListener("timeout", callback)
      else this.once("timeout", callback)
    }
    this.#armIdle()
    return this
  }

  /** As net.Socket#ref: the connection keeps the process alive while it waits (the default). */
  ref(): this {
    return this.#setReferenced(true)
  }

  /** As net.Socket#unref: the connection no longer keeps the process alive by itself. */
  unref(): this {
    return this.#setReferenced(false)
  }

  #setReferenced(referenced: boolean): this {
    this.#referenced = referenced
    const socket = this.#socket === undefined ? undefined : usable(this.#socket, "setsockopt")
    if (socket !== undefined && !isFailure(socket)) socket.port.driver.setRef?.(socket.native, referenced)
    for (const timer of [this.#idleTimer, this.#hold]) {
      if (timer !== undefined) referenced ? timer.ref() : timer.unref()
    }
    return this
  }

  #activity(): void {
    if (this.timeout > 0) this.#armIdle()
  }

  #armIdle(): void {
    this.#clearIdle()
    if (this.timeout <= 0 || this.destroyed) return
    this.#idleTimer = setTimeout(() => this.emit("timeout"), this.timeout)
    if (!this.#referenced) this.#idleTimer.unref()
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
  }

  #failed(failure: Failure, syscall: string): NodeError {
    const peer = syscall === "connect" && this.#remote !== undefined ? { host: this.#remote.host, port: this.#remote.port } : undefined
    return nodeError(failure.code, syscall, this.#hooks.errorOf(failure), peer)
  }
}

/** A Duplex that never connected: its writes and its end are WSAENOTCONN (node:net says ENOTCONN / EPIPE). */
const notConnected = (operation: "send"): Failure => statusFailure(wsa.WSAENOTCONN, operation)

const asError = (u: unknown): Error => (u instanceof Error ? u : new Error(String(u)))

/**
 * A connected socket as a Duplex; destroying it runs `release` (closing the socket by default). A value that is
 * no socket of ours gives a Duplex whose every read and write fails with WSAENOTSOCK.
 */
export const fromSocket = (socket: unknown, hooks: Hooks, options?: Options, release?: () => void): SocketDuplex =>
  isSocket(socket)
    ? new SocketDuplex(hooks, options, { socket, release: release ?? (() => close(socket)) })
    : new SocketDuplex(hooks, options, { socket, release: () => {} })

/** A Duplex not connected yet: `connect(port, host)` dials through `hooks.dialer`. */
export const unconnected = (hooks: Hooks, options?: Options): SocketDuplex => new SocketDuplex(hooks, options)
