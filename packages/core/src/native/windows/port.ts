/**
 * The I/O completion port and its poller. One `GetQueuedCompletionStatusEx` call is in flight (through
 * koffi's `.async`, on one libuv threadpool thread) only while operations are pending, so an idle process
 * can exit. Each dequeued OVERLAPPED_ENTRY is dispatched, on the main thread, by its OVERLAPPED address to
 * the operation that owns that OVERLAPPED; packets without an OVERLAPPED are wake-ups
 * (`PostQueuedCompletionStatus`, used for shutdown).
 *
 * Closing the port never frees memory the kernel may still write: while operations are pending the poller
 * keeps draining (their sockets are closed, so their completions come), and the handle is closed and
 * `onClosed` runs once the last one was dequeued.
 */
import {
  INFINITE,
  INVALID_HANDLE_VALUE,
  OVERLAPPED_ENTRY_SIZE,
  type Win32,
  allocate,
  viewOf
} from "./win32.js"

/** One dequeued OVERLAPPED_ENTRY. `status` is the low 32 bits of its Internal field (an NTSTATUS). */
export interface Entry {
  readonly key: number
  readonly overlapped: bigint
  readonly status: number
  readonly bytes: number
}

/** A pending operation, known to the port by the address of its OVERLAPPED. */
export interface Tracked {
  readonly overlapped: bigint
  readonly complete: (entry: Entry) => void
  /** its socket: while every pending operation's socket is unref'd, the poller must not hold the process */
  readonly owner?: { readonly referenced: boolean }
}

/**
 * The poller's wait while only unref'd sockets have operations pending: bounded, and the next wait is started
 * from an unref'd timer, so that a process with nothing else to do exits within this time (node:net's unref'd
 * handle lets it exit at once; a blocked pool thread would hold it forever).
 */
export const UNREFERENCED_WAIT_MS = 100

export interface PortStats {
  /** GetQueuedCompletionStatusEx calls that returned entries */
  readonly polls: number
  /** entries dequeued, wake-ups included */
  readonly entries: number
  /** the most entries one call returned */
  readonly maxBatch: number
  readonly wakeups: number
}

/** Entries one GetQueuedCompletionStatusEx call may return. */
const BATCH = 64

/**
 * The poller's buffer: BATCH entries followed by the ULONG count of entries removed. The threadpool thread
 * writes it while a call is in flight, so it is process-wide, reused, and never freed (one per port polling
 * at the same time): freeing it at layer release would race the in-flight call.
 */
interface PollBuffer {
  readonly pointer: bigint
  readonly view: DataView
}
const pollBuffers: Array<PollBuffer> = []
const POLL_BUFFER_SIZE = BATCH * OVERLAPPED_ENTRY_SIZE + 8
const takePollBuffer = (): PollBuffer => {
  const reused = pollBuffers.pop()
  if (reused !== undefined) return reused
  const pointer = allocate(POLL_BUFFER_SIZE)
  return { pointer, view: new DataView(viewOf(pointer, POLL_BUFFER_SIZE)) }
}

export class CompletionPort {
  private readonly pending = new Map<bigint, Tracked>()
  private buffer: PollBuffer | undefined = undefined
  private dispatching = false
  private closing = false
  private closed = false
  private wakePosted = false
  private failures = 0
  private polls = 0
  private entries = 0
  private maxBatch = 0
  private wakeups = 0
  /** Called for every dequeued entry before it is dispatched (tests, tracing). */
  onEntry: ((entry: Entry) => void) | undefined = undefined

  private constructor(
    private readonly win32: Win32,
    readonly handle: number,
    private readonly onClosed: () => void
  ) {
    process.on("exit", this.releasePollerOnExit)
  }

  /**
   * `process.exit` with a poll in flight (a server's pending accept keeps one): Node joins its threadpool at
   * exit (libuv's uv_library_shutdown -> uv__threadpool_cleanup, on Windows as elsewhere), and the thread
   * blocked in GetQueuedCompletionStatusEx(INFINITE) would never return, so the process would never exit
   * (measured under Wine: a process serving with `Listener.serve` hung). A wake-up packet lets that call
   * return; nothing re-arms it, since no callback runs after "exit". Not a Wine workaround: needed wherever
   * the poller blocks on a pool thread.
   */
  private readonly releasePollerOnExit = (): void => {
    if (this.buffer !== undefined && !this.closed) this.win32.kernel32.PostQueuedCompletionStatus(this.handle, 0, 0, null)
  }

