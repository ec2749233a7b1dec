/**
 * The machinery behind `PlatformSocket`: one connection per reader acquisition, read with the core's pull
 * read (what is there now in one step, one receive waited for only when the socket is empty) and, once
 * `upgrade` has turned it into TLS, through node:tls over the core's Duplex, as Effect 4's `NodeSocket` reads
 * a paused node:net socket. The writer writes to the connection of the reader in progress (waiting for one),
 * and releasing it half-closes that connection.
 */
import * as Core from "@effect-connectex/core"
import * as Arr from "effect/Array"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import { Buffer } from "node:buffer"
import type { Duplex } from "node:stream"
import * as Tls from "node:tls"
import * as Socket from "../Socket.js"
import { nonEmpty } from "./pull.js"
import { pullFrom } from "./readerPull.js"
import * as internal from "./socket.js"

type Chunks = Arr.NonEmptyReadonlyArray<Uint8Array>

const socketError = (reason: EffectSocket.SocketErrorReason) => new EffectSocket.SocketError({ reason })
export const openError = (cause: unknown, kind: "Unknown" | "Timeout" = "Unknown") =>
  socketError(new EffectSocket.SocketOpenError({ kind, cause }))
const readError = (cause: unknown) => socketError(new EffectSocket.SocketReadError({ cause }))
const writeError = (cause: unknown) => socketError(new EffectSocket.SocketWriteError({ cause }))
const upgradeError = (cause: unknown) => socketError(new EffectSocket.SocketUpgradeError({ cause }))
const closeError = (code: number, closeReason?: string) => socketError(new EffectSocket.SocketCloseError({ code, closeReason }))

export interface Options {
  /** the most one read takes */
  readonly readSize: number
  /** `upgrade` takes the server's side of the handshake (a connection a listener accepted) */
  readonly tlsServer: boolean
}

/** One connection as the reader and the writer use it. */
interface Connection {
  readonly pull: Effect.Effect<Chunks, EffectSocket.SocketError>
  readonly upgrade: EffectSocket.Reader<Uint8Array>["upgrade"]
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, EffectSocket.SocketError>
  readonly writeAll: (chunks: Chunks) => Effect.Effect<void, EffectSocket.SocketError>
  /** a written `CloseEvent`: the reader fails with it, the connection ends gracefully */
  readonly close: (event: EffectSocket.CloseEvent) => Effect.Effect<void, EffectSocket.SocketError>
  /** the writer's release: a FIN after the data */
  readonly halfClose: Effect.Effect<void>
  /** the reader's scope closed: a suspended pull fails (1006); a TLS session ends */
  readonly finalize: () => void
}

/** What node:stream has buffered of a paused stream, as one batch (`undefined`: nothing yet). */
const readAvailable = (stream: Duplex): Chunks | undefined => {
  const first: unknown = stream.read()
  if (!(first instanceof Uint8Array)) return undefined
  const chunks: [Uint8Array, ...Array<Uint8Array>] = [first]
  for (let next: unknown = stream.read(); next instanceof Uint8Array; next = stream.read()) chunks.push(next)
  return chunks
}

const buffers = (input: string | Uint8Array | ReadonlyArray<string | Uint8Array>): Array<Buffer> =>
  Arr.ensure(input).map((value) => typeof value === "string" ? Buffer.from(value) : Buffer.from(value))

const duplexHooks: Core.Duplex.Hooks = { errorOf: internal.errorOf }

const ignore = () => {}

