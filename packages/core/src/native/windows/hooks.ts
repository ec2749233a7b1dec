/**
 * What the Windows-only tests and the Wine bench look at, kept off the production driver: the driver
 * object carries only the `Driver` contract; `windowsTestHooks(driver)` gives these for a driver
 * `makeWindowsDriver` made (registered in a WeakMap, so they go with the driver).
 */
import type { NativeSocket, Result } from "../Driver.js"
import type { Entry, PortStats } from "./port.js"

export interface WindowsTestHooks {
  /** Wine's version when running under Wine (where DisconnectEx cannot reuse a socket), else undefined. */
  readonly wine: string | undefined
  /** The SOCKET handle, which is also the socket's completion key. */
  readonly handleOf: (socket: NativeSocket) => number
  /** SO_CONNECT_TIME as the kernel returns it (0xFFFFFFFF = not connected). */
  readonly rawConnectTime: (socket: NativeSocket) => Result<number>
  /** Called with every OVERLAPPED_ENTRY the poller dequeues, before it is dispatched. */
  readonly onEntry: (listener: ((entry: Entry) => void) | undefined) => void
  readonly stats: () => PortStats & { readonly pending: number; readonly polling: boolean }
  /** The completion port's handle (undefined before startup and after cleanup). */
  readonly portHandle: () => number | undefined
}

const hooks = new WeakMap<object, WindowsTestHooks>()

/** @internal `makeWindowsDriver` registers its driver's hooks here. */
export const registerTestHooks = (driver: object, testHooks: WindowsTestHooks): void => {
  hooks.set(driver, testHooks)
}

/** The test hooks of a driver `makeWindowsDriver` made; throws for any other driver. */
export const windowsTestHooks = (driver: object): WindowsTestHooks => {
  const found = hooks.get(driver)
  if (found === undefined) throw new TypeError("windowsTestHooks: not a driver made by makeWindowsDriver")
  return found
}
