/**
 * The POSIX driver where one step hands over to the next, on 127.0.0.1: a streaming read stopped (from outside
 * or from its own callback) delivers nothing more and leaves the bytes to a receive; the end is delivered once;
 * a send cancelled while it waits for room sends nothing more; a copy-free send never reads the caller's
 * buffer after it returns; Fast Open connect data arrives whole.
 */
import { describe, expect, it } from "vitest"
import { OPERATION_ABORTED, type Completion, type NativeSocket } from "../src/native/Driver.js"
import { IPPROTO_TCP, libc } from "../src/native/posix/libc.js"
import { completionOf, loopbackDriver } from "./support/posixLoopback.js"

const { driver, open, adopt, listening, pair } = loopbackDriver()

const fdOf = (socket: NativeSocket): number => (socket as NativeSocket & { readonly fd: number }).fd
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (data: Uint8Array | undefined): string => new TextDecoder().decode(data ?? new Uint8Array(0))

/** A few turns of the event loop: long enough for loopback bytes to arrive and readiness to be reported. */
const turns = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 1))
}

/** Takes what arrives until nothing more has come for `quietMs`; how many bytes that was. */
const receiveUntilQuiet = async (socket: NativeSocket, quietMs = 100): Promise<number> => {
  let got = 0
  let quietSince = Date.now()
  while (Date.now() - quietSince < quietMs) {
    const c = driver.tryReceive!(socket, 256 * 1024)
    if (c !== undefined && c.bytes > 0) {
      got += c.bytes
      quietSince = Date.now()
    } else {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  return got
}

describe("POSIX driver: a streaming read handed back", () => {
  it("stopped: bytes arriving later are not delivered to it, and a receive gets them", async () => {
    const { client, server } = await pair()
    const seen: Array<Completion> = []
    driver.readStart!(server, 64, (c) => (seen.push(c), true)).stop()
    expect((await completionOf((done) => driver.send(client, bytes("later"), done))).status).toBe(0)
    await turns()
    expect(seen).toEqual([])
    expect(text((await completionOf((done) => driver.receive(server, 64, done))).data)).toBe("later")
  })

  it("stopped from its own callback: that chunk is the last it gets; the rest is left for a receive", async () => {
    const { client, server } = await pair()
    const seen: Array<string> = []
    const reading = driver.readStart!(server, 2, (c) => {
      seen.push(text(c.data))
      reading.stop()
      return true
    })
    expect((await completionOf((done) => driver.send(client, bytes("abcdefgh"), done))).status).toBe(0)
    await turns()
    expect(seen).toEqual(["ab"])
    expect(text((await completionOf((done) => driver.receive(server, 64, done))).data)).toBe("cdefgh")
  })

  it("the peer's end is delivered once, and the read is over", async () => {
    const { client, server } = await pair()
    const seen: Array<Completion> = []
    driver.readStart!(server, 4, (c) => (seen.push(c), true))
    expect((await completionOf((done) => driver.send(client, bytes("0123456789"), done))).status).toBe(0)
    expect(driver.shutdownSend(client)).toBe(0)
    await turns()
    expect(seen.map((c) => text(c.data)).join("")).toBe("0123456789")
    expect(seen.filter((c) => c.bytes === 0)).toHaveLength(1)
    expect(seen.at(-1)?.bytes).toBe(0)
  })
})

describe("POSIX driver: a send handed back", () => {
  it("cancelled while it waits for room: 995, and nothing more of it is sent after", async () => {
    const { client, server } = await pair()
    expect(driver.setOption(client, "SO_SNDBUF", 4096)).toBe(0)
    const size = 8 * 1024 * 1024
    let completion: Completion | undefined
    const sending = driver.send(client, new Uint8Array(size), (c) => (completion = c), true)
    expect(completion).toBeUndefined()
    sending.cancel()
    expect(completion).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    // its wait for writability is forgotten: nothing is left to go on sending when room comes
    expect((client as NativeSocket & { readonly writers: ReadonlyArray<unknown> }).writers).toHaveLength(0)
    // the peer drains what the kernel took before the cancel; then the line stays quiet, well short of the whole
    expect(await receiveUntilQuiet(server)).toBeLessThan(size)
  })

  it("copy-free: the caller's buffer may change once the call returns; the peer gets the bytes of the call", async () => {
    const { client, server } = await pair()
    const size = 4 * 1024 * 1024
    const data = new Uint8Array(size).fill(0x5a)
    const sent = completionOf((done) => driver.send(client, data, done))
    data.fill(0)
    let got = 0
    let wrong = 0
    while (got < size) {
      const c = await completionOf((done) => driver.receive(server, 256 * 1024, done))
      expect(c.status).toBe(0)
      if (c.bytes === 0) break
      for (const byte of c.data!) if (byte !== 0x5a) wrong++
      got += c.bytes
    }
    expect([got, wrong]).toEqual([size, 0])
    expect(await sent).toEqual({ status: 0, bytes: size })
  })
})

/** Linux's TCP_FASTOPEN_NO_COOKIE: this socket sends data in its SYN as if the kernel had the server's cookie. */
const TCP_FASTOPEN_NO_COOKIE = 34

describe("POSIX driver: Fast Open connect data", () => {
  it("sent in the SYN (connect returns at once): the data arrives whole and once, counted", async () => {
    const listener = listening()
    const client = open()
    expect(driver.setOption(client, "TCP_FASTOPEN", true)).toBe(0)
    // Without a cookie (the host's tcp_fastopen is 1: client only) the kernel would do a plain handshake and
    // connect would wait as any other; with one, connect() returns 0 and the first send rides in the SYN. A
    // server without Fast Open ignores the SYN's data and the client sends it again: the peer gets it once.
    const one = Buffer.alloc(4)
    one.writeInt32LE(1, 0)
    expect(libc.setsockopt(fdOf(client), IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, one, 4)).toBe(0)
    const data = bytes("fast open first bytes")
    const connected = completionOf((done) => driver.connect(client, listener.address, data, done))
    const server = adopt(await completionOf((done) => driver.accept(listener.socket, 0, done)))
    expect(await connected).toEqual({ status: 0, bytes: data.length })
    let got = ""
    while (got.length < data.length) {
      const c = await completionOf((done) => driver.receive(server, 64, done))
      expect(c.status).toBe(0)
      got += text(c.data)
    }
    expect(got).toBe("fast open first bytes")
  })
})
