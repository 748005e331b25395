// Rule 1 of docs/DESIGN.md, retiring the other credentials: when one is switched off and
// deleted, what the state is once that is done, and when a target next needs a run. Pure
// functions shared by the lifecycle (plan.ts) and the operator's repairs (operator.ts).
import type { Credential, Policy } from './model.ts';

export const DAY_MS = 86_400_000;

/** Rule 1's actions: switch another credential off, or delete it (`early`: before its grace period ends). */
export type RetireAction =
  | { readonly type: 'deactivate'; readonly credentialId: string }
  | { readonly type: 'delete'; readonly credentialId: string; readonly early?: boolean };

/**
 * Rule 1 for one other credential O, given issued(C): deactivate once the overlap is over,
 * delete once the grace period after that is over too (both in one run when both are due,
 * so that a second run has nothing left to do).
 */
export function retireActions(
  o: Credential,
  status: OtherStatus,
  issuedAt: Date,
  policy: Policy,
  now: Date,
): RetireAction[] {
  if (status === 'Deleted') return [];
  const t = now.getTime();
  const deactivateAt = issuedAt.getTime() + days(policy.overlapDays);
  const deleteAt = deactivateAt + days(policy.gracePeriodDays);
  const actions: RetireAction[] = [];
  let active = status === 'Active';
  if (active && t >= deactivateAt) {
    actions.push({ type: 'deactivate', credentialId: o.id });
    active = false;
  }
  if (!active && t >= deleteAt) actions.push({ type: 'delete', credentialId: o.id });
  return actions;
}

/** The earliest future time at which rule 1 or 2 has something to do. */
export function nextDue(
  issuedAt: Date,
  others: readonly Other[],
  policy: Policy,
  rotateAt = new Date(issuedAt.getTime() + days(policy.rotateAfterDays)),
): Date {
  const deactivateAt = issuedAt.getTime() + days(policy.overlapDays);
  const deleteAt = deactivateAt + days(policy.gracePeriodDays);
  let next = rotateAt.getTime();
  for (const o of others) {
    if (o.status === 'Deleted') continue;
    next = Math.min(next, o.status === 'Active' ? deactivateAt : deleteAt);
  }
  return new Date(next);
}

/** An other credential with the status it has once the planned actions are done. */
export type OtherStatus = Credential['status'] | 'Deleted';
export interface Other {
  readonly credential: Credential;
  readonly status: OtherStatus;
}

export function asIs(c: Credential): Other {
  return { credential: c, status: c.status };
}

export function afterActions(
  cs: readonly (Credential | Other)[],
  actions: readonly { readonly type: string; readonly credentialId?: string }[],
): Other[] {
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

export function isUsable(c: Credential, now: Date): boolean {
  return c.status === 'Active' && !(c.expiresAt && c.expiresAt.getTime() <= now.getTime());
}

export function statusAt(c: Credential, now: Date): string {
  return c.status === 'Active' && c.expiresAt && c.expiresAt.getTime() <= now.getTime()
    ? 'Expired'
    : c.status;
}

export function newest(cs: readonly Credential[]): Credential {
  return [...cs].sort(byCreatedAt).at(-1) as Credential;
}

export function byCreatedAt(a: Credential, b: Credential): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);
}

export function days(n: number): number {
  return n * DAY_MS;
}
