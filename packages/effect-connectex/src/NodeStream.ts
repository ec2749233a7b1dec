/**
 * A connected socket as a node:stream `Duplex`, so that the ecosystem's clients run over this library's
 * connections: `tls.connect({ socket })`, an `http.Agent` whose `createConnection` dials with
 * `ConnectEx.dial` (typed connect errors, retries, Happy Eyeballs), and everything built on them.
 *
 * Reading is the streaming read of `Socket.stream`: every chunk already there is pushed in one step, and
 * reading pauses while `push` says the consumer's buffer is full (back-pressure reaches the peer through
 * TCP). Writing is `Socket.send` (tried synchronously from the chunk's bytes first); the writable side's
 * `end()` is a half-close (`Socket.shutdown(socket, "send")`, a FIN after the data). `destroy()` closes the
 * socket. Errors are the library's typed WSA errors (`_tag`, `code`), emitted as the stream's `error`.
 *
 * @example
 * import * as tls from "node:tls"
 * import { Effect } from "effect"
 * import { ConnectEx, NodeStream, SocketAddress } from "effect-connectex"
 *
 * const program = Effect.gen(function*() {
 *   const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 443))
 *   const duplex = yield* NodeStream.toDuplex(socket)
 *   const secure = tls.connect({ socket: duplex, servername: "localhost" })
 * }).pipe(Effect.scoped, Effect.provide(ConnectEx.layer))
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, type Fiber, Runtime } from "effect"
import { Duplex } from "node:stream"
import type * as WsaError from "./errors/WsaError.js"
import { isPulled, makeReader, type Pulled, type Reader, WAIT } from "./internal/reader.js"
import * as internal from "./internal/socket.js"
import * as Socket from "./Socket.js"

/**
 * Options of `toDuplex`.
 *
 * @example
 * NodeStream.toDuplex(socket, { readSize: 16 * 1024, allowHalfOpen: true })
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the most one read takes (default 65536) */
  readonly readSize?: number | undefined
  /**
   * keep the writable side open after the peer's end (default false, as `net.Socket`: the peer's end ends
   * the writable side too, a FIN back)
   */
  readonly allowHalfOpen?: boolean | undefined
  /** the readable side's buffer before reading pauses (default 64 KiB) */
  readonly highWaterMark?: number | undefined
}

/**
 * The Duplex `toDuplex` gives: a `stream.Duplex` with the `net.Socket` methods that `http` and `tls` call
 * (`setNoDelay`, `setKeepAlive`, `setTimeout`, `ref`, `unref`) and the underlying socket.
 *
 * @example
 * const duplex: NodeStream.SocketDuplex = yield* NodeStream.toDuplex(socket)
 * duplex.setNoDelay(true)
 * @since 0.1.0
 * @category models
 */
export interface SocketDuplex extends Duplex {
  /** the connected socket the stream reads and writes */
  readonly socket: Socket.Socket
  /** always false: the socket is connected before the Duplex exists (http.Agent reads it) */
  readonly connecting: boolean
  /** TCP_NODELAY on the socket, as net.Socket#setNoDelay */
  setNoDelay(noDelay?: boolean): this
  /** SO_KEEPALIVE on the socket, as net.Socket#setKeepAlive */
  setKeepAlive(enable?: boolean, initialDelay?: number): this
  /** an idle timeout that emits "timeout", as net.Socket#setTimeout (http.Agent uses it) */
  setTimeout(timeout: number, callback?: () => void): this
  /** kept for net.Socket compatibility: the socket never holds the process open by itself */
  ref(): this
  /** kept for net.Socket compatibility: the socket never holds the process open by itself */
  unref(): this
}

class ConnectionDuplex extends Duplex implements SocketDuplex {
  readonly connecting = false
  private reading: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  private readingNow = false
  private idleTimer: ReturnType<typeof setTimeout> | undefined = undefined
  private idleMs = 0
  private readonly reader: Reader

  constructor(
    readonly socket: Socket.Socket,
    private readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>,
    options: Options | undefined
  ) {
    super({
      allowHalfOpen: options?.allowHalfOpen ?? false,
      readableHighWaterMark: options?.highWaterMark ?? 64 * 1024,
      decodeStrings: true
    })
    this.reader = makeReader(socket, options?.readSize ?? 64 * 1024)
  }

  /** Runs `effect` and calls `then` with its exit (synchronously when it completes at once). */
  private run<A, E>(effect: Effect.Effect<A, E>, then: (exit: Exit.Exit<A, E>) => void): Fiber.RuntimeFiber<A, E> {
    const fiber = this.runFork(effect)
    fiber.addObserver(then)
    return fiber
  }

