/**
 * The production Windows driver (`makeWindowsDriver`) over bindings that answer as Windows documents
 * (`support/winsock.ts`), for what Wine cannot show: Wine implements ws2_32 on Linux sockets, so its
 * closesocket never refuses a linger close, its AcceptEx never fails at once, its ConnectEx never returns
 * TRUE, its DisconnectEx cannot reuse a socket. Each test names the document or anchor the answer follows.
 * Needs no ws2_32: runs on every system (`npm test`, and the Wine lane).
 */
import { describe, expect, it } from "vitest"
import { makeIpv4 } from "@effect-connectex/core"
import type { NativeSocket } from "../../src/native/Driver.js"
import { makeWindowsDriver, type WindowsDriverOptions, windowsTestHooks } from "../../src/native/windows/driver.js"
import { sleep, started, within } from "./support/operations.js"
import { type ModelSocket, Winsock } from "./support/winsock.js"

const OPERATION_ABORTED = 995
const WSAECONNRESET = 10054
const WSAECONNREFUSED = 10061
const WSAETIMEDOUT = 10060
const WSAEADDRINUSE = 10048
const WSAENOBUFS = 10055
const WSAEINVAL = 10022
const WSA_FLAG_OVERLAPPED = 0x01
const WSA_FLAG_NO_HANDLE_INHERIT = 0x80
const STATUS_CONNECTION_REFUSED = 0xc0000236
const STATUS_TOO_MANY_ADDRESSES = 0xc0000209
const STATUS_HOPLIMIT_EXCEEDED = 0xc000a012
const STATUS_CONNECTION_RESET = 0xc000020d

const loopback = (port: number) => makeIpv4("127.0.0.1", port)
/** TEST-NET-1 (RFC 5737): only data here, the model contacts nothing */
const elsewhere = makeIpv4("192.0.2.1", 80)

const lab = (options: Omit<WindowsDriverOptions, "win32"> = {}) => {
  const model = new Winsock()
  const driver = makeWindowsDriver({ ...options, win32: model.win32 })
  expect(driver.startup()).toBe(0)
  const hooks = windowsTestHooks(driver)
  const modelOf = (socket: NativeSocket): ModelSocket => model.socket(hooks.handleOf(socket))
  const open = (): NativeSocket => {
    const opened = driver.open("ipv4")
    if (!opened.ok) throw new Error(`open: ${opened.code}`)
    return opened.value
  }
  const bound = (): NativeSocket => {
    const socket = open()
    expect(driver.bind(socket, loopback(0), true)).toBe(0)
    return socket
  }
  const connected = async (to = loopback(80)): Promise<NativeSocket> => {
    const socket = bound()
    expect((await started((done) => driver.connect(socket, to, undefined, done)).completion).status).toBe(0)
    return socket
  }
  const listening = (): NativeSocket => {
    const socket = open()
    expect(driver.bind(socket, loopback(0), false)).toBe(0)
    expect(driver.listen(socket, 16)).toBe(0)
    return socket
  }
  return { model, driver, hooks, modelOf, open, bound, connected, listening }
}

