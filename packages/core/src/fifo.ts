/**
 * The per-socket, per-direction queue: one holder at a time, the rest served in arrival order. A send or a
 * receive on an idle socket costs a flag test; the waiters' list is made on first need (most sockets never
 * have two operations of one direction at once).
 */

/** One caller's place in line. */
export interface Turn {
  /** the queue was handed to this caller (it holds it now) */
  handed: boolean
  readonly wake: () => void
}

export class Fifo {
  private busy = false
  private waiters: Array<Turn> | undefined = undefined

  /** True when nobody holds the queue (nobody waits then either): a synchronous attempt may go first. */
  get idle(): boolean {
    return !this.busy
  }

  /** Takes the queue if it is free, synchronously. */
  tryAcquire(): boolean {
    if (this.busy) return false
    this.busy = true
    return true
  }

  /** Gives the queue to the next in line, or frees it. */
  release(): void {
    const next = this.waiters?.shift()
    if (next === undefined) {
      this.busy = false
      return
    }
    next.handed = true
    next.wake()
  }

  /**
   * Takes the queue: at once (undefined: the caller holds it now), or in line, `onHanded` running when it is
   * handed over (the caller holds it then). A caller that gives up calls `leave` with its turn.
   */
  take(onHanded: () => void): Turn | undefined {
    if (this.tryAcquire()) return undefined
    const turn: Turn = { handed: false, wake: onHanded }
    ;(this.waiters ??= []).push(turn)
    return turn
  }

  /** Leaves the line, or passes the queue on if it was handed over meanwhile. Idempotent. */
  leave(turn: Turn): void {
    const i = this.waiters === undefined ? -1 : this.waiters.indexOf(turn)
    if (i >= 0) {
      this.waiters!.splice(i, 1)
    } else if (turn.handed) {
      turn.handed = false
      this.release()
    }
  }
}