const makeConnection = (socket: Socket.Socket, options: Options): Connection => {
  /** how the reader ended (every later pull fails with it); set once */
  let failure: EffectSocket.SocketError | undefined
  /** the receive a plain pull waits on, cancelled when the reader ends from outside the pulling fiber */
  let inFlight: Core.Pending | undefined
  /** once upgraded: the TLS socket over the core's Duplex, read paused as NodeSocket reads node:net's */
  let tls: Tls.TLSSocket | undefined
  let waiter: ((effect: Effect.Effect<Chunks, EffectSocket.SocketError>) => void) | undefined

  const fail = (error: EffectSocket.SocketError): void => {
    failure ??= error
    inFlight?.cancel()
    const resume = waiter
    waiter = undefined
    resume?.(Effect.fail(failure))
  }

  const reader = Core.Reader.makeReader(socket, options.readSize)
  const tracked: Core.Reader.Reader = {
    ...reader,
    wait: (onLater) => {
      const started = reader.wait((completion) => {
        inFlight = undefined
        onLater(completion)
      })
      if (!Core.isNow(started) && !Core.isThrown(started)) inFlight = started
      return started
    }
  }
  // The peer's end is SocketCloseError(1000); a receive cancelled by `fail` reports how the reader ended.
  const plainPull = nonEmpty(pullFrom(tracked), () => Effect.fail(closeError(1000))).pipe(
    Effect.mapError((error) => EffectSocket.isSocketError(error) ? error : failure ?? readError(error))
  )

  const onReadable = () => {
    if (waiter === undefined || tls === undefined) return
    const chunks = readAvailable(tls)
    if (chunks === undefined) return
    const resume = waiter
    waiter = undefined
    resume(Effect.succeed(chunks))
  }
  const onEnd = () => fail(closeError(1000))
  const onError = (cause: Error) => fail(readError(cause))
  const onClose = (hadError: boolean) => fail(closeError(hadError ? 1006 : 1000))
  const attach = (stream: Tls.TLSSocket) => {
    stream.on("readable", onReadable).on("end", onEnd).on("error", onError).on("close", onClose)
  }
  const detach = (stream: Tls.TLSSocket) => {
    stream.off("readable", onReadable).off("end", onEnd).off("error", onError).off("close", onClose)
  }

  const tlsPull = (stream: Tls.TLSSocket): Effect.Effect<Chunks, EffectSocket.SocketError> =>
    Effect.suspend(() => {
      const chunks = readAvailable(stream)
      if (chunks !== undefined) return Effect.succeed(chunks)
      if (failure !== undefined) return Effect.fail(failure)
      return Effect.callback<Chunks, EffectSocket.SocketError>((resume) => {
        waiter = resume
        return Effect.sync(() => {
          if (waiter === resume) waiter = undefined
        })
      })
    })

  const pull = Effect.suspend(() => tls !== undefined ? tlsPull(tls) : failure !== undefined ? Effect.fail(failure) : plainPull)

  const upgrade = (upgradeOptions: EffectSocket.TlsUpgradeOptions = {}): Effect.Effect<void, EffectSocket.SocketError> =>
    Effect.suspend(() => {
      if (inFlight !== undefined) return Effect.fail(upgradeError(new Error("socket reader has an active consumer")))
      if (tls !== undefined || failure !== undefined) return Effect.fail(upgradeError(new Error("socket is already upgraded or closed")))
      const hasKey = upgradeOptions.key !== undefined
      const hasCert = upgradeOptions.cert !== undefined
      if ((options.tlsServer && !(hasKey && hasCert)) || hasKey !== hasCert) {
        const detail = options.tlsServer ? "server TLS upgrade requires both key and cert" : "TLS upgrade credentials must include both key and cert"
        return Effect.fail(upgradeError(new Error(detail)))
      }
      return Effect.callback<void, EffectSocket.SocketError>((resume) => {
        let secure: Tls.TLSSocket
        let transport: Core.Duplex.SocketDuplex | undefined
        try {
          const secureContext = Tls.createSecureContext({
            ...(upgradeOptions.key === undefined ? {} : { key: buffers(Arr.ensure(upgradeOptions.key).map(Redacted.value)) }),
            ...(upgradeOptions.cert === undefined ? {} : { cert: buffers(upgradeOptions.cert) }),
            ...(upgradeOptions.ca === undefined ? {} : { ca: buffers(upgradeOptions.ca) }),
            ...(upgradeOptions.passphrase === undefined ? {} : { passphrase: Redacted.value(upgradeOptions.passphrase) })
          })
          const tlsOptions: Tls.TLSSocketOptions & Tls.ConnectionOptions = {
            secureContext,
            ...(upgradeOptions.alpnProtocols === undefined ? {} : { ALPNProtocols: [...upgradeOptions.alpnProtocols] }),
            ...(upgradeOptions.requestCert === undefined ? {} : { requestCert: upgradeOptions.requestCert }),
            ...(upgradeOptions.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: upgradeOptions.rejectUnauthorized }),
            ...(upgradeOptions.servername === undefined ? {} : { servername: upgradeOptions.servername })
          }
          // The Duplex reads from here on (the kernel's buffer included) and closes the socket once destroyed,
          // as NodeSocket's TLS socket destroys the connection under it.
          transport = Core.Duplex.fromSocket(socket, duplexHooks, { readSize: options.readSize })
          secure = options.tlsServer
            ? new Tls.TLSSocket(transport, { ...tlsOptions, isServer: true })
            : Tls.connect({ ...tlsOptions, socket: transport })
        } catch (cause) {
          // bad credentials leave the connection as it was; once the Duplex was made, it is gone with it
          const error = upgradeError(cause)
          if (transport !== undefined) {
            fail(error)
            transport.destroy()
          }
          return resume(Effect.fail(error))
        }
        tls = secure
        // once detached (the reader's scope closed), a late error must not be thrown
        secure.on("error", ignore)
        const secureEvent = options.tlsServer ? "secure" : "secureConnect"
        const cleanup = () => {
          secure.off(secureEvent, succeed).off("error", failUpgrade).off("close", onUpgradeClose)
        }
        function succeed() {
          cleanup()
          secure.pause()
          attach(secure)
          resume(Effect.void)
        }
        function failUpgrade(cause: unknown) {
          cleanup()
          const error = upgradeError(cause)
          fail(error)
          resume(Effect.fail(error))
          secure.destroy()
        }
        function onUpgradeClose() {
          failUpgrade(new Error("socket closed during TLS upgrade"))
        }
        secure.once(secureEvent, succeed).once("error", failUpgrade).once("close", onUpgradeClose)
        return Effect.sync(() => {
          cleanup()
          fail(closeError(1006))
          secure.destroy()
        })
      })
    })

  const tlsWrite = (stream: Tls.TLSSocket, chunks: Chunks): Effect.Effect<void, EffectSocket.SocketError> =>
    Effect.callback<void, EffectSocket.SocketError>((resume) => {
      if (stream.destroyed || stream.writableEnded) return resume(Effect.fail(writeError(new Error("socket is closed"))))
      const last = chunks.length - 1
      // resumed once the last chunk is written (a write cut short by a destroy reports its error there)
      const written = (error?: Error | null) => resume(error ? Effect.fail(writeError(error)) : Effect.void)
      if (last > 0) stream.cork()
      chunks.forEach((chunk, i) => stream.write(chunk, i === last ? written : undefined))
      if (last > 0) stream.uncork()
    })

  const send = (bytes: Uint8Array) => Effect.asVoid(Effect.mapError(Socket.send(socket, bytes), writeError))

  return {
    pull,
    upgrade,
    write: (bytes) => Effect.suspend(() => tls !== undefined ? tlsWrite(tls, [bytes]) : send(bytes)),
    writeAll: (chunks) =>
      Effect.suspend(() => tls !== undefined ? tlsWrite(tls, chunks) : Effect.forEach(chunks, send, { discard: true })),
    close: (event) =>
      Effect.suspend(() => {
        // The reader ends with the close event first, so that the receive it cancels is not a read error.
        fail(closeError(event.code, event.reason))
        const stream = tls
        if (stream !== undefined) return Effect.sync(() => stream.destroySoon())
        return Effect.mapError(Socket.disconnect(socket, { reuse: false }), writeError)
      }),
    halfClose: Effect.suspend(() => {
      if (tls === undefined) return Effect.ignore(Socket.shutdown(socket, "send"))
      if (!tls.writableEnded) tls.end()
      return Effect.void
    }),
    finalize: () => {
      fail(closeError(1006))
      if (tls === undefined) return
      detach(tls)
      tls.destroy()
    }
  }
}