describe("the Windows driver over bindings that answer as Windows documents", () => {
  // Defect 2. Go's net/sock_windows.go sysSocket and syscall.WSASocket(..., WSA_FLAG_OVERLAPPED |
  // WSA_FLAG_NO_HANDLE_INHERIT); libuv's uv__tcp_set_socket and uv__tcp_queue_accept clear HANDLE_FLAG_INHERIT.
  it("creates every socket, an AcceptEx's accepting socket too, not inheritable", () => {
    const { model, driver, modelOf, open, listening } = lab()
    const socket = open()
    expect(modelOf(socket).flags).toBe(WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)
    const listener = listening()
    const accept = started((done) => driver.accept(listener, 0, done))
    const accepting = model.pendingOf(modelOf(listener), "accept")?.accepting
    expect(accepting?.flags).toBe(WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)
    expect(model.created.every((s) => (s.flags & WSA_FLAG_NO_HANDLE_INHERIT) !== 0)).toBe(true)
    accept.operation.cancel()
    driver.close(listener)
    driver.close(socket)
    driver.cleanup()
  })

  // Defect 1. closesocket: "If SO_LINGER is set with a nonzero time-out interval on a nonblocking socket, the
  // closesocket call will fail with an error of WSAEWOULDBLOCK"; the handle is not released. .NET's
  // SafeSocketHandle.Windows.cs (DoCloseHandle, TryUnblockSocket) recovers from it.
  it("a linger close that closesocket refuses (WSAEWOULDBLOCK) still releases the handle and completes what is pending", async () => {
    const { model, driver, modelOf, connected } = lab()
    const baseline = driver.liveAllocations()
    const socket = await connected()
    const own = modelOf(socket)
    expect(own.nonBlocking).toBe(true)
    const receive = started((done) => driver.receive(socket, 1024, done))
    expect(await within(receive.completion, 20)).toBe("timeout")
    expect(driver.setOption(socket, "SO_LINGER", 5)).toBe(0)
    driver.close(socket)
    // the pending receive completes, once, with 995
    expect(await within(receive.completion, 1000)).toEqual({ status: OPERATION_ABORTED, bytes: 0 })
    // the handle is released: closed gracefully (queued data, then the FIN), not reset, not left open
    expect(own.closed).toBe("graceful")
    expect(model.sockets.has(own.handle)).toBe(false)
    expect(model.calls.filter((c) => c === "closesocket")).toHaveLength(2)
    expect(driver.liveAllocations()).toBe(baseline)
    driver.cleanup()
    for (let i = 0; i < 50 && model.cleanups === 0; i++) await sleep(5)
    expect(model.cleanups).toBe(1)
  })

  it("a linger close of a socket with nothing pending releases it all the same", async () => {
    const { model, driver, modelOf, connected } = lab()
    const socket = await connected()
    expect(driver.setOption(socket, "SO_LINGER", 30)).toBe(0)
    driver.close(socket)
    expect(modelOf(socket).closed).toBe("graceful")
    expect(model.sockets.size).toBe(0)
    expect(driver.liveAllocations()).toBe(0)
    driver.cleanup()
  })

  it("SO_LINGER 0 is a hard close at the first closesocket", async () => {
    const { model, driver, modelOf, connected } = lab()
    const socket = await connected()
    expect(driver.setOption(socket, "SO_LINGER", 0)).toBe(0)
    driver.close(socket)
    expect(modelOf(socket).closed).toBe("hard")
    expect(model.calls.filter((c) => c === "closesocket")).toHaveLength(1)
    driver.cleanup()
  })

  // Defect 3. AcceptEx documents WSAECONNRESET ("An incoming connection was indicated, but was subsequently
  // terminated by the remote peer prior to accepting the call"). Go's FD.Accept (internal/poll/fd_windows.go)
  // ignores WSAECONNRESET and ERROR_NETNAME_DELETED from acceptOne and tries AcceptEx again.
  it("an AcceptEx that fails at once with WSAECONNRESET is posted again: the listener keeps accepting", async () => {
    const { model, driver, modelOf, listening } = lab()
    const listener = listening()
    let resets = 2
    model.onAcceptEx = () => (resets-- > 0 ? { kind: "fail", code: WSAECONNRESET } : { kind: "pending" })
    const accept = started((done) => driver.accept(listener, 0, done))
    expect(accept.settled()).toBe(false)
    expect(model.calls.filter((c) => c === "AcceptEx")).toHaveLength(3)
    // the accepting sockets of the two refused calls are closed; the third waits
    const accepting = model.created.filter((s) => s !== modelOf(listener))
    expect(accepting.map((s) => s.closed)).toEqual(["graceful", "graceful", undefined])
    expect(driver.liveAllocations()).toBe(3) // the listener, the accepting socket, the block
    model.acceptArrives(modelOf(listener), makeIpv4("127.0.0.1", 40000))
    const result = await accept.completion
    expect(result.status).toBe(0)
    expect(result.accepted?.peer).toEqual(makeIpv4("127.0.0.1", 40000))
    expect(modelOf(result.accepted!.socket)).toBe(accepting[2])
    driver.close(result.accepted!.socket)
    driver.close(listener)
    expect(driver.liveAllocations()).toBe(0)
    driver.cleanup()
  })

  it("a reset that arrives through the port is posted again too; any other immediate failure is the accept's", async () => {
    const { model, driver, modelOf, listening } = lab()
    const listener = listening()
    const accept = started((done) => driver.accept(listener, 0, done))
    model.complete(model.pendingOf(modelOf(listener), "accept")!, STATUS_CONNECTION_RESET, { wsa: WSAECONNRESET })
    for (let i = 0; i < 50 && model.calls.filter((c) => c === "AcceptEx").length < 2; i++) await sleep(2)
    expect(model.calls.filter((c) => c === "AcceptEx")).toHaveLength(2)
    expect(accept.settled()).toBe(false)
    accept.operation.cancel()
    expect((await accept.completion).status).toBe(OPERATION_ABORTED)

    model.onAcceptEx = () => ({ kind: "fail", code: WSAENOBUFS })
    const failed = started((done) => driver.accept(listener, 0, done))
    expect(failed.settled()).toBe(true)
    expect((await failed.completion).status).toBe(WSAENOBUFS)
    expect(driver.liveAllocations()).toBe(1) // the listener: the accepting socket was closed
    driver.close(listener)
    driver.cleanup()
  })

  // GetAcceptExSockaddrs gives pointers into AcceptEx's output buffer; the driver decodes the peer there.
  it("the peer of an accept is read where GetAcceptExSockaddrs points, not asked of the socket", async () => {
    const { model, driver, modelOf, listening } = lab()
    const listener = listening()
    const accept = started((done) => driver.accept(listener, 0, done))
    model.acceptArrives(modelOf(listener), makeIpv4("127.0.0.7", 4321))
    // getpeername would now fail: only the block can give the peer
    model.created.at(-1)!.peer = undefined
    const result = await accept.completion
    expect(result.status).toBe(0)
    expect(result.accepted?.peer).toEqual(makeIpv4("127.0.0.7", 4321))
    driver.close(result.accepted!.socket)
    driver.close(listener)
    driver.cleanup()
  })

  // Defect 4. DisconnectEx: "a TCP socket may be subject to the TCP TIME_WAIT state, causing the DisconnectEx
  // call to be delayed" (TcpTimedWaitDelay: 120 s by default). The Linux driver waits at most 2 s.
  it("a reusing DisconnectEx that Windows holds is cancelled at the bound and fails with WSAETIMEDOUT", async () => {
    const { model, driver, connected } = lab({ disconnectWaitMs: 100 })
    const socket = await connected()
    model.onDisconnectEx = () => ({ kind: "pending" })
    const began = Date.now()
    const disconnect = started((done) => driver.disconnect(socket, true, done))
    const result = await within(disconnect.completion, 2000)
    expect(result).toEqual({ status: WSAETIMEDOUT, bytes: 0 })
    expect(Date.now() - began).toBeGreaterThanOrEqual(90)
    expect(model.calls).toContain("CancelIoEx")
    expect(driver.liveAllocations()).toBe(1)
    driver.close(socket)
    expect(driver.liveAllocations()).toBe(0)
    driver.cleanup()
  })

  it("the bound is for reuse only: a plain DisconnectEx waits for Windows", async () => {
    const { model, driver, connected } = lab({ disconnectWaitMs: 50 })
    const socket = await connected()
    model.onDisconnectEx = () => ({ kind: "pending" })
    const disconnect = started((done) => driver.disconnect(socket, false, done))
    expect(await within(disconnect.completion, 200)).toBe("timeout")
    driver.close(socket)
    expect((await disconnect.completion).status).toBe(OPERATION_ABORTED)
    driver.cleanup()
  })

  // DisconnectEx: "When the DisconnectEx request completes, the socket handle can be passed to the AcceptEx or
  // ConnectEx function" (TF_REUSE_SOCKET).
  it("a reusing DisconnectEx that completes: ConnectEx again on the same handle", async () => {
    const { model, driver, hooks, modelOf, connected } = lab()
    const socket = await connected(loopback(80))
    const handle = hooks.handleOf(socket)
    expect((await started((done) => driver.disconnect(socket, true, done)).completion).status).toBe(0)
    expect(model.calls).toContain("DisconnectEx(2)")
    expect(driver.connectTime!(socket)).toEqual({ ok: true, value: undefined })
    const again = await started((done) => driver.connect(socket, loopback(81), new Uint8Array([1, 2]), done)).completion
    expect(again).toEqual({ status: 0, bytes: 2 })
    expect(hooks.handleOf(socket)).toBe(handle)
    expect(modelOf(socket).peer).toEqual(loopback(81))
    expect(driver.peerAddress(socket)).toEqual({ ok: true, value: loopback(81) })
    driver.close(socket)
    driver.cleanup()
  })

  // ConnectEx: "On success, the ConnectEx function returns TRUE"; without FILE_SKIP_COMPLETION_PORT_ON_SUCCESS
  // the packet is still queued (Go's execIO: "Need to get our completion message anyway").
  it("ConnectEx returning TRUE: the completion still comes through the port, once, with the bytes sent", async () => {
    const { model, driver, modelOf, bound } = lab()
    const socket = bound()
    model.onConnectEx = (_socket, _address, dataLength) => ({ kind: "now", bytes: dataLength })
    const connect = started((done) => driver.connect(socket, loopback(80), new TextEncoder().encode("hello"), done))
    expect(connect.settled()).toBe(false)
    expect(connect.operation.overlapped).not.toBe(0n)
    expect(driver.liveAllocations()).toBe(2)
    expect(await connect.completion).toEqual({ status: 0, bytes: 5 })
    expect(modelOf(socket).options.get("65535:28688")).toBe(0) // SO_UPDATE_CONNECT_CONTEXT, after the packet
    expect(driver.liveAllocations()).toBe(1)
    driver.close(socket)
    driver.cleanup()
  })

  // WSAGetOverlappedResult first, as .NET's SocketAsyncEventArgs.HandleCompletionPortCallbackError and Go's
  // runtime netpoll (netpoll_windows.go) ask it: the NTSTATUS table is a fallback. Hand-made tables disagree:
  // libuv's uv_ntstatus_to_winsock_error mapped STATUS_TOO_MANY_ADDRESSES to WSAEADDRINUSE, later WSAENOBUFS.
  it("a failed completion's code is WSAGetOverlappedResult's, not the table's", async () => {
    const { model, driver, modelOf, bound } = lab()
    const socket = bound()
    model.onConnectEx = () => ({ kind: "pending" })
    const connect = started((done) => driver.connect(socket, loopback(80), undefined, done))
    model.complete(model.pendingOf(modelOf(socket), "connect")!, STATUS_TOO_MANY_ADDRESSES, { wsa: WSAEADDRINUSE })
    expect((await connect.completion).status).toBe(WSAEADDRINUSE)
    driver.close(socket)
    driver.cleanup()
  })

  it("a status outside the table: WSAGetOverlappedResult's code", async () => {
    const { model, driver, modelOf, connected } = lab()
    const socket = await connected()
    const receive = started((done) => driver.receive(socket, 64, done))
    model.complete(model.pendingOf(modelOf(socket), "receive")!, STATUS_HOPLIMIT_EXCEEDED, { wsa: WSAECONNRESET })
    expect((await receive.completion).status).toBe(WSAECONNRESET)
    driver.close(socket)
    driver.cleanup()
  })

  it("where WSAGetOverlappedResult cannot answer, the table, else WSAEINVAL", async () => {
    const { model, driver, modelOf, bound } = lab()
    model.onConnectEx = () => ({ kind: "pending" })
    const first = bound()
    const refused = started((done) => driver.connect(first, loopback(80), undefined, done))
    // "unexpectedly succeeded" (.NET asserts it never does)
    model.complete(model.pendingOf(modelOf(first), "connect")!, STATUS_CONNECTION_REFUSED, { wsa: "success" })
    expect((await refused.completion).status).toBe(WSAECONNREFUSED)
    const second = bound()
    const unknown = started((done) => driver.connect(second, loopback(80), undefined, done))
    model.complete(model.pendingOf(modelOf(second), "connect")!, STATUS_HOPLIMIT_EXCEEDED, { wsa: 0 })
    expect((await unknown.completion).status).toBe(WSAEINVAL)
    driver.close(first)
    driver.close(second)
    driver.cleanup()
  })

  // connect: after WSAECONNREFUSED, WSAENETUNREACH or WSAETIMEDOUT "the application can call connect again
  // for the same socket"; ConnectEx the same. Nothing to undo on Windows (Wine needs `resetAfterFailedConnect`).
  it("after a refused ConnectEx the same socket connects again, with no reset in between", async () => {
    const { model, driver, modelOf, bound } = lab()
    const socket = bound()
    model.onConnectEx = () => ({ kind: "pending" })
    const refused = started((done) => driver.connect(socket, loopback(80), undefined, done))
    model.complete(model.pendingOf(modelOf(socket), "connect")!, STATUS_CONNECTION_REFUSED, { wsa: WSAECONNREFUSED })
    expect((await refused.completion).status).toBe(WSAECONNREFUSED)
    expect(driver.resetConnect(socket)).toBe(0)
    expect(model.calls).not.toContain("connect")
    model.onConnectEx = () => ({ kind: "now" })
    expect((await started((done) => driver.connect(socket, loopback(80), undefined, done)).completion).status).toBe(0)
    driver.close(socket)
    driver.cleanup()
  })

  // SO_REUSE_UNICASTPORT: "allow ephemeral port reuse for Winsock API connection functions which require an
  // explicit bind, such as ConnectEx" (Windows 10 1703); the Linux driver's IP_BIND_ADDRESS_NO_PORT.
  it("a port-0 bind for a connect asks for a deferred port before binding; other binds do not", () => {
    const { model, driver, open } = lab()
    const dialing = open()
    expect(driver.bind(dialing, makeIpv4("0.0.0.0", 0), true)).toBe(0)
    expect(model.calls.slice(-2)).toEqual(["setsockopt(65535:12295=1)", "bind"])
    const listening = open()
    expect(driver.bind(listening, loopback(0), false)).toBe(0)
    const fixed = open()
    expect(driver.bind(fixed, loopback(5555), true)).toBe(0)
    expect(model.calls.filter((c) => c.startsWith("setsockopt(65535:12295"))).toHaveLength(1)
    for (const socket of [dialing, listening, fixed]) driver.close(socket)
    driver.cleanup()
  })

  // libuv's uv__tcp_queue_read posts a zero-byte WSARecv (uv_active_tcp_streams_threshold = 0: always), then
  // reads what is there without blocking.
  it("an idle receive is a zero-byte WSARecv holding no buffer; the data is read once it is there", async () => {
    const { model, driver, modelOf, connected } = lab()
    const socket = await connected()
    const receive = started((done) => driver.receive(socket, 65536, done))
    expect(model.calls.at(-1)).toBe("WSARecv(0)")
    expect(await within(receive.completion, 20)).toBe("timeout")
    model.arrive(modelOf(socket), new TextEncoder().encode("ping"))
    const got = await receive.completion
    expect(got.status).toBe(0)
    expect(new TextDecoder().decode(got.data)).toBe("ping")
    const end = started((done) => driver.receive(socket, 65536, done))
    model.arrive(modelOf(socket), undefined)
    expect(await end.completion).toMatchObject({ status: 0, bytes: 0 })
    expect((await end.completion).data?.byteLength).toBe(0)
    expect(driver.liveAllocations()).toBe(1)
    driver.close(socket)
    driver.cleanup()
  })

  it("a cancelled zero read leaves what arrived for the next receive", async () => {
    const { model, driver, modelOf, connected } = lab()
    const socket = await connected()
    const receive = started((done) => driver.receive(socket, 64, done))
    receive.operation.cancel()
    expect((await receive.completion).status).toBe(OPERATION_ABORTED)
    model.arrive(modelOf(socket), new Uint8Array([7, 8, 9]))
    const next = await started((done) => driver.receive(socket, 64, done)).completion
    expect(Array.from(next.data ?? [])).toEqual([7, 8, 9])
    driver.close(socket)
    driver.cleanup()
  })

  // libuv's uv__tcp_connect: SIO_TCP_INITIAL_RTO with TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS for loopback.
  it("asks for no SYN retransmissions on loopback connects only", async () => {
    const { model, driver, connected } = lab()
    const local = await connected(loopback(80))
    expect(model.calls).toContain("WSAIoctl(98000011:ffff,fe)")
    const before = model.calls.length
    const remote = await connected(elsewhere)
    expect(model.calls.slice(before).some((c) => c.startsWith("WSAIoctl(98000011"))).toBe(false)
    driver.close(local)
    driver.close(remote)
    driver.cleanup()
  })

  it("TCP_FASTOPEN is set on the socket as Windows takes it (IPPROTO_TCP, 15)", () => {
    const { model, driver, open } = lab()
    const socket = open()
    expect(driver.setOption(socket, "TCP_FASTOPEN", true)).toBe(0)
    expect(model.calls.at(-1)).toBe("setsockopt(6:15=1)")
    driver.close(socket)
    driver.cleanup()
  })
})

