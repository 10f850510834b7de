/**
 * A write the cluster's Redis did not take: a desk action (./desk-actions.ts) or a silence
 * (monitor/cluster/shared-silences.ts). The routes answer 503 and say which of two cases it is:
 *
 *   maybeStored  what happened                                  what the caller is told
 *   -----------  ---------------------------------------------  ------------------------------
 *   false        never sent (not connected), or Redis refused   nothing was changed; try again
 *                it (an error reply)
 *   true         sent, and no answer in time (Redis stalled),   it may still be recorded on
 *                or the connection broke before the answer      every worker; look before trying
 *                                                               again
 *
 * In the second case Redis may run it when it answers again, and every worker's replica then
 * applies it as any other record: a 503 never claims "nothing stored" when that is not known.
 */
export class SharedWriteRefused extends Error {
  constructor(
    message: string,
    readonly maybeStored: boolean,
  ) {
    super(message);
  }
}

/** What the route's 503 says, for `what` ("The change", "The silence"). */
export function refusalMessage(what: string, err: SharedWriteRefused): string {
  return err.maybeStored
    ? `${what} was sent to the cluster, but Redis did not confirm it in time (${err.message}); it may still be recorded on every worker. Reload before trying again.`
    : `${what} could not be shared with the cluster (${err.message}); nothing was changed. Try again.`;
}
