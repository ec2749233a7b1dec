#!/usr/bin/env node
/**
 * The mutation score per group of files, and the surviving mutants by file.
 *
 * Stryker has one break threshold, over every file at once; the interruption and lifecycle code is held to a
 * score of its own per group (issue 19), so that a well-tested group cannot hide a weak one. This script
 * reads Stryker's JSON report (reports/mutation/mutation.json), prints each group's score and the total,
 * writes the survivors (file:line:column mutator: original -> replacement, and why, for the ones known to be
 * equivalent) to reports/mutation-survivors.md, and exits non-zero when a group is below its break or the
 * total below TOTAL_BREAK (see GROUP_BREAKS: the targets, or the floor measured where a group is below it).
 *
 *   node scripts/mutation-groups.mjs              reads the last report
 *   node scripts/mutation-groups.mjs --run [...]  runs `stryker run [...]` first (what `npm run mutate` does);
 *                                                 a failed Stryker run fails this too
 *
 * The score is Stryker's: (killed + timeout) / (killed + timeout + survived + no coverage); mutants that do not
 * compile, static mutants (ignoreStatic) and ignored ones do not count.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const REPORT = join(root, "reports/mutation/mutation.json")
const SURVIVORS = join(root, "reports/mutation-survivors.md")
/** Issue 19's targets: every group at 80% or more, the total at 90% or more. */
const TOTAL_TARGET = 90
const GROUP_TARGET = 80
/**
 * What fails the run today: the targets where a group meets them, and below them the floor the first full run
 * over every group measured (2 December 2026), so that no group can lose ground while the tests that reach
 * the targets are written (the survivors are listed in reports/mutation-survivors.md). Raise a floor when a
 * group gains; a group's floor at its target means it is done.
 */
const TOTAL_BREAK = 90
const GROUP_BREAKS = new Map([
  ["port", 80],
  ["queues", 80],
  ["readers", 80],
  ["listener/serve loop", 80],
  ["Happy Eyeballs race", 80],
  ["POSIX driver", 80],
  ["Duplex", 80],
  ["socket calls", 80],
  ["decisions", 80]
])

/**
 * The groups, in the order they are reported. A file belongs to the first group with a prefix it starts with;
 * a mutated file in no group is reported as "other" (and fails the run: every mutated file has a group).
 */
const GROUPS = [
  { name: "port", files: ["packages/core/src/port.ts", "packages/core/src/completion.ts"] },
  { name: "queues", files: ["packages/core/src/fifo.ts", "packages/core/src/io.ts"] },
  { name: "readers", files: ["packages/core/src/reader.ts"] },
  { name: "listener/serve loop", files: ["packages/core/src/listener.ts"] },
  { name: "Happy Eyeballs race", files: ["packages/core/src/race.ts"] },
  { name: "POSIX driver", files: ["packages/core/src/native/posix/driver.ts"] },
  { name: "Duplex", files: ["packages/core/src/duplex.ts", "packages/core/src/nodeErrors.ts"] },
  { name: "socket calls", files: ["packages/core/src/sockets.ts", "packages/core/src/calls.ts", "packages/core/src/failure.ts"] },
  {
    name: "decisions",
    files: [
      "packages/core/src/socket.ts",
      "packages/core/src/address.ts",
      "packages/core/src/errors/",
      "packages/frontend/src/internal/dial.ts",
      "packages/frontend/src/errors/WsaError.ts"
    ]
  }
]

/**
 * Survivors known to be equivalent (no test can tell them from the original), or kept on purpose, with why.
 * Matched on file, mutator and the original line's text (not its number, which moves), and the replacement
 * when given. What matches is still counted as surviving: the score is Stryker's; the report says why.
 */
