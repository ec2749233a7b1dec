/**
 * Serving chunk by chunk as a machine (`ChunkServing`, `ChunkConnection`), over the hand-moved driver's
 * streaming read and a handler double that stays running until the test ends it: the first bytes as the first
 * chunk, reading paused while a handler runs and resumed when it succeeds, a failed handler or the peer's end
 * closing the connection (after the handler in progress), and `closeAll` ending with every read stopped and
 * every handler ended.
 */
import { describe, expect, it } from "vitest"
import { makeIpv4 } from "../src/address.js"
import { wsa } from "../src/errors/codes.js"
import { type Accepted, checkServeChunks, type ChunkConnection, type ChunkHandling, ChunkServing, Listener } from "../src/listener.js"
import { Socket } from "../src/sockets.js"
import { data, ended, manualPort } from "./support/manual.js"

const peer = makeIpv4("127.0.0.1", 40000)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** A handler run the test ends: `succeed` / `fail` as the fiber would, `interrupted` once interrupted. */
class Running {
  readonly observers: Array<(succeeded: boolean) => void> = []
  interrupted: (() => void) | undefined = undefined
  end(succeeded: boolean): void {
    for (const observer of this.observers.splice(0)) observer(succeeded)
  }
  /** the interruption completes: the interrupter is told, and the observers see a failure */
  interruptionEnds(): void {
    const then = this.interrupted
    this.interrupted = undefined
    this.end(false)
    then?.()
  }
}

type Outcome = "done" | "failed" | "run"

const setup = (outcomeOf: (chunk: string) => Outcome = () => "done") => {
  const { manual, connected } = manualPort({ fast: true })
  const handled: Array<string> = []
  const running: Array<Running> = []
  const handling: ChunkHandling<Running, string> = {
    run: (chunk, connection) => {
      handled.push(`${text(chunk)} from ${connection.peer.port}`)
      const outcome = outcomeOf(text(chunk))
      if (outcome !== "run") return outcome
      const run = new Running()
      running.push(run)
      return { running: run }
    },
    observe: (run, then) => void run.observers.push(then),
    interrupt: (run, then) => void (run.interrupted = then),
    close: (connection) => `close ${connection.peer.port}`
  }
  const serving = new ChunkServing(handling, 16)
  let done = 0
  const begin = (first = ""): ChunkConnection<Running, string> => {
    const accepted: Accepted = { socket: connected(), peer, data: new TextEncoder().encode(first) }
    serving.begin(accepted, () => void done++)
    return [...serving.open].at(-1)!
  }
  return { manual, serving, handled, running, begin, doneCount: () => done }
}

describe("checkServeChunks", () => {
  it("serve's checks, then readSize from 1 to 64 MiB, 65536 by default", () => {
    const { port } = manualPort({ fast: true })
    const socket = new Socket("ipv4", { family: "ipv4" }, port)
    port.track(socket.native)
    socket.bound = true
    socket.state = "listening"
    const listener = new Listener(socket)
    expect(checkServeChunks(listener, undefined)).toMatchObject({ socket, readSize: 65536, receive: 0 })
    expect(checkServeChunks(listener, { readSize: 1 })).toMatchObject({ readSize: 1 })
    expect(checkServeChunks(listener, { readSize: 0 })).toMatchObject({ _tag: "Failure", code: wsa.WSAEINVAL, operation: "accept" })
    expect(checkServeChunks(listener, { readSize: 0, receive: -1 })).toMatchObject({ _tag: "Failure", code: wsa.WSAEINVAL, detail: expect.stringContaining("receive") })
    expect(checkServeChunks({}, undefined)).toMatchObject({ _tag: "Failure" })
  })
})

describe("ChunkServing.begin", () => {
  it("without first bytes: one streaming read of readSize at once; each chunk to the handler, read on while it finishes in place", () => {
    const { manual, serving, handled, begin } = setup()
    const connection = begin()
    expect(serving.open.has(connection)).toBe(true)
    expect(manual.streams).toHaveLength(1)
    expect(manual.streams[0]!.chunkSize).toBe(16)
    expect(manual.streams[0]!.push(data("a"))).toBe(true)
    expect(manual.streams[0]!.push(data("b"))).toBe(true)
    expect(handled).toEqual(["a from 40000", "b from 40000"])
    expect(connection.close).toBe("close 40000")
  })

  it("first bytes are the first chunk: handled before the read starts; the read starts when they are done", () => {
    const { manual, handled, begin } = setup()
    begin("hello")
    expect(handled).toEqual(["hello from 40000"])
    expect(manual.streams).toHaveLength(1)
  })

  it("first bytes whose handler runs: the read starts only once it succeeded", () => {
    const { manual, running, begin } = setup((chunk) => (chunk === "first" ? "run" : "done"))
    begin("first")
    expect(manual.streams).toHaveLength(0)
    running[0]!.end(true)
    expect(manual.streams).toHaveLength(1)
  })

  it("first bytes whose handler succeeds after the connection was closed (it finished before the interruption): no read", () => {
    const { manual, running, begin } = setup(() => "run")
    const connection = begin("first")
    connection.closeNow()
    running[0]!.end(true)
    expect(manual.streams).toHaveLength(0)
  })

  it("first bytes whose handler fails in place: closed, no read, its slot freed", () => {
    const { manual, serving, begin, doneCount } = setup(() => "failed")
    begin("bad")
    expect(manual.streams).toHaveLength(0)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(1)
  })

  it("first bytes whose running handler fails: closed, no read", () => {
    const { manual, serving, running, begin, doneCount } = setup(() => "run")
    begin("first")
    running[0]!.end(false)
    expect(manual.streams).toHaveLength(0)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(1)
  })
})

