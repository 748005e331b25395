// The lifecycle rules of docs/DESIGN.md, as one pure function:
//   (observed IAM + Secrets Manager state, policy, now, request) -> plan.
// No SDK, no clock, no I/O: every rule is testable from a table.
//
// Words: C is the credential AWSCURRENT records (the "current" one), O any other
// credential IAM lists for the target. IAM allows two per user and service, Inactive
// and Expired included.
import { isManual, type LifecycleRequest } from './commands.ts';
import type { Credential, ObservedTarget, Outcome, Policy } from './model.ts';
import { intentEnded, ownOrphans } from './orphans.ts';
import { parseRecord, serializeRecord } from './record.ts';
import { detectTampering, type Tampering } from './tampering.ts';
import {
  afterActions,
  asIs,
  byCreatedAt,
  days,
  isUsable,
  newest,
  nextDue,
  type Other,
  type RetireAction,
  retireActions,
  statusAt,
} from './retirement.ts';

export const CREDENTIAL_SLOTS = 2;

export type PlannedAction =
  /** Create a credential and store it as the new AWSCURRENT. */
  | { readonly type: 'issue' }
  /** Reset a credential the rotator issued but no secret version records, and store it. */
  | { readonly type: 'adopt'; readonly credentialId: string }
  /** Switch the recorded current credential back on (deactivated by hand, no slot to rotate). */
  | { readonly type: 'activate'; readonly credentialId: string }
  /** Rule 1: switch off or delete another credential (retirement.ts). */
  | RetireAction
  /**
   * Store the credential's record from AWSPREVIOUS as the new AWSCURRENT version: a rollback
   * (operator.ts) stamps it `rolledBackAt`; the recovery from tampering stores it as it was.
   */
  | { readonly type: 'restore'; readonly credentialId: string; readonly rolledBackAt?: Date | undefined };

export interface Plan {
  /** What the run achieves if every action succeeds. */
  readonly outcome: Exclude<Outcome, 'planned'>;
  /** In execution order: make room, issue or adopt, then retire. */
  readonly actions: readonly PlannedAction[];
  /** Why the target is blocked or failed, or a note worth reporting. */
  readonly reason?: string | undefined;
  /** The credential AWSCURRENT records after the plan; undefined when a new one is issued. */
  readonly currentCredentialId?: string | undefined;
  /** IAM CreateDate of that credential (now for a newly issued one). */
  readonly currentIssuedAt?: Date | undefined;
  /** When the target next needs a run. */
  readonly nextDueAt?: Date | undefined;
  /** AWSCURRENT holds a value the rotator did not write (tampering.ts): what was found. */
  readonly tampering?: string | undefined;
}

const SCHEDULE: LifecycleRequest = { command: 'reconcile' };

