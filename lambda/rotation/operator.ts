// The operator's two repair commands, planned as pure functions like the lifecycle in plan.ts:
//   rollback — make the previous credential (the one AWSPREVIOUS records) current again, with
//              the password it was issued with, and retire the credential that replaced it;
//   revoke   — a credential leaked: switch it off now (after storing a successor if it is the
//              current one), and with "delete" delete it now, the one exception to I3.
// A command that cannot be carried out safely is refused with the reason and no actions, so
// nothing is written. The executor (run.ts) carries the plans out like any other.
import type { OperatorRequest } from './commands.ts';
import type { Credential, ObservedTarget, Policy } from './model.ts';
import { lifecycleClock, type Plan, type PlannedAction } from './plan.ts';
import { afterActions, isUsable, nextDue, retireActions, statusAt } from './retirement.ts';
import { parseRecord } from './record.ts';

export function planOperator(
  observed: ObservedTarget,
  policy: Policy,
  now: Date,
  request: OperatorRequest,
): Plan {
  return request.command === 'rollback'
    ? planRollback(observed, policy, now)
    : planRevoke(observed, policy, now, request);
}

/**
 * Rollback. The predecessor P must still exist in IAM, be the credential AWSPREVIOUS records
 * (with the issue time IAM lists for it) and not have expired. The actions, in this order so
 * that an interruption anywhere leaves a state the scheduled run settles without a lockout:
 * switch P back on if it is Inactive; store AWSPREVIOUS's record as a new AWSCURRENT version
 * stamped `rolledBackAt` (the password is the one P was issued with: the rotator never resets
 * a recorded credential); retire the rolled-back credential at once (rule 1 counted from the
 * rollback with no overlap, so it is deleted gracePeriodDays after the rollback).
 */
export function planRollback(observed: ObservedTarget, policy: Policy, now: Date): Plan {
  const { userName, serviceName } = observed.target;
  const record = parseRecord(observed.current?.value, observed.target);
  if (record.kind === 'foreign') return { outcome: 'failed', actions: [], reason: record.reason };
  const recorded = observed.credentials.find(
    (c) => record.kind === 'valid' && c.id === record.record.credentialId,
  );
  const refuse = (why: string): Plan => refusal(`cannot roll back: ${why}`, recorded, now);
  if (record.kind !== 'valid') return refuse(`AWSCURRENT holds no credential record (${record.reason})`);
  if (observed.previous === undefined) {
    return refuse('the secret has no AWSPREVIOUS version: the target was never rotated');
  }
  const previous = parseRecord(observed.previous.value, observed.target);
  if (previous.kind === 'foreign') {
    return refuse(
      `AWSPREVIOUS is not a credential record of ${userName}/${serviceName} (${previous.reason})`,
    );
  }
  if (previous.kind === 'absent') {
    return refuse(
      `AWSPREVIOUS is not a credential record of ${userName}/${serviceName}: ` +
        'the target was never rotated since its first credential',
    );
  }
  const id = previous.record.credentialId;
  if (id === record.record.credentialId) {
    return refuse(`AWSPREVIOUS records ${id}, which is already the current credential`);
  }
  const predecessor = observed.credentials.find((c) => c.id === id);
  if (!predecessor) {
    return refuse(
      `the previous credential ${id} no longer exists (deleted after its grace period); ` +
        'issue a new one with "rotate" instead',
    );
  }
  if (Date.parse(previous.record.issuedAt) !== predecessor.createdAt.getTime()) {
    return refuse(`AWSPREVIOUS's record of ${id} does not carry the issue time IAM lists for it`);
  }
  if (statusAt(predecessor, now) === 'Expired') return refuse(`the previous credential ${id} has expired`);

  const rolledBackAt = now;
  const clock = lifecycleClock(predecessor.createdAt, rolledBackAt.toISOString(), policy);
  const others = observed.credentials.filter((c) => c !== predecessor);
  const retire = others.flatMap((o) => retireActions(o, o.status, clock.retireFrom, clock.retirePolicy, now));
  const actions: PlannedAction[] = [
    ...(predecessor.status === 'Inactive' ? [{ type: 'activate' as const, credentialId: id }] : []),
    { type: 'restore', credentialId: id, rolledBackAt },
    ...retire,
  ];
  const replaced = record.record.credentialId;
  return {
    outcome: 'rolled-back',
    actions,
    reason:
      `credential ${id} is current again, with the password it was issued with; ${replaced} is retired ` +
      `and the schedule leaves the target alone until ${clock.rotateAt.toISOString()} (a manual rotate does not wait)`,
    currentCredentialId: id,
    currentIssuedAt: predecessor.createdAt,
    nextDueAt: nextDue(clock.retireFrom, afterActions(others, retire), clock.retirePolicy, clock.rotateAt),
  };
}