describe("a connection's chunks", () => {
  it("a running handler pauses the read; its success resumes it", () => {
    const { manual, running, begin } = setup(() => "run")
    begin()
    const stream = manual.streams[0]!
    expect(stream.push(data("a"))).toBe(false)
    expect(stream.paused).toBe(true)
    running[0]!.end(true)
    expect(stream.resumes).toBe(1)
    expect(stream.paused).toBe(false)
  })

  it("a handler that fails in place or while running ends the connection: read stopped, slot freed once", () => {
    const { manual, serving, running, begin, doneCount } = setup((chunk) => (chunk === "x" ? "failed" : "run"))
    begin()
    expect(manual.streams[0]!.push(data("x"))).toBe(false)
    expect(manual.streams[0]!.stopped).toBe(true)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(1)

    begin()
    expect(manual.streams[1]!.push(data("y"))).toBe(false)
    running[0]!.end(false)
    expect(manual.streams[1]!.stopped).toBe(true)
    expect(manual.streams[1]!.resumes).toBe(0)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(2)
  })

  it("the peer's end with no handler running: closed at once", () => {
    const { manual, serving, begin, doneCount } = setup()
    begin()
    manual.streams[0]!.push(ended)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(1)
  })

  it("the peer's end while a handler runs: closed once that handler ended, not before", () => {
    const { manual, serving, running, begin, doneCount } = setup(() => "run")
    begin()
    const stream = manual.streams[0]!
    stream.push(data("last"))
    running[0]!.end(true)
    stream.push(ended)
    expect(serving.open.size).toBe(0)

    begin()
    const second = manual.streams[1]!
    second.push(data("slow"))
    // the driver reports the end while the handler of "slow" still runs (a streaming read ends on its own)
    second.push(ended)
    expect(serving.open.size).toBe(1)
    expect(doneCount()).toBe(1)
    running[1]!.end(true)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(2)
  })
})

describe("closing", () => {
  it("closeNow: read stopped, handler interrupted, slot freed; `then` once the interruption ended; a second close only calls `then`", () => {
    const { manual, running, begin, doneCount } = setup(() => "run")
    const connection = begin()
    manual.streams[0]!.push(data("a"))
    const thens: Array<string> = []
    connection.closeNow(() => thens.push("first"))
    expect(manual.streams[0]!.stopped).toBe(true)
    expect(running[0]!.interrupted).toBeDefined()
    expect(doneCount()).toBe(1)
    expect(thens).toEqual([])
    connection.closeNow(() => thens.push("again"))
    expect(thens).toEqual(["again"])
    expect(doneCount()).toBe(1)
    running[0]!.interruptionEnds()
    expect(thens).toEqual(["again", "first"])
  })

  it("closeAll: every open connection closed, `then` only when every handler ended; with none open, at once", () => {
    const { manual, serving, running, begin, doneCount } = setup((chunk) => (chunk === "busy" ? "run" : "done"))
    begin()
    begin()
    begin("busy")
    manual.streams[0]!.push(data("busy"))
    expect(serving.open.size).toBe(3)
    let closed = 0
    serving.closeAll(() => void closed++)
    expect(serving.open.size).toBe(0)
    expect(doneCount()).toBe(3)
    expect(manual.streams.every((s) => s.stopped)).toBe(true)
    expect(closed).toBe(0)
    running[0]!.interruptionEnds()
    expect(closed).toBe(0)
    running[1]!.interruptionEnds()
    expect(closed).toBe(1)
    // the first bytes' handler was interrupted: its read never starts
    expect(manual.streams).toHaveLength(2)

    let again = 0
    serving.closeAll(() => void again++)
    expect(again).toBe(1)
  })
})
