/**
 * A POSIX driver on 127.0.0.1 for tests that need only connected pairs: every socket opened here is closed
 * after each test, and the driver must then hold nothing (liveAllocations 0).
 */
import { afterEach, expect } from "vitest"
import { makeIpv4, type SocketAddress } from "../../src/address.js"
import type { Completion, Done, Driver, InFlight, NativeSocket } from "../../src/native/Driver.js"
import { makePosixDriver, type PosixDriverOptions } from "../../src/native/posix/driver.js"

export const must = <A>(result: { readonly ok: true; readonly value: A } | { readonly ok: false; readonly code: number }): A => {
  if (!result.ok) throw new Error(`driver call failed: ${result.code}`)
  return result.value
}

/** An operation's completion as a promise. */
export const completionOf = (start: (done: Done) => InFlight): Promise<Completion> => new Promise((resolve) => start(resolve))

export const loopbackDriver = (options: PosixDriverOptions = { finWaitMs: 30 }) => {
  const driver: Driver = makePosixDriver(options)
  const opened: Array<NativeSocket> = []
  afterEach(() => {
    for (const socket of opened.splice(0)) driver.close(socket)
    expect(driver.liveAllocations()).toBe(0)
  })

  const open = (): NativeSocket => {
    const socket = must(driver.open("ipv4"))
    opened.push(socket)
    return socket
  }

  /** The accepted socket of a completion, closed after the test. */
  const adopt = (completion: Completion): NativeSocket => {
    const socket = completion.accepted?.socket
    if (socket === undefined) throw new Error(`accept: ${completion.status}`)
    opened.push(socket)
    return socket
  }

  /** A listener on 127.0.0.1 and its address. */
  const listening = (): { readonly socket: NativeSocket; readonly address: SocketAddress } => {
    const socket = open()
    expect(driver.bind(socket, makeIpv4("127.0.0.1", 0), false)).toBe(0)
    expect(driver.listen(socket, 16)).toBe(0)
    return { socket, address: must(driver.localAddress(socket)) }
  }

  /** Connects a client (with `data` sent by the connect) and accepts it; both ends. */
  const pair = async (data?: Uint8Array) => {
    const listener = listening()
    const client = open()
    const connected = completionOf((done) => driver.connect(client, listener.address, data, done))
    const server = adopt(await completionOf((done) => driver.accept(listener.socket, 0, done)))
    return { client, server, listener, connected }
  }

  return { driver, open, adopt, listening, pair }
}
