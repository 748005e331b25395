// The lifecycle rules of docs/DESIGN.md, as one pure function:
//   (observed IAM + Secrets Manager state, policy, now, request) -> plan.
// No SDK, no clock, no I/O: every rule is testable from a table.
//
// Words: C is the credential AWSCURRENT records (the "current" one), O any other
// credential IAM lists for the target. IAM allows two per user and service, Inactive
// and Expired included.
import type { Credential, CurrentVersion, ObservedTarget, Outcome, Policy, Target } from './model.ts';
import { parseRecord } from './record.ts';

export const DAY_MS = 86_400_000;

/**
 * A credential that no secret version records is only adopted (Reset + store) once it is
 * older than this: a younger one may belong to a run still in flight (Lambda's maximum
 * timeout is 15 minutes), and resetting it would invalidate the password that run is
 * about to store.
 */
export const IN_FLIGHT_WINDOW_MS = 15 * 60_000;

export const CREDENTIAL_SLOTS = 2;

export type PlannedAction =
  /** Create a credential and store it as the new AWSCURRENT. */
  | { readonly type: 'issue' }
  /**
   * Reset a credential (new password, same id) and store it: recovery of one no secret version
   * records, or of one whose stored password two overlapping adoptions may have made stale.
   */
  | { readonly type: 'adopt'; readonly credentialId: string }
  /** Switch the recorded current credential back on (deactivated by hand, no slot to rotate). */
  | { readonly type: 'activate'; readonly credentialId: string }
  | { readonly type: 'deactivate'; readonly credentialId: string }
  | { readonly type: 'delete'; readonly credentialId: string; readonly early?: boolean };

export interface RotationRequest {
  /** A manual `rotate`: issue a new credential whatever the current one's age. */
  readonly rotate: boolean;
  /** With `rotate`: delete another credential early when both slots are taken. */
  readonly force: boolean;
}

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
}

const NO_REQUEST: RotationRequest = { rotate: false, force: false };