const EXPLAINED = [
  // { file, mutator, line (the original line's text), original? (the mutated text), replacement?, why }
  ...["ConditionalExpression", "LogicalOperator"].map((mutator) => ({
    file: "packages/core/src/address.ts",
    mutator,
    line: `typeof address === "object" && address !== null && trusted.has(address as SocketAddress)`,
    why: "`trusted` is a WeakSet, whose `has` answers false for null and every primitive (it never throws), so the type checks in front of it decide nothing"
  })),
  {
    file: "packages/core/src/address.ts",
    mutator: "ConditionalExpression",
    line: `if (typeof text !== "string" || text.length === 0 || text.length > 128) {`,
    original: "text.length === 0",
    replacement: "false",
    why: "the empty text matches neither pattern below and gets the same reason (`expected host:port or [ipv6]:port`)"
  },
  ...[`const [, inner = "", portText = ""] = bracketed`, `const [host = "", zone, ...rest] = inner.split("%")`, `const [, host = "", portText = ""] = plain`].map((line) => ({
    file: "packages/core/src/address.ts",
    mutator: "StringLiteral",
    line,
    why: "never reached: the defaults are for the type checker; every group of a pattern that matched takes part in the match, and split gives at least one element"
  })),
  {
    file: "packages/core/src/address.ts",
    mutator: "ConditionalExpression",
    line: "if (trusted.has(address)) bytesCache.set(address, bytes.slice())",
    replacement: "false",
    why: "never caching only costs time; the bytes are computed again each call (caching untrusted records, `true`, is killed)"
  },
  ...["ConditionalExpression", "LogicalOperator"].map((mutator) => ({
    file: "packages/core/src/native/posix/driver.ts",
    mutator,
    line: "const wouldBlock = (e: number) => e === EAGAIN || e === EWOULDBLOCK",
    why: "EAGAIN and EWOULDBLOCK are one number on Linux (and macOS): either comparison alone decides the same"
  })),
  ...["const n = libc.send(socket.fd, sent === 0 ? payload : payload.subarray(sent), payload.length - sent, MSG_NOSIGNAL)", "const n = libc.send(socket.fd, sent === 0 ? data : data.subarray(sent), data.length - sent, MSG_NOSIGNAL)"].map((line) => ({
    file: "packages/core/src/native/posix/driver.ts",
    mutator: "ConditionalExpression",
    line,
    replacement: "false",
    why: "subarray(0) views the same bytes: the condition only saves making a view (sending from the start again, `true`, is killed by posixBytes.test.ts)"
  })),
  {
    file: "packages/core/src/native/posix/driver.ts",
    mutator: "EqualityOperator",
    line: "if (n >= 0) {",
    replacement: "n > 0",
    why: "send(2) on a stream socket returns 0 only for 0 bytes, and the loop never sends 0 bytes"
  },
  ...[["ConditionalExpression", "false"], ["BooleanLiteral", "true"]].map(([mutator, replacement]) => ({
    file: "packages/core/src/native/posix/driver.ts",
    mutator,
    line: "linger.writeInt32LE(value === false ? 0 : (value as number), 4)",
    replacement,
    why: "either way `false` itself is written, and writeInt32LE writes false as 0: the condition is for the type checker"
  })),
  {
    file: "packages/core/src/nodeErrors.ts",
    mutator: "ConditionalExpression",
    line: "if (errnos === undefined) {",
    replacement: "true",
    why: "building the errno table on every call only costs time"
  }
]

const args = process.argv.slice(2)

if (args[0] === "--run") {
  const started = Date.now()
  const stryker = spawnSync(process.execPath, [join(root, "node_modules/@stryker-mutator/core/bin/stryker.js"), "run", ...args.slice(1)], {
    cwd: root,
    stdio: "inherit"
  })
  if (!existsSync(REPORT) || statSync(REPORT).mtimeMs < started) {
    console.error(`mutation-groups: Stryker wrote no report (exit ${stryker.status ?? stryker.signal})`)
    process.exit(1)
  }
  const code = report()
  process.exit(stryker.status !== 0 ? (stryker.status ?? 1) : code)
} else {
  process.exit(report())
}

function report() {
  const json = JSON.parse(readFileSync(REPORT, "utf8"))
  const groupOf = (file) => GROUPS.find((group) => group.files.some((prefix) => file.startsWith(prefix)))?.name ?? "other"
  const counts = new Map([...GROUPS.map((group) => group.name), "other"].map((name) => [name, empty()]))
  const total = empty()
  const survivors = []
  const files = Object.keys(json.files).map((file) => [normalise(file, json.projectRoot), json.files[file]]).sort(([a], [b]) => a.localeCompare(b))
  for (const [file, { mutants, source }] of files) {
    const lines = source.split("\n")
    const group = counts.get(groupOf(file))
    for (const mutant of mutants) {
      add(group, mutant.status)
      add(total, mutant.status)
      if (mutant.status !== "Survived" && mutant.status !== "NoCoverage") continue
      const { start, end } = mutant.location
      const line = lines[start.line - 1] ?? ""
      const original = start.line === end.line
        ? line.slice(start.column - 1, end.column - 1)
        : `${line.slice(start.column - 1)} ...`
      const why = EXPLAINED.find((e) =>
        e.file === file && e.mutator === mutant.mutatorName && line.trim() === e.line.trim() &&
        (e.original === undefined || e.original === original) &&
        (e.replacement === undefined || e.replacement === mutant.replacement)
      )?.why
      survivors.push({ file, line: start.line, column: start.column, status: mutant.status, mutator: mutant.mutatorName, original, replacement: mutant.replacement ?? "", why })
    }
  }

  const rows = [...counts].filter(([, c]) => c.mutants > 0).map(([name, c]) => ({ name, ...c, score: score(c), limit: GROUP_BREAKS.get(name) ?? GROUP_TARGET }))
  // a file in no group fails the run once it has a mutant that counts (compile errors do not)
  const failing = rows.filter((row) => (row.name === "other" && scored(row) > 0) || row.score < row.limit)
  const totalScore = score(total)
  const lines = [
    "group                  score  killed timeout survived nocov  errors ignored",
    ...rows.map((row) => line(row.name, row)),
    line("total", total)
  ]
  console.log(`\nMutation score per group (targets: ${GROUP_TARGET}% per group, ${TOTAL_TARGET}% in total; breaks: ${rows.map((row) => `${row.name} ${row.limit}`).join(", ")}, total ${TOTAL_BREAK})\n${lines.join("\n")}`)
  for (const row of rows) if (row.name !== "other" && row.score < GROUP_TARGET) console.log(`mutation-groups: ${row.name} scores ${fixed(row.score)}%, below the target of ${GROUP_TARGET}% (its floor is ${row.limit}%)`)
  if (totalScore < TOTAL_TARGET) console.log(`mutation-groups: the total scores ${fixed(totalScore)}%, below the target of ${TOTAL_TARGET}% (its floor is ${TOTAL_BREAK}%)`)
  console.log(`\n${survivors.length} surviving mutant(s), listed in ${relative(root, SURVIVORS)}`)
  writeFileSync(SURVIVORS, markdown(rows, total, survivors))

  let code = 0
  for (const row of failing) {
    console.error(row.name === "other"
      ? `mutation-groups: files in no group (add them to GROUPS in scripts/mutation-groups.mjs)`
      : `mutation-groups: ${row.name} scores ${fixed(row.score)}%, below its break of ${row.limit}%`)
    code = 1
  }
  if (totalScore < TOTAL_BREAK) {
    console.error(`mutation-groups: the total scores ${fixed(totalScore)}%, below its break of ${TOTAL_BREAK}%`)
    code = 1
  }
  return code
}