  private activity(): void {
    if (this.idleMs > 0) this.armIdle()
  }

  private armIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.idleTimer = this.idleMs > 0 ? setTimeout(() => this.emit("timeout"), this.idleMs) : undefined
    this.idleTimer?.unref?.()
  }

  // What is already there is taken synchronously (the reader's `tryPull`, no fiber), as long as the consumer
  // wants more; only an empty socket starts a fiber, for one wait. One read outstanding at a time. The fiber
  // may finish (and its observer run) inside `runFork`/`addObserver`, so the state is set before either is
  // called.
  override _read(): void {
    if (this.readingNow || this.destroyed) return
    while (true) {
      const now = this.reader.tryPull()
      if (now === WAIT) return this.waitAndRead()
      if (!this.deliver(now)) return
    }
  }

  /** Pushes what a read gave; true when the consumer wants more at once. */
  private deliver(pulled: Pulled | WsaError.ReceiveError): boolean {
    if (!isPulled(pulled)) {
      this.destroy(failureOf(Cause.fail(pulled)))
      return false
    }
    this.activity()
    const chunks = pulled
    if (chunks === undefined) {
      this.push(null)
      return false
    }
    let more = true
    for (const chunk of chunks) more = this.push(chunk)
    return more && !this.destroyed
  }

  private waitAndRead(): void {
    this.readingNow = true
    const fiber = this.runFork(this.reader.wait)
    this.reading = fiber
    fiber.addObserver((exit) => {
      if (this.reading === fiber) this.reading = undefined
      this.readingNow = false
      if (this.destroyed) return
      if (Exit.isFailure(exit)) {
        if (!Exit.isInterrupted(exit)) this.destroy(failureOf(exit.cause))
        return
      }
      if (this.deliver(exit.value)) this._read()
    })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.run(Socket.send(this.socket, chunk), (exit) => {
      this.activity()
      callback(Exit.isFailure(exit) ? failureOf(exit.cause) : null)
    })
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), "binary", callback)
  }

  // end(): a FIN after the data; the readable side goes on until the peer's end.
  override _final(callback: (error?: Error | null) => void): void {
    this.run(Socket.shutdown(this.socket, "send"), (exit) => callback(Exit.isFailure(exit) ? failureOf(exit.cause) : null))
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    const reading = this.reading
    this.reading = undefined
    if (reading !== undefined) this.runFork(reading.interruptAsFork(reading.id()))
    if (internal.isSocket(this.socket)) internal.close(this.socket)
    callback(error)
  }

  setNoDelay(noDelay = true): this {
    this.run(Socket.setOption(this.socket, "TCP_NODELAY", noDelay), () => {})
    return this
  }

  setKeepAlive(enable = false): this {
    this.run(Socket.setOption(this.socket, "SO_KEEPALIVE", enable), () => {})
    return this
  }

  setTimeout(timeout: number, callback?: () => void): this {
    this.idleMs = timeout
    if (callback !== undefined) {
      if (timeout === 0) this.removeListener("timeout", callback)
      else this.once("timeout", callback)
    }
    this.armIdle()
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }
}

/** The error of a failed exit's cause: the typed failure (a WsaError is an Error), else the squashed cause. */
const failureOf = (cause: Cause.Cause<unknown>): Error => {
  const squashed = Cause.squash(cause)
  return squashed instanceof Error ? squashed : new Error(String(squashed))
}

/**
 * A node:stream `Duplex` over a connected socket: back-pressure both ways, `end()` a half-close (FIN),
 * `destroy()` closes the socket. The socket stays owned by its scope (closing the scope closes the
 * connection, and the Duplex then errors with WSA_OPERATION_ABORTED if it was reading).
 *
 * @example
 * import * as http from "node:http"
 * const { socket } = yield* ConnectEx.dial(SocketAddress.ipv4("127.0.0.1", 8080))
 * const duplex = yield* NodeStream.toDuplex(socket)
 * http.get({ createConnection: () => duplex, path: "/" }, (response) => response.resume())
 * @since 0.1.0
 * @category constructors
 */
export const toDuplex = (socket: Socket.Socket, options?: Options): Effect.Effect<SocketDuplex> =>
  Effect.map(Effect.runtime<never>(), (runtime) => new ConnectionDuplex(socket, Runtime.runFork(runtime), options))
