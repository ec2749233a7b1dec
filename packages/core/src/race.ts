/**
 * The Happy Eyeballs race (RFC 8305 section 5) as a machine with callbacks: when each attempt starts, which
 * one wins, how the race ends and how it stops. The front-ends run each attempt as an Effect and the attempt
 * delay on their own Clock (a TestClock moves it); everything else is decided here, once.
 */
import type { SocketAddress } from "./address.js"
import type { ErrorContext } from "./failure.js"
import { allFailed, type AttemptError } from "./happyEyeballs.js"

/** One failed attempt: where it went and how it failed. */
export interface FailedAttempt<A, E> {
  readonly address: A
  readonly error: E
}

/** How one attempt's dial ended, as its front-end reports it. */
export type AttemptEnd<S, E, X> =
  | { readonly _tag: "connected"; readonly connection: S }
  | { readonly _tag: "failed"; readonly error: E }
  | { readonly _tag: "defect"; readonly defect: X }
  | { readonly _tag: "interrupted" }

/**
 * How the race ended: a winner, a defect, or (every attempt failed) `Core.allFailed`'s verdict, with the
 * failed attempts when they failed differently.
 */
export type RaceEnd<A, S, E, X> =
  | { readonly _tag: "won"; readonly connection: S; readonly address: A }
  | { readonly _tag: "defect"; readonly defect: X }
  | { readonly _tag: "own"; readonly error: E }
  | { readonly _tag: "shared"; readonly code: number; readonly context: ErrorContext }
  | { readonly _tag: "mixed"; readonly attempts: ReadonlyArray<FailedAttempt<A, E>> }

export interface RacePlan<A, E> {
  /** the name dialed, or undefined for a list (for the words of a failed race) */
  readonly host: string | undefined
  readonly port: number
  /** in the order the attempts start (already interleaved) */
  readonly addresses: ReadonlyArray<A>
  /** failures known before the race (a resolver's unusable literals), listed after the attempts' */
  readonly unusable: ReadonlyArray<FailedAttempt<A, E>>
  /** how long an attempt has alone before the next one starts (RFC 8305's Connection Attempt Delay) */
  readonly attemptDelayMs: number
}

export interface RaceHooks<A, S, E, X> {
  /**
   * Starts the attempt at `address`. Once its dial is over it calls `settled` (not when interrupted first),
   * and keeps the connection only if that answers true; it calls `over` last, once it has ended and a
   * connection it did not keep is closed. Gives its cancel (an interruption: `over` still follows).
   * `settled` and `over` may come before this returns.
   */
  readonly attempt: (address: A, settled: (end: AttemptEnd<S, E, X>) => boolean, over: () => void) => () => void
  /** runs `then` after `ms` on the front-end's clock; gives a cancel */
  readonly sleep: (ms: number, then: () => void) => () => void
  /** The race's end, once every attempt is over (the losers closed). Never after `stop`. */
  readonly done: (end: RaceEnd<A, S, E, X>) => void
}

export interface Racing {
  /** Ends the race with no outcome: the pending delay cancelled, every attempt cancelled; `then` once all are over. */
  readonly stop: (then: () => void) => void
}

/** Starts the race: the first attempt at once (or the end at once, with no address to try). */
export const race = <A extends SocketAddress, S, E extends AttemptError, X>(
  plan: RacePlan<A, E>,
  hooks: RaceHooks<A, S, E, X>
): Racing => {
  const machine = new Race(plan, hooks)
  machine.begin()
  return { stop: (then) => machine.stop(then) }
}

/** A cancel that is not known yet (the attempt is still being started). */
const notYet = (): void => {}

class Race<A extends SocketAddress, S, E extends AttemptError, X> {
  /** the index of the next address to try */
  private next = 0
  /** failures by address index, so that they are listed in address order whatever order they came in */
  private readonly failures: Array<FailedAttempt<A, E> | undefined>
  private failed = 0
  /** the attempts not over yet, by index: their cancels */
  private readonly running = new Map<number, () => void>()
  private sleeping: { cancel: () => void } | undefined
  private end: RaceEnd<A, S, E, X> | undefined
  private stopped = false
  private delivered = false
  private readonly stopWaiters: Array<() => void> = []

