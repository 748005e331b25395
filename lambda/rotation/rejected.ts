// Secrets a run refused to treat as targets (tagged but not declared, or a look-alike of a
// declared secret), summarised once per run: 1,500 tagged secrets must not make 1,500 log
// lines or events. The report keeps every one; the log line and the event list a few.
import type { RejectedSecret } from './model.ts';

/** At most this many secrets are named in the summary log line and event. */
export const REJECTED_LISTED = 20;

export interface RejectedSummary {
  /** Every rejected secret. */
  readonly count: number;
  /** Of which look-alikes of declared secrets (a declared name, not the deployed ARN). */
  readonly lookAlikes: number;
  /** The first REJECTED_LISTED, look-alikes first: ids, names and tag values only. */
  readonly secrets: readonly RejectedSecret[];
  /** How many were left out of `secrets`. */
  readonly notListed: number;
}

export function rejectedSummary(rejected: readonly RejectedSecret[]): RejectedSummary {
  // Look-alikes first: they are the ones someone made on purpose.
  const ordered = [...rejected.filter((r) => r.lookAlike), ...rejected.filter((r) => !r.lookAlike)];
  const listed = ordered.slice(0, REJECTED_LISTED).map((r) => ({
    // Named fields only, so nothing else a report entry may carry leaks into logs or events.
    secretId: r.secretId,
    secretName: r.secretName,
    userName: r.userName,
    serviceName: r.serviceName,
    reason: r.reason,
    ...(r.lookAlike ? { lookAlike: true } : {}),
  }));
  return {
    count: rejected.length,
    lookAlikes: rejected.filter((r) => r.lookAlike).length,
    secrets: listed,
    notListed: rejected.length - listed.length,
  };
}
