/**
 * The POSIX driver on 127.0.0.1, with the driver itself on both ends: readiness turned into exactly-once
 * completions, cancel and close with operations pending, the synchronous fast paths, the streaming read
 * (chunks, pause, resume, end, stop, close), disconnect with and without reuse, the options as the kernel
 * reads them back, and every native resource given back (liveAllocations at 0 after each case). Every wait
 * is for a completion or a condition, never for time.
 */
import { afterEach, describe, expect, it } from "vitest"
import { makeIpv4, makeIpv6, type SocketAddress, wildcard } from "../src/address.js"
import { wsa } from "../src/errors/codes.js"
import type { Completion, Done, Driver, InFlight, NativeSocket, Reading } from "../src/native/Driver.js"
import { isPartialSend, OPERATION_ABORTED } from "../src/native/Driver.js"
import { DISCONNECT_FIN_WAIT_MS, makePosixDriver } from "../src/native/posix/driver.js"
import { pollCalls } from "./support/pollCalls.js"
import { IPPROTO_TCP, libc, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SOL_SOCKET, TCP_FASTOPEN_CONNECT, TCP_NODELAY } from "../src/native/posix/libc.js"

const loopback = makeIpv4("127.0.0.1", 0)
const driver: Driver = makePosixDriver({ finWaitMs: 30 })
const opened: Array<NativeSocket> = []

afterEach(async () => {
  for (const socket of opened.splice(0)) driver.close(socket)
  // every poll handle, descriptor and operation is given back
  expect(driver.liveAllocations()).toBe(0)
})

const fdOf = (socket: NativeSocket): number => (socket as NativeSocket & { readonly fd: number }).fd

const open = (family: "ipv4" | "ipv6" = "ipv4"): NativeSocket => {
  const result = driver.open(family)
  if (!result.ok) throw new Error(`open: ${result.code}`)
  opened.push(result.value)
  return result.value
}

const addressOf = (socket: NativeSocket): SocketAddress => {
  const result = driver.localAddress(socket)
  if (!result.ok) throw new Error(`localAddress: ${result.code}`)
  return result.value
}

/** An operation as a promise of its completion, with its cancel; `count` says how often `done` ran. */
const run = (start: (done: Done) => InFlight) => {
  let calls = 0
  let resolve: (completion: Completion) => void = () => {}
  const completion = new Promise<Completion>((r) => (resolve = r))
  let settled: Completion | undefined
  const operation = start((c) => {
    calls++
    settled = c
    resolve(c)
  })
  return { completion, operation, count: () => calls, now: () => settled }
}

/** Lets the event loop turn until `condition` holds (readiness events arrive in the poll phase). */
const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 4_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited too long for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

const listening = (backlog = 16): { readonly socket: NativeSocket; readonly address: SocketAddress } => {
  const socket = open()
  expect(driver.bind(socket, loopback, false)).toBe(0)
  expect(driver.listen(socket, backlog)).toBe(0)
  return { socket, address: addressOf(socket) }
}

const accepted = (completion: Completion): NativeSocket => {
  expect(completion.status).toBe(0)
  const socket = completion.accepted?.socket
  if (socket === undefined) throw new Error("no accepted socket")
  opened.push(socket)
  return socket
}

/** A connected pair: the client and the server's accepted socket. */
const pair = async (options: { readonly data?: Uint8Array } = {}) => {
  const server = listening()
  const client = open()
  const connect = run((done) => driver.connect(client, server.address, options.data, done))
  expect((await connect.completion).status).toBe(0)
  const accept = run((done) => driver.accept(server.socket, 0, done))
  const socket = accepted(await accept.completion)
  return { client, server: socket, listener: server }
}

const text = (u: Uint8Array | undefined): string => new TextDecoder().decode(u)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

const getInt = (socket: NativeSocket, level: number, name: number, size = 4): Buffer => {
  const value = Buffer.alloc(size)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(size, 0)
  expect(libc.getsockopt(fdOf(socket), level, name, value, length)).toBe(0)
  return value
}

/** Receives through the driver until the peer's end; the bytes. */
const receiveAll = async (socket: NativeSocket): Promise<string> => {
  let all = ""
  for (;;) {
    const c = await run((done) => driver.receive(socket, 65536, done)).completion
    expect(c.status).toBe(0)
    if (c.bytes === 0) return all
    all += text(c.data)
  }
}