export function planTarget(
  observed: ObservedTarget,
  policy: Policy,
  now: Date,
  request: LifecycleRequest = SCHEDULE,
): Plan {
  const tampering = forced(request) ? undefined : detectTampering(observed, now);
  if (tampering) return planTampered(observed, tampering, policy, now, request);
  const record = parseRecord(observed.current?.value, observed.target);
  if (record.kind === 'foreign') {
    // Overwriting it would destroy another target's only copy of its password.
    return { outcome: 'failed', actions: [], reason: record.reason };
  }
  const recordedId = record.kind === 'valid' ? record.record.credentialId : undefined;
  const recorded = observed.credentials.find((c) => c.id === recordedId);
  const current = recorded && isUsable(recorded, now) ? recorded : undefined;
  const others = observed.credentials.filter((c) => c !== current);

  // Rule 4, recover: an Active credential nobody records that the rotator's open intent
  // covers (orphans.ts) is what an interrupted run left behind. Any other unrecorded credential is
  // someone else's: never Reset, an "other" under rule 1.
  const own = ownOrphans(observed, others);
  if (own && own.orphans.length > 0) {
    const { intent, orphans } = own;
    const ended = intentEnded(intent, now, request);
    if (!ended) {
      const youngest = newest(orphans);
      const deadline = new Date(intent.deadline);
      return {
        outcome: isManual(request) ? 'blocked' : 'unchanged',
        actions: [],
        reason:
          `credential ${youngest.id} was issued by invocation ${intent.requestId}, which may still be running ` +
          `and storing it (until ${intent.deadline}); it is adopted by the first run after that invocation ends`,
        currentCredentialId: current?.id,
        currentIssuedAt: current?.createdAt,
        nextDueAt: deadline,
      };
    }
    // An orphan already due for rotation is not adopted: the run after would rotate it away at
    // once (I6). It is an ordinary "other" then, retired by rule 1 like any predecessor.
    const adoptable = orphans.filter(
      (c) => now.getTime() < c.createdAt.getTime() + days(policy.rotateAfterDays),
    );
    if (adoptable.length > 0) {
      const adopted = newest(adoptable);
      // Once adopted, the old current credential (if any) is "other" too.
      const rest = observed.credentials.filter((c) => c !== adopted);
      const retire = rest.flatMap((o) => retireActions(o, o.status, adopted.createdAt, policy, now));
      return {
        outcome: 'recovered',
        actions: [{ type: 'adopt', credentialId: adopted.id }, ...retire],
        reason:
          `credential ${adopted.id} was issued by invocation ${intent.requestId}, which ended before storing it; ` +
          'it is adopted with a new password',
        currentCredentialId: adopted.id,
        currentIssuedAt: adopted.createdAt,
        nextDueAt: nextDue(adopted.createdAt, afterActions(rest, retire), policy),
      };
    }
  }

  if (current) {
    const issuedAt = current.createdAt;
    const clock = lifecycleClock(
      issuedAt,
      record.kind === 'valid' ? record.record.rolledBackAt : undefined,
      policy,
    );
    // Rule 1 first: what is due for the others anyway, rotation or not.
    const retire = others.flatMap((o) =>
      retireActions(o, o.status, clock.retireFrom, clock.retirePolicy, now),
    );
    const due = request.command === 'rotate' || now.getTime() >= clock.rotateAt.getTime();
    if (!due) {
      return {
        outcome: retire.length > 0 ? 'retired' : 'unchanged',
        actions: retire,
        currentCredentialId: current.id,
        currentIssuedAt: issuedAt,
        nextDueAt: nextDue(
          clock.retireFrom,
          afterActions(others, retire),
          clock.retirePolicy,
          clock.rotateAt,
        ),
      };
    }
    // Rule 2, rotate, on the state rule 1 leaves (deleted others free their slot).
    return rotate({ current, others: afterActions(others, retire), before: retire, policy, now, request });
  }

  // Rule 3, bootstrap: no usable current credential; whatever IAM lists is "other".
  const why =
    recorded === undefined
      ? recordedId === undefined
        ? record.kind === 'absent'
          ? record.reason
          : 'no credential recorded'
        : `recorded credential ${recordedId} no longer exists`
      : `recorded credential ${recorded.id} is ${statusAt(recorded, now)}`;
  // A recorded credential that is known but unusable (switched off by hand, or expired) still
  // dates the others, so rule 1 applies to them as it would to the current one's
  // predecessors; that may free the slot the bootstrap needs.
  const rest = recorded ? others.filter((o) => o !== recorded) : others;
  const before = recorded
    ? rest.flatMap((o) => retireActions(o, o.status, recorded.createdAt, policy, now))
    : [];
  const left = afterActions(rest, before).filter((o) => o.status !== 'Deleted');
  if (recorded && recorded.status === 'Inactive' && left.length + 1 >= CREDENTIAL_SLOTS && !forced(request)) {
    // Someone switched the current credential off by hand and no slot is free to rotate:
    // switching it back on is the only way to end the lockout without deleting anything early.
    return {
      outcome: 'recovered',
      actions: [{ type: 'activate', credentialId: recorded.id }, ...before],
      reason: `${why}; no free slot to rotate, so it is switched back on`,
      currentCredentialId: recorded.id,
      currentIssuedAt: recorded.createdAt,
      nextDueAt: nextDue(recorded.createdAt, afterActions(rest, before), policy),
    };
  }
  return rotate({
    current: undefined,
    others: afterActions(others, before),
    before,
    policy,
    now,
    request,
    why,
  });
}

/**
 * A value the rotator did not write is reported, never obeyed: nothing is retired on its
 * account, so the credential applications use stays Active. When AWSPREVIOUS proves which
 * credential that is (tampering.ts), the scheduled run writes its record back as it was
 * (applications read a working credential again; nothing in IAM changes); otherwise, and for
 * a rotate (a manual one or Secrets Manager's createSecret), the target is held as failed, so
 * it is alarmed on. A manual rotate with "force": true is the operator's override: the value
 * is then treated as a placeholder and the target bootstrapped.
 */
