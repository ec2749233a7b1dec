/**
 * Driver doubles for the contract tests: the simulated driver, wrapped so that it misbehaves the way a real
 * kernel may and the Linux and simulated drivers never do. Only the simulated driver's public exports are used.
 *
 * - `cancelDelay`: a cancelled operation's completion arrives `cancelDelay` ms after `cancel` (as on Windows,
 *   where CancelIoEx only queues the abort), instead of inside `cancel`; so does the abort of an operation
 *   still pending when its socket is closed (closesocket only queues those aborts too).
 * - `resetConnectFails`: `resetConnect` answers this WSA code, so a refused socket cannot connect again.
 * - `throwOn`: `start` of that operation throws (a driver defect).
 */
import type { Completion, Done, Driver, InFlight, NativeSocket } from "../../packages/core/src/index.js"
import { Simulated } from "../../packages/effect-connectex/src/index.js"

export interface DoubleOptions {
  readonly cancelDelay?: number
  readonly resetConnectFails?: number
  readonly throwOn?: "connect" | "send" | "receive" | "disconnect"
}

export interface Double {
  readonly driver: Driver
  readonly log: Simulated.Log
  /** what the double saw, for the tests to read */
  readonly seen: {
    /** sockets opened */
    opens: number
    /** cancel calls */
    cancels: number
    /** completions delivered late, after a cancel */
    lateCompletions: number
    /** resetConnect calls */
    resets: number
  }
}

export class DriverDefect extends Error {
  constructor(operation: string) {
    super(`driver double: ${operation} throws`)
  }
}

/** A double over a fresh simulated network driver, time moved by hand (zero-delay behaviours complete at once). */
export const makeDouble = (network: Simulated.Network, options: DoubleOptions = {}): Double => {
  const { driver: inner, log } = Simulated.makeDriver(network, Simulated.manualScheduler().scheduler)
  const seen = { opens: 0, cancels: 0, lateCompletions: 0, resets: 0 }

  /** Starts `operation` through the inner driver, with a completion that, once cancelled, arrives late. */
  /** Per socket, a way to mark its pending operations aborted (their completions then arrive late). */
  const aborters = new Map<NativeSocket, Set<() => void>>()

  const wrap = (
    name: NonNullable<DoubleOptions["throwOn"]>,
    socket: NativeSocket,
    start: (done: Done) => InFlight,
    done: Done
  ): InFlight => {
    if (options.throwOn === name) throw new DriverDefect(name)
    const delay = options.cancelDelay
    if (delay === undefined) return start(done)
    let cancelled = false
    const abort = () => void (cancelled = true)
    const mine = aborters.get(socket) ?? new Set()
    aborters.set(socket, mine.add(abort))
    const operation = start((completion: Completion) => {
      mine.delete(abort)
      if (!cancelled) return done(completion)
      setTimeout(() => {
        seen.lateCompletions++
        done(completion)
      }, delay)
    })
    return {
      cancel: () => {
        seen.cancels++
        cancelled = true
        operation.cancel()
      }
    }
  }

  const driver: Driver = {
    ...inner,
    open: (family) => {
      seen.opens++
      return inner.open(family)
    },
    resetConnect: (socket: NativeSocket) => {
      seen.resets++
      return options.resetConnectFails ?? inner.resetConnect(socket)
    },
    close: (socket: NativeSocket) => {
      for (const abort of aborters.get(socket) ?? []) abort()
      aborters.delete(socket)
      inner.close(socket)
    },
    connect: (socket, address, data, done) => wrap("connect", socket, (d) => inner.connect(socket, address, data, d), done),
    send: (socket, data, done) => wrap("send", socket, (d) => inner.send(socket, data, d), done),
    receive: (socket, maxBytes, done) => wrap("receive", socket, (d) => inner.receive(socket, maxBytes, d), done),
    disconnect: (socket, reuse, done) => wrap("disconnect", socket, (d) => inner.disconnect(socket, reuse, d), done)
  }
  return { driver, log, seen }
}