export function planTarget(
  observed: ObservedTarget,
  policy: Policy,
  now: Date,
  request: RotationRequest = NO_REQUEST,
): Plan {
  const record = parseRecord(observed.current?.value, observed.target);
  if (record.kind === 'foreign') {
    // Overwriting it would destroy another target's only copy of its password.
    return { outcome: 'failed', actions: [], reason: record.reason };
  }
  const recordedId = record.kind === 'valid' ? record.record.credentialId : undefined;
  const recorded = observed.credentials.find((c) => c.id === recordedId);
  const current = recorded && isUsable(recorded, now) ? recorded : undefined;
  const others = observed.credentials.filter((c) => c !== current);

  // Rule 4, recover: an Active credential nobody records, issued after the secret's current
  // version was written, is what an interrupted run leaves behind.
  //
  // IAM reports CreateDate in whole seconds, Secrets Manager CreatedDate in milliseconds, so a
  // credential issued in the same second the version was written may look older than it. When
  // the version is not a record (a placeholder: bootstrap), such a credential is the
  // interrupted bootstrap's and counts as newer. When the version is a record, the tie stays
  // "older": the credential may be the one the previous record named (a rotation within a
  // second of the one before), still in use during its overlap, and adopting it would reset
  // its password and retire the current one; an orphan misread as older is merely retired.
  const writtenAt = observed.current?.createdAt;
  const after =
    writtenAt === undefined
      ? undefined
      : record.kind === 'valid'
        ? (c: Credential) => c.createdAt.getTime() > writtenAt.getTime()
        : (c: Credential) => c.createdAt.getTime() >= Math.floor(writtenAt.getTime() / 1000) * 1000;
  const unrecorded = others.filter((c) => after !== undefined && c.status === 'Active' && after(c));
  const inFlight = unrecorded.filter((c) => now.getTime() - c.createdAt.getTime() < IN_FLIGHT_WINDOW_MS);
  if (inFlight.length > 0) {
    const youngest = newest(inFlight);
    const settlesAt = new Date(youngest.createdAt.getTime() + IN_FLIGHT_WINDOW_MS);
    return {
      outcome: request.rotate ? 'blocked' : 'unchanged',
      actions: [],
      reason:
        `credential ${youngest.id} was issued ${Math.round((now.getTime() - youngest.createdAt.getTime()) / 1000)} s ago ` +
        `and no secret version records it yet: another run may still be storing it; it is adopted after ${settlesAt.toISOString()}`,
      currentCredentialId: current?.id,
      currentIssuedAt: current?.createdAt,
      nextDueAt: settlesAt,
    };
  }
  // An orphan already due for rotation is not adopted: the run after would rotate it away at
  // once (I6). It is an ordinary "other" then, retired by rule 1 like any predecessor.
  const adoptable = unrecorded.filter(
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
      reason: `credential ${adopted.id} was issued by an interrupted run and is adopted with a new password`,
      currentCredentialId: adopted.id,
      currentIssuedAt: adopted.createdAt,
      nextDueAt: nextDue(adopted.createdAt, afterActions(rest, retire), policy),
    };
  }

  if (current) {
    const issuedAt = current.createdAt;
    // Rule 1 first: what is due for the others anyway, rotation or not.
    const retire = others.flatMap((o) => retireActions(o, o.status, issuedAt, policy, now));
    const race = adoptionRace(observed, current.id);
    if (race) {
      const settlesAt = new Date(race.lastWrite.getTime() + IN_FLIGHT_WINDOW_MS);
      const settled = now.getTime() >= settlesAt.getTime();
      return {
        outcome: settled ? 'recovered' : 'unchanged',
        actions: settled ? [{ type: 'adopt', credentialId: current.id }, ...retire] : retire,
        reason:
          `two runs stored credential ${current.id} ${race.apartMs} ms apart (overlapping adoptions): ` +
          `the stored password may be the one the other run's reset replaced, so it is ${settled ? '' : 'to be '}` +
          `reset and stored again${settled ? '' : ` after ${settlesAt.toISOString()}`}`,
        currentCredentialId: current.id,
        currentIssuedAt: issuedAt,
        nextDueAt: settled ? nextDue(issuedAt, afterActions(others, retire), policy) : settlesAt,
      };
    }
    const due = request.rotate || now.getTime() >= issuedAt.getTime() + days(policy.rotateAfterDays);
    if (!due) {
      return {
        outcome: retire.length > 0 ? 'retired' : 'unchanged',
        actions: retire,
        currentCredentialId: current.id,
        currentIssuedAt: issuedAt,
        nextDueAt: nextDue(issuedAt, afterActions(others, retire), policy),
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
  if (recorded && recorded.status === 'Inactive' && left.length + 1 >= CREDENTIAL_SLOTS && !request.force) {
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
 * Only an adoption stores a credential long after IAM created it; only then can two runs have
 * reset the same credential at once. The executor reads AWSPREVIOUS just in that case.
 */
export function mayNeedPreviousVersion(current: CurrentVersion | undefined, target: Target): boolean {
  const record = parseRecord(current?.value, target);
  if (record.kind !== 'valid' || !current) return false;
  return current.createdAt.getTime() - Date.parse(record.record.issuedAt) >= IN_FLIGHT_WINDOW_MS;
}

/**
 * Rule 4, second half. Two runs adopting the same orphan at once (possible only without
 * reserved concurrency) both reset it; if the earlier reset is stored last, the secret holds a
 * password IAM no longer accepts, and IAM's listing cannot tell. What shows it: AWSCURRENT and
 * AWSPREVIOUS record the same credential and were written within the in-flight window of each
 * other — a single run never stores one credential twice. Adopting it again (once both writers
 * have settled) ends the lockout; its own version is written later than that window, so it
 * never triggers this rule again (I6).
 */
function adoptionRace(
  observed: ObservedTarget,
  currentId: string,
): { lastWrite: Date; apartMs: number } | undefined {
  const { current, previous, target } = observed;
  if (!current || !previous) return undefined;
  const before = parseRecord(previous.value, target);
  if (before.kind !== 'valid' || before.record.credentialId !== currentId) return undefined;
  const apartMs = Math.abs(current.createdAt.getTime() - previous.createdAt.getTime());
  return apartMs < IN_FLIGHT_WINDOW_MS ? { lastWrite: current.createdAt, apartMs } : undefined;
}

/** Rule 2 on the state rule 1 left: free a slot (or block), issue, then retire the rest. */
function rotate(args: {
  current: Credential | undefined;
  others: readonly Other[];
  before: readonly PlannedAction[];
  policy: Policy;
  now: Date;
  request: RotationRequest;
  why?: string;
}): Plan {
  const { current, others, before, policy, now, request } = args;
  const remaining = others.filter((o) => o.status !== 'Deleted');
  const excess = remaining.length + (current ? 1 : 0) - (CREDENTIAL_SLOTS - 1);
  const early: PlannedAction[] = [];
  if (excess > 0) {
    if (!request.force) {
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

/**
 * Rule 1 for one other credential O, given issued(C): deactivate once the overlap is over,
 * delete once the grace period after that is over too (both in one run when both are due,
 * so that a second run has nothing left to do).
 */
function retireActions(
  o: Credential,
  status: OtherStatus,
  issuedAt: Date,
  policy: Policy,
  now: Date,
): PlannedAction[] {
  if (status === 'Deleted') return [];
  const t = now.getTime();
  const deactivateAt = issuedAt.getTime() + days(policy.overlapDays);
  const deleteAt = deactivateAt + days(policy.gracePeriodDays);
  const actions: PlannedAction[] = [];
  let active = status === 'Active';
  if (active && t >= deactivateAt) {
    actions.push({ type: 'deactivate', credentialId: o.id });
    active = false;
  }
  if (!active && t >= deleteAt) actions.push({ type: 'delete', credentialId: o.id });
  return actions;
}

/** The earliest future time at which rule 1 or 2 has something to do. */
function nextDue(issuedAt: Date, others: readonly Other[], policy: Policy): Date {
  const deactivateAt = issuedAt.getTime() + days(policy.overlapDays);
  const deleteAt = deactivateAt + days(policy.gracePeriodDays);
  let next = issuedAt.getTime() + days(policy.rotateAfterDays);
  for (const o of others) {
    if (o.status === 'Deleted') continue;
    next = Math.min(next, o.status === 'Active' ? deactivateAt : deleteAt);
  }
  return new Date(next);
}

/** An other credential with the status it has once the planned actions are done. */
type OtherStatus = Credential['status'] | 'Deleted';
interface Other {
  readonly credential: Credential;
  readonly status: OtherStatus;
}

function asIs(c: Credential): Other {
  return { credential: c, status: c.status };
}

function afterActions(cs: readonly (Credential | Other)[], actions: readonly PlannedAction[]): Other[] {
  return cs.map((c) => {
    const o = 'credential' in c ? c : asIs(c);
    let status = o.status;
    for (const a of actions) {
      if (!('credentialId' in a) || a.credentialId !== o.credential.id) continue;
      if (a.type === 'deactivate') status = 'Inactive';
      if (a.type === 'delete') status = 'Deleted';
    }
    return { credential: o.credential, status };
  });
}

function isUsable(c: Credential, now: Date): boolean {
  return c.status === 'Active' && !(c.expiresAt && c.expiresAt.getTime() <= now.getTime());
}

function statusAt(c: Credential, now: Date): string {
  return c.status === 'Active' && c.expiresAt && c.expiresAt.getTime() <= now.getTime()
    ? 'Expired'
    : c.status;
}

function newest(cs: readonly Credential[]): Credential {
  return [...cs].sort(byCreatedAt).at(-1) as Credential;
}

function byCreatedAt(a: Credential, b: Credential): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);
}

function days(n: number): number {
  return n * DAY_MS;
}