function planTampered(
  observed: ObservedTarget,
  tampering: Tampering,
  policy: Policy,
  now: Date,
  request: LifecycleRequest,
): Plan {
  const inUse = tampering.inUse;
  if (inUse && request.command === 'reconcile' && observed.current) {
    // The lifecycle as if AWSCURRENT still held the in-use record: what the run would have done
    // without the foreign write. A rotation then stores a new record over the foreign value
    // (the usual rotation, the in-use credential retired by rule 1 as always); otherwise the
    // record is written back first, so the run after has nothing left to do.
    const restored = { ...observed.current, value: serializeRecord(inUse.record) };
    const usual = planTarget({ ...observed, current: restored }, policy, now, request);
    const why = `${tampering.reason}; the lifecycle goes on from credential ${inUse.credential.id} (the one in use, from AWSPREVIOUS)`;
    if (usual.actions.some((a) => a.type === 'issue' || a.type === 'adopt')) {
      return {
        ...usual,
        reason: usual.reason ? `${why}; ${usual.reason}` : why,
        tampering: tampering.reason,
      };
    }
    return {
      ...usual,
      outcome: 'recovered',
      actions: [{ type: 'restore', credentialId: inUse.credential.id }, ...usual.actions],
      reason: `${why}: its record is written back`,
      tampering: tampering.reason,
    };
  }
  const inUseCredential = inUse?.credential;
  const keep = inUseCredential
    ? `credential ${inUseCredential.id} stays Active; a reconcile writes its record back`
    : 'no credential is retired; restore the value, or run a manual rotate with "force": true to issue a new one';
  return {
    outcome: 'failed',
    actions: [],
    reason: `${tampering.reason}; held: ${keep}`,
    currentCredentialId: inUseCredential?.id,
    currentIssuedAt: inUseCredential?.createdAt,
    tampering: tampering.reason,
  };
}

/**
 * When rule 1 and rule 2 apply to a current credential. Normally everything counts from its
 * issue. A record a rollback wrote (`rolledBackAt`) counts from the rollback instead: the
 * rolled-back credential is retired from then (switched off at once, whatever overlapDays
 * says, and deleted gracePeriodDays later), and the schedule does not rotate the target
 * before gracePeriodDays after the rollback (a manual rotate still does).
 */
export function lifecycleClock(
  issuedAt: Date,
  rolledBackAt: string | undefined,
  policy: Policy,
): { retireFrom: Date; retirePolicy: Policy; rotateAt: Date } {
  const rotateAt = new Date(issuedAt.getTime() + days(policy.rotateAfterDays));
  const rollback = rolledBackAt === undefined ? Number.NaN : Date.parse(rolledBackAt);
  if (Number.isNaN(rollback)) return { retireFrom: issuedAt, retirePolicy: policy, rotateAt };
  return {
    retireFrom: new Date(rollback),
    retirePolicy: { ...policy, overlapDays: 0 },
    rotateAt: new Date(Math.max(rotateAt.getTime(), rollback + days(policy.gracePeriodDays))),
  };
}

/** A manual rotate with "force": true. */
function forced(request: LifecycleRequest): boolean {
  return request.command === 'rotate' && request.force;
}

/** Rule 2 on the state rule 1 left: free a slot (or block), issue, then retire the rest. */
function rotate(args: {
  current: Credential | undefined;
  others: readonly Other[];
  before: readonly PlannedAction[];
  policy: Policy;
  now: Date;
  request: LifecycleRequest;
  why?: string;
}): Plan {
  const { current, others, before, policy, now, request } = args;
  const remaining = others.filter((o) => o.status !== 'Deleted');
  const excess = remaining.length + (current ? 1 : 0) - (CREDENTIAL_SLOTS - 1);
  const early: PlannedAction[] = [];
  if (excess > 0) {
    if (!forced(request)) {
      const ids = remaining.map((o) => `${o.credential.id} (${o.status})`).join(', ');
      const known = current ? `${current.id} (current) and ` : '';
      return {
        outcome: 'blocked',
        actions: before,
        reason:
          `both credential slots are taken by ${known}${ids}${args.why ? `; ${args.why}` : ''}: ` +
          'a new credential can be issued once one is deleted after its grace period, ' +
          'or now with a manual rotate and "force": true',
        currentCredentialId: current?.id,
        currentIssuedAt: current?.createdAt,
        nextDueAt: current ? nextDue(current.createdAt, others, policy) : undefined,
      };
    }
    // Forced: delete the oldest others first; never the current one.
    const victims = [...remaining].sort((a, b) => byCreatedAt(a.credential, b.credential)).slice(0, excess);
    for (const v of victims) early.push({ type: 'delete', credentialId: v.credential.id, early: true });
  }
  // Once the new credential is stored, everything left is "other", with issued(C) = now.
  const deletedEarly = new Set(early.map((a) => (a.type === 'delete' ? a.credentialId : '')));
  const replaced = [
    ...(current ? [asIs(current)] : []),
    ...remaining.filter((o) => !deletedEarly.has(o.credential.id)),
  ];
  const retire = replaced.flatMap((o) => retireActions(o.credential, o.status, now, policy, now));
  return {
    outcome: 'rotated',
    actions: [...before, ...early, { type: 'issue' }, ...retire],
    reason: args.why,
    currentCredentialId: undefined,
    currentIssuedAt: now,
    nextDueAt: nextDue(now, afterActions(replaced, retire), policy),
  };
}
