/**
 * The simulated driver: the `Driver` contract over a scripted in-memory network, with time from a
 * `Scheduler` (plain milliseconds). Nothing leaves the process: addresses are only names in the script.
 */
import { type Family, format, isLoopback, isUnspecified, makeIpv4, makeIpv6, type SocketAddress, withPort } from "../../address.js"
import { finished, once, type Once } from "../../completion.js"
import { wsa } from "../../errors/codes.js"
import type { Completion, Done, Driver, NativeSocket, InFlight, Result, SocketOption, SocketOptions } from "../Driver.js"
import { fail, OPERATION_ABORTED, ok } from "../Driver.js"
import { type AttemptRecord, concat, type Ended, type Log, makeLog } from "./log.js"
import { type Accept, type Network, outcomeOf, routeOf } from "./network.js"
import type { Scheduler } from "./scheduler.js"

interface Pending {
  readonly socket: SimSocket
  readonly completion: Once
  /** cancels the operation's own timer, if any */
  timer: (() => void) | undefined
  /** what else to do when the operation ends early (cancelled or closed) */
  readonly onAbort: () => void
}

interface Connection {
  readonly record: AttemptRecord
  readonly echo: boolean
  /** bytes the peer sent that were not received yet */
  readonly inbox: Array<Uint8Array>
  /** receives waiting for data, in order */
  readonly receivers: Array<{ readonly pending: Pending; readonly maxBytes: number }>
  state: "open" | "reset" | "peer-closed"
  /** this side ended its sending direction (shutdownSend, or disconnect without reuse): the peer saw a FIN */
  sendShut: boolean
  readonly timers: Array<() => void>
  /** the other end when both are simulated sockets (a client accepted by a simulated listener) */
  peer: Connection | undefined
}

/** An accept waiting on a listener, with the first-bytes receive it may have started. */
interface Acceptor {
  readonly pending: Pending
  readonly receiveBytes: number
  /** the accepted socket while its first receive is pending */
  accepting: SimSocket | undefined
}

interface SimSocket {
  readonly id: number
  readonly handle: NativeSocket
  readonly family: Family
  /** disconnected: after a disconnect without reuse; the connection stays to drain what the peer sends */
  state: "open" | "bound" | "connecting" | "connected" | "disconnected" | "listening"
  local: SocketAddress | undefined
  connection: Connection | undefined
  readonly pending: Set<Pending>
  readonly options: Map<SocketOption, SocketOptions[SocketOption]>
  /** listening: connections made and not accepted yet (their server-side sockets), oldest first */
  readonly queue: Array<SimSocket>
  /** listening: accepts waiting for a connection, oldest first */
  readonly acceptors: Array<Acceptor>
  /** accepted socket sitting in a listener's queue */
  queuedIn: SimSocket | undefined
  /** made by an accept (it shares the listener's port) */
  readonly accepted: boolean
}

const FIRST_EPHEMERAL_PORT = 49152
const LAST_EPHEMERAL_PORT = 65535

const noop = () => {}

/** Takes up to `maxBytes` from the front of a byte stream kept as chunks (TCP has no message boundaries). */
const take = (inbox: Array<Uint8Array>, maxBytes: number): Uint8Array => {
  const taken: Array<Uint8Array> = []
  let room = maxBytes
  for (let chunk = inbox[0]; chunk !== undefined && room > 0; chunk = inbox[0]) {
    if (chunk.length <= room) {
      inbox.shift()
      taken.push(chunk)
      room -= chunk.length
    } else {
      taken.push(chunk.slice(0, room))
      inbox[0] = chunk.subarray(room)
      room = 0
    }
  }
  return concat(taken)
}

const withHost = (address: SocketAddress, host: string): SocketAddress =>
  address.family === "ipv4"
    ? makeIpv4(host, address.port)
    : makeIpv6(host, address.port, address.flowInfo, address.scopeId)

const immediately = (done: Done, status: number): InFlight => {
  done({ status, bytes: 0 })
  return finished
}

