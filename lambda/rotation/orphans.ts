// Rule 4's evidence: which credentials that no secret version records are the rotator's own
// (an interrupted run's leftovers, to adopt) and which are someone else's (an "other" under
// rule 1, never Reset). The rotator's intent alone decides; IAM's dates only place a
// credential inside or outside the invocation the intent describes. Pure, like plan.ts.
import type { LifecycleRequest } from './commands.ts';
import { parseIntent } from './intent.ts';
import type { Credential, Intent, ObservedTarget } from './model.ts';
import { parseRecord } from './record.ts';

/**
 * IAM's CreateDate has whole seconds: a credential issued 0.7 s after an intent was written may
 * carry a date 0.3 s before it. One second also absorbs small clock differences between services.
 */
export const CREATE_DATE_TOLERANCE_MS = 1000;

/**
 * Whether the planner may need the intent's value: only when an Active credential that the
 * secret does not record was issued after AWSCURRENT was written (an interrupted run's
 * leftover, or someone else's), and an intent exists at all. Quiet runs pay nothing for it.
 * A cost filter only: the intent alone decides whose a credential is.
 */
export function mayNeedIntent(observed: ObservedTarget): boolean {
  if (observed.target.intentVersionId === undefined) return false;
  const record = parseRecord(observed.current?.value, observed.target);
  const recordedId = record.kind === 'valid' ? record.record.credentialId : undefined;
  const writtenAt = observed.current?.createdAt.getTime();
  const since =
    writtenAt === undefined
      ? Number.NEGATIVE_INFINITY
      : Math.floor(writtenAt / 1000) * 1000 - CREATE_DATE_TOLERANCE_MS;
  return observed.credentials.some(
    (c) => c.status === 'Active' && c.id !== recordedId && c.createdAt.getTime() >= since,
  );
}

/**
 * The open intent and the Active credentials it makes the rotator's own, or undefined. An
 * intent is open while AWSCURRENT is still the version it saw: any store since (its own run's
 * included) closes it. It covers the credential it names (an adoption), and any credential it
 * did not already see that IAM dates from its writing (less IAM's rounding) to the end of its
 * invocation.
 */
export function ownOrphans(
  observed: ObservedTarget,
  others: readonly Credential[],
): { intent: Intent; orphans: Credential[] } | undefined {
  const intent = parseIntent(observed.intent?.value);
  if (!intent || intent.currentVersionId !== observed.current?.versionId) return undefined;
  const from = Date.parse(intent.writtenAt) - CREATE_DATE_TOLERANCE_MS;
  const until = Date.parse(intent.endedAt ?? intent.deadline);
  const orphans = others.filter(
    (c) =>
      c.status === 'Active' &&
      (c.id === intent.credentialId ||
        (!intent.known.includes(c.id) && c.createdAt.getTime() >= from && c.createdAt.getTime() <= until)),
  );
  return { intent, orphans };
}

/** Whether the invocation that wrote the intent can no longer be running. */
export function intentEnded(intent: Intent, now: Date, request: LifecycleRequest): boolean {
  return (
    intent.endedAt !== undefined ||
    intent.requestId === request.requestId ||
    now.getTime() >= Date.parse(intent.deadline)
  );
}
