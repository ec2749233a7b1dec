// Writes the error classes, packages/frontend/src/errors/classes.ts (built into both front-ends, each against
// that front-end's effect), from the core's WSA table and tag lists through one template
// (scripts/wsa-errors/classes.ts.tmpl): one tagged error class per code, the `WsaError` union, the name -> class
// record and each function's error union. The table is the one place a code is written; nothing in the template
// differs between Effect 3 and Effect 4.
// Run after `npm run build` (it reads the built core):
//   node scripts/generate-wsa-errors.mjs           (writes the file)
//   node scripts/generate-wsa-errors.mjs --check   (fails when the checked-in file is stale: CI runs it)
import { readFileSync, writeFileSync } from "node:fs"

const core = await import(new URL("../packages/core/dist/index.js", import.meta.url).href)
const target = "packages/frontend/src/errors/classes.ts"
const names = Object.keys(core.wsaCodes)

// Each function's error union: its name, the core's tag list it is made from, and its doc.
const unions = [
  ["OpenError", "openTags", "What `Socket.open` can fail with: a bad family, a released layer, or what the system says (out of sockets\n * or buffers, no permission, no network)."],
  ["BindError", "bindTags", "What `Socket.bind` can fail with."],
  ["SetOptionError", "setOptionTags", "What `Socket.setOption` can fail with: an unknown option (`WSAENOPROTOOPT`), a bad value (`WSAEINVAL`), or\n * what the system says."],
  ["AddressError", "addressTags", "What `Socket.localAddress` and `Socket.peerAddress` can fail with."],
  ["ConnectTimeError", "connectTimeTags", "What `Socket.connectTime` can fail with (Windows reads SO_CONNECT_TIME; elsewhere only the first two)."],
  ["SendError", "sendTags", "What `Socket.send` can fail with: not connected, shut down, bytes that are not a `Uint8Array` (`WSAEFAULT`),\n * or a broken connection (reset, aborted, timed out, no buffers, cancelled)."],
  ["ReceiveError", "receiveTags", "What `Socket.receive` can fail with: not connected, a bad `maxBytes` (`WSAEINVAL`), or a broken connection.\n * The peer's graceful end is not an error: an empty result."],
  ["ShutdownError", "shutdownTags", "What `Socket.shutdown` can fail with."],
  ["DisconnectError", "disconnectTags", "What `Socket.disconnect` can fail with (`WSAEOPNOTSUPP`: a reuse the platform cannot do, as under Wine)."],
  ["ConnectError", "connectTags", "What `ConnectEx.connect` can fail with: the codes the ConnectEx documentation lists, and what a completed\n * or cancelled connect, or the send of its first data, adds."],
  ["ListenError", "listenTags", "What `Listener.listen` can fail with."],
  ["AcceptError", "acceptTags", "What `Listener.accept` (and `Listener.serve`) can fail with."]
]
for (const [, list] of unions) {
  if (!Array.isArray(core[list])) throw new Error(`the core does not export ${list}`)
}

/** Names joined with `separator`, wrapped before 120 columns, each line indented. */
const wrapped = (items, separator, indent) => {
  const lines = []
  let line = ""
  for (const item of items) {
    const next = line === "" ? item : `${line}${separator}${item}`
    if (indent.length + next.length > 118 && line !== "") {
      lines.push(line)
      line = item
    } else line = next
  }
  if (line !== "") lines.push(line)
  return lines.map((l) => indent + l).join(`${separator.trimEnd()}\n`)
}

const parts = {
  CLASSES: names.map((name) => {
    const [code, meaning] = core.wsaCodes[name]
    return `/** \`${name}\` (${code}): ${meaning.replace(/\*\//g, "* /")}
 * @example program.pipe(Effect.catchTag("${name}", (error) => Effect.logWarning(error.message))) @since 0.1.0 @category errors */
export class ${name} extends WsaErrorClass("${name}") {}`
  }).join("\n"),
  UNION: wrapped([...names, "Unknown"].map((n) => `| ${n}`), " ", "  "),
  RECORD: wrapped(names, ", ", "  "),
  UNIONS: unions.map(([name, list, doc]) => `/**
 * ${doc}
 *
 * @since 0.1.0
 * @category models
 */
export type ${name} = ErrorOf<(typeof Core.${list})[number]> | Unknown`).join("\n\n")
}

const render = () => {
  let text = readFileSync(new URL("./wsa-errors/classes.ts.tmpl", import.meta.url), "utf8")
  for (const [key, value] of Object.entries(parts)) {
    const placeholder = `{{${key}}}`
    if (text.split(placeholder).length !== 2) throw new Error(`classes.ts.tmpl must hold ${placeholder} once`)
    text = text.replace(placeholder, () => value)
  }
  return text
}

const text = render()
const url = new URL(`../${target}`, import.meta.url)
if (process.argv.includes("--check")) {
  let current = ""
  try {
    current = readFileSync(url, "utf8")
  } catch {}
  if (current !== text) {
    console.error(`${target} is stale: run node scripts/generate-wsa-errors.mjs`)
    process.exit(1)
  }
  console.log(`${target}: ${names.length} error classes match the core's table`)
} else {
  writeFileSync(url, text)
  console.log(`wrote ${target}: ${names.length} classes`)
}
