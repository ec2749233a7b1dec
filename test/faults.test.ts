/**
 * Real network faults, produced in network namespaces this file creates (see test/support/netns.ts): the
 * library runs in this process, in the root namespace, against peers, a router and an unreachable host in
 * namespaces of its own. Every address a test connects to belongs to one of those namespaces.
 * Needs Linux, root and iproute2; otherwise the whole file is skipped, and its title says why.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Ref, Schedule } from "effect"
import { ConnectEx, Socket, SocketAddress } from "../packages/effect-connectex/src/index.js"
import {
  canUseNetns,
  cleanUpEverything,
  dropSynsTo,
  netLab,
  peer,
  skipReason,
  synCount,
  unreachableRoute,
  unreachableRule
} from "./support/netns.js"
import { bound, text, untilPending } from "./support/fixtures.js"
import { execFileSync } from "node:child_process"

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/**
 * Blocks this process's event loop (nothing of ours runs, libuv polls nothing) until `condition` holds,
 * checking it every 20 ms; false if it did not hold within `timeoutMs`. Meanwhile the kernel and the peer
 * processes go on: what they do is seen by the library only once the loop runs again.
 */
const holdEventLoopUntil = (condition: () => boolean, timeoutMs: number) =>
  Effect.sync(() => {
    const deadline = Date.now() + timeoutMs
    const cell = new Int32Array(new SharedArrayBuffer(4))
    while (!condition()) {
      if (Date.now() > deadline) return false
      Atomics.wait(cell, 0, 0, 20)
    }
    return true
  })

/** The TCP connections of this host's root namespace to `host:port`, as `ss` lists them (a reset one is gone). */
const connectionsTo = (host: string, port: number): string =>
  execFileSync("ss", ["-Htn", "dst", `${host}:${port}`], { encoding: "utf8" }).trim()


/** The connect's error and how long (real time) it took to arrive. */
const failedConnect = (socket: Socket.Socket, target: SocketAddress.SocketAddress) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const error = yield* Effect.flip(ConnectEx.connect(socket, target))
    return { error, millis: (yield* Clock.currentTimeMillis) - start }
  })

/** The socket connects to an echo peer in the namespace and gets its data back. */
const connectsAndEchoes = (socket: Socket.Socket, port: number, host: string) =>
  Effect.gen(function*() {
    const { bytesSent } = yield* ConnectEx.connect(socket, SocketAddress.ipv4(host, port), { data: text("again") })
    expect(bytesSent).toBe(5)
    expect(decode(yield* Socket.receive(socket, 100))).toBe("again")
  })

const title = canUseNetns
  ? "real network faults, in network namespaces of this test"
  : `real network faults (SKIPPED: ${skipReason})`

