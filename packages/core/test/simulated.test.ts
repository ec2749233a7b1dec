// The core's simulated driver alone: plain vitest, millisecond behaviours, a hand-moved scheduler.
import { describe, expect, it } from "vitest"
import { makeIpv4, wildcard } from "../src/address.js"
import { wsa } from "../src/errors/codes.js"
import type { Completion, Driver, NativeSocket } from "../src/native/Driver.js"
import { OPERATION_ABORTED } from "../src/native/Driver.js"
import {
  type Accept,
  type Behaviour,
  localHostOf,
  makeDriver,
  manualScheduler,
  type Network,
  outcomeOf,
  routeKey,
  routeOf,
  routeTable,
  scenario
} from "../src/simulated.js"

const accept = (fields: Partial<Accept> = {}): Accept => ({
  _tag: "Accept",
  delayMillis: 0,
  echo: false,
  greeting: new Uint8Array(0),
  resetAfterMillis: undefined,
  closeAfterMillis: undefined,
  ...fields
})

const networkOf = (routes: Record<string, Behaviour>, fallback: Behaviour = accept()): Network => ({
  routes: routeTable(routes),
  default: fallback,
  localHost: localHostOf()
})

const recorder = () => {
  const completions: Array<Completion> = []
  return { completions, done: (completion: Completion) => void completions.push(completion) }
}

const openBound = (driver: Driver): NativeSocket => {
  const opened = driver.open("ipv4")
  if (!opened.ok) throw new Error(`open failed: ${opened.code}`)
  expect(driver.bind(opened.value, wildcard("ipv4"), false)).toBe(0)
  return opened.value
}

describe("core simulated network", () => {
  it("route keys are canonical; host:* matches any port; malformed keys throw", () => {
    expect(routeKey("[0:0::1]:80")).toBe("[::1]:80")
    expect(routeKey("10.0.0.1:*")).toBe("10.0.0.1:*")
    expect(routeKey("localhost:80")).toBeUndefined()
    expect(() => routeTable({ "nope": accept() })).toThrow(TypeError)
    const net = networkOf({ "10.0.0.1:*": accept({ echo: true }) }, { _tag: "Blackhole", synTimeoutMillis: undefined })
    expect(routeOf(net, makeIpv4("10.0.0.1", 1234))._tag).toBe("Accept")
    expect(routeOf(net, makeIpv4("10.0.0.2", 1234))._tag).toBe("Blackhole")
  })

  it("outcomeOf: refuse N times then the rest; a sequence repeats its last entry", () => {
    const refuse: Behaviour = { _tag: "Refuse", times: 2, then: accept(), delayMillis: 5 }
    expect([0, 1, 2].map((n) => outcomeOf(refuse, n)._tag)).toEqual(["Fail", "Fail", "Accept"])
    const sequence: Behaviour = {
      _tag: "Sequence",
      behaviours: [{ _tag: "Unreachable", target: "host", delayMillis: 0 }, accept()]
    }
    expect(outcomeOf(sequence, 0)).toEqual({ _tag: "Fail", code: wsa.WSAEHOSTUNREACH, delayMillis: 0 })
    expect([1, 5].map((n) => outcomeOf(sequence, n)._tag)).toEqual(["Accept", "Accept"])
  })

  it("a cancelled delayed connect completes exactly once, and its timer is gone", () => {
    const manual = manualScheduler()
    const { driver, log } = makeDriver(networkOf({}, accept({ delayMillis: 100 })), manual.scheduler)
    const socket = openBound(driver)
    const r = recorder()
    const operation = driver.connect(socket, makeIpv4("10.0.0.1", 80), undefined, r.done)
    operation.cancel()
    operation.cancel()
    manual.advance(1000)
    expect(r.completions).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
    expect(manual.pending()).toBe(0)
    expect(log.attempts().map((a) => a.status)).toEqual([OPERATION_ABORTED])
    driver.close(socket)
    expect(driver.liveAllocations()).toBe(0)
  })

  it("disconnect without reuse: FIN after the data, WSAESHUTDOWN, WSAEISCONN, the echo drains then ends", () => {
    const manual = manualScheduler()
    const { driver, log } = makeDriver(networkOf({}, accept({ echo: true })), manual.scheduler)
    const socket = openBound(driver)
    const peer = makeIpv4("10.0.0.1", 80)
    driver.connect(socket, peer, new TextEncoder().encode("hi"), recorder().done)
    const d = recorder()
    driver.disconnect(socket, false, d.done)
    expect(d.completions).toEqual([{ status: 0, bytes: 0 }])
    const send = recorder()
    driver.send(socket, new Uint8Array([1]), send.done)
    expect(send.completions).toEqual([{ status: wsa.WSAESHUTDOWN, bytes: 0 }])
    const again = recorder()
    driver.connect(socket, peer, undefined, again.done)
    expect(again.completions).toEqual([{ status: wsa.WSAEISCONN, bytes: 0 }])
    expect(driver.resetConnect(socket)).toBe(wsa.WSAEISCONN)
    expect(driver.peerAddress(socket)).toEqual({ ok: true, value: peer })
    const first = recorder()
    driver.receive(socket, 10, first.done)
    const second = recorder()
    driver.receive(socket, 10, second.done)
    expect(new TextDecoder().decode(first.completions[0]?.data)).toBe("hi")
    expect(second.completions).toEqual([{ status: 0, bytes: 0, data: new Uint8Array(0) }])
    expect(log.attempts().map((a) => a.ended)).toEqual(["disconnected"])
    driver.cleanup()
    expect(driver.liveAllocations()).toBe(0)
  })
})

