/**
 * The one path of every overlapped operation (as Go's `execIO`): start, pending, cancel and completion of
 * one OVERLAPPED block. ConnectEx, AcceptEx, DisconnectEx, WSASend and WSARecv each pass a `submit` that
 * fills the block and makes the call, and a `finish` that turns the dequeued entry into a completion;
 * everything else is here.
 *
 * The block (OVERLAPPED, bytes DWORD, WSABUF, sockaddr, data) is allocated with koffi.alloc. The call either
 * fails at once (no packet will come: `done` is called synchronously and the block freed) or is pending /
 * succeeded (a packet will come: completion-port skipping is not enabled, so success also arrives through
 * the port). The block is freed only once its packet was dequeued, so memory the kernel writes on
 * completion (Wine writes ConnectEx's lpdwBytesSent then, see `wine.ts`) lives long enough. `cancel` is
 * CancelIoEx on that OVERLAPPED; closesocket cancels everything pending (995 through the port).
 */
import { once } from "../../completion.js"
import { wsa } from "../../errors/codes.js"
import { ntStatusTable } from "../../errors/ntstatus.js"
import { type Completion, type Done, type InFlight, type NativeSocket, OPERATION_ABORTED } from "../Driver.js"
import type { CompletionPort, Entry } from "./port.js"
import { socketOf, type WindowsSocket } from "./socket.js"
import { allocate, BLOCK_DATA, release, viewOf, type Win32, WSA_IO_INCOMPLETE, WSA_IO_PENDING } from "./win32.js"

const { WSAEINVAL, WSAENOBUFS, WSAENOTSOCK, WSANOTINITIALISED } = wsa

export type OperationKind = "connect" | "send" | "receive" | "disconnect" | "accept"

/** A started overlapped operation, with the address of its OVERLAPPED (for tests and tracing). */
export interface WindowsInFlight extends InFlight {
  readonly kind: OperationKind
  /** the OVERLAPPED's address; 0n when the call failed at once (nothing was queued) */
  readonly overlapped: bigint
}

/**
 * An operation made of successive overlapped ones (an AcceptEx posted again after a client's reset, a zero
 * read posted again, ConnectEx then WSASend): its OVERLAPPED is the current one's, and one cancel covers
 * whichever is posted. Whoever posts the next one sets `current` and checks `cancelled` first.
 */
export class Chain implements WindowsInFlight {
  cancelled = false
  current: WindowsInFlight
  constructor(readonly kind: OperationKind) {
    this.current = { kind, overlapped: 0n, cancel: noop }
  }
  get overlapped(): bigint {
    return this.current.overlapped
  }
  readonly cancel = (): void => {
    this.cancelled = true
    this.current.cancel()
  }
}

/** Fills the block and makes the call; `started` is its BOOL/int result read as success. */
export type Submit = (socket: WindowsSocket, block: bigint, view: DataView) => { readonly started: boolean }

/** Turns the dequeued entry into the completion (the block is still alive, freed right after). */
export type Finish = (socket: WindowsSocket, entry: Entry, view: DataView) => Completion

/** An operation's block allocated ahead of its start (a send's data copied in already), not yet queued. */
export interface Prepared {
  readonly block: bigint
  readonly view: DataView
  readonly dataLength: number
}

export interface Overlapped {
  /**
   * Allocates the operation's block (BLOCK_DATA + `dataLength` bytes), or takes the `prepared` one, lets
   * `submit` fill it and make the call, and hands the completion to `finish`, which turns it into `done`
   * (exactly once). A prepared block is the operation's from then on, freed with it whatever happens.
   */
  readonly start: (
    kind: OperationKind,
    socket: NativeSocket,
    dataLength: number,
    done: Done,
    submit: Submit,
    finish: Finish,
    prepared?: Prepared
  ) => WindowsInFlight
  /** A block for a later `start` (counted live until then); undefined when memory ran out. */
  readonly prepare: (dataLength: number) => Prepared | undefined
  /** Frees a prepared block that will never be started. */
  readonly discard: (prepared: Prepared) => void
  /** An operation that failed before anything was queued: `done` runs now, there is nothing to cancel. */
  readonly failedAtOnce: (kind: OperationKind, code: number, done: Done) => WindowsInFlight
  /**
   * Status of a dequeued entry as 0 or a WSA code: success read from the OVERLAPPED's Internal field (an
   * NTSTATUS), a failure's code from WSAGetOverlappedResult (the table as its fallback).
   */
  readonly statusOf: (socket: WindowsSocket, entry: Entry, view: DataView) => number
  /** blocks allocated and not yet freed */
  readonly liveBlocks: () => number
}

