/**
 * `ConnectEx.layer` on a platform with no driver fails when the layer is built, with WSAEOPNOTSUPP. The
 * platform is stubbed in this file's own process (vitest runs every test file in a forked child process of
 * its own, see vitest.config.ts), and only while the layer is built: no test seam ships in the library.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { ConnectEx } from "../src/index.js"

/** Runs `effect` with `process.platform` reading `platform`, restoring it however `effect` ends. */
const onPlatform = <A, E>(platform: string, effect: Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const original = Object.getOwnPropertyDescriptor(process, "platform")!
      Object.defineProperty(process, "platform", { value: platform, configurable: true })
      return original
    }),
    () => effect,
    (original) => Effect.sync(() => Object.defineProperty(process, "platform", original))
  )

describe("ConnectEx.layer on an unsupported platform", () => {
  it.each(["darwin", "freebsd", "aix"])("%s: the layer fails at build with WSAEOPNOTSUPP, naming the platform", (platform) =>
    Effect.runPromise(Effect.gen(function*() {
      const exit = yield* onPlatform(platform, Effect.exit(Effect.scoped(Layer.build(ConnectEx.layer))))
      expect(process.platform).not.toBe(platform)
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(exit)
      expect(error._tag).toBe("WSAEOPNOTSUPP")
      expect(error.code).toBe(10045)
      expect(error.operation).toBe("layer")
      expect(error.message).toContain(platform)
    })))

  it.effect("a program provided with it never runs", () =>
    Effect.gen(function*() {
      let ran = false
      const exit = yield* onPlatform("freebsd", Effect.exit(Effect.provide(Effect.sync(() => (ran = true)), ConnectEx.layer)))
      expect(ran).toBe(false)
      expect(Exit.isFailure(exit) && (yield* Effect.flip(exit))._tag).toBe("WSAEOPNOTSUPP")
    }))
})