describe("the scenario builder (both front-ends' Simulated DSL)", () => {
  // durations as seconds in, tenths out: any front-end's Duration works the same way
  const dsl = scenario<number, { readonly tenths: number }>({ decode: (s) => ({ tenths: s * 10 }), zero: { tenths: 0 }, toMillis: (d) => d.tenths * 100 })

  it("keeps the front-end's durations in its behaviours and gives the driver milliseconds", () => {
    const greeting = dsl.accept({ delay: 2, echo: true, greeting: "hi", closeAfter: 1 })
    expect(greeting).toEqual({ _tag: "Accept", delay: { tenths: 20 }, echo: true, greeting: new TextEncoder().encode("hi"), resetAfter: undefined, closeAfter: { tenths: 10 } })
    expect(dsl.reset({ after: 3 })).toMatchObject({ _tag: "Accept", delay: { tenths: 0 }, resetAfter: { tenths: 30 } })
    const net = dsl.network({
      "192.0.2.1:80": dsl.refuse({ times: 2, delay: 1 }),
      "[::1]:*": dsl.sequence(dsl.blackhole({ synTimeout: 21 }), dsl.unreachable("host")),
      "127.0.0.1:7": greeting
    })
    expect([...net.routes.keys()]).toEqual(["192.0.2.1:80", "[::1]:*", "127.0.0.1:7"])
    const millis = dsl.toNetwork(net)
    expect(millis.routes.get("192.0.2.1:80")).toEqual({ _tag: "Refuse", times: 2, delayMillis: 1000, then: accept() })
    expect(millis.routes.get("[::1]:*")).toEqual({
      _tag: "Sequence",
      behaviours: [{ _tag: "Blackhole", synTimeoutMillis: 21_000 }, { _tag: "Unreachable", target: "host", delayMillis: 0 }]
    })
    expect(millis.routes.get("127.0.0.1:7")).toMatchObject({ delayMillis: 2000, closeAfterMillis: 1000, resetAfterMillis: undefined })
    expect(millis.default).toEqual({ _tag: "Refuse", times: Infinity, delayMillis: 0, then: accept() })
  })

  it("refuse's times must be a non-negative integer; a malformed route key throws", () => {
    expect(() => dsl.refuse({ times: -1 })).toThrow(TypeError)
    expect(() => dsl.refuse({ times: 1.5 })).toThrow(TypeError)
    expect(dsl.refuse({ times: 0 }).times).toBe(0)
    expect(() => dsl.network({ "localhost:80": dsl.accept() })).toThrow(TypeError)
  })
})
