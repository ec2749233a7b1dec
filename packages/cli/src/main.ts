/**
 * The `connectex` command line, loaded by `connectex.ts` for everything but `--version`.
 *
 *   connectex                      demo: an embedded echo server, a probe of it, then a probe of a closed port
 *   connectex probe <host:port> [--data TEXT] [--bind ADDR] [--retries N] [--timeout DURATION] [--fast-open]
 *                                  host: a name (resolved, its addresses raced: Happy Eyeballs), an IPv4
 *                                  address, or an IPv6 address in brackets ([::1]:8080)
 *
 * Exit status: 0 when the (last) probe connected / the demo showed what it should, 1 when not (refused,
 * unreachable, timed out, or the name did not resolve), 2 for bad input.
 * Output is plain text (no ANSI escapes) unless it is a terminal and NO_COLOR is unset or empty.
 *
 * @since 0.1.0
 */
import { Args, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Data, Duration, Effect, Either, Exit, Option } from "effect"
import { ConnectEx, SocketAddress, WsaError } from "effect-connectex"
import { echoServer, refusingPort } from "./demoPeers.js"
import { describeStartFailure } from "./messages.js"
import { wantsColour, withColours } from "./output.js"
import { parseBind, parseDuration, parseTarget } from "./parse.js"
import { formatTarget, probe, type ProbeOptions } from "./probe.js"
import { readVersion } from "./version.js"

/** Already reported to the user: only the exit status is left to set. */
class Reported extends Data.TaggedError("Reported")<{ readonly exitCode: number }> {}

const version = readVersion()
const defaultTimeout = "5s"

const fail = (exitCode: number, message: string) =>
  Effect.zipRight(Console.error(`connectex: ${message}`), Effect.fail(new Reported({ exitCode })))

const invalidOption = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

const target = Args.text({ name: "host:port" }).pipe(
  Args.withDescription(
    "the destination: a host name (resolved; its addresses are raced, IPv6 first), an IPv4 address, or an IPv6 " +
      "address in brackets, and a port: localhost:8080, 127.0.0.1:8080, [::1]:8080"
  ),
  Args.mapEffect((text) => Either.match(parseTarget(text), { onLeft: (why) => Effect.fail(HelpDoc.p(why)), onRight: Effect.succeed }))
)

const data = Options.text("data").pipe(
  Options.withPseudoName("text"),
  Options.withDescription("text to send with the connect (UTF-8); bytes sent are reported"),
  Options.optional
)

const bind = Options.text("bind").pipe(
  Options.withPseudoName("host:port"),
  Options.withDescription("local IP address and port to bind before connecting, port 0 for any (default: the wildcard of the target's family, port 0)"),
  Options.mapEffect((text) => Either.match(parseBind(text), { onLeft: (why) => Effect.fail(invalidOption(why)), onRight: Effect.succeed })),
  Options.optional
)

const retries = Options.integer("retries").pipe(
  Options.withPseudoName("n"),
  Options.withDescription("retries after the first attempt, for refused / unreachable / timed out (exponential back-off from 100 ms)"),
  Options.withDefault(0),
  Options.mapEffect((n) =>
    n >= 0 ? Effect.succeed(n) : Effect.fail(invalidOption(`invalid --retries ${n}: it must be 0 or more`))
  )
)

const timeout = Options.text("timeout").pipe(
  Options.withPseudoName("duration"),
  Options.withDescription("bound for each attempt, e.g. 500ms, 2s, 1m"),
  Options.withDefault(defaultTimeout),
  Options.mapEffect((text) =>
    Either.match(parseDuration(text), {
      onLeft: (message) => Effect.fail(invalidOption(`${message} (--timeout)`)),
      onRight: Effect.succeed
    })
  )
)

const fastOpen = Options.boolean("fast-open").pipe(
  Options.withDescription("set TCP_FASTOPEN so that the data may ride with the SYN (an IP address target only)")
)

/** The library's services for a command; a layer that cannot start is reported in its own words. */
const withConnectEx = <A, E, R>(
  effect: Effect.Effect<A, E, R | ConnectEx.ConnectEx>
) =>
  effect.pipe(
    Effect.provide(ConnectEx.layer),
    Effect.catchIf(WsaError.isWsaError, (error) => fail(1, describeStartFailure(error)))
  )

const runProbe = (options: ProbeOptions) =>
  Effect.gen(function*() {
    yield* Console.log(`driver: ${yield* ConnectEx.driverName}`)
    const result = yield* probe(options)
    if (Either.isLeft(result.outcome)) return yield* Effect.fail(new Reported({ exitCode: 1 }))
  })

