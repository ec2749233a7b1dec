import { describe as group, expect, it } from "vitest"
import { wsaCodes } from "../src/errors/codes.js"
import * as U from "../src/errors/unions.js"

const lists = {
  openTags: U.openTags,
  bindTags: U.bindTags,
  setOptionTags: U.setOptionTags,
  addressTags: U.addressTags,
  connectTimeTags: U.connectTimeTags,
  sendTags: U.sendTags,
  receiveTags: U.receiveTags,
  shutdownTags: U.shutdownTags,
  disconnectTags: U.disconnectTags,
  connectTags: U.connectTags,
  listenTags: U.listenTags,
  acceptTags: U.acceptTags
}

group("unions: the per-function tag lists", () => {
  it("name only codes of the table, each once", () => {
    for (const [name, list] of Object.entries(lists)) {
      for (const tag of list) expect(Object.keys(wsaCodes), `${name}: ${tag}`).toContain(tag)
      expect(new Set(list).size, name).toBe(list.length)
    }
  })

  it("every call on a socket can find it unusable; send and receive can find the connection broken", () => {
    for (const list of [U.bindTags, U.setOptionTags, U.addressTags, U.connectTimeTags, U.sendTags, U.receiveTags, U.shutdownTags, U.disconnectTags]) {
      for (const tag of U.usableTags) expect(list).toContain(tag)
    }
    for (const list of [U.sendTags, U.receiveTags]) {
      for (const tag of U.brokenTags) expect(list).toContain(tag)
    }
  })

  it("listen is opening, binding and listen() itself", () => {
    const expected = new Set([...U.openTags, ...U.bindTags, "WSAEISCONN", "WSAEOPNOTSUPP", "WSAEFAULT", "WSAENOTSOCK"])
    expect(new Set(U.listenTags)).toEqual(expected)
  })

  it("connect lists the codes ConnectEx documents and what a completed or cancelled connect adds", () => {
    expect(U.connectTags).toContain("WSAECONNREFUSED")
    expect(U.connectTags).toContain("WSAEHOSTDOWN")
    expect(U.connectTags).toContain("WSA_OPERATION_ABORTED")
    expect(U.connectTags).toHaveLength(22)
  })
})
