// Retry what is worth retrying, on a schedule: dial steps the schedule only for WSAECONNREFUSED,
// WSAENETUNREACH and WSAETIMEDOUT; any other error fails at once.
import { Effect, Schedule } from "effect"
import { ConnectEx, SocketAddress } from "effect-connectex"

export const connectWithRetry = (target: SocketAddress.SocketAddress, data: Uint8Array) =>
  ConnectEx.dial(target, {
    data,
    retry: Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(4)))
  }).pipe(
    Effect.map(({ bytesSent }) => `connected, ${bytesSent} bytes sent`),
    Effect.catchTag("WSAECONNREFUSED", (error) => Effect.succeed(`gave up: ${error._tag} after the retries`)),
    Effect.scoped
  )
