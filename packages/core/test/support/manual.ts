/**
 * A driver moved by hand, for the machines above drivers: every long operation stays pending until the test
 * completes it, so that each interleaving (a completion before or after a cancel, a late cancel completion,
 * a close with operations pending, a start that throws) is written out in the test instead of hoped for.
 * Only the parts of the Driver contract the machines use are real; the rest answers 0 / ok.
 */
import { makeIpv4, type SocketAddress } from "../../src/address.js"
import { wsa } from "../../src/errors/codes.js"
import type { Completion, Done, Driver, InFlight, NativeSocket, Reading } from "../../src/native/Driver.js"
import { ok, OPERATION_ABORTED } from "../../src/native/Driver.js"

export type Kind = "connect" | "send" | "receive" | "disconnect" | "accept"

export interface ManualOp {
  readonly kind: Kind
  readonly socket: NativeSocket
  /** send: the bytes; receive: maxBytes; accept: receiveBytes; connect: the data; disconnect: reuse */
  readonly arg: unknown
  /** whether send was handed bytes it owns */
  readonly owned: boolean
  cancels: number
  completed: boolean
  /** the driver's `done` (a second call is the test's own duplicate) */
  readonly complete: (completion: Completion) => void
}

export interface ManualStream {
  readonly socket: NativeSocket
  readonly chunkSize: number
  paused: boolean
  stopped: boolean
  resumes: number
  /** delivers a completion as the driver would; what `onChunk` answered */
  readonly push: (completion: Completion) => boolean
}

export interface ManualOptions {
  /** what `cancel` does: complete with 995 at once (as the simulated and POSIX drivers), or nothing ("hold") */
  readonly cancel?: "abort" | "hold"
  /** what `close` does with pending operations: complete them with 995 (default), or leave them ("hold") */
  readonly close?: "abort" | "hold"
  /** `start` of this kind throws */
  readonly throwOn?: Kind | undefined
  /** add the synchronous fast paths (answered from `ready`) and the streaming read */
  readonly fast?: boolean
}

export interface Manual {
  readonly driver: Driver
  readonly ops: Array<ManualOp>
  /** the pending operations of a kind, oldest first */
  readonly pending: (kind?: Kind) => Array<ManualOp>
  /** answers for the fast paths, in order, per socket: tryReceive / trySend / tryAccept take the first */
  readonly ready: (socket: NativeSocket, answer: Completion | { readonly sent: number; readonly rest: Uint8Array } | undefined) => void
  readonly streams: Array<ManualStream>
  readonly closed: Set<NativeSocket>
  readonly calls: Array<string>
  /** the number of cleanup calls */
  readonly cleanups: () => number
  throwOn: Kind | undefined
}

export class Defect extends Error {}

export const peer: SocketAddress = makeIpv4("10.0.0.2", 4000)

export const makeManual = (options: ManualOptions = {}): Manual => {
  const ops: Array<ManualOp> = []
  const answers = new Map<NativeSocket, Array<unknown>>()
  const streams: Array<ManualStream> = []
  const closed = new Set<NativeSocket>()
  const calls: Array<string> = []
  let cleanups = 0
  const state = { throwOn: options.throwOn }

  const next = (socket: NativeSocket): unknown => answers.get(socket)?.shift()

  const operation = (kind: Kind, socket: NativeSocket, arg: unknown, done: Done, owned = false): InFlight => {
    calls.push(kind)
    if (state.throwOn === kind) throw new Defect(`${kind} throws`)
    const op: ManualOp = {
      kind,
      socket,
      arg,
      owned,
      cancels: 0,
      completed: false,
      complete: (completion) => {
        op.completed = true
        done(completion)
      }
    }
    ops.push(op)
    return {
      cancel: () => {
        op.cancels++
        if (options.cancel !== "hold" && !op.completed) op.complete({ status: OPERATION_ABORTED, bytes: 0 })
      }
    }
  }

  const fast: Partial<Driver> = options.fast !== true ? {} : {
    tryReceive: (socket) => (calls.push("tryReceive"), next(socket) as Completion | undefined),
    trySend: (socket) => (calls.push("trySend"), next(socket) as Completion),
    tryAccept: (socket) => (calls.push("tryAccept"), next(socket) as Completion | undefined),
    readStart: (socket, chunkSize, onChunk): Reading => {
      calls.push("readStart")
      const stream: ManualStream = {
        socket,
        chunkSize,
        paused: false,
        stopped: false,
        resumes: 0,
        push: (completion) => {
          const goOn = onChunk(completion)
          if (!goOn) stream.paused = true
          return goOn
        }
      }
      streams.push(stream)
      return {
        resume: () => {
          stream.resumes++
          stream.paused = false
        },
        stop: () => void (stream.stopped = true)
      }
    }
  }

  const driver: Driver = {
    name: "simulated",
    startup: () => 0,
    cleanup: () => void cleanups++,
    open: (family) => ok({ family }),
    bind: () => 0,
    connect: (socket, _address, data, done) => operation("connect", socket, data, done),
    resetConnect: () => 0,
    listen: () => 0,
    accept: (socket, receiveBytes, done) => operation("accept", socket, receiveBytes, done),
    send: (socket, data, done, owned) => operation("send", socket, data, done, owned === true),
    receive: (socket, maxBytes, done) => operation("receive", socket, maxBytes, done),
    shutdownSend: () => {
      calls.push("shutdownSend")
      return 0
    },
    disconnect: (socket, reuse, done) => operation("disconnect", socket, reuse, done),
    close: (socket) => {
      calls.push("close")
      closed.add(socket)
      if (options.close === "hold") return
      for (const op of ops) if (op.socket === socket && !op.completed) op.complete({ status: OPERATION_ABORTED, bytes: 0 })
    },
    localAddress: () => ok(makeIpv4("10.0.0.1", 5000)),
    peerAddress: () => ok(peer),
    setOption: () => 0,
    liveAllocations: () => ops.filter((op) => !op.completed).length,
    ...fast
  }

  return {
    driver,
    ops,
    pending: (kind) => ops.filter((op) => !op.completed && (kind === undefined || op.kind === kind)),
    ready: (socket, answer) => {
      const list = answers.get(socket) ?? []
      list.push(answer)
      answers.set(socket, list)
    },
    streams,
    closed,
    calls,
    cleanups: () => cleanups,
    get throwOn() {
      return state.throwOn
    },
    set throwOn(kind) {
      state.throwOn = kind
    }
  }
}

export const bytes = (...values: Array<number>): Uint8Array => new Uint8Array(values)
export const data = (text: string): Completion => {
  const encoded = new TextEncoder().encode(text)
  return { status: 0, bytes: encoded.length, data: encoded }
}
export const ended: Completion = { status: 0, bytes: 0, data: new Uint8Array(0) }
export const aborted: Completion = { status: OPERATION_ABORTED, bytes: 0 }
export const reset: Completion = { status: wsa.WSAECONNRESET, bytes: 0 }

import { makePort, type Port, type Hooks } from "../../src/port.js"
import * as SocketState from "../../src/socket.js"
import { Socket } from "../../src/sockets.js"

/** A port over a fresh manual driver, and a way to make connected sockets on it. */
export const manualPort = (options: ManualOptions = {}, hooks: Hooks = {}) => {
  const manual = makeManual(options)
  const port: Port = makePort(manual.driver, hooks)
  const connected = (): Socket => {
    const native = { family: "ipv4" as const }
    port.track(native)
    const socket = new Socket("ipv4", native, port)
    SocketState.acceptedInto(socket, 0)
    return socket
  }
  return { manual, port, connected }
}