  /** A new port, or the Win32 error of CreateIoCompletionPort. */
  static create(win32: Win32, onClosed: () => void): CompletionPort | number {
    const handle = win32.kernel32.CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0, 0, 1)
    if (handle === 0) return win32.kernel32.GetLastError()
    return new CompletionPort(win32, handle, onClosed)
  }

  /** Associates a socket: its completions come here with `key`. 0 or the Win32 error. */
  associate(socket: number, key: number): number {
    const result = this.win32.kernel32.CreateIoCompletionPort(socket, this.handle, key, 0)
    return result === 0 ? this.win32.kernel32.GetLastError() : 0
  }

  /** Registers an operation whose completion the kernel will queue; starts the poller if needed. */
  track(operation: Tracked): void {
    this.pending.set(operation.overlapped, operation)
    this.arm()
  }

  get pendingCount(): number {
    return this.pending.size
  }

  get isPolling(): boolean {
    return this.buffer !== undefined
  }

  get isClosed(): boolean {
    return this.closed
  }

  stats(): PortStats {
    return { polls: this.polls, entries: this.entries, maxBatch: this.maxBatch, wakeups: this.wakeups }
  }

  /** Queues a packet without an OVERLAPPED: the poller returns, and re-arms only if operations are pending. */
  wake(): void {
    if (this.closed || this.wakePosted) return
    if (this.win32.kernel32.PostQueuedCompletionStatus(this.handle, 0, 0, null) !== 0) this.wakePosted = true
  }

  /** Closes once every pending completion was dequeued (at once when none is pending). */
  close(): void {
    if (this.closing) return
    this.closing = true
    if (this.buffer !== undefined) this.wake()
    else if (this.pending.size === 0) this.finish()
    else this.arm()
  }

  private finish(): void {
    if (this.closed) return
    this.closed = true
    process.off("exit", this.releasePollerOnExit)
    this.win32.kernel32.CloseHandle(this.handle)
    this.onClosed()
  }

  /** Whether a pending operation keeps the process alive (its socket is ref'd; a closing port always does). */
  private holdsProcess(): boolean {
    if (this.closing) return true
    for (const operation of this.pending.values()) if (operation.owner?.referenced !== false) return true
    return false
  }

  /** The wait in flight is bounded (only unref'd sockets wait): its end re-arms from an unref'd timer. */
  private bounded = false

  private arm(): void {
    if (this.buffer !== undefined || this.dispatching || this.closed || this.pending.size === 0) return
    const buffer = takePollBuffer()
    this.buffer = buffer
    this.bounded = !this.holdsProcess()
    this.win32.kernel32.GetQueuedCompletionStatusEx.async(
      this.handle,
      buffer.pointer,
      BATCH,
      buffer.pointer + BigInt(BATCH * OVERLAPPED_ENTRY_SIZE),
      this.bounded ? UNREFERENCED_WAIT_MS : INFINITE,
      0,
      this.onPolled
    )
  }

  /** A socket's ref changed: a blocked wait is woken so that the next one is as long as the sockets allow. */
  referenceChanged(): void {
    if (this.buffer !== undefined && !this.bounded) this.wake()
  }

  private readonly onPolled = (error: unknown, ok: number): void => {
    const buffer = this.buffer
    this.buffer = undefined
    if (buffer === undefined) return
    const view = buffer.view
    const count = error === null || error === undefined ? (ok !== 0 ? view.getUint32(BATCH * OVERLAPPED_ENTRY_SIZE, true) : 0) : 0
    // Read every entry before dispatching: a `complete` may start an operation, which re-arms the poller
    // with a buffer from the pool.
    const entries: Array<Entry> = []
    for (let i = 0; i < count; i++) {
      const offset = i * OVERLAPPED_ENTRY_SIZE
      entries.push({
        key: Number(view.getBigUint64(offset, true)),
        overlapped: view.getBigUint64(offset + 8, true),
        status: view.getUint32(offset + 16, true),
        bytes: view.getUint32(offset + 24, true)
      })
    }
    pollBuffers.push(buffer)
    const bounded = this.bounded
    if (count > 0) {
      this.failures = 0
      this.polls++
      this.entries += count
      if (count > this.maxBatch) this.maxBatch = count
    } else if (!bounded) {
      this.failures++
    }
    this.dispatching = true
    try {
      for (const entry of entries) this.dispatch(entry)
    } finally {
      this.dispatching = false
    }
    if (this.closing && this.pending.size === 0) this.finish()
    else if (count === 0 && this.failures > 3) setTimeout(() => this.arm(), 10)
    // A bounded wait that ran out: the next one from an unref'd timer, so that the loop may end in between.
    else if (count === 0 && bounded) setTimeout(() => this.arm(), 0).unref()
    else this.arm()
  }

  private dispatch(entry: Entry): void {
    if (this.onEntry !== undefined) this.onEntry(entry)
    if (entry.overlapped === 0n) {
      this.wakePosted = false
      this.wakeups++
      return
    }
    const operation = this.pending.get(entry.overlapped)
    if (operation === undefined) return
    this.pending.delete(entry.overlapped)
    try {
      operation.complete(entry)
    } catch (cause) {
      // a `done` that throws must not stop the other completions: report it outside this loop
      queueMicrotask(() => {
        throw cause
      })
    }
  }
}