/**
 * A driver on the scripted network, with time from `scheduler`, and the log of what it saw.
 *
 * - `bind` keeps the address; port 0 gets an ephemeral port (49152 upwards) at bind, or at connect with
 *   `deferPort`; two sockets on the same family and port fail WSAEADDRINUSE unless both set SO_REUSEADDR.
 * - `connect` follows the destination's behaviour; a failed or cancelled connect leaves the socket bound
 *   and ready to connect again. A socket bound to the wildcard gets a loopback source address for loopback
 *   destinations and `network.localHost` otherwise.
 * - `send` completes at once (recorded; echoed by an echo peer); `receive` completes when the peer has
 *   bytes (up to `maxBytes` of the byte stream, across sends), closed (empty bytes) or reset (WSAECONNRESET).
 * - `disconnect` is graceful and completes at once: the peer has every byte sent before it, then a FIN (an
 *   echo peer closes its side in turn). Without reuse the socket then answers as after DisconnectEx: send
 *   WSAESHUTDOWN, connect WSAEISCONN, receive drains what the peer still sends, peerAddress answers. With
 *   reuse the connection is dissolved (pending receives complete with 995) and the socket may connect again.
 * - `close` completes every pending operation of the socket with 995 before it returns.
 * - `liveAllocations` = open sockets + pending operations.
 */
