/** The connectors' Effect-free side: the local address a request binds, and the live set `destroyAll` empties. */
import { describe, expect, it } from "vitest"
import * as Connectors from "../src/connectors.js"
import type * as Duplex from "../src/duplex.js"

describe("Connectors.localBind", () => {
  it("nothing asked: no bind; an address and/or a port: that literal (the wildcard for a port alone); a name: no bind", () => {
    expect(Connectors.localBind({ host: "h", port: 1 })).toBeUndefined()
    expect(Connectors.localBind({ host: "h", port: 1, localPort: 4000 })).toMatchObject({ family: "ipv4", host: "0.0.0.0", port: 4000 })
    expect(Connectors.localBind({ host: "h", port: 1, localAddress: "127.0.0.2" })).toMatchObject({ host: "127.0.0.2", port: 0 })
    expect(Connectors.localBind({ host: "h", port: 1, localAddress: "::1", localPort: 5 })).toMatchObject({ family: "ipv6", host: "::1", port: 5 })
    expect(Connectors.localBind({ host: "h", port: 1, localAddress: "not-an-address" })).toBeUndefined()
  })
})

describe("Connectors.make", () => {
  /** A dialer that never answers; its cancels counted. */
  const silent = () => {
    const requests: Array<Duplex.DialRequest> = []
    let cancelled = 0
    const dialer: Duplex.Dialer = (request) => {
      requests.push(request)
      return () => void cancelled++
    }
    return { requests, cancelled: () => cancelled, hooks: { errorOf: (failure: { code: number }) => new Error(String(failure.code)), dialer } }
  }

  it("createConnection dials what it is given; destroyAll destroys every connection still open and cancels its dial", () => {
    const { cancelled, hooks, requests } = silent()
    const connector = Connectors.make(hooks)
    const a = connector.createConnection(5432, "db.test")
    const b = connector.createConnection({ host: "cache.test", port: "6379", localPort: 7000 })
    expect(requests.map((r) => [r.host, r.port, r.localPort])).toEqual([["db.test", 5432, undefined], ["cache.test", 6379, 7000]])
    expect(a.connecting && b.connecting).toBe(true)
    connector.destroyAll()
    expect(a.destroyed && b.destroyed).toBe(true)
    expect(cancelled()).toBe(2)
  })

  it("a dial's failure: undici's callback gets the Duplex's Node error, once", async () => {
    const hooks: Duplex.Hooks = {
      errorOf: () => new Error("typed"),
      dialer: (_request, callback) => {
        setImmediate(() => callback({ code: 10061, cause: new Error("refused") }))
        return () => {}
      }
    }
    const connector = Connectors.make(hooks)
    const answers: Array<Error | null> = []
    await new Promise<void>((resolve) =>
      connector.connect({ hostname: "127.0.0.1", protocol: "http:", port: 1 }, (...[error]) => {
        answers.push(error)
        setImmediate(resolve)
      }))
    expect(answers.length).toBe(1)
    expect((answers[0] as NodeJS.ErrnoException).code).toBe("ECONNREFUSED")
  })
})