describe.skipIf(!canUseNetns)(title, () => {
  afterAll(() => cleanUpEverything())

  it.scopedLive("network unreachable, from a router in the namespace (ICMP net unreachable) -> WSAENETUNREACH; the socket connects again", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const echo = yield* peer("echo", 7000)
      const socket = yield* bound()
      const target = SocketAddress.ipv4(lab.beyondPeerNoRoute, 80)
      const { error } = yield* failedConnect(socket, target)
      expect(error._tag).toBe("WSAENETUNREACH")
      expect(error.code).toBe(10051)
      expect(error.operation).toBe("connect")
      expect(error.address?.host).toBe(lab.beyondPeerNoRoute)
      // WSAENETUNREACH is one of the codes after which the same socket may connect again.
      yield* connectsAndEchoes(socket, echo.port, lab.peer)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("network unreachable, no route on this host (an `unreachable` policy rule) -> WSAENETUNREACH at once; the socket connects again", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const echo = yield* peer("echo", 7000)
      yield* unreachableRule(lab.noRouteHerePrefix)
      const socket = yield* bound()
      const { error } = yield* failedConnect(socket, SocketAddress.ipv4(lab.noRouteHere, 80))
      expect(error._tag).toBe("WSAENETUNREACH")
      yield* connectsAndEchoes(socket, echo.port, lab.peer)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("host unreachable: a neighbour on the link never answers ARP -> WSAEHOSTUNREACH once resolution gives up", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const socket = yield* bound()
      const { error, millis } = yield* failedConnect(socket, SocketAddress.ipv4(lab.silentNeighbour, 80))
      expect(error._tag).toBe("WSAEHOSTUNREACH")
      expect(error.code).toBe(10065)
      // The lab's veth sends 2 ARP probes 250 ms apart: the answer came from the kernel giving up, not at once.
      expect(millis).toBeGreaterThanOrEqual(400)
      expect(millis).toBeLessThan(5_000)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("host unreachable, from a router in the namespace (ICMP host unreachable) -> WSAEHOSTUNREACH", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const socket = yield* bound()
      const { error } = yield* failedConnect(socket, SocketAddress.ipv4(lab.beyondPeerUnreachable, 80))
      expect(error._tag).toBe("WSAEHOSTUNREACH")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("host unreachable, an `unreachable` route on this host -> WSAEHOSTUNREACH at once", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      yield* unreachableRoute(lab.unreachableHerePrefix)
      const socket = yield* bound()
      const { error } = yield* failedConnect(socket, SocketAddress.ipv4(lab.unreachableHere, 80))
      expect(error._tag).toBe("WSAEHOSTUNREACH")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("SYN black hole: the peer drops SYNs to a listening port -> WSAETIMEDOUT after the SYN retries; the socket connects once the drop is lifted", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const echo = yield* peer("echo", 7000)
      const target = SocketAddress.ipv4(lab.peer, echo.port)
      // Control: the port listens and answers while nothing is dropped.
      yield* Effect.scoped(ConnectEx.dial(target))
      const socket = yield* bound()
      // 1 retry, on this socket only: the SYN at 0 s, again at 1 s, given up at 3 s (the default of 6 takes ~127 s).
      yield* synCount(socket, 1)
      const { error, millis } = yield* Effect.scoped(
        Effect.gen(function*() {
          yield* dropSynsTo(echo.port)
          return yield* failedConnect(socket, target)
        })
      )
      expect(error._tag).toBe("WSAETIMEDOUT")
      expect(error.code).toBe(10060)
      expect(millis).toBeGreaterThanOrEqual(2_500)
      expect(millis).toBeLessThan(10_000)
      // WSAETIMEDOUT is one of the codes after which the same socket may connect again.
      yield* connectsAndEchoes(socket, echo.port, lab.peer)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("a peer that resets after accepting (on our first data) -> WSAECONNRESET on receive", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const resetting = yield* peer("reset", 7001)
      const socket = yield* bound()
      const { bytesSent } = yield* ConnectEx.connect(socket, SocketAddress.ipv4(lab.peer, resetting.port), { data: text("hello") })
      expect(bytesSent).toBe(5)
      const error = yield* Effect.flip(Socket.receive(socket, 100))
      expect(error._tag).toBe("WSAECONNRESET")
      expect(error.code).toBe(10054)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("a peer that resets after accepting (on our first data) -> WSAECONNRESET on send", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const resetting = yield* peer("reset", 7001)
      const socket = yield* bound()
      yield* ConnectEx.connect(socket, SocketAddress.ipv4(lab.peer, resetting.port))
      // The first send is accepted and draws the reset; within a second of sends one must fail, with the reset.
      const error = yield* Socket.send(socket, text("are you there?")).pipe(
        Effect.zipRight(Effect.sleep("20 millis")),
        Effect.repeat(Schedule.recurs(50)),
        Effect.flip
      )
      expect(error._tag).toBe("WSAECONNRESET")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("a peer that resets at once after accepting -> WSAECONNRESET, from connect or from the first receive", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const resetting = yield* peer("reset-at-once", 7001)
      const socket = yield* bound()
      // A race: if the reset arrives before the connect's completion is processed, the POSIX driver reads it
      // from SO_ERROR and the connect fails with it; otherwise the connect succeeds and the receive fails.
      const error = yield* ConnectEx.connect(socket, SocketAddress.ipv4(lab.peer, resetting.port)).pipe(
        Effect.zipRight(Socket.receive(socket, 100)),
        Effect.flip
      )
      expect(error._tag).toBe("WSAECONNRESET")
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("a reset that arrives before the connect is processed: the connect succeeds, the next receive is WSAECONNRESET (once); after disconnect({ reuse: true }) the socket connects again", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const resetting = yield* peer("reset-at-once", 7004)
      const echo = yield* peer("echo", 7000)
      const target = SocketAddress.ipv4(lab.peer, resetting.port)
      // Two sockets: one receives before it disconnects, the other disconnects with the reset still owed.
      const receiving = yield* bound()
      const disconnecting = yield* bound()
      const fibers = yield* Effect.scoped(
        Effect.gen(function*() {
          yield* dropSynsTo(resetting.port)
          const fibers = yield* Effect.forEach([receiving, disconnecting], (s) => Effect.fork(ConnectEx.connect(s, target)))
          // Both SYNs went out (and were dropped): the connects wait for writability.
          yield* untilPending(2)
          return fibers
        })
      )
      // The drop is lifted. With the loop held, the SYNs retransmitted 1 s after the first are answered, the
      // peer accepts and resets at once, and only then does the library see the sockets' events.
      expect(connectionsTo(lab.peer, resetting.port)).toContain("SYN-SENT")
      const reset = yield* holdEventLoopUntil(() => connectionsTo(lab.peer, resetting.port) === "", 10_000)
      expect(reset).toBe(true)
      const outcomes = yield* Effect.forEach(fibers, Fiber.join)
      expect(outcomes).toEqual([{ bytesSent: 0 }, { bytesSent: 0 }])
      // The reset comes with the next receive, once; then the kernel's own answer (the stream has ended).
      const error = yield* Effect.flip(Socket.receive(receiving, 100))
      expect(error._tag).toBe("WSAECONNRESET")
      expect(error.code).toBe(10054)
      expect((yield* Socket.receive(receiving, 100)).length).toBe(0)
      yield* Socket.disconnect(receiving, { reuse: true })
      yield* connectsAndEchoes(receiving, echo.port, lab.peer)
      // Disconnected with the reset never taken: it does not follow the socket into its next connection.
      yield* Socket.disconnect(disconnecting, { reuse: true })
      yield* connectsAndEchoes(disconnecting, echo.port, lab.peer)
    }).pipe(Effect.provide(ConnectEx.layer)))

  it.scopedLive("dial with a retry schedule rides out a peer that comes up late (refused first, then listening)", () =>
    Effect.gen(function*() {
      const lab = yield* netLab
      const late = yield* peer("late", 7002)
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const retry = Schedule.spaced("50 millis").pipe(
        Schedule.intersect(Schedule.recurs(200)),
        Schedule.tapInput((error: { readonly _tag: string }) => Ref.update(seen, (tags) => [...tags, error._tag]))
      )
      const dialing = yield* Effect.fork(ConnectEx.dial(SocketAddress.ipv4(lab.peer, late.port), { data: text("late"), retry }))
      // Refused for real, twice, before the peer listens.
      yield* Effect.repeat(Ref.get(seen), { until: (tags) => tags.length >= 2, schedule: Schedule.spaced("10 millis") }).pipe(
        Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("dial never retried") })
      )
      yield* late.tell("listen")
      yield* late.said("listening")
      const { bytesSent, socket } = yield* Fiber.join(dialing)
      expect(bytesSent).toBe(4)
      expect(decode(yield* Socket.receive(socket, 10))).toBe("late")
      const tags = yield* Ref.get(seen)
      expect(tags.length).toBeGreaterThanOrEqual(2)
      expect(new Set(tags)).toEqual(new Set(["WSAECONNREFUSED"]))
    }).pipe(Effect.provide(ConnectEx.layer)))
})