export const makeDriver = (net: Network, scheduler: Scheduler): { readonly driver: Driver; readonly log: Log } => {
  const sockets = new Map<NativeSocket, SimSocket>()
  const pendings = new Set<Pending>()
  const attemptCounts = new Map<string, number>()
  const records: Array<AttemptRecord> = []
  let nextSocketId = 1
  let nextEphemeral = FIRST_EPHEMERAL_PORT

  // -- operations -----------------------------------------------------------------------------------------

  /** Completes an operation exactly once (the core's `once`); later calls do nothing. */
  const complete = (pending: Pending, completion: Completion): void => {
    if (pending.completion.completed()) return
    pendings.delete(pending)
    pending.socket.pending.delete(pending)
    pending.timer?.()
    pending.completion.complete(completion)
  }

  const abort = (pending: Pending): void => {
    if (pending.completion.completed()) return
    pending.onAbort()
    complete(pending, { status: OPERATION_ABORTED, bytes: 0 })
  }

  const start = (socket: SimSocket, done: Done, onAbort: () => void = noop): Pending => {
    const pending: Pending = { socket, completion: once(done), timer: undefined, onAbort }
    pendings.add(pending)
    socket.pending.add(pending)
    return pending
  }

  const operationOf = (pending: Pending): InFlight => ({ cancel: () => abort(pending) })

  /** Runs `f` after `millis` (at once when zero, never when infinite), as part of `pending`. */
  const after = (pending: Pending, millis: number, f: () => void): void => {
    if (millis <= 0) f()
    else if (Number.isFinite(millis)) pending.timer = scheduler.sleep(millis, f)
  }

  // -- ports ----------------------------------------------------------------------------------------------

  const conflicts = (socket: SimSocket, family: Family, port: number): boolean => {
    const reuse = socket.options.get("SO_REUSEADDR") === true
    for (const other of sockets.values()) {
      if (other === socket || other.local === undefined || other.family !== family || other.local.port !== port) continue
      // accepted sockets share their listener's port; a listener's port is taken even with SO_REUSEADDR (Linux)
      if (other.queuedIn !== undefined || other.accepted) continue
      if (other.state === "listening" || !(reuse && other.options.get("SO_REUSEADDR") === true)) return true
    }
    return false
  }

  const ephemeralPort = (socket: SimSocket): number | undefined => {
    for (let tries = 0; tries <= LAST_EPHEMERAL_PORT - FIRST_EPHEMERAL_PORT; tries++) {
      const port = nextEphemeral
      nextEphemeral = port === LAST_EPHEMERAL_PORT ? FIRST_EPHEMERAL_PORT : port + 1
      if (!conflicts(socket, socket.family, port)) return port
    }
    return undefined
  }

  // -- connections ----------------------------------------------------------------------------------------

  const deliver = (connection: Connection): void => {
    while (connection.receivers.length > 0) {
      const head = connection.receivers[0]
      if (head === undefined) return
      if (connection.state === "reset") {
        connection.receivers.shift()
        complete(head.pending, { status: wsa.WSAECONNRESET, bytes: 0 })
        continue
      }
      if (connection.inbox.length === 0) {
        if (connection.state !== "peer-closed") return
        connection.receivers.shift()
        complete(head.pending, { status: 0, bytes: 0, data: new Uint8Array(0) })
        continue
      }
      connection.receivers.shift()
      const data = take(connection.inbox, head.maxBytes)
      complete(head.pending, { status: 0, bytes: data.length, data })
    }
  }

  /** This side sends its FIN: an echo peer, like a server that does not keep half-open connections, closes. */
  const finish = (connection: Connection): void => {
    connection.sendShut = true
    const peer = connection.peer
    if (peer !== undefined && peer.state === "open") {
      peer.state = "peer-closed"
      deliver(peer)
    }
    if (connection.echo && connection.state === "open") {
      connection.state = "peer-closed"
      deliver(connection)
    }
  }

  const endConnection = (socket: SimSocket, ended: Ended): void => {
    const connection = socket.connection
    if (connection === undefined) return
    socket.connection = undefined
    for (const cancel of connection.timers.splice(0)) cancel()
    connection.record.ended ??= ended
    for (const receiver of connection.receivers.splice(0)) abort(receiver.pending)
    // A simulated peer sees our end: a reset after SO_LINGER 0, else a FIN after what was sent.
    const peer = connection.peer
    if (peer !== undefined) {
      connection.peer = undefined
      peer.peer = undefined
      if (peer.state === "open" || (peer.state === "peer-closed" && socket.options.get("SO_LINGER") === 0)) {
        peer.state = socket.options.get("SO_LINGER") === 0 && ended === "closed" ? "reset" : "peer-closed"
        deliver(peer)
      }
    }
  }

  const establish = (socket: SimSocket, record: AttemptRecord, behaviour: Accept): void => {
    const connection: Connection = {
      record,
      echo: behaviour.echo,
      inbox: [],
      receivers: [],
      state: "open",
      sendShut: false,
      timers: [],
      peer: undefined
    }
    socket.state = "connected"
    socket.connection = connection
    if (behaviour.greeting.length > 0) connection.inbox.push(behaviour.greeting.slice())
    if (behaviour.echo) for (const chunk of record.chunks) if (chunk.length > 0) connection.inbox.push(chunk.slice())
    const peerEvent = (millis: number | undefined, state: "reset" | "peer-closed") => {
      if (millis === undefined) return
      const happen = () => {
        if (socket.connection !== connection || connection.state === "reset") return
        connection.state = state
        record.ended ??= state
        deliver(connection)
      }
      if (millis <= 0) happen()
      else if (Number.isFinite(millis)) connection.timers.push(scheduler.sleep(millis, happen))
    }
    peerEvent(behaviour.resetAfterMillis, "reset")
    peerEvent(behaviour.closeAfterMillis, "peer-closed")
  }

  // -- the driver -----------------------------------------------------------------------------------------

  const closeSocket = (socket: SimSocket): void => {
    if (!sockets.has(socket.handle)) return
    for (const pending of [...socket.pending]) abort(pending)
    // a listener's queued connections go with it (their clients see a reset, as from a closed listen queue)
    for (const queued of socket.queue.splice(0)) {
      queued.options.set("SO_LINGER", 0)
      closeSocket(queued)
    }
    if (socket.queuedIn !== undefined) {
      const queue = socket.queuedIn.queue
      const index = queue.indexOf(socket)
      if (index >= 0) queue.splice(index, 1)
      socket.queuedIn = undefined
    }
    endConnection(socket, "closed")
    sockets.delete(socket.handle)
  }

  const newSocket = (family: Family, accepted: boolean): SimSocket => {
    const handle: NativeSocket = { family }
    const socket: SimSocket = {
      id: nextSocketId++,
      handle,
      family,
      state: "open",
      local: undefined,
      connection: undefined,
      pending: new Set(),
      options: new Map(),
      queue: [],
      acceptors: [],
      queuedIn: undefined,
      accepted
    }
    sockets.set(handle, socket)
    return socket
  }

  // -- listeners ------------------------------------------------------------------------------------------

  /** The simulated listener a connect to `address` reaches: bound to it, or to its family's wildcard. */
  const listenerFor = (address: SocketAddress): SimSocket | undefined => {
    const local = address.family === "ipv4" ? net.localHost.ipv4 : net.localHost.ipv6
    for (const socket of sockets.values()) {
      if (socket.state !== "listening" || socket.family !== address.family || socket.local?.port !== address.port) continue
      if (socket.local.host === address.host) return socket
      if (isUnspecified(socket.local) && (isLoopback(address) || address.host === local)) return socket
    }
    return undefined
  }

  /** A simulated client reaches a listener: both ends are made now, the server end waits in the queue. */
  const arrive = (listener: SimSocket, client: SimSocket, clientRecord: AttemptRecord, target: SocketAddress, payload: Uint8Array) => {
    const server = newSocket(listener.family, true)
    server.state = "connected"
    server.local = target
    server.queuedIn = listener
    const connection = (record: AttemptRecord): Connection => ({
      record,
      echo: false,
      inbox: [],
      receivers: [],
      state: "open",
      sendShut: false,
      timers: [],
      peer: undefined
    })
    const serverRecord: AttemptRecord = { ...clientRecord, socket: server.id, peer: clientRecord.local, local: target, chunks: [] }
    const clientSide = connection(clientRecord)
    const serverSide = connection(serverRecord)
    clientSide.peer = serverSide
    serverSide.peer = clientSide
    if (payload.length > 0) serverSide.inbox.push(payload.slice())
    client.state = "connected"
    client.connection = clientSide
    server.connection = serverSide
    listener.queue.push(server)
    serveAcceptors(listener)
  }

  /** Hands queued connections to waiting accepts, in order. */
  const serveAcceptors = (listener: SimSocket): void => {
    while (listener.acceptors.length > 0 && listener.queue.length > 0) {
      const acceptor = listener.acceptors.shift()!
      const server = listener.queue.shift()!
      server.queuedIn = undefined
      handOver(listener, acceptor, server)
    }
  }

  const handOver = (listener: SimSocket, acceptor: Acceptor, server: SimSocket): void => {
    const peer = server.connection?.record.peer
    if (peer === undefined) return void closeSocket(server), requeue(listener, acceptor)
    if (acceptor.receiveBytes <= 0) {
      return complete(acceptor.pending, { status: 0, bytes: 0, accepted: { socket: server.handle, peer } })
    }
    acceptor.accepting = server
    driver.receive(server.handle, acceptor.receiveBytes, (completion) => {
      if (acceptor.accepting !== server) return // the accept was cancelled: it closed the socket already
      acceptor.accepting = undefined
      if (completion.status !== 0) {
        // the client reset before its first bytes: drop it and take the next connection
        closeSocket(server)
        return requeue(listener, acceptor)
      }
      const data = completion.data ?? new Uint8Array(0)
      complete(acceptor.pending, { status: 0, bytes: data.length, data, accepted: { socket: server.handle, peer } })
    })
  }

  const requeue = (listener: SimSocket, acceptor: Acceptor): void => {
    if (acceptor.pending.completion.completed()) return
    listener.acceptors.unshift(acceptor)
    serveAcceptors(listener)
  }

  const driver: Driver = {
    name: "simulated",
    capabilities: { postedAccepts: 1, reuseAddressByDefault: true },
    startup: () => 0,
    cleanup: () => {
      for (const socket of [...sockets.values()]) closeSocket(socket)
    },

    open: (family) => {
      if (family !== "ipv4" && family !== "ipv6") return fail(wsa.WSAEAFNOSUPPORT)
      return ok(newSocket(family, false).handle)
    },

    listen: (handle, _backlog) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return wsa.WSAENOTSOCK
      if (socket.state === "listening") return 0
      if (socket.state !== "bound" || socket.local === undefined) return wsa.WSAEINVAL
      let local = socket.local
      if (local.port === 0) {
        const port = ephemeralPort(socket)
        if (port === undefined) return wsa.WSAENOBUFS
        local = withPort(local, port)
      }
      for (const other of sockets.values()) {
        if (other !== socket && other.state === "listening" && other.family === socket.family && other.local?.port === local.port) {
          return wsa.WSAEADDRINUSE
        }
      }
      socket.local = local
      socket.state = "listening"
      return 0
    },

    accept: (handle, receiveBytes, done) => {
      const listener = sockets.get(handle)
      if (listener === undefined) return immediately(done, wsa.WSAENOTSOCK)
      if (listener.state !== "listening") return immediately(done, wsa.WSAEINVAL)
      // eslint-disable-next-line prefer-const
      let acceptor: Acceptor
      const pending = start(listener, done, () => {
        const index = listener.acceptors.indexOf(acceptor)
        if (index >= 0) listener.acceptors.splice(index, 1)
        const half = acceptor.accepting
        acceptor.accepting = undefined
        if (half !== undefined) closeSocket(half)
      })
      acceptor = { pending, receiveBytes, accepting: undefined }
      listener.acceptors.push(acceptor)
      serveAcceptors(listener)
      return operationOf(pending)
    },

    bind: (handle, address, deferPort) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return wsa.WSAENOTSOCK
      if (socket.local !== undefined) return wsa.WSAEINVAL
      if (address.family !== socket.family) return wsa.WSAEAFNOSUPPORT
      if (address.port === 0) {
        if (deferPort) {
          socket.local = address
        } else {
          const port = ephemeralPort(socket)
          if (port === undefined) return wsa.WSAENOBUFS
          socket.local = withPort(address, port)
        }
      } else {
        if (conflicts(socket, address.family, address.port)) return wsa.WSAEADDRINUSE
        socket.local = address
      }
      if (socket.state === "open") socket.state = "bound"
      return 0
    },

    connect: (handle, address, data, done) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return immediately(done, wsa.WSAENOTSOCK)
      switch (socket.state) {
        case "connecting":
          return immediately(done, wsa.WSAEALREADY)
        case "connected":
        case "disconnected": // as DisconnectEx without TF_REUSE_SOCKET leaves it (the state machine agrees)
          return immediately(done, wsa.WSAEISCONN)
        case "open":
          return immediately(done, wsa.WSAEINVAL)
        case "bound":
          break
      }
      if (address.family !== socket.family) return immediately(done, wsa.WSAEAFNOSUPPORT)
      let local = socket.local
      if (local === undefined) return immediately(done, wsa.WSAEINVAL)
      if (local.port === 0) {
        const port = ephemeralPort(socket)
        if (port === undefined) return immediately(done, wsa.WSAENOBUFS)
        local = withPort(local, port)
        socket.local = local
      }
      const connectedLocal = isUnspecified(local)
        ? withHost(
          local,
          isLoopback(address)
            ? (address.family === "ipv4" ? "127.0.0.1" : "::1")
            : (address.family === "ipv4" ? net.localHost.ipv4 : net.localHost.ipv6)
        )
        : local

      const peerKey = format(address)
      const attempt = attemptCounts.get(peerKey) ?? 0
      attemptCounts.set(peerKey, attempt + 1)
      const payload = data === undefined ? new Uint8Array(0) : data.slice()
      const record: AttemptRecord = {
        id: records.length + 1,
        attempt: attempt + 1,
        socket: socket.id,
        peer: address,
        peerKey,
        local: connectedLocal,
        startedAt: scheduler.now(),
        status: undefined,
        completedAt: undefined,
        chunks: [],
        ended: undefined
      }
      records.push(record)

      const settle = (status: number) => {
        record.status = status
        record.completedAt = scheduler.now()
        if (status !== 0 && socket.state === "connecting") socket.state = "bound"
      }
      socket.state = "connecting"
      const pending = start(socket, done, () => settle(OPERATION_ABORTED))
      const failWith = (status: number) => {
        settle(status)
        complete(pending, { status, bytes: 0 })
      }
      const listener = listenerFor(address)
      if (listener !== undefined) {
        // A simulated listener answers: connected at once; the server end waits for an accept.
        settle(0)
        socket.local = connectedLocal
        if (payload.length > 0) record.chunks.push(payload)
        arrive(listener, socket, record, address, payload)
        complete(pending, { status: 0, bytes: payload.length })
        return operationOf(pending)
      }
      const outcome = outcomeOf(routeOf(net, address), attempt)
      switch (outcome._tag) {
        case "Accept":
          after(pending, outcome.accept.delayMillis, () => {
            settle(0)
            socket.local = connectedLocal
            if (payload.length > 0) record.chunks.push(payload)
            establish(socket, record, outcome.accept)
            complete(pending, { status: 0, bytes: payload.length })
          })
          break
        case "Fail":
          after(pending, outcome.delayMillis, () => failWith(outcome.code))
          break
        case "Pending":
          if (outcome.timeoutMillis !== undefined) after(pending, outcome.timeoutMillis, () => failWith(wsa.WSAETIMEDOUT))
          break
      }
      return operationOf(pending)
    },

    resetConnect: (handle) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return wsa.WSAENOTSOCK
      if (socket.state === "connecting") return wsa.WSAEALREADY
      if (socket.state === "connected" || socket.state === "disconnected") return wsa.WSAEISCONN
      if (socket.local !== undefined) socket.state = "bound"
      return 0
    },

    send: (handle, data, done) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return immediately(done, wsa.WSAENOTSOCK)
      const connection = socket.connection
      if (connection === undefined) return immediately(done, wsa.WSAENOTCONN)
      if (connection.state === "reset") return immediately(done, wsa.WSAECONNRESET)
      if (connection.sendShut) return immediately(done, wsa.WSAESHUTDOWN)
      const copy = data.slice()
      connection.record.chunks.push(copy)
      const peer = connection.peer
      if (peer !== undefined && copy.length > 0 && peer.state === "open") {
        peer.inbox.push(copy.slice())
        deliver(peer)
      }
      if (connection.echo && copy.length > 0 && connection.state === "open") {
        connection.inbox.push(copy.slice())
        deliver(connection)
      }
      done({ status: 0, bytes: copy.length })
      return finished
    },

    receive: (handle, maxBytes, done) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return immediately(done, wsa.WSAENOTSOCK)
      const connection = socket.connection
      if (connection === undefined) return immediately(done, wsa.WSAENOTCONN)
      if (connection.state === "reset") return immediately(done, wsa.WSAECONNRESET)
      if (maxBytes <= 0) {
        done({ status: 0, bytes: 0, data: new Uint8Array(0) })
        return finished
      }
      const pending = start(socket, done, () => {
        const index = connection.receivers.findIndex((receiver) => receiver.pending === pending)
        if (index >= 0) connection.receivers.splice(index, 1)
      })
      connection.receivers.push({ pending, maxBytes })
      deliver(connection)
      return operationOf(pending)
    },

    shutdownSend: (handle) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return wsa.WSAENOTSOCK
      const connection = socket.connection
      if (connection === undefined) return wsa.WSAENOTCONN
      finish(connection)
      return 0
    },

    disconnect: (handle, reuse, done) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return immediately(done, wsa.WSAENOTSOCK)
      const connection = socket.connection
      if (connection === undefined) return immediately(done, wsa.WSAENOTCONN)
      // Graceful: every byte sent so far is the peer's (sends complete at once), then the FIN; never a reset.
      connection.record.ended ??= "disconnected"
      if (reuse) {
        endConnection(socket, "disconnected")
        socket.state = "bound"
      } else {
        finish(connection)
        socket.state = "disconnected"
      }
      done({ status: 0, bytes: 0 })
      return finished
    },

    close: (handle) => {
      const socket = sockets.get(handle)
      if (socket !== undefined) closeSocket(socket)
    },

    localAddress: (handle): Result<SocketAddress> => {
      const socket = sockets.get(handle)
      if (socket === undefined) return fail(wsa.WSAENOTSOCK)
      return socket.local === undefined ? fail(wsa.WSAEINVAL) : ok(socket.local)
    },

    peerAddress: (handle): Result<SocketAddress> => {
      const socket = sockets.get(handle)
      if (socket === undefined) return fail(wsa.WSAENOTSOCK)
      return socket.connection === undefined ? fail(wsa.WSAENOTCONN) : ok(socket.connection.record.peer)
    },

    setOption: (handle, option, value) => {
      const socket = sockets.get(handle)
      if (socket === undefined) return wsa.WSAENOTSOCK
      socket.options.set(option, value)
      return 0
    },

    liveAllocations: () => sockets.size + pendings.size
  }

  return { driver, log: makeLog(records) }
}
