// The write-ahead intent: before any IAM call that can leave a credential no secret version
// records (Create; Reset when adopting), a run writes on the target's secret which invocation
// it is, when, and until when it can run. It is a secret version under a staging label of the
// rotator's own, so it never touches AWSCURRENT/AWSPREVIOUS (what applications read) nor
// AWSPENDING (Secrets Manager's own rotation protocol); its value is ids and times, never a secret.
// zod/mini rather than 'zod': tree-shakable, so less of zod is loaded at cold start (see events.ts).
import * as z from 'zod/mini';
import type { Intent } from './model.ts';

/** The staging label of the intent version. */
export const INTENT_STAGE = 'ROTATOR_INTENT';

/** Lambda's maximum run time: the deadline of an invocation that has no Lambda context. */
export const MAX_INVOCATION_MS = 15 * 60_000;

const intentSchema = z.object({
  requestId: z.string().check(z.minLength(1)),
  writtenAt: z.iso.datetime({ offset: true }),
  deadline: z.iso.datetime({ offset: true }),
  currentVersionId: z.optional(z.string()),
  known: z.array(z.string()),
  credentialId: z.optional(z.string()),
  endedAt: z.optional(z.iso.datetime({ offset: true })),
});

export function serializeIntent(intent: Intent): string {
  return JSON.stringify(intent);
}

/** The intent a version holds, or undefined for anything else (then no credential is the rotator's). */
export function parseIntent(value: string | undefined): Intent | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, JSON.parse(undefined) throws and the catch answers the same
  if (value === undefined) return undefined;
  try {
    const parsed = intentSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
