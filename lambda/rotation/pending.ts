// A rotation Secrets Manager started and has not finished: AWSPENDING on a version other than
// AWSCURRENT. The run never starts one (it rotates directly, and its PutSecretValue counts as a
// rotation for Secrets Manager's schedule); the console's button, the CLI and the schedule do,
// and their steps come to protocol.ts. A young one is left to Secrets Manager: it may be
// between two steps. One older than the take-back window is one nothing documented will ever
// finish (a step Lambda throttled while the run held the only concurrency slot), so the run
// takes it back rather than let it hold the target forever (docs/AWS-BEHAVIOUR.md, "The
// scheduled path design"):
//   an empty version (createSecret never ran)        AWSPENDING removed; the run plans as usual.
//   a record of this target's, credential Active     finished: verified as the target's mode says,
//                                                     stored as AWSCURRENT (a PutSecretValue, which
//                                                     Secrets Manager counts as a rotation), then
//                                                     AWSPENDING removed; refused under enforce:
//                                                     the credential deleted, AWSPENDING removed.
//   anything else (no record, the credential gone     AWSPENDING removed; a credential IAM still
//   or switched off, already current)                lists is an "other" that rule 1 retires.
// Secrets Manager taking up that token again later finds its version neither AWSPENDING nor
// AWSCURRENT and every step is refused before anything is written (step-checks.ts), so a
// rotation is never done twice and never a third credential.
import { targetNeedMs } from '../budget.ts';
import { VerificationDeferredError } from '../errors.ts';
import { type RunDeps, verifiesTarget } from './deps.ts';
import { ExecutionError, ignoreMissing, verifyOptions } from './execute.ts';
import { MAX_INVOCATION_MS } from './intent.ts';
import type {
  ActionTaken,
  Credential,
  CredentialRecord,
  IssuedCredential,
  ObservedTarget,
  Target,
  VerificationReport,
} from './model.ts';
import { issuedFromRecord, parseRecord } from './record.ts';
import { recordedId } from './report.ts';
import { passed } from './verification.ts';

/**
 * How old a pending version must be before the run takes it back: one rotation at its
 * slowest, four step invocations of at most Lambda's maximum timeout each (4 × 15 min = 1 h).
 * Secrets Manager documents no pause between steps [unconfirmed]; a rotation still running
 * after this is one a step has been lost from. With a daily schedule a rotation left at any
 * hour is taken back by the first or the second scheduled run after it.
 */
export const TAKE_BACK_WINDOW_MS = 4 * MAX_INVOCATION_MS;

const PENDING = 'AWSPENDING';

/** Lambda ARNs name the same function whatever qualifier (version, alias) they carry. */
export function sameFunction(a: string, b: string): boolean {
  const unqualified = (arn: string) => arn.split(':').slice(0, 7).join(':');
  return unqualified(a) === unqualified(b);
}

/** The version of a rotation Secrets Manager has started and not finished, if any. */
export function rotationInProgress(target: Target): string | undefined {
  const r = target.rotation;
  return r?.enabled && r.pendingVersionId ? r.pendingVersionId : undefined;
}

export type PendingOutcome =
  /** Young: Secrets Manager may be between two steps; the target is left to it this run. */
  | { readonly kind: 'left'; readonly reason: string }
  /** Old, but finishing it (its writes, its verification) does not fit the time left. */
  | { readonly kind: 'deferred' }
  /** AWSPENDING is gone (finished or removed): the target is observed again and planned. */
  | {
      readonly kind: 'taken-back';
      readonly taken: readonly ActionTaken[];
      readonly note: string;
      /** The service check of a pending credential the run finished or refused. */
      readonly verification?: VerificationReport | undefined;
    };

/**
 * Leaves a young pending rotation to Secrets Manager and takes an old one back. Throws (with
 * what was taken) like execute: the target fails, the next run sees what is left and goes on.
 */
