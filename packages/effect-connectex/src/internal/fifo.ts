/**
 * The per-socket, per-direction queue: one holder at a time, the rest served in arrival order. A general
 * `Effect.Semaphore` does the same with more machinery (permit counts, a fiber-ref lookup per use); a
 * send or receive on an idle socket here costs a flag test. Every socket has two, alive as long as the
 * socket: the waiters' list and the Effects are made on first need, not per socket.
 */
import { Effect } from "effect"

export class Fifo {
  private busy = false
  private waiters: Array<() => void> | undefined = undefined
  private releasing: Effect.Effect<void> | undefined = undefined
  private acquiring: Effect.Effect<void> | undefined = undefined

  /** True when nobody holds the queue and nobody waits: a synchronous attempt may go first. */
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
    const next = this.waiters?.shift()
    if (next === undefined) this.busy = false
    else next()
  }

  get releaseEffect(): Effect.Effect<void> {
    return (this.releasing ??= Effect.sync(() => this.release()))
  }

  /** Waits for the queue; an interrupted waiter leaves the line (or passes the queue on if it was handed it). */
  get acquire(): Effect.Effect<void> {
    return (this.acquiring ??= Effect.async<void>((resume) => {
      if (this.tryAcquire()) return resume(Effect.void)
      let handed = false
      const wake = () => {
        handed = true
        resume(Effect.void)
      }
      const waiters = (this.waiters ??= [])
      waiters.push(wake)
      return Effect.sync(() => {
        const i = waiters.indexOf(wake)
        if (i >= 0) waiters.splice(i, 1)
        else if (handed) this.release()
      })
    }))
  }

  /** Runs `effect` holding the queue; released however it ends. A free queue is taken without waiting. */
  with<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      this.tryAcquire()
        ? Effect.ensuring(restore(effect), this.releaseEffect)
        : Effect.zipRight(restore(this.acquire), Effect.ensuring(restore(effect), this.releaseEffect))
    )
  }
}
