/**
 * The per-socket, per-direction queue (the Effect 3 front-end's internal/fifo.ts, written for Effect 4): one
 * holder at a time, the rest served in arrival order. A general `Semaphore` does the same with more machinery;
 * a send or receive on an idle socket here costs a flag test.
 */
import * as Effect from "effect/Effect"

export class Fifo {
  private busy = false
  private readonly waiters: Array<() => void> = []

  /** True when nobody holds the queue: a synchronous attempt may go first. */
  get idle(): boolean {
    return !this.busy
  }

  /** Takes the queue if it is free, synchronously. */
  tryAcquire(): boolean {
    if (this.busy) return false
    this.busy = true
    return true
  }

  /** Gives the queue to the next waiter in order, or frees it. */
  release(): void {
    const next = this.waiters.shift()
    if (next === undefined) this.busy = false
    else next()
  }

  readonly releaseEffect: Effect.Effect<void> = Effect.sync(() => this.release())

  /** Waits for the queue; an interrupted waiter leaves the line (or passes the queue on if it was handed it). */
  readonly acquire: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.tryAcquire()) return resume(Effect.void)
    let handed = false
    const wake = () => {
      handed = true
      resume(Effect.void)
    }
    this.waiters.push(wake)
    return Effect.sync(() => {
      const i = this.waiters.indexOf(wake)
      if (i >= 0) this.waiters.splice(i, 1)
      else if (handed) this.release()
    })
  })

  /** Runs `effect` holding the queue; released however it ends. */
  with<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.andThen(restore(this.acquire), Effect.ensuring(restore(effect), this.releaseEffect))
    )
  }
}