/**
 * The platform socket over the connections `open` gives, one per reader acquisition (in the acquisition's
 * scope, with `context` for what `open` needs besides it). A connection `given` from the start is written to
 * even while no reader is acquired.
 */
export const make = <R>(
  open: Effect.Effect<Socket.Socket, EffectSocket.SocketError, R | Scope.Scope>,
  context: Context.Context<R>,
  options: Options,
  given?: Socket.Socket
): EffectSocket.Socket => {
  const latch = Latch.makeUnsafe(false)
  const idle = given === undefined ? undefined : makeConnection(given, options)
  let current: Connection | undefined = idle
  if (idle !== undefined) latch.openUnsafe()

  const reader: EffectSocket.Socket["reader"] = Effect.gen(function*() {
    const scope = yield* Effect.scope
    const socket = yield* Effect.provideContext(open, Context.add(context, Scope.Scope, scope))
    // a socket that is not connected cannot be read: an open failure, with the typed error as its cause
    yield* Effect.mapError(Socket.peerAddress(socket), (cause) => openError(cause))
    const connection = makeConnection(socket, options)
    yield* Scope.addFinalizer(
      scope,
      Effect.sync(() => {
        connection.finalize()
        if (current === connection) {
          current = idle
          if (idle === undefined) latch.closeUnsafe()
        }
      })
    )
    current = connection
    latch.openUnsafe()
    return { pull: connection.pull, upgrade: connection.upgrade }
  })

  const write = (chunk: Uint8Array | string | EffectSocket.CloseEvent): Effect.Effect<void, EffectSocket.SocketError> =>
    Effect.suspend(() => {
      const connection = current
      if (connection === undefined) return latch.whenOpen(write(chunk))
      if (EffectSocket.isCloseEvent(chunk)) return connection.close(chunk)
      return connection.write(typeof chunk === "string" ? encoder.encode(chunk) : chunk)
    })
  const writeAll = (chunks: Arr.NonEmptyReadonlyArray<Uint8Array | string>): Effect.Effect<void, EffectSocket.SocketError> =>
    Effect.suspend(() => {
      const connection = current
      if (connection === undefined) return latch.whenOpen(writeAll(chunks))
      const [first, ...rest] = chunks
      const bytes = (chunk: Uint8Array | string) => typeof chunk === "string" ? encoder.encode(chunk) : chunk
      return connection.writeAll([bytes(first), ...rest.map(bytes)])
    })

  return EffectSocket.make({
    reader,
    // Releasing the writer half-closes the connection in progress (a FIN after the data), as NodeSocket's
    // `end()` does; with no connection there is nothing to close.
    writer: Effect.acquireRelease(Effect.succeed({ write, writeAll }), () => current?.halfClose ?? Effect.void)
  })
}

const encoder = new TextEncoder()
