/**
 * The Happy Eyeballs race as a machine (`race`), with a hand-moved clock and attempts the test ends: the
 * attempts start in address order, one per delay or at once after a failure; the first connection wins and
 * the others are cancelled, the end coming only once they are over; every failure in address order (then the
 * unusable ones) when all fail; a defect ends it; `stop` ends it with no outcome.
 */
import { describe, expect, it } from "vitest"
import { format, makeIpv4, makeIpv6, type SocketAddress } from "../src/address.js"
import type { Operation } from "../src/failure.js"
import { type AttemptEnd, race, type RaceEnd, type RacePlan } from "../src/race.js"

interface TestError {
  readonly _tag: string
  readonly code: number
  readonly operation: Operation
  readonly address?: SocketAddress | undefined
}

const refused = (address: SocketAddress): TestError => ({ _tag: "WSAECONNREFUSED", code: 10061, operation: "connect", address })
const unreachable = (address: SocketAddress): TestError => ({ _tag: "WSAEHOSTUNREACH", code: 10065, operation: "connect", address })

const a6 = makeIpv6("2001:db8::1", 80, 0, 0)
const a4 = makeIpv4("192.0.2.1", 80)
const b6 = makeIpv6("2001:db8::2", 80, 0, 0)

/** A clock moved by hand: `advance` fires the sleeps that come due, in the order they come due. */
class ManualClock {
  now = 0
  readonly sleeps: Array<{ readonly at: number; readonly then: () => void; cancelled: boolean }> = []
  readonly sleep = (ms: number, then: () => void): () => void => {
    const sleep = { at: this.now + ms, then, cancelled: false }
    this.sleeps.push(sleep)
    return () => void (sleep.cancelled = true)
  }
  get pending(): number {
    return this.sleeps.filter((s) => !s.cancelled && s.at > this.now).length
  }
  advance(ms: number): void {
    const until = this.now + ms
    for (;;) {
      const due = this.sleeps.filter((s) => !s.cancelled && s.at <= until).sort((x, y) => x.at - y.at)[0]
      if (due === undefined) break
      due.cancelled = true // fired: once only
      this.now = due.at
      due.then()
    }
    this.now = until
  }
}

/** An attempt the test ends: as its front-end would, it reports `settled`, closes what it does not keep, then `over`. */
class Attempt {
  cancelled = false
  kept: boolean | undefined
  isOver = false
  constructor(
    readonly address: SocketAddress,
    readonly startedAt: number,
    private readonly settled: (end: AttemptEnd<string, TestError, string>) => boolean,
    private readonly over: () => void
  ) {}
  end(end: AttemptEnd<string, TestError, string>): void {
    this.report(end)
    this.finish()
  }
  /** the dial is over, the attempt not yet (its socket still closing) */
  report(end: AttemptEnd<string, TestError, string>): void {
    this.kept = this.settled(end)
  }
  connect(): void {
    this.end({ _tag: "connected", connection: `socket to ${format(this.address)}` })
  }
  fail(error: (address: SocketAddress) => TestError = refused): void {
    this.end({ _tag: "failed", error: error(this.address) })
  }
  /** the cancellation completes (the fiber's interruption ends) */
  finish(): void {
    this.isOver = true
    this.over()
  }
}

const setup = (plan: Partial<RacePlan<SocketAddress, TestError>>, onStart: (attempt: Attempt) => void = () => {}) => {
  const clock = new ManualClock()
  const attempts: Array<Attempt> = []
  const ends: Array<RaceEnd<SocketAddress, string, TestError, string>> = []
  const racing = race<SocketAddress, string, TestError, string>(
    { host: "race.test", port: 80, addresses: [a6, a4, b6], unusable: [], attemptDelayMs: 250, ...plan },
    {
      attempt: (address, settled, over) => {
        const attempt = new Attempt(address, clock.now, settled, over)
        attempts.push(attempt)
        onStart(attempt)
        return () => void (attempt.cancelled = true)
      },
      sleep: clock.sleep,
      done: (end) => void ends.push(end)
    }
  )
  const started = () => attempts.map((a) => `${format(a.address)} at ${a.startedAt}`)
  return { clock, attempts, ends, racing, started }
}

describe("race: starting the attempts", () => {
  it("the first at once, then one per attempt delay in address order; no delay armed after the last", () => {
    const r = setup({ attemptDelayMs: 300 })
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0"])
    r.clock.advance(299)
    expect(r.attempts).toHaveLength(1)
    r.clock.advance(1)
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0", "192.0.2.1:80 at 300"])
    r.clock.advance(300)
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0", "192.0.2.1:80 at 300", "[2001:db8::2]:80 at 600"])
    expect(r.clock.pending).toBe(0)
    r.clock.advance(10_000)
    expect(r.attempts).toHaveLength(3)
    expect(r.ends).toEqual([])
  })

  it("a failed attempt starts the next at once; the delay then counts from that start", () => {
    const r = setup({})
    r.clock.advance(10)
    r.attempts[0]!.fail()
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0", "192.0.2.1:80 at 10"])
    expect(r.clock.sleeps[0]!.cancelled).toBe(true)
    r.clock.advance(249)
    expect(r.attempts).toHaveLength(2)
    r.clock.advance(1)
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0", "192.0.2.1:80 at 10", "[2001:db8::2]:80 at 260"])
  })

  it("an attempt failing while it starts starts the next inside the same call; one delay is armed, for the last one started", () => {
    const r = setup({}, (attempt) => {
      if (attempt.address === a6) attempt.fail()
    })
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0", "192.0.2.1:80 at 0"])
    expect(r.clock.pending).toBe(1)
    r.clock.advance(250)
    expect(r.attempts).toHaveLength(3)
  })

  it("an attempt interrupted from outside neither fails the race nor starts the next before the delay", () => {
    const r = setup({})
    r.attempts[0]!.end({ _tag: "interrupted" })
    expect(r.attempts).toHaveLength(1)
    expect(r.ends).toEqual([])
    r.clock.advance(250)
    expect(r.attempts).toHaveLength(2)
  })
})