const probeCommand = Command.make(
  "probe",
  { target, data, bind, retries, timeout, fastOpen },
  (input) =>
    Effect.gen(function*() {
      const local = Option.getOrUndefined(input.bind)
      const destination = input.target
      if (local !== undefined && destination._tag === "Address" && local.family !== destination.address.family) {
        return yield* fail(
          2,
          `--bind ${SocketAddress.format(local)} is ${local.family} but the target ${formatTarget(destination)} is ` +
            `${destination.address.family}: give --bind an ${destination.address.family} address, or leave it out`
        )
      }
      if (input.fastOpen && destination._tag === "Name") {
        return yield* fail(
          2,
          `--fast-open needs an IP address target, and ${destination.host} is a name: give one of its IP addresses ` +
            `instead, e.g. connectex probe 127.0.0.1:${destination.port} --fast-open`
        )
      }
      yield* withConnectEx(runProbe({
        target: input.target,
        data: Option.getOrUndefined(Option.map(input.data, (text) => new TextEncoder().encode(text))),
        bind: local,
        retries: input.retries,
        timeout: input.timeout,
        fastOpen: input.fastOpen,
        readEcho: false
      }))
    })
).pipe(Command.withDescription("connect to <host:port> with ConnectEx and print each attempt's outcome"))

const demo = Effect.scoped(
  Effect.gen(function*() {
    yield* Console.log("connectex demo: probe an embedded echo server, then a port that refuses")
    yield* Console.log("(run `connectex probe <host:port>` to probe a target of your own, `connectex --help` for options)")
    yield* Console.log(`driver: ${yield* ConnectEx.driverName}\n`)
    const echoPort = yield* echoServer
    const echoed = yield* probe({
      target: { _tag: "Address", address: SocketAddress.ipv4("127.0.0.1", echoPort) },
      data: new TextEncoder().encode("hello from connectex"),
      bind: undefined,
      retries: 0,
      timeout: Duration.seconds(5),
      fastOpen: false,
      readEcho: true
    })
    yield* Console.log("")
    const closedPort = yield* refusingPort
    const refused = yield* probe({
      target: { _tag: "Address", address: SocketAddress.ipv4("127.0.0.1", closedPort) },
      data: undefined,
      bind: undefined,
      retries: 2,
      timeout: Duration.seconds(5),
      fastOpen: false,
      readEcho: false
    })
    const echoWorked = Either.isRight(echoed.outcome) && echoed.outcome.right.echo !== undefined &&
      Buffer.from(echoed.outcome.right.echo).toString("utf8") === "hello from connectex"
    const refusedAsExpected = Either.isLeft(refused.outcome) && refused.outcome.left._tag === "WSAECONNREFUSED"
    if (!echoWorked || !refusedAsExpected) {
      return yield* fail(1, "demo: the outcomes above are not the expected success then WSAECONNREFUSED; please report this, with the output, as a bug")
    }
    yield* Console.log("\ndemo done: one connection with data and its echo, one typed WSAECONNREFUSED")
  })
).pipe(
  Effect.catchIf(
    (error): error is Error => error instanceof Error && !(error instanceof Reported),
    (error) => fail(1, `demo: the embedded echo server on 127.0.0.1 could not start (${error.message}); check that this machine allows listening on loopback`)
  )
)

const demoCommand = Command.make("demo", {}, () => withConnectEx(demo)).pipe(
  Command.withDescription("the same as `connectex` alone: echo server probe, then a refused probe")
)

const connectex = Command.make("connectex", {}, () => withConnectEx(demo)).pipe(
  Command.withDescription("probe TCP destinations with ConnectEx; with no command, run a loopback demo"),
  Command.withSubcommands([probeCommand, demoCommand])
)

const cli = Command.run(connectex, { name: "connectex", version })

// @effect/cli colours its help and usage errors whatever the output: a pipe or NO_COLOR gets them plain.
const colour = { stdout: wantsColour(process.stdout, process.env), stderr: wantsColour(process.stderr, process.env) }

/** Where a usage error sends the user: the help of the command they typed. */
const helpCommand = process.argv[2] === "probe" ? "connectex probe --help" : "connectex --help"

Console.consoleWith((base) => Effect.withConsole(cli(process.argv), withColours(base, colour))).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return onExit(Exit.isSuccess(exit) ? 0 : 130)
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure) && failure.value instanceof Reported) return onExit(failure.value.exitCode)
      if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) {
        // @effect/cli has printed the usage problem already: say where the usage is.
        process.stderr.write(`connectex: run \`${helpCommand}\` for the usage\n`)
        return onExit(2)
      }
      process.stderr.write(`connectex: unexpected failure (a bug in connectex; please report it with this output)\n${Cause.pretty(exit.cause)}\n`)
      onExit(1)
    }
  })
)
