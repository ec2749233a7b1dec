#!/usr/bin/env node
// The data bench for the Effect 4 front-end (@effect-connectex/effect4), under Node 22.
//
//   npm run bench:data                    runs this as a child of bench/data.mjs (same run, same peer)
//   .cache/node22/bin/node bench/data-effect4.mjs --quick      on its own (after a build)
//   options: as bench/data.mjs (--rtt N --mib M --runs R --clients a,b,...), plus --port P to use a peer
//            already listening on P (bench/data.mjs passes its own); without it the peer is forked from
//            bench/data.mjs --peer by the Node named in BENCH_PEER_NODE (default: this one)
//
// Effect 4 needs Node >= 22.19, the root's bench runs on Node 20 with Effect 3, and one process cannot load
// both front-ends' `effect`: so this is its own process, with bench/data.mjs's cases, measuring, node:net
// client and JSON shape (imported from it). Clients:
//   node:net                   net.createConnection, write / "data" events (the baseline, on this Node)
//   Socket (Effect 4)          ConnectEx.dial + Socket.send / Socket.receive (64 KiB receives)
//   PlatformSocket (Effect 4)  PlatformSocket.fromSocket: effect/socket's pull-based reader + writer
// There is no NodeSocket row: @effect/platform-node 4 is not installed here (effect/socket has no Node
// implementation of its own). The last line printed is one JSON object. Nothing here asserts timings.

import { readFileSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"
import {
  CHUNK,
  fmt,
  header,
  HOST,
  netClient,
  parseArgs,
  RTT_BYTES,
  runClient,
  startPeer,
  stopPeer,
  table
} from "./data.mjs"

const root = fileURLToPath(new URL("..", import.meta.url))

/** This library's own calls in Effect 4: ConnectEx.dial, Socket.send, Socket.receive. */
function socketClient(target, runPromise, lib) {
  const { Effect, ConnectEx, Socket } = lib
  const dial = Effect.tap(
    Effect.map(ConnectEx.dial(target), ({ socket }) => socket),
    (socket) => Socket.setOption(socket, "TCP_NODELAY", true)
  )
  const payload = new Uint8Array(RTT_BYTES).fill(0x61)
  const chunk = new Uint8Array(CHUNK).fill(0x61)
  const receiveAtLeast = (socket, want) =>
    Effect.gen(function*() {
      let got = 0
      while (got < want) {
        const bytes = yield* Socket.receive(socket, CHUNK)
        if (bytes.byteLength === 0) return yield* Effect.die(new Error(`the peer closed after ${got} of ${want} bytes`))
        got += bytes.byteLength
      }
      return got
    })
  return {
    rtt: (n) =>
      runPromise(Effect.scoped(Effect.gen(function*() {
        const socket = yield* dial
        yield* Socket.send(socket, header("e"))
        let extra = 0
        for (let i = 0; i < n; i++) {
          yield* Socket.send(socket, payload)
          extra += (yield* receiveAtLeast(socket, RTT_BYTES - extra)) - RTT_BYTES
        }
      }))),
    send: (total) =>
      runPromise(Effect.scoped(Effect.gen(function*() {
        const socket = yield* dial
        yield* Socket.send(socket, header("s", total))
        for (let sent = 0; sent < total; sent += CHUNK) yield* Socket.send(socket, chunk)
        yield* receiveAtLeast(socket, 1)
      }))),
    receive: (total) =>
      runPromise(Effect.scoped(Effect.gen(function*() {
        const socket = yield* dial
        yield* Socket.send(socket, header("r", total))
        yield* receiveAtLeast(socket, total)
      })))
  }
}

/**
 * An Effect 4 platform socket (`effect/socket`): the reader is pull-based, so the client pulls until the
 * count it waits for has arrived (no forked handler as in Effect 3's `run`).
 */
function platformClient(make, runPromise, lib) {
  const { Effect } = lib
  const session = (kind, total, body) =>
    Effect.scoped(Effect.gen(function*() {
      const socket = yield* make
      const writer = yield* socket.writer
      const reader = yield* socket.reader
      const state = { got: 0 }
      const until = (target) =>
        Effect.whileLoop({
          while: () => state.got < target,
          body: () => reader.pull,
          step: (chunks) => {
            for (const chunk of chunks) state.got += chunk.length
          }
        })
      yield* writer.write(header(kind, total))
      yield* body(writer.write, until)
    }))
  const payload = new Uint8Array(RTT_BYTES).fill(0x61)
  const chunk = new Uint8Array(CHUNK).fill(0x61)
  return {
    rtt: (n) =>
      runPromise(session("e", 0, (write, until) =>
        Effect.gen(function*() {
          for (let i = 1; i <= n; i++) {
            yield* write(payload)
            yield* until(i * RTT_BYTES)
          }
        }))),
    send: (total) =>
      runPromise(session("s", total, (write, until) =>
        Effect.gen(function*() {
          for (let sent = 0; sent < total; sent += CHUNK) yield* write(chunk)
          yield* until(1)
        }))),
    receive: (total) => runPromise(session("r", total, (_write, until) => until(total)))
  }
}

function makeClients(port, lib, runtime) {
  const { Effect, ConnectEx, PlatformSocket, SocketAddress, Socket } = lib
  const target = SocketAddress.ipv4(HOST, port)
  const run = (effect) => runtime.runPromise(effect)
  return [
    { name: "node:net", ...netClient(port) },
    { name: "Socket (Effect 4)", ...socketClient(target, run, lib) },
    {
      name: "PlatformSocket (Effect 4)",
      ...platformClient(
        Effect.flatMap(ConnectEx.dial(target), ({ socket }) =>
          Effect.andThen(Socket.setOption(socket, "TCP_NODELAY", true), Effect.sync(() => PlatformSocket.fromSocket(socket)))),
        run,
        lib
      )
    }
  ]
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  // The library's own effect 4 (packages/effect4/node_modules), not the root's effect 3 that a bare
  // `import("effect")` from bench/ would find; refuse anything but 4.x.
  const effect4 = `${root}packages/effect4/node_modules/effect/`
  const effectVersion = JSON.parse(readFileSync(`${effect4}package.json`, "utf8")).version
  if (!effectVersion.startsWith("4.")) throw new Error(`bench: packages/effect4 has effect ${effectVersion}, not 4.x`)
  const [Effect, ManagedRuntime, library] = await Promise.all([
    import(pathToFileURL(`${effect4}dist/Effect.js`).href),
    import(pathToFileURL(`${effect4}dist/ManagedRuntime.js`).href),
    import(pathToFileURL(`${root}packages/effect4/dist/index.js`).href)
  ])
  const lib = { Effect, ...library }
  const runtime = ManagedRuntime.make(library.ConnectEx.layer)
  const peer = options.port === undefined ? await startPeer(process.env.BENCH_PEER_NODE || process.execPath) : undefined
  const port = options.port ?? peer.port
  try {
    console.log(`data path on ${HOST} (Effect 4 front-end, effect ${effectVersion}), ` +
      `${peer === undefined ? `parent's peer on port ${port}` : `peer pid ${peer.child.pid} in its own process`}, ` +
      `node ${process.version}, ${options.runs} run(s) per figure (median)`)
    const clients = makeClients(port, lib, runtime).filter((c) => options.only === undefined || options.only.includes(c.name))
    const warm = { ...options, rtt: Math.min(500, options.rtt), mib: Math.min(4, options.mib), runs: 1 }
    for (const client of clients) await runClient(client, warm)

    const results = []
    for (const client of clients) {
      const result = await runClient(client, options)
      results.push(result)
      process.stderr.write(
        `bench: ${client.name}: ${fmt(result.rtt.perSec)} rtt/s, send ${fmt(result.send.mibPerSec)} MiB/s, ` +
          `receive ${fmt(result.receive.mibPerSec)} MiB/s\n`
      )
    }
    const at = (name) => results.find((r) => r.client === name)
    const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 1000) / 1000)
    const net = at("node:net")
    const ours = at("Socket (Effect 4)")
    const ratios = {
      rttVsNet: ratio(ours?.rtt.perSec, net?.rtt.perSec),
      platformRttVsNet: ratio(at("PlatformSocket (Effect 4)")?.rtt.perSec, net?.rtt.perSec),
      sendVsNet: ratio(ours?.send.mibPerSec, net?.send.mibPerSec),
      receiveVsNet: ratio(ours?.receive.mibPerSec, net?.receive.mibPerSec),
      cpuPerRoundTripVsNet: ratio(ours?.rtt.cpuUsPerRoundTrip, net?.rtt.cpuUsPerRoundTrip)
    }
    console.log(table(results, options))
    console.log(
      `\nSocket.send/receive (Effect 4) vs node:net: round trips ${ratios.rttVsNet}x, send ${ratios.sendVsNet}x, ` +
        `receive ${ratios.receiveVsNet}x, CPU per round trip ${ratios.cpuPerRoundTripVsNet}x; ` +
        `PlatformSocket (Effect 4) round trips ${ratios.platformRttVsNet}x`
    )
    console.log(JSON.stringify({
      bench: "data",
      quick: options.quick,
      roundTrips: options.rtt,
      rttBytes: RTT_BYTES,
      bulkMiB: options.mib,
      chunkBytes: CHUNK,
      runs: options.runs,
      node: process.version,
      effect: effectVersion,
      ...ratios,
      results
    }))
  } finally {
    await runtime.dispose()
    if (peer !== undefined) await stopPeer(peer.child)
  }
}

await main()