describe("race: the winner", () => {
  it("the first connection wins: kept, the delay and the other attempts cancelled, no attempt after it", () => {
    const r = setup({})
    r.clock.advance(250)
    r.attempts[1]!.connect()
    expect(r.attempts[1]!.kept).toBe(true)
    expect(r.attempts[0]!.cancelled).toBe(true)
    expect(r.clock.pending).toBe(0)
    r.clock.advance(10_000)
    expect(r.attempts).toHaveLength(2)
  })

  it("the end comes only once every loser is over; a loser's late connection is not kept", () => {
    const r = setup({})
    r.clock.advance(250)
    r.attempts[1]!.connect()
    expect(r.ends).toEqual([])
    r.attempts[0]!.connect()
    expect(r.attempts[0]!.kept).toBe(false)
    expect(r.ends).toEqual([{ _tag: "won", connection: "socket to 192.0.2.1:80", address: a4 }])
  })

  it("a connection made while its attempt starts wins at once, and nothing else starts", () => {
    const r = setup({}, (attempt) => attempt.connect())
    expect(r.attempts).toHaveLength(1)
    expect(r.clock.pending).toBe(0)
    expect(r.ends).toEqual([{ _tag: "won", connection: "socket to [2001:db8::1]:80", address: a6 }])
  })
  it("an attempt still starting when the race ends (won inside its start) is cancelled once its start returns", () => {
    const r = setup({}, (attempt) => {
      if (attempt.address === a6) attempt.report({ _tag: "failed", error: refused(a6) })
      else attempt.connect()
    })
    expect(r.started()).toEqual(["[2001:db8::1]:80 at 0", "192.0.2.1:80 at 0"])
    expect(r.attempts[0]!.cancelled).toBe(true)
    expect(r.ends).toEqual([])
    r.attempts[0]!.finish()
    expect(r.ends).toEqual([{ _tag: "won", connection: "socket to 192.0.2.1:80", address: a4 }])
  })
})

describe("race: every attempt failed", () => {
  it("failures differing: `mixed`, in address order whatever order they came in, then the unusable ones", () => {
    const unusable = [{ address: makeIpv6("fe80::1", 80, 0, 0), error: { _tag: "WSAEINVAL", code: 10022, operation: "connect" as const } }]
    const r = setup({ unusable })
    r.clock.advance(500)
    r.attempts[2]!.fail(unreachable)
    r.attempts[0]!.fail()
    expect(r.ends).toEqual([])
    r.attempts[1]!.fail()
    expect(r.ends).toEqual([{
      _tag: "mixed",
      attempts: [
        { address: a6, error: refused(a6) },
        { address: a4, error: refused(a4) },
        { address: b6, error: unreachable(b6) },
        ...unusable
      ]
    }])
  })

  it("all alike: `shared` with the first attempt's context naming each; a single attempt: `own`", () => {
    const r = setup({ addresses: [a6, a4] })
    r.attempts[0]!.fail()
    r.attempts[1]!.fail()
    expect(r.ends).toEqual([{
      _tag: "shared",
      code: 10061,
      context: { operation: "connect", address: a6, detail: expect.stringContaining("race.test:80") }
    }])
    const one = setup({ addresses: [a4] })
    one.attempts[0]!.fail()
    expect(one.ends).toEqual([{ _tag: "own", error: refused(a4) }])
  })

  it("no address to try: the end at once, from the unusable ones alone", () => {
    const r = setup({ addresses: [] })
    expect(r.attempts).toEqual([])
    expect(r.ends).toEqual([{ _tag: "mixed", attempts: [] }])
  })
})

describe("race: a defect, and stopping", () => {
  it("a defect ends the race: the others cancelled, the end once they are over", () => {
    const r = setup({})
    r.clock.advance(250)
    r.attempts[1]!.end({ _tag: "defect", defect: "boom" })
    expect(r.attempts[0]!.cancelled).toBe(true)
    expect(r.clock.pending).toBe(0)
    expect(r.ends).toEqual([])
    r.attempts[0]!.finish()
    expect(r.ends).toEqual([{ _tag: "defect", defect: "boom" }])
  })

  it("stop while sleeping: the delay and the attempt cancelled, `then` once it is over, no end and no new attempt", () => {
    const r = setup({})
    let stopped = 0
    r.racing.stop(() => void stopped++)
    expect(r.clock.sleeps[0]!.cancelled).toBe(true)
    expect(r.attempts[0]!.cancelled).toBe(true)
    expect(stopped).toBe(0)
    r.attempts[0]!.finish()
    expect(stopped).toBe(1)
    // a delay that fires anyway changes nothing
    r.clock.sleeps[0]!.then()
    expect(r.attempts).toHaveLength(1)
    expect(r.ends).toEqual([])
  })

  it("stop after the end: `then` at once", () => {
    const r = setup({ addresses: [a4] })
    r.attempts[0]!.connect()
    let stopped = false
    r.racing.stop(() => void (stopped = true))
    expect(stopped).toBe(true)
    expect(r.attempts[0]!.kept).toBe(true)
  })
})