const wsaByNtStatus = new Map(ntStatusTable.map((row) => [row.ntStatus >>> 0, wsa[row.wsa]] as const))

/** NTSTATUS values below 0x80000000 are success or information. */
const ntSuccess = (status: number): boolean => status >>> 0 < 0x80000000

const noop: WindowsInFlight["cancel"] = () => {}

/** The overlapped path on `port()` (the driver's current completion port, undefined before startup). */
export const makeOverlapped = (win32: Win32, port: () => CompletionPort | undefined): Overlapped => {
  const { ws2, kernel32 } = win32
  const bytes = Buffer.alloc(4)
  const flags = Buffer.alloc(8)
  let liveBlocks = 0

  /**
   * The WSA code of a failed completion, as .NET's HandleCompletionPortCallbackError and Go's netpoll get it:
   * WSAGetOverlappedResult first (Winsock's own NTSTATUS -> WSA mapping, which hand-made tables do not
   * always agree with: libuv's mapped STATUS_TOO_MANY_ADDRESSES to WSAEADDRINUSE, later to WSAENOBUFS); the
   * NTSTATUS table only when it cannot answer (it says success, or no code, or that the operation is still
   * incomplete, or that the handle is not a socket), then WSAEINVAL.
   */
  const failureCode = (socket: WindowsSocket, overlapped: bigint, status: number): number => {
    if (ws2.WSAGetOverlappedResult(socket.handle, overlapped, bytes, 0, flags) === 0) {
      const code = ws2.WSAGetLastError()
      if (code !== 0 && code !== WSA_IO_INCOMPLETE && code !== WSAENOTSOCK) return code
    }
    return wsaByNtStatus.get(status >>> 0) ?? WSAEINVAL
  }

  const failedAtOnce = (kind: OperationKind, code: number, done: Done): WindowsInFlight => {
    done({ status: code, bytes: 0 })
    return { kind, overlapped: 0n, cancel: noop }
  }

  const prepare = (dataLength: number): Prepared | undefined => {
    const size = BLOCK_DATA + dataLength
    let block: bigint
    try {
      block = allocate(size)
    } catch {
      return undefined
    }
    liveBlocks++
    const view = new DataView(viewOf(block, size))
    new Uint8Array(view.buffer, 0, BLOCK_DATA).fill(0)
    return { block, view, dataLength }
  }

  const discard = (prepared: Prepared): void => {
    release(prepared.block)
    liveBlocks--
  }

  const start = (
    kind: OperationKind,
    socket: NativeSocket,
    dataLength: number,
    done: Done,
    submit: Submit,
    finish: Finish,
    prepared?: Prepared
  ): WindowsInFlight => {
    const owner = socketOf(socket)
    const p = port()
    const refusal = owner === undefined ? WSAENOTSOCK : p === undefined || p.isClosed ? WSANOTINITIALISED : 0
    if (refusal !== 0 || owner === undefined || p === undefined) {
      if (prepared !== undefined) discard(prepared)
      return failedAtOnce(kind, refusal, done)
    }
    const own = prepared ?? prepare(dataLength)
    if (own === undefined) return failedAtOnce(kind, WSAENOBUFS, done)
    const { block, view } = own
    const free = (): void => discard(own)
    const { started } = submit(owner, block, view)
    if (!started) {
      const code = ws2.WSAGetLastError()
      if (code !== WSA_IO_PENDING) {
        free()
        return failedAtOnce(kind, code === 0 ? WSAEINVAL : code, done)
      }
    }
    // Exactly once, latched on the dequeued entry: from then on `cancel` leaves the (freed) block alone.
    const dequeued = once((entry: Entry) => {
      let completion: Completion
      try {
        completion = finish(owner, entry, view)
      } finally {
        free()
      }
      done(completion)
    })
    p.track({ overlapped: block, complete: dequeued.complete, owner })
    return {
      kind,
      overlapped: block,
      cancel: () => {
        // after closesocket the kernel has cancelled it already
        if (dequeued.completed() || owner.closed) return
        // FALSE with ERROR_NOT_FOUND: it already completed and its packet is queued. Either way exactly
        // one packet comes, and `complete` runs once.
        kernel32.CancelIoEx(owner.handle, block)
      }
    }
  }

  const statusOf = (socket: WindowsSocket, entry: Entry, view: DataView): number => {
    // closed while pending: 995 whatever the kernel reported (the handle is gone, nothing can be updated)
    if (socket.closed) return OPERATION_ABORTED
    const status = view.getUint32(0, true)
    return ntSuccess(status) ? 0 : failureCode(socket, entry.overlapped, status)
  }

  return { start, prepare, discard, failedAtOnce, statusOf, liveBlocks: () => liveBlocks }
}
