/**
 * The simulated driver: a deterministic in-memory network behind the `Driver` contract (routing, behaviours,
 * the log of attempts and bytes sent, the scheduler interface and a hand-moved scheduler). Plain
 * milliseconds; the front-ends give it their own DSL and clock.
 */
export { makeDriver } from "./native/simulated/driver.js"
export type { Attempt, Ended, Log } from "./native/simulated/log.js"
export * from "./native/simulated/network.js"
export * from "./native/simulated/scheduler.js"
export * from "./native/simulated/scenario.js"
