/**
 * What the simulated network records: one record per connect attempt (its outcome, times, every byte sent
 * on its connection and how that connection ended), and the read-only view tests query.
 */
import type { SocketAddress } from "../../address.js"
import { keyOf } from "./network.js"

/** One connect attempt as the simulated network saw it (a snapshot). */
export interface Attempt {
  /** 1-based, in the order the attempts started (across all destinations) */
  readonly id: number
  /** 1-based: the how-many-th attempt to this destination */
  readonly attempt: number
  /** the simulated socket's number */
  readonly socket: number
  readonly peer: SocketAddress
  /** the local address at the time of the attempt (after an ephemeral port was chosen) */
  readonly local: SocketAddress
  /** scheduler milliseconds */
  readonly startedAt: number
  /** undefined while pending; 0 = connected, else the WSA code it failed with (995 = cancelled) */
  readonly status: number | undefined
  readonly completedAt: number | undefined
  /** the connect data and every send on this connection, in order */
  readonly sent: Uint8Array
  /** how the connection ended, once it has: "reset" by the peer, "peer-closed", "disconnected", "closed" here */
  readonly ended: "reset" | "peer-closed" | "disconnected" | "closed" | undefined
}

export type Ended = NonNullable<Attempt["ended"]>

/** What the simulated network recorded. Every read is a snapshot (copies). */
export interface Log {
  /** every connect attempt, optionally only those to `address` (an address or its text form) */
  readonly attempts: (address?: SocketAddress | string) => ReadonlyArray<Attempt>
  /** the attempts that connected */
  readonly connections: (address?: SocketAddress | string) => ReadonlyArray<Attempt>
  /** every byte sent to `address`, over all its connections, in order */
  readonly sent: (address: SocketAddress | string) => Uint8Array
}

/** The driver's mutable record of an attempt. */
export interface AttemptRecord {
  readonly id: number
  readonly attempt: number
  readonly socket: number
  readonly peer: SocketAddress
  readonly peerKey: string
  local: SocketAddress
  readonly startedAt: number
  status: number | undefined
  completedAt: number | undefined
  readonly chunks: Array<Uint8Array>
  ended: Ended | undefined
}

export const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

const snapshot = (record: AttemptRecord): Attempt => ({
  id: record.id,
  attempt: record.attempt,
  socket: record.socket,
  peer: record.peer,
  local: record.local,
  startedAt: record.startedAt,
  status: record.status,
  completedAt: record.completedAt,
  sent: concat(record.chunks),
  ended: record.ended
})

/** The read-only view of a driver's records (which it keeps appending to). */
export const makeLog = (records: ReadonlyArray<AttemptRecord>): Log => {
  const select = (address: SocketAddress | string | undefined): ReadonlyArray<AttemptRecord> => {
    if (address === undefined) return records
    const key = keyOf(address)
    return records.filter((record) => record.peerKey === key)
  }
  return {
    attempts: (address) => select(address).map(snapshot),
    connections: (address) => select(address).filter((record) => record.status === 0).map(snapshot),
    sent: (address) => concat(select(address).flatMap((record) => record.chunks))
  }
}
