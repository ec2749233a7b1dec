// A timeout that really cancels: the pending connect is cancelled in the kernel, waited for, and its
// socket closed before the TimeoutException arrives.
import { Duration, Effect } from "effect"
import { ConnectEx, SocketAddress } from "effect-connectex"

export const connectWithin = (target: SocketAddress.SocketAddress, timeout: Duration.DurationInput) =>
  ConnectEx.dial(target, { timeout }).pipe(
    Effect.as("connected"),
    Effect.catchTag("TimeoutException", () => Effect.succeed(`no answer within ${Duration.format(timeout)}`)),
    Effect.scoped
  )