describe("POSIX driver: sockets, bind, listen", () => {
  it("open counts a descriptor per socket; close gives it back, once", () => {
    const a = open("ipv4")
    const b = open("ipv6")
    expect([a.family, b.family]).toEqual(["ipv4", "ipv6"])
    expect(driver.liveAllocations()).toBe(2)
    driver.close(a)
    driver.close(a)
    expect(driver.liveAllocations()).toBe(1)
  })

  it("an IPv6 socket is IPv6 only: [::]:P leaves IPv4's port P free", () => {
    const six = open("ipv6")
    expect(driver.bind(six, makeIpv6("::", 0, 0, 0), false)).toBe(0)
    const port = addressOf(six).port
    const four = open("ipv4")
    expect(driver.bind(four, makeIpv4("0.0.0.0", port), false)).toBe(0)
  })

  it("bind: a port now, or (deferred) at connect; the wildcard deferred binds nothing; a taken port is WSAEADDRINUSE", async () => {
    const now = open()
    expect(driver.bind(now, loopback, false)).toBe(0)
    expect(addressOf(now).port).toBeGreaterThan(0)
    const deferred = open()
    expect(driver.bind(deferred, loopback, true)).toBe(0)
    expect(addressOf(deferred)).toEqual(makeIpv4("127.0.0.1", 0))
    const nothing = open()
    expect(driver.bind(nothing, wildcard("ipv4"), true)).toBe(0)
    expect(addressOf(nothing)).toEqual(makeIpv4("0.0.0.0", 0))
    const server = listening()
    const taken = open()
    expect(driver.bind(taken, server.address, false)).toBe(wsa.WSAEADDRINUSE)
    // the deferred socket gets its port when it connects
    const c = await run((done) => driver.connect(deferred, server.address, undefined, done)).completion
    expect(c).toEqual({ status: 0, bytes: 0 })
    expect(addressOf(deferred).port).toBeGreaterThan(0)
    const peer = driver.peerAddress(deferred)
    expect(peer).toEqual({ ok: true, value: server.address })
  })

  it("listen on a connected socket, or addresses of a closed one, report the kernel's code", async () => {
    const { client } = await pair()
    expect(driver.listen(client, 1)).toBe(wsa.WSAEINVAL)
    const fresh = open()
    expect(driver.peerAddress(fresh)).toEqual({ ok: false, code: wsa.WSAENOTCONN })
  })
})

