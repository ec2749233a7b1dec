/**
 * Command-line values for the `connectex` CLI: durations and their text form. Pure functions.
 *
 * @since 0.1.0
 */
import { Duration, Either } from "effect"

const units: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|millis|milliseconds?)$/i, 1],
  [/^(s|secs?|seconds?)$/i, 1_000],
  [/^(m|mins?|minutes?)$/i, 60_000]
]

/**
 * Parses a positive duration: `500ms`, `2s`, `1.5 seconds`, `1m`. A bare number is refused (which unit?).
 *
 * @since 0.1.0
 */
export const parseDuration = (text: string): Either.Either<Duration.Duration, string> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text)
  const amount = match === null ? Number.NaN : Number(match[1])
  const unit = match === null ? undefined : units.find(([pattern]) => pattern.test(match[2] ?? ""))
  if (match === null || unit === undefined || !Number.isFinite(amount)) {
    return Either.left(`invalid duration ${JSON.stringify(text)}: expected a number and a unit, e.g. 500ms, 2s, 1m`)
  }
  if (amount <= 0) return Either.left(`invalid duration ${JSON.stringify(text)}: it must be more than zero`)
  return Either.right(Duration.millis(amount * unit[1]))
}

/**
 * A duration for people: `0.42 ms`, `12.3 ms`, `100 ms`, `1.25 s`.
 *
 * @since 0.1.0
 */
export const formatMillis = (duration: Duration.DurationInput): string => {
  const ms = Duration.toMillis(duration)
  return ms < 1_000 ? `${Number(ms.toFixed(ms < 10 ? 2 : 1))} ms` : `${Number((ms / 1_000).toFixed(2))} s`
}