export async function settlePending(
  observed: ObservedTarget,
  versionId: string,
  deps: RunDeps,
): Promise<PendingOutcome> {
  const { target } = observed;
  const { secretId } = target;
  const createdAt = await deps.secrets.versionCreatedAt(secretId, versionId);
  const now = deps.now();
  // Without a date [unconfirmed: the field is optional] the version's age is unknown: it is
  // taken back at once, which is safe (see the head of this file), only possibly early.
  if (createdAt !== undefined && now.getTime() - createdAt.getTime() < TAKE_BACK_WINDOW_MS) {
    const until = new Date(createdAt.getTime() + TAKE_BACK_WINDOW_MS).toISOString();
    return {
      kind: 'left',
      reason:
        `a rotation Secrets Manager started at ${createdAt.toISOString()} is in progress (version ${versionId}): ` +
        `left to it; a run after ${until} takes it back if it is still unfinished`,
    };
  }
  const since = createdAt ? `started at ${createdAt.toISOString()}` : 'of unknown age';
  const remove: Remove = async (why, taken = [], verification) => {
    await deps.secrets.removePending(secretId, versionId);
    const note = `a rotation Secrets Manager ${since} was left unfinished (version ${versionId}): ${why}; AWSPENDING removed`;
    deps.log.warn('stale rotation taken back', { secretId, versionId, reason: note, actions: taken });
    return { kind: 'taken-back', taken, note, ...(verification ? { verification } : {}) };
  };

  const pending = await deps.secrets.readVersion(secretId, versionId, PENDING);
  if (pending?.value === undefined) return remove('createSecret never filled it');
  const parsed = parseRecord(pending.value, target);
  if (parsed.kind !== 'valid') return remove('it holds no credential record of this target');
  const { record } = parsed;
  if (recordedId(observed) === record.credentialId) return remove('its credential is already current');
  const listed = observed.credentials.find((c) => c.id === record.credentialId);
  if (listed === undefined) return remove(`its credential ${record.credentialId} no longer exists`);
  if (listed.status !== 'Active') {
    return remove(`its credential ${record.credentialId} is ${listed.status}; rule 1 retires it`);
  }

  const verifies = verifiesTarget(target, deps);
  // Without a deadline (a run outside Lambda) the time left is unbounded.
  const left = deps.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY;
  if (left < targetNeedMs({ writes: true, verifies })) return { kind: 'deferred' };

  const taken: ActionTaken[] = [];
  try {
    return await finish(observed, pending.value, record, listed, verifies, taken, remove, deps);
  } catch (error) {
    throw new ExecutionError(taken, error);
  }
}

/** Removes AWSPENDING from the stale version and says what was done, and why. */
type Remove = (
  why: string,
  taken?: ActionTaken[],
  verification?: VerificationReport,
) => Promise<PendingOutcome>;

/** Verifies (as the target's mode says) and stores a pending record of an Active credential. */
async function finish(
  observed: ObservedTarget,
  value: string,
  record: CredentialRecord,
  listed: Credential,
  verifies: boolean,
  taken: ActionTaken[],
  remove: Remove,
  deps: RunDeps,
): Promise<PendingOutcome> {
  const { target } = observed;
  const { secretId } = target;
  let verification: VerificationReport | undefined;
  if (verifies && deps.verifyCredential) {
    const issued: IssuedCredential = issuedFromRecord(listed, record);
    const v = await deps.verifyCredential(target, issued, verifyOptions(deps));
    verification = {
      credentialId: record.credentialId,
      mode: v.mode,
      outcome: v.outcome,
      reason: v.reason,
      attempts: v.attempts,
    };
    if (v.budgetCut) {
      // No verdict: the deadline ended the retries. Nothing is deleted or stored; the stale
      // rotation stays as it is and the next run takes it back again.
      throw new VerificationDeferredError(
        `verification of pending credential ${record.credentialId} was cut short by the invocation's deadline (${v.reason}): the next run takes the rotation back again`,
        verification,
      );
    }
    if (!passed(v.outcome)) {
      if (v.mode === 'enforce') {
        // Never current, so nobody uses it; it would hold the second slot.
        await ignoreMissing(deps.credentials.deleteCredential(target.userName, record.credentialId));
        taken.push({ type: 'delete', credentialId: record.credentialId, at: deps.now().toISOString() });
        return remove(
          `its credential ${record.credentialId} failed verification (${v.outcome}: ${v.reason}) and was deleted`,
          taken,
          verification,
        );
      }
      // Not enforce, so warn: a target verified under `off` never reaches the probe.
      deps.log.warn('credential failed verification; stored anyway (verification: warn)', {
        secretId,
        credentialId: record.credentialId,
        outcome: v.outcome,
        reason: v.reason,
      });
    }
  }
  // A PutSecretValue of the same record, not a label move: it is what Secrets Manager counts
  // as a rotation for its next date (a label move is not documented to count).
  await deps.secrets.storeCurrent(secretId, value);
  taken.push({ type: 'store', credentialId: record.credentialId, at: deps.now().toISOString() });
  return remove(
    `its credential ${record.credentialId} was finished: stored as AWSCURRENT`,
    taken,
    verification,
  );
}