describe("POSIX driver: connect", () => {
  it("connects on loopback at once; the data is sent and counted; the server sees the client's address", async () => {
    const server = listening()
    const client = open()
    const connect = run((done) => driver.connect(client, server.address, bytes("hello"), done))
    expect(await connect.completion).toEqual({ status: 0, bytes: 5 })
    const accept = run((done) => driver.accept(server.socket, 0, done))
    const c = await accept.completion
    const socket = accepted(c)
    expect(c.accepted?.peer).toEqual(addressOf(client))
    const got = await run((done) => driver.receive(socket, 100, done)).completion
    expect(text(got.data)).toBe("hello")
    expect(connect.count()).toBe(1)
  })

  it("a refused connect is WSAECONNREFUSED; the socket may connect again after resetConnect", async () => {
    const holder = open()
    expect(driver.bind(holder, loopback, false)).toBe(0)
    const refusing = addressOf(holder)
    const client = open()
    const refused = run((done) => driver.connect(client, refusing, undefined, done))
    expect(await refused.completion).toEqual({ status: wsa.WSAECONNREFUSED, bytes: 0 })
    expect(driver.resetConnect(client)).toBe(0)
    const server = listening()
    expect((await run((done) => driver.connect(client, server.address, undefined, done)).completion).status).toBe(0)
  })

  it("a connect that fails at once completes inside the call", () => {
    const client = open("ipv4")
    const c = run((done) => driver.connect(client, makeIpv6("::1", 80, 0, 0), undefined, done))
    expect(c.now()?.status).not.toBe(0)
    expect(c.now()?.status).toBeDefined()
  })

  it("a connect that waits (the listener's queue is full) is cancelled: one 995, nothing left", async () => {
    const server = listening(0)
    const first = open()
    await run((done) => driver.connect(first, server.address, undefined, done)).completion
    const waiting: Array<ReturnType<typeof run>> = []
    // the kernel may still take one more into the queue: connect until one waits
    for (let i = 0; i < 4 && waiting.every((w) => w.now() !== undefined); i++) {
      const client = open()
      waiting.push(run((done) => driver.connect(client, server.address, bytes("x"), done)))
    }
    const pending = waiting.at(-1)!
    expect(pending.now()).toBeUndefined()
    pending.operation.cancel()
    pending.operation.cancel()
    expect(await pending.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(pending.count()).toBe(1)
  })

  it("TCP_FASTOPEN: probed at setOption, applied at connect only with data", async () => {
    const server = listening()
    const plain = open()
    expect(driver.setOption(plain, "TCP_FASTOPEN", true)).toBe(0)
    expect(getInt(plain, IPPROTO_TCP, TCP_FASTOPEN_CONNECT).readInt32LE(0)).toBe(0)
    await run((done) => driver.connect(plain, server.address, undefined, done)).completion
    expect(getInt(plain, IPPROTO_TCP, TCP_FASTOPEN_CONNECT).readInt32LE(0)).toBe(0)
    const withData = open()
    driver.setOption(withData, "TCP_FASTOPEN", true)
    expect(await run((done) => driver.connect(withData, server.address, bytes("abc"), done)).completion).toEqual({ status: 0, bytes: 3 })
    expect(getInt(withData, IPPROTO_TCP, TCP_FASTOPEN_CONNECT).readInt32LE(0)).toBe(1)
    const off = open()
    driver.setOption(off, "TCP_FASTOPEN", true)
    driver.setOption(off, "TCP_FASTOPEN", false)
    await run((done) => driver.connect(off, server.address, bytes("abc"), done)).completion
    expect(getInt(off, IPPROTO_TCP, TCP_FASTOPEN_CONNECT).readInt32LE(0)).toBe(0)
    const three = [1, 2, 3].map(() => run((done) => driver.accept(server.socket, 0, done)))
    for (const a of three) accepted(await a.completion)
  })
})

describe("POSIX driver: accept", () => {
  it("tryAccept: undefined on an empty queue, the connection when one is queued, WSAENOTSOCK once closed", async () => {
    const server = listening()
    expect(driver.tryAccept!(server.socket)).toBeUndefined()
    const client = open()
    await run((done) => driver.connect(client, server.address, undefined, done)).completion
    const c = driver.tryAccept!(server.socket)
    accepted(c!)
    expect(c?.accepted?.peer).toEqual(addressOf(client))
    driver.close(server.socket)
    expect(driver.tryAccept!(server.socket)).toEqual({ status: wsa.WSAENOTSOCK, bytes: 0 })
  })

  it("an accept waits for a connection; cancelled, it completes once with 995", async () => {
    const server = listening()
    const accept = run((done) => driver.accept(server.socket, 0, done))
    expect(accept.now()).toBeUndefined()
    const client = open()
    await run((done) => driver.connect(client, server.address, undefined, done)).completion
    accepted(await accept.completion)
    const second = run((done) => driver.accept(server.socket, 0, done))
    second.operation.cancel()
    expect(await second.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(second.count()).toBe(1)
  })

  it("closing a listener completes its pending accept with 995", async () => {
    const server = listening()
    const accept = run((done) => driver.accept(server.socket, 0, done))
    driver.close(server.socket)
    expect(await accept.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
  })

  it("with first bytes: waits for them (or the client's end); a client that resets first is dropped", async () => {
    const server = listening()
    const accept = run((done) => driver.accept(server.socket, 8, done))
    const resetting = open()
    await run((done) => driver.connect(resetting, server.address, undefined, done)).completion
    await until(() => driver.liveAllocations() >= 6, "the first connection accepted")
    expect(driver.setOption(resetting, "SO_LINGER", 0)).toBe(0)
    driver.close(resetting)
    const sending = open()
    await run((done) => driver.connect(sending, server.address, bytes("first bytes!"), done)).completion
    const c = await accept.completion
    accepted(c)
    expect([c.status, c.bytes, text(c.data)]).toEqual([0, 8, "first by"])
    const quiet = run((done) => driver.accept(server.socket, 8, done))
    const closing = open()
    await run((done) => driver.connect(closing, server.address, undefined, done)).completion
    expect(driver.shutdownSend(closing)).toBe(0)
    const q = await quiet.completion
    accepted(q)
    expect([q.status, q.bytes, q.data]).toEqual([0, 0, new Uint8Array(0)])
  })

  it("with first bytes, cancelled while a connection waits for them: 995, the half-accepted socket closed", async () => {
    const server = listening()
    const before = driver.liveAllocations()
    const client = open()
    await run((done) => driver.connect(client, server.address, undefined, done)).completion
    const accept = run((done) => driver.accept(server.socket, 8, done))
    await until(() => driver.liveAllocations() > before + 2, "the connection accepted")
    accept.operation.cancel()
    expect(await accept.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(accept.count()).toBe(1)
    // the client sees the half-accepted socket closed
    const end = await run((done) => driver.receive(client, 10, done)).completion
    expect(end.bytes).toBe(0)
  })
})

describe("POSIX driver: receive and send", () => {
  it("tryReceive: undefined when empty, the bytes, the end as empty data", async () => {
    const { client, server } = await pair()
    expect(driver.tryReceive!(server, 10)).toBeUndefined()
    await run((done) => driver.send(client, bytes("abc"), done)).completion
    await until(() => {
      const c = driver.tryReceive!(server, 2)
      if (c === undefined) return false
      expect(text(c.data)).toBe("ab")
      return true
    }, "data")
    expect(text(driver.tryReceive!(server, 10)?.data)).toBe("c")
    expect(driver.shutdownSend(client)).toBe(0)
    await until(() => driver.tryReceive!(server, 10)?.bytes === 0, "the end")
  })

  it("a receive waits for data, then completes once; a receive cancelled completes once with 995", async () => {
    const { client, server } = await pair()
    const receive = run((done) => driver.receive(server, 10, done))
    expect(receive.now()).toBeUndefined()
    await run((done) => driver.send(client, bytes("hi"), done)).completion
    const c = await receive.completion
    expect([c.status, c.bytes, text(c.data)]).toEqual([0, 2, "hi"])
    const cancelled = run((done) => driver.receive(server, 10, done))
    cancelled.operation.cancel()
    expect(await cancelled.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    cancelled.operation.cancel()
    expect(cancelled.count()).toBe(1)
    // nothing of the cancelled receive is left: the next one gets the next bytes
    const next = run((done) => driver.receive(server, 10, done))
    await run((done) => driver.send(client, bytes("again"), done)).completion
    expect(text((await next.completion).data)).toBe("again")
  })

  it("two receives waiting on one socket are each completed once, in order", async () => {
    const { client, server } = await pair()
    const first = run((done) => driver.receive(server, 3, done))
    const second = run((done) => driver.receive(server, 3, done))
    await run((done) => driver.send(client, bytes("abcdef"), done)).completion
    const a = await first.completion
    const b = await second.completion
    expect(text(a.data) + text(b.data)).toBe("abcdef")
  })

  it("a receive after the peer's reset is WSAECONNRESET", async () => {
    const { client, server } = await pair()
    driver.setOption(client, "SO_LINGER", 0)
    driver.close(client)
    await until(() => driver.tryReceive!(server, 1)?.status === wsa.WSAECONNRESET, "the reset")
    const c = await run((done) => driver.receive(server, 10, done)).completion
    expect(c.status === 0 ? c.bytes : c.status).toBe(0)
  })

  it("a pending receive is woken by the peer's reset", async () => {
    const { client, server } = await pair()
    const receive = run((done) => driver.receive(server, 10, done))
    driver.setOption(client, "SO_LINGER", 0)
    driver.close(client)
    expect((await receive.completion).status).toBe(wsa.WSAECONNRESET)
  })

  it("trySend: all of it, or what the kernel took and a copy of the rest", async () => {
    const { client, server } = await pair()
    expect(driver.trySend!(client, bytes("xyz"))).toEqual({ status: 0, bytes: 3 })
    const big = new Uint8Array(6 * 1024 * 1024).fill(7)
    const partial = driver.trySend!(client, big)
    if (!isPartialSend(partial)) throw new Error("expected a partial send")
    expect(partial.sent).toBeGreaterThan(0)
    expect(partial.sent + partial.rest.length).toBe(big.length)
    big[big.length - 1] = 1
    expect(partial.rest[partial.rest.length - 1]).toBe(7)
  })

  it("a send larger than the buffers waits for writability and completes once with every byte", async () => {
    const { client, server } = await pair()
    const size = 6 * 1024 * 1024
    const send = run((done) => driver.send(client, new Uint8Array(size).fill(1), done))
    expect(send.now()).toBeUndefined()
    let got = 0
    while (got < size) {
      const c = await run((done) => driver.receive(server, 1024 * 1024, done)).completion
      got += c.bytes
    }
    expect(await send.completion).toEqual({ status: 0, bytes: size })
    const owned = run((done) => driver.send(client, new Uint8Array(size).fill(2), done, true))
    got = 0
    while (got < size) got += (await run((done) => driver.receive(server, 1024 * 1024, done)).completion).bytes
    expect(await owned.completion).toEqual({ status: 0, bytes: size })
  })

  it("a send that waits is cancelled once; closing completes what is pending with 995", async () => {
    const { client } = await pair()
    const send = run((done) => driver.send(client, new Uint8Array(6 * 1024 * 1024), done))
    expect(send.now()).toBeUndefined()
    send.operation.cancel()
    expect(await send.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    const again = run((done) => driver.send(client, new Uint8Array(6 * 1024 * 1024), done))
    const receive = run((done) => driver.receive(client, 10, done))
    driver.close(client)
    expect(await again.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(await receive.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect([again.count(), receive.count()]).toEqual([1, 1])
  })

  it("a send after the peer reset reports it", async () => {
    const { client, server } = await pair()
    driver.setOption(server, "SO_LINGER", 0)
    driver.close(server)
    await until(() => driver.tryReceive!(client, 1) !== undefined, "the reset")
    const c = await run((done) => driver.send(client, bytes("x"), done)).completion
    expect(c.status).not.toBe(0)
    expect(driver.trySend!(client, bytes("x"))).toMatchObject({ status: expect.any(Number) })
  })

  it("a receive wakes while a send of the same socket waits for writability", async () => {
    const { client, server } = await pair()
    const size = 6 * 1024 * 1024
    const send = run((done) => driver.send(client, new Uint8Array(size), done))
    const receive = run((done) => driver.receive(client, 10, done))
    await run((done) => driver.send(server, bytes("back"), done)).completion
    expect(text((await receive.completion).data)).toBe("back")
    expect(send.now()).toBeUndefined()
    let got = 0
    while (got < size) got += (await run((done) => driver.receive(server, 1024 * 1024, done)).completion).bytes
    expect((await send.completion).bytes).toBe(size)
  })
})

describe("POSIX driver: the streaming read", () => {
  const streamOf = (socket: NativeSocket, chunkSize: number, answer: (c: Completion) => boolean = () => true) => {
    const seen: Array<Completion> = []
    const reading: Reading = driver.readStart!(socket, chunkSize, (c) => {
      seen.push(c)
      return answer(c)
    })
    return { seen, reading, data: () => seen.map((c) => text(c.data)).join("") }
  }

  it("delivers what arrives in chunks of at most chunkSize, then the end, then nothing", async () => {
    const { client, server } = await pair()
    const s = streamOf(server, 4)
    await run((done) => driver.send(client, bytes("0123456789"), done)).completion
    await until(() => s.data() === "0123456789", "the bytes")
    expect(s.seen.every((c) => c.bytes <= 4 && c.status === 0)).toBe(true)
    driver.shutdownSend(client)
    await until(() => s.seen.at(-1)?.bytes === 0, "the end")
    const n = s.seen.length
    s.reading.stop()
    s.reading.resume()
    expect(s.seen).toHaveLength(n)
  })

  it("data there before it starts is delivered at the next readiness event", async () => {
    const { client, server } = await pair()
    await run((done) => driver.send(client, bytes("early"), done)).completion
    await until(() => {
      const c = driver.tryReceive!(server, 1)
      if (c === undefined) return false
      expect(text(c.data)).toBe("e")
      return true
    }, "data")
    const s = streamOf(server, 64)
    expect(s.seen).toEqual([])
    await until(() => s.data() === "arly", "the rest")
    s.reading.stop()
  })

  it("onChunk answering false pauses it; resume goes on where it stopped", async () => {
    const { client, server } = await pair()
    let open = false
    const s = streamOf(server, 2, () => open)
    await run((done) => driver.send(client, bytes("abcdef"), done)).completion
    await until(() => s.seen.length === 1, "one chunk")
    // paused: the rest stays in the kernel while the loop turns
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(s.data()).toBe("ab")
    open = true
    s.reading.resume()
    await until(() => s.data() === "abcdef", "the rest")
    s.reading.stop()
  })

  it("stop: nothing more is delivered; a receive may follow and gets the bytes", async () => {
    const { client, server } = await pair()
    const s = streamOf(server, 64)
    s.reading.stop()
    s.reading.stop()
    await run((done) => driver.send(client, bytes("later"), done)).completion
    const c = await run((done) => driver.receive(server, 64, done)).completion
    expect(text(c.data)).toBe("later")
    expect(s.seen).toEqual([])
  })

  it("closing the socket ends it with 995; the peer's reset ends it with the error", async () => {
    const { client, server } = await pair()
    const s = streamOf(server, 64)
    driver.close(server)
    expect(s.seen).toEqual([{ status: OPERATION_ABORTED, bytes: 0 }])
    const other = await pair()
    const t = streamOf(other.server, 64)
    driver.setOption(other.client, "SO_LINGER", 0)
    driver.close(other.client)
    await until(() => t.seen.length > 0, "the reset")
    expect(t.seen).toEqual([{ status: wsa.WSAECONNRESET, bytes: 0, data: new Uint8Array(0) }])
    expect(client).toBeDefined()
  })

  it("a second streaming read replaces the first: the old one's stop and resume do nothing", async () => {
    const { client, server } = await pair()
    const first = streamOf(server, 64)
    const second = streamOf(server, 64)
    first.reading.stop()
    first.reading.resume()
    await run((done) => driver.send(client, bytes("x"), done)).completion
    await until(() => second.data() === "x", "the second read")
    expect(first.seen).toEqual([])
    second.reading.stop()
  })

  it("more than a batch in the kernel: delivered over several events, all of it, in order", async () => {
    const { client, server } = await pair()
    const payload = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(4)
    await run((done) => driver.send(client, bytes(payload), done)).completion
    const s = streamOf(server, 1)
    await until(() => s.data().length === payload.length, "every byte")
    expect(s.data()).toBe(payload)
    s.reading.stop()
  })
})

describe("POSIX driver: shutdown, disconnect, close", () => {
  it("shutdownSend: the peer reads the data, then the end; this side still receives", async () => {
    const { client, server } = await pair()
    await run((done) => driver.send(client, bytes("last"), done)).completion
    expect(driver.shutdownSend(client)).toBe(0)
    expect(await receiveAll(server)).toBe("last")
    await run((done) => driver.send(server, bytes("reply"), done)).completion
    expect(text((await run((done) => driver.receive(client, 10, done)).completion).data)).toBe("reply")
    expect(driver.shutdownSend(open())).toBe(wsa.WSAENOTCONN)
  })

  it("disconnect without reuse: a FIN after the data, the peer's address still answered after both ends closed", async () => {
    const { client, server } = await pair()
    await run((done) => driver.send(client, bytes("bye"), done)).completion
    const peer = driver.peerAddress(client)
    expect(await run((done) => driver.disconnect(client, false, done)).completion).toEqual({ status: 0, bytes: 0 })
    expect(await receiveAll(server)).toBe("bye")
    driver.close(server)
    expect(await receiveAll(client)).toBe("")
    expect(driver.peerAddress(client)).toEqual(peer)
  })

  it("disconnect with reuse waits for the peer's FIN, then the socket may connect again", async () => {
    const { client, server, listener } = await pair()
    const disconnect = run((done) => driver.disconnect(client, true, done))
    expect(disconnect.now()).toBeUndefined()
    await run((done) => driver.send(server, bytes("drained"), done)).completion
    expect(await receiveAll(server)).toBe("")
    expect(driver.shutdownSend(server)).toBe(0)
    expect(await disconnect.completion).toEqual({ status: 0, bytes: 0 })
    const again = await run((done) => driver.connect(client, listener.address, undefined, done)).completion
    expect(again.status).toBe(0)
    accepted(await run((done) => driver.accept(listener.socket, 0, done)).completion)
  })

  it("disconnect with reuse from a peer that never closes: aborted after the bound, the socket freed", async () => {
    const { client, listener } = await pair()
    const started = Date.now()
    const c = await run((done) => driver.disconnect(client, true, done)).completion
    expect(c).toEqual({ status: 0, bytes: 0 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(25)
    expect((await run((done) => driver.connect(client, listener.address, undefined, done)).completion).status).toBe(0)
    accepted(await run((done) => driver.accept(listener.socket, 0, done)).completion)
    expect(DISCONNECT_FIN_WAIT_MS).toBe(2000)
  })

  it("disconnect with reuse, cancelled: one 995", async () => {
    const { client } = await pair()
    const disconnect = run((done) => driver.disconnect(client, true, done))
    disconnect.operation.cancel()
    expect(await disconnect.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(disconnect.count()).toBe(1)
  })

  it("disconnect after the peer reset: with reuse the socket is freed (0), without it WSAENOTCONN", async () => {
    const a = await pair()
    driver.setOption(a.server, "SO_LINGER", 0)
    driver.close(a.server)
    await until(() => driver.tryReceive!(a.client, 1) !== undefined, "the reset")
    expect(await run((done) => driver.disconnect(a.client, true, done)).completion).toEqual({ status: 0, bytes: 0 })
    const b = await pair()
    driver.setOption(b.server, "SO_LINGER", 0)
    driver.close(b.server)
    await until(() => driver.tryReceive!(b.client, 1) !== undefined, "the reset")
    expect(await run((done) => driver.disconnect(b.client, false, done)).completion).toEqual({ status: wsa.WSAENOTCONN, bytes: 0 })
  })

  it("close with a streaming read and a receive pending: each completes once; the poll handle goes", async () => {
    const { server } = await pair()
    const receive = run((done) => driver.receive(server, 10, done))
    const before = driver.liveAllocations()
    driver.close(server)
    expect(await receive.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    // the descriptor, the poll handle and the operation
    expect(driver.liveAllocations()).toBe(before - 3)
  })
})

describe("POSIX driver: options and ref", () => {
  it("each option as the kernel reads it back; an unknown one is WSAENOPROTOOPT", () => {
    const socket = open()
    expect(driver.setOption(socket, "TCP_NODELAY", true)).toBe(0)
    expect(getInt(socket, IPPROTO_TCP, TCP_NODELAY).readInt32LE(0)).toBe(1)
    expect(driver.setOption(socket, "TCP_NODELAY", false)).toBe(0)
    expect(getInt(socket, IPPROTO_TCP, TCP_NODELAY).readInt32LE(0)).toBe(0)
    expect(driver.setOption(socket, "SO_KEEPALIVE", true)).toBe(0)
    expect(getInt(socket, SOL_SOCKET, SO_KEEPALIVE).readInt32LE(0)).toBe(1)
    expect(driver.setOption(socket, "SO_REUSEADDR", true)).toBe(0)
    expect(getInt(socket, SOL_SOCKET, SO_REUSEADDR).readInt32LE(0)).toBe(1)
    expect(driver.setOption(socket, "SO_REUSEADDR", false)).toBe(0)
    expect(getInt(socket, SOL_SOCKET, SO_REUSEADDR).readInt32LE(0)).toBe(0)
    // Linux doubles the buffer sizes it is given
    expect(driver.setOption(socket, "SO_SNDBUF", 8192)).toBe(0)
    expect(getInt(socket, SOL_SOCKET, SO_SNDBUF).readInt32LE(0)).toBe(16384)
    expect(driver.setOption(socket, "SO_RCVBUF", 8192)).toBe(0)
    expect(getInt(socket, SOL_SOCKET, SO_RCVBUF).readInt32LE(0)).toBe(16384)
    expect(driver.setOption(socket, "SO_LINGER", 7)).toBe(0)
    const linger = getInt(socket, SOL_SOCKET, SO_LINGER, 8)
    expect([linger.readInt32LE(0), linger.readInt32LE(4)]).toEqual([1, 7])
    expect(driver.setOption(socket, "SO_LINGER", false)).toBe(0)
    // off: l_onoff 0 (Linux keeps the old time then)
    expect(getInt(socket, SOL_SOCKET, SO_LINGER, 8).readInt32LE(0)).toBe(0)
    expect(driver.setOption(socket, "NOPE" as "TCP_NODELAY", true)).toBe(wsa.WSAENOPROTOOPT)
    driver.close(socket)
    expect(driver.setOption(socket, "TCP_NODELAY", true)).toBe(wsa.WSAENOTSOCK)
    expect(driver.setOption(socket, "SO_LINGER", 1)).toBe(wsa.WSAENOTSOCK)
    expect(driver.setOption(socket, "TCP_FASTOPEN", true)).toBe(wsa.WSAENOTSOCK)
  })

  it("setRef: remembered for the poll handle made later; ignored once closed", async () => {
    const { client, server } = await pair()
    const state = (s: NativeSocket) => s as NativeSocket & { referenced: boolean; handle: unknown }
    driver.setRef!(server, false)
    expect(state(server).referenced).toBe(false)
    const receive = run((done) => driver.receive(server, 10, done))
    expect(state(server).handle).toBeDefined()
    driver.setRef!(server, true)
    expect(state(server).referenced).toBe(true)
    driver.setRef!(server, true)
    await run((done) => driver.send(client, bytes("x"), done)).completion
    expect(text((await receive.completion).data)).toBe("x")
    driver.close(server)
    driver.setRef!(server, false)
    expect(state(server).referenced).toBe(true)
  })

  it("says what it can do", () => {
    expect(driver.name).toBe("posix")
    expect(driver.capabilities).toEqual({ postedAccepts: 1, reuseAddressByDefault: true })
    expect(driver.startup()).toBe(0)
    driver.cleanup()
  })
})

describe("POSIX driver: what the poll handle is armed for", () => {
  // pollCalls: the calls on a descriptor's handle, in order, as test/support/pollHandles.setup.ts records them.
  // Arming too much costs only wake-ups, which no completion shows: these tests are what sees it.

  it("a waiting receive arms reading only; a woken reader leaves it armed; readiness nobody waits for disarms it", async () => {
    const { client, server } = await pair()
    const calls = pollCalls(fdOf(server))
    const first = run((done) => driver.receive(server, 10, done))
    expect(calls()).toEqual(["watch r"])
    await run((done) => driver.send(client, bytes("a"), done)).completion
    expect(text((await first.completion).data)).toBe("a")
    // the next receive usually follows at once: still armed, no stop and start per receive
    expect(calls()).toEqual(["watch r"])
    await run((done) => driver.send(client, bytes("b"), done)).completion
    await until(() => calls().length > 1, "the readiness nobody waited for")
    expect(calls()).toEqual(["watch r", "stop"])
    const second = run((done) => driver.receive(server, 10, done))
    expect(calls()).toEqual(["watch r", "stop", "start r"])
    expect(text((await second.completion).data)).toBe("b")
  })

  it("more waiters, or one cancelled, change nothing while reading stays wanted", async () => {
    const { server } = await pair()
    const calls = pollCalls(fdOf(server))
    const one = run((done) => driver.receive(server, 10, done))
    const two = run((done) => driver.receive(server, 10, done))
    one.operation.cancel()
    two.operation.cancel()
    expect(await one.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(await two.completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    expect(calls()).toEqual(["watch r"])
  })

  it("a send waiting for writability adds writing; once it is done, writing is disarmed at once and reading stays", async () => {
    const { client, server } = await pair()
    const calls = pollCalls(fdOf(server))
    const receive = run((done) => driver.receive(server, 10, done))
    const size = 6 * 1024 * 1024
    const send = run((done) => driver.send(server, new Uint8Array(size), done))
    expect(calls()).toEqual(["watch r", "start rw"])
    let got = 0
    while (got < size) got += (await run((done) => driver.receive(client, 1024 * 1024, done)).completion).bytes
    expect((await send.completion).bytes).toBe(size)
    expect(calls()).toEqual(["watch r", "start rw", "start r"])
    receive.operation.cancel()
    await receive.completion
  })

  it("a send alone arms writing only, and stops the handle when done", async () => {
    const { client, server } = await pair()
    const calls = pollCalls(fdOf(server))
    const size = 6 * 1024 * 1024
    const send = run((done) => driver.send(server, new Uint8Array(size), done))
    expect(calls()).toEqual(["watch w"])
    let got = 0
    while (got < size) got += (await run((done) => driver.receive(client, 1024 * 1024, done)).completion).bytes
    await send.completion
    expect(calls()).toEqual(["watch w", "stop"])
  })

  it("a connect on loopback almost always completes in the call, with no poll handle (the handshake is done)", async () => {
    const server = listening(64)
    let inTheCall = 0
    for (let i = 0; i < 20; i++) {
      const client = open()
      const calls = pollCalls(fdOf(client))
      const connect = run((done) => driver.connect(client, server.address, undefined, done))
      if (connect.now()?.status === 0 && calls().length === 0) inTheCall++
      expect((await connect.completion).status).toBe(0)
      driver.close(client)
    }
    // "almost always": a handshake the kernel finishes just after the call is waited for, and that is right too
    expect(inTheCall).toBeGreaterThanOrEqual(10)
  })

  it("after a short read the next receive waits for readiness instead of trying first; after a full one it tries", async () => {
    const { client, server } = await pair()
    const calls = pollCalls(fdOf(server))
    await run((done) => driver.send(client, bytes("abcd"), done)).completion
    const full = run((done) => driver.receive(server, 4, done))
    expect(text(full.now()?.data)).toBe("abcd")
    await run((done) => driver.send(client, bytes("ef"), done)).completion
    const short = run((done) => driver.receive(server, 4, done))
    expect(text(short.now()?.data)).toBe("ef")
    expect(calls()).toEqual([])
    // loopback delivers at send: "g" is there, yet after the short read the receive goes to its wait
    await run((done) => driver.send(client, bytes("g"), done)).completion
    const next = run((done) => driver.receive(server, 4, done))
    expect(next.now()).toBeUndefined()
    expect(calls()).toEqual(["watch r"])
    expect(text((await next.completion).data)).toBe("g")
  })

  it("a streaming read: paused, the handle stops at once; resumed, it starts again; at the end it stops", async () => {
    const { client, server } = await pair()
    const calls = pollCalls(fdOf(server))
    const seen: Array<string> = []
    const reading = driver.readStart!(server, 64, (c) => {
      seen.push(c.bytes === 0 ? "end" : text(c.data))
      return false
    })
    expect(calls()).toEqual(["watch r"])
    await run((done) => driver.send(client, bytes("one"), done)).completion
    await until(() => seen.length === 1, "the first chunk")
    expect(calls()).toEqual(["watch r", "stop"])
    await run((done) => driver.send(client, bytes("two"), done)).completion
    reading.resume()
    expect(calls()).toEqual(["watch r", "stop", "start r"])
    await until(() => seen.length === 2, "the second chunk")
    reading.resume()
    driver.close(client)
    await until(() => seen.length === 3, "the end")
    expect(seen).toEqual(["one", "two", "end"])
    expect(calls()).toEqual(["watch r", "stop", "start r", "stop", "start r", "stop"])
  })

  it("a streaming read delivers at most 16 chunks per readiness event: the other sockets get a turn", async () => {
    const { client, server } = await pair()
    await run((done) => driver.send(client, new Uint8Array(40).fill(7), done)).completion
    let chunks = 0
    let atFirstTurn: number | undefined
    const reading = driver.readStart!(server, 1, () => {
      if (chunks++ === 0) setImmediate(() => (atFirstTurn = chunks))
      return true
    })
    await until(() => chunks === 40, "every byte")
    expect(atFirstTurn).toBe(16)
    reading.stop()
  })

  it("an unreferenced socket's handle is unref'd when it is made; ref and unref reach it; close closes it", async () => {
    const { server } = await pair()
    const calls = pollCalls(fdOf(server))
    driver.setRef!(server, false)
    const receive = run((done) => driver.receive(server, 10, done))
    expect(calls()).toEqual(["watch r", "unref"])
    driver.setRef!(server, true)
    driver.setRef!(server, true)
    driver.setRef!(server, false)
    driver.setRef!(server, false)
    driver.close(server)
    // each change once: setting what is already set asks nothing of the handle
    expect(calls()).toEqual(["watch r", "unref", "ref", "unref", "close"])
    await receive.completion
  })
})