function empty() {
  return { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 }
}

function add(c, status) {
  c.mutants++
  if (status === "Killed") c.killed++
  else if (status === "Timeout") c.timeout++
  else if (status === "Survived") c.survived++
  else if (status === "NoCoverage") c.noCoverage++
  else if (status === "CompileError" || status === "RuntimeError") c.errors++
  else c.ignored++
}

function scored(c) {
  return c.killed + c.timeout + c.survived + c.noCoverage
}

function score(c) {
  const detected = c.killed + c.timeout
  const valid = detected + c.survived + c.noCoverage
  return valid === 0 ? 100 : (100 * detected) / valid
}

function fixed(n) {
  return (Math.floor(n * 100) / 100).toFixed(2)
}

function line(name, c) {
  const cells = [c.killed, c.timeout, c.survived, c.noCoverage, c.errors, c.ignored].map((n) => String(n).padStart(7))
  return `${name.padEnd(20)} ${fixed(score(c)).padStart(7)} ${cells.join(" ")}`
}

function normalise(file, projectRoot) {
  const path = projectRoot !== undefined && file.startsWith(projectRoot) ? relative(projectRoot, file) : file
  return path.split("\\").join("/")
}

function markdown(rows, total, survivors) {
  const out = [
    "# Surviving mutants",
    "",
    "Written by `scripts/mutation-groups.mjs` after each `npm run mutate` (see docs/testing.md, \"Mutation testing\").",
    `Targets: ${GROUP_TARGET}% per group, ${TOTAL_TARGET}% in total. The run fails below each group's floor (the \`break\` column)`,
    `and below ${TOTAL_BREAK}% in total. Killed and timed-out mutants are detected; compile`,
    "errors (the TypeScript checker) and static mutants (`ignoreStatic`) do not count.",
    "",
    "| group | score | break | killed | timeout | survived | no coverage | compile errors | ignored |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) => `| ${row.name} | ${fixed(row.score)}% | ${row.limit}% | ${row.killed} | ${row.timeout} | ${row.survived} | ${row.noCoverage} | ${row.errors} | ${row.ignored} |`),
    `| **total** | **${fixed(score(total))}%** | ${TOTAL_BREAK}% | ${total.killed} | ${total.timeout} | ${total.survived} | ${total.noCoverage} | ${total.errors} | ${total.ignored} |`,
    ""
  ]
  let current
  for (const s of survivors) {
    if (s.file !== current) {
      current = s.file
      out.push(`## ${s.file}`, "")
    }
    const status = s.status === "NoCoverage" ? " (no test covers it)" : ""
    out.push(`- \`${s.file}:${s.line}:${s.column}\` ${s.mutator}${status}: \`${oneLine(s.original)}\` -> \`${oneLine(s.replacement)}\``)
    if (s.why !== undefined) out.push(`  - equivalent: ${s.why}`)
  }
  if (survivors.length === 0) out.push("None.")
  return `${out.join("\n")}\n`
}

function oneLine(text) {
  const flat = text.replace(/\s+/g, " ").trim()
  return (flat.length > 100 ? `${flat.slice(0, 97)}...` : flat).replace(/`/g, "'")
}