  constructor(private readonly plan: RacePlan<A, E>, private readonly hooks: RaceHooks<A, S, E, X>) {
    this.failures = plan.addresses.map(() => undefined)
  }

  /** decided or stopped: no attempt starts, every late connection is closed */
  private get closing(): boolean {
    return this.end !== undefined || this.stopped
  }

  begin(): void {
    if (this.plan.addresses.length === 0) return this.settle(this.allFailed())
    this.startNext()
  }

  stop(then: () => void): void {
    this.stopped = true
    this.stopWaiters.push(then)
    this.cancelAll()
    this.finishIfOver()
  }

  /** Starts the next attempt, and gives it the delay alone unless another one started meanwhile. */
  private startNext(): void {
    const index = this.next
    const address = this.plan.addresses[index]
    if (this.closing || address === undefined) return
    this.next++
    this.cancelSleep()
    this.launch(index, address)
    // a synchronous failure may have started the next one already (and armed its delay)
    if (this.next === index + 1) this.armSleep()
  }

  private launch(index: number, address: A): void {
    this.running.set(index, notYet)
    const cancel = this.hooks.attempt(address, (end) => this.settled(index, address, end), () => this.over(index))
    if (!this.running.has(index)) return
    this.running.set(index, cancel)
    // the race ended while this attempt was being started: it was not cancelled with the others
    if (this.closing) cancel()
  }

  /** An attempt's dial is over: answers whether its connection is kept (the winner's only). */
  private settled(index: number, address: A, end: AttemptEnd<S, E, X>): boolean {
    if (this.closing) return false
    switch (end._tag) {
      case "connected":
        this.settle({ _tag: "won", connection: end.connection, address })
        return true
      case "failed":
        this.failures[index] = { address, error: end.error }
        this.failed++
        // a failure does not wait for the delay: the next attempt starts at once
        if (this.failed === this.plan.addresses.length) this.settle(this.allFailed())
        else this.startNext()
        return false
      case "defect":
        this.settle({ _tag: "defect", defect: end.defect })
        return false
      case "interrupted":
        // not interrupted by this race (it cancels only once closing): neither a failure nor a reason to go on
        return false
    }
  }

  private over(index: number): void {
    this.running.delete(index)
    this.finishIfOver()
  }

  private settle(end: RaceEnd<A, S, E, X>): void {
    this.end = end
    this.cancelAll()
    this.finishIfOver()
  }

  private allFailed(): RaceEnd<A, S, E, X> {
    const attempts = [...this.failures.filter((f): f is FailedAttempt<A, E> => f !== undefined), ...this.plan.unusable]
    const verdict = allFailed(this.plan.host, this.plan.port, attempts)
    return verdict._tag === "mixed" ? { _tag: "mixed", attempts } : verdict
  }

  private cancelAll(): void {
    this.cancelSleep()
    for (const cancel of [...this.running.values()]) cancel()
  }

  /** Once the race is closing and every attempt is over: its end (unless stopped), and the stops waiting. */
  private finishIfOver(): void {
    if (!this.closing || this.running.size > 0) return
    if (this.end !== undefined && !this.stopped && !this.delivered) {
      this.delivered = true
      this.hooks.done(this.end)
    }
    for (const then of this.stopWaiters.splice(0)) then()
  }

  private armSleep(): void {
    if (this.closing || this.next >= this.plan.addresses.length) return
    const sleeping = { cancel: notYet }
    this.sleeping = sleeping
    sleeping.cancel = this.hooks.sleep(this.plan.attemptDelayMs, () => {
      // a delay cancelled or replaced that fires anyway is too late
      if (this.sleeping !== sleeping) return
      this.sleeping = undefined
      this.startNext()
    })
  }

  private cancelSleep(): void {
    const sleeping = this.sleeping
    this.sleeping = undefined
    sleeping?.cancel()
  }
}
