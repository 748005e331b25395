// The plan's phases (phases.ts): where a plan is cut for the hand-off to Secrets Manager and
// for its createSecret and finishSecret steps. The planner's own rules are plan.test.ts's; these
// tests pin the cut: which actions each phase keeps, in which order, and when a step refuses.
import { describe, expect, it } from 'vitest';
import type { Credential, ObservedTarget, Policy } from '../../lambda/rotation/model.ts';
import { phasesOf, planIssue, planRetirement } from '../../lambda/rotation/phases.ts';
import type { Plan } from '../../lambda/rotation/plan.ts';
import { at, cred, record, target } from '../support/credentials.ts';

const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };
/** AWSCURRENT records `c` (issued when IAM created it). */
function recording(c: Credential, credentials: Credential[]): ObservedTarget {
  const value = record(c.id, 0, { issuedAt: c.createdAt.toISOString() });
  return { target, current: { versionId: 'v1', createdAt: c.createdAt, value }, credentials };
}

// Current C (day 0) due at day 30; its predecessor P is switched off and past its grace period
// (day 7), so rule 1 deletes P before the issue and the rotation retires C after it.
const C = cred('C', 0);
const P = cred('P', -20, 'Inactive');
const DUE_WITH_PREDECESSOR = recording(C, [P, C]);
const DAY_31 = at(31);

describe('phasesOf', () => {
  const plan = (actions: Plan['actions']): Plan => ({ outcome: 'rotated', actions });

  it('cuts a plan around its issue: room made before, retirement after', () => {
    const cut = phasesOf(
      plan([
        { type: 'delete', credentialId: 'P' },
        { type: 'issue' },
        { type: 'deactivate', credentialId: 'C' },
        { type: 'delete', credentialId: 'C' },
      ]),
    );
    expect(cut).toStrictEqual({
      before: [{ type: 'delete', credentialId: 'P' }],
      issue: { type: 'issue' },
      after: [
        { type: 'deactivate', credentialId: 'C' },
        { type: 'delete', credentialId: 'C' },
      ],
    });
  });

  it('cuts at an issue that comes first: nothing before it', () => {
    expect(phasesOf(plan([{ type: 'issue' }, { type: 'deactivate', credentialId: 'C' }]))).toStrictEqual({
      before: [],
      issue: { type: 'issue' },
      after: [{ type: 'deactivate', credentialId: 'C' }],
    });
  });

  it('cuts at an adoption and at a rollback restore as at an issue', () => {
    const restore = { type: 'restore', credentialId: 'P', rolledBackAt: at(3) } as const;
    expect(
      phasesOf(
        plan([
          { type: 'delete', credentialId: 'X' },
          { type: 'adopt', credentialId: 'O' },
        ]),
      ),
    ).toStrictEqual({
      before: [{ type: 'delete', credentialId: 'X' }],
      issue: { type: 'adopt', credentialId: 'O' },
      after: [],
    });
    expect(phasesOf(plan([restore, { type: 'deactivate', credentialId: 'C' }]))).toStrictEqual({
      before: [],
      issue: restore,
      after: [{ type: 'deactivate', credentialId: 'C' }],
    });
  });

  it('puts a plan that stores nothing all before: an activation is not an issue', () => {
    const actions = [
      { type: 'activate', credentialId: 'C' },
      { type: 'delete', credentialId: 'P' },
    ] as const;
    expect(phasesOf(plan(actions))).toStrictEqual({ before: actions, after: [] });
    expect(phasesOf(plan([]))).toStrictEqual({ before: [], after: [] });
  });
});

describe('planIssue (createSecret)', () => {
  it("keeps rule 1's due retirements and the issue, not the retirement of the replaced credential", () => {
    const plan = planIssue(DUE_WITH_PREDECESSOR, POLICY, DAY_31, 'rotation-t1');
    expect(plan).toStrictEqual({
      outcome: 'rotated',
      actions: [{ type: 'delete', credentialId: 'P' }, { type: 'issue' }],
      reason: undefined,
      currentCredentialId: undefined,
      currentIssuedAt: DAY_31,
      nextDueAt: at(38),
    });
  });

  it('issues before the schedule would: the step is a rotation, whatever the age', () => {
    const plan = planIssue(recording(C, [C]), POLICY, at(3), 'rotation-t1');
    expect(plan.outcome).toBe('rotated');
    expect(plan.actions).toStrictEqual([{ type: 'issue' }]);
  });

  it('is refused, with no actions, when both slots are taken and the other is in its grace period', () => {
    // P was switched off at C's issue (day 20) and is deleted at day 27: at day 25 there is no
    // room, and deleting P early is a forced manual rotate's job, never a rotation step's.
    const current = cred('C', 20);
    const plan = planIssue(recording(current, [cred('P', 10, 'Inactive'), current]), POLICY, at(25), 'r');
    expect(plan.outcome).toBe('failed');
    expect(plan.actions).toStrictEqual([]);
    expect(plan.reason).toMatch(
      /^no credential can be issued: both credential slots are taken by C \(current\) and P \(Inactive\)/,
    );
    expect(plan.currentCredentialId).toBe('C');
  });

  it('is refused when the planner would switch the current credential back on instead of issuing', () => {
    // C was switched off by hand and P holds the other slot: the planner's answer is to
    // activate C, which stores nothing, so there is nothing for createSecret to issue.
    const current = cred('C', 20, 'Inactive');
    const plan = planIssue(recording(current, [cred('P', 10, 'Inactive'), current]), POLICY, at(25), 'r');
    expect(plan.outcome).toBe('failed');
    expect(plan.actions).toStrictEqual([]);
    expect(plan.reason).toBe(
      'no credential can be issued: recorded credential C is Inactive; no free slot to rotate, so it is switched back on',
    );
  });

  it("is refused with the planner's reason when the secret records another target's credential", () => {
    const foreign = recording(C, [C]);
    const other = { ...foreign, target: { ...target, userName: 'bob' } };
    const plan = planIssue(other, POLICY, DAY_31, 'r');
    expect(plan.outcome).toBe('failed');
    expect(plan.actions).toStrictEqual([]);
    expect(plan.reason).toMatch(/^no credential can be issued: .*alice/);
  });
});

describe('planRetirement (finishSecret)', () => {
  it('keeps only the switching off and the deleting, in order, from a plan that would issue', () => {
    const plan = planRetirement(DUE_WITH_PREDECESSOR, POLICY, DAY_31);
    expect(plan.outcome).toBe('rotated');
    expect(plan.actions).toStrictEqual([
      { type: 'delete', credentialId: 'P' },
      { type: 'deactivate', credentialId: 'C' },
    ]);
  });

  it('retires the replaced credential once the new one is current', () => {
    const N = cred('N', 31);
    const plan = planRetirement(recording(N, [cred('C', 0), N]), POLICY, DAY_31);
    expect(plan).toStrictEqual({
      outcome: 'retired',
      actions: [{ type: 'deactivate', credentialId: 'C' }],
      currentCredentialId: 'N',
      currentIssuedAt: at(31),
      nextDueAt: at(38),
    });
  });

  it('never switches a credential back on', () => {
    const current = cred('C', 20, 'Inactive');
    const plan = planRetirement(recording(current, [cred('P', 10, 'Inactive'), current]), POLICY, at(25));
    expect(plan.outcome).toBe('recovered');
    expect(plan.actions).toStrictEqual([]);
  });
});