/**
 * Revoke. The leaked credential L is the one named, or the current one. L other than the
 * current one: switched off at once, and deleted with "delete"; the current one is untouched.
 * L current: a successor is issued and stored first (the ordinary `issue`, with its write-ahead
 * intent), then L is switched off, whatever overlapDays says, and deleted with "delete". When
 * the second slot is taken, the credential in it is deleted early to make room only if it is
 * already switched off (Inactive or Expired: nothing can still use it); an Active one may be
 * in use, so the revoke is refused and says how to go on. The actions end with L's own
 * deactivate and delete: notify.ts names the revoked credential by them.
 */
export function planRevoke(
  observed: ObservedTarget,
  policy: Policy,
  now: Date,
  request: { readonly credentialId?: string | undefined; readonly delete: boolean },
): Plan {
  const { userName, serviceName } = observed.target;
  const record = parseRecord(observed.current?.value, observed.target);
  if (record.kind === 'foreign') return { outcome: 'failed', actions: [], reason: record.reason };
  const recordedId = record.kind === 'valid' ? record.record.credentialId : undefined;
  const recorded = observed.credentials.find((c) => c.id === recordedId);
  const refuse = (why: string): Plan => refusal(`cannot revoke: ${why}`, recorded, now);
  const id = request.credentialId ?? recordedId;
  if (id === undefined) {
    return refuse(
      `the secret records no current credential (${record.kind === 'absent' ? record.reason : ''})`,
    );
  }
  const leaked = observed.credentials.find((c) => c.id === id);
  if (!leaked) {
    const listed = observed.credentials.map((c) => c.id).join(', ') || 'none';
    return refuse(
      request.credentialId === undefined
        ? `the current credential ${id} no longer exists in IAM`
        : `${id} is not a credential of ${userName}/${serviceName} (IAM lists: ${listed})`,
    );
  }
  const switchOff: PlannedAction[] = [
    ...(leaked.status === 'Active' ? [{ type: 'deactivate' as const, credentialId: id }] : []),
    ...(request.delete ? [{ type: 'delete' as const, credentialId: id, early: true }] : []),
  ];

  if (id !== recordedId) {
    // Not the current credential: nothing needs replacing.
    const current = recorded && isUsable(recorded, now) ? recorded : undefined;
    const rest = observed.credentials.filter((c) => c !== current);
    const clock = current
      ? lifecycleClock(
          current.createdAt,
          record.kind === 'valid' ? record.record.rolledBackAt : undefined,
          policy,
        )
      : undefined;
    return {
      outcome: 'revoked',
      actions: switchOff,
      reason:
        switchOff.length === 0
          ? `credential ${id} was already ${leaked.status}; nothing to do`
          : `credential ${id} is switched off${request.delete ? ' and deleted' : ''}; the current credential is untouched`,
      currentCredentialId: current?.id,
      currentIssuedAt: current?.createdAt,
      nextDueAt: clock
        ? nextDue(clock.retireFrom, afterActions(rest, switchOff), clock.retirePolicy, clock.rotateAt)
        : undefined,
    };
  }

  // The current credential: its successor is stored before it is switched off (I1, I2).
  const others = observed.credentials.filter((c) => c !== leaked);
  const retire = others.flatMap((o) => retireActions(o, o.status, leaked.createdAt, policy, now));
  const left = afterActions(others, retire).filter((o) => o.status !== 'Deleted');
  const inUse = left.find((o) => o.status === 'Active');
  if (inUse) {
    return refuse(
      `the other slot holds ${inUse.credential.id}, which is Active and may be in use, so it is not deleted ` +
        `to make room; revoke it first (with "credentialId": "${inUse.credential.id}" and "delete": true) ` +
        'or wait until its overlap ends, then revoke again',
    );
  }
  const makeRoom: PlannedAction[] = left.map((o) => ({
    type: 'delete',
    credentialId: o.credential.id,
    early: true,
  }));
  const after = afterActions([leaked], switchOff);
  return {
    outcome: 'revoked',
    actions: [...retire, ...makeRoom, { type: 'issue' }, ...switchOff],
    reason:
      `a new credential replaces ${id}, which is switched off${request.delete ? ' and deleted' : ''}` +
      (makeRoom.length > 0
        ? `; ${makeRoom.map(idOf).join(', ')} (switched off already) was deleted to make room`
        : ''),
    currentCredentialId: undefined,
    currentIssuedAt: now,
    nextDueAt: nextDue(now, after, policy),
  };
}

/** A refused command: no actions, so nothing is written; the report still names the current credential. */
function refusal(reason: string, recorded: Credential | undefined, now: Date): Plan {
  const current = recorded && isUsable(recorded, now) ? recorded : undefined;
  return {
    outcome: 'blocked',
    actions: [],
    reason: `${reason}; nothing was changed`,
    currentCredentialId: current?.id,
    currentIssuedAt: current?.createdAt,
  };
}

function idOf(a: PlannedAction): string {
  return 'credentialId' in a ? a.credentialId : 'new';
}
