// Planner rules of the operator's rollback and revoke (lambda/rotation/operator.ts), and the
// rollback clock the scheduled planner follows afterwards (plan.ts lifecycleClock), from tables.
import { describe, expect, it } from 'vitest';
import type { Credential, ObservedTarget, Policy } from '../../lambda/rotation/model.ts';
import { planOperator } from '../../lambda/rotation/operator.ts';
import { planTarget } from '../../lambda/rotation/plan.ts';
import { at, cred, record, target } from '../support/credentials.ts';

const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };
const OVERLAP: Policy = { rotateAfterDays: 30, overlapDays: 2, gracePeriodDays: 7 };
const ROLLBACK = { command: 'rollback' } as const;
const revoke = (credentialId?: string, del = false) =>
  ({ command: 'revoke', credentialId, delete: del }) as const;

function observe(credentials: Credential[], current?: string, previous?: string): ObservedTarget {
  return {
    target,
    current: current === undefined ? undefined : { versionId: 'v2', createdAt: at(-1), value: current },
    credentials,
    ...(previous === undefined ? {} : { previous: { versionId: 'v1', createdAt: at(-2), value: previous } }),
  };
}

// The usual state after the day-30 rotation: B (day 30) current, A (day 0) Inactive in its grace.
const A = cred('A', 0, 'Inactive');
const B = cred('B', 30);
const rotated = (a = A) => observe([a, B], record('B', 30), record('A', 0));

describe('rollback planning', () => {
  it('switches the predecessor back on, restores its record, and retires the rolled-back one at once', () => {
    const plan = planOperator(rotated(), OVERLAP, at(31), ROLLBACK);
    expect(plan.outcome).toBe('rolled-back');
    expect(plan.actions).toEqual([
      { type: 'activate', credentialId: 'A' },
      { type: 'restore', credentialId: 'A', rolledBackAt: at(31) },
      { type: 'deactivate', credentialId: 'B' },
    ]);
    expect(plan.currentCredentialId).toBe('A');
    // Next: B's deletion, gracePeriodDays after the rollback (not after A's issue, long past).
    expect(plan.nextDueAt).toEqual(at(38));
  });

  it('does not activate a predecessor still Active in its overlap', () => {
    const plan = planOperator(rotated(cred('A', 0)), OVERLAP, at(31), ROLLBACK);
    expect(plan.actions.map((a) => a.type)).toEqual(['restore', 'deactivate']);
  });

  it.each([
    ['never rotated (no AWSPREVIOUS)', observe([B], record('B', 30)), /never rotated/],
    ['predecessor deleted', observe([B], record('B', 30), record('A', 0)), /A no longer exists/],
    [
      'AWSPREVIOUS not a record',
      observe([A, B], record('B', 30), 'placeholder'),
      /not a credential record.*never rotated/,
    ],
    [
      'AWSPREVIOUS of another target',
      observe([A, B], record('B', 30), record('A', 0, { userName: 'bob' })),
      /not a credential record of alice.*bob/,
    ],
    [
      'AWSPREVIOUS records the current one',
      observe([B], record('B', 30), record('B', 30)),
      /already the current/,
    ],
    [
      'predecessor expired',
      observe([cred('A', 0, 'Expired'), B], record('B', 30), record('A', 0)),
      /expired/,
    ],
    ['issue time mismatch', observe([A, B], record('B', 30), record('A', 1)), /issue time/],
    ['current is a placeholder', observe([A, B], 'placeholder', record('A', 0)), /no credential record/],
  ])('is refused with nothing to do when %s', (_name, observed, why) => {
    const plan = planOperator(observed, POLICY, at(31), ROLLBACK);
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions).toEqual([]);
    expect(plan.reason).toMatch(why);
    expect(plan.reason).toMatch(/nothing was changed/);
  });
});

describe('after a rollback, the scheduled planner', () => {
  // A current again since day 31 (rolledBackAt), B Inactive.
  const rolledBack = observe(
    [cred('A', 0), cred('B', 30, 'Inactive')],
    record('A', 0, { rolledBackAt: at(31).toISOString() }),
  );

  it('leaves the target alone until gracePeriodDays after the rollback, though A is past rotateAfterDays', () => {
    const plan = planTarget(rolledBack, POLICY, at(37.9));
    expect(plan.outcome).toBe('unchanged');
    expect(plan.actions).toEqual([]);
    expect(plan.nextDueAt).toEqual(at(38));
  });

  it('then deletes B and rotates in the same run (normal lifecycle resumes)', () => {
    const plan = planTarget(rolledBack, POLICY, at(38));
    expect(plan.outcome).toBe('rotated');
    expect(plan.actions).toEqual([
      { type: 'delete', credentialId: 'B' },
      { type: 'issue' },
      { type: 'deactivate', credentialId: 'A' },
    ]);
  });

  it('rotates at once on a manual rotate (forced while the rolled-back credential holds its slot)', () => {
    expect(planTarget(rolledBack, POLICY, at(32), { command: 'rotate', force: false }).reason).toMatch(
      /"force": true/,
    );
    expect(planTarget(rolledBack, POLICY, at(32), { command: 'rotate', force: true }).outcome).toBe(
      'rotated',
    );
  });

  it('switches the rolled-back credential off at once if an interrupted rollback left it Active', () => {
    const interrupted = observe(
      [cred('A', 0), cred('B', 30)],
      record('A', 0, { rolledBackAt: at(31).toISOString() }),
    );
    expect(planTarget(interrupted, OVERLAP, at(31)).actions).toEqual([
      { type: 'deactivate', credentialId: 'B' },
    ]);
  });

  it('keeps the usual rotation time for a young credential rolled back to', () => {
    const young = observe(
      [cred('A', 20), cred('B', 25, 'Inactive')],
      record('A', 20, { rolledBackAt: at(26).toISOString() }),
    );
    expect(planTarget(young, POLICY, at(49.9)).outcome).toBe('retired'); // B deleted at 33
    expect(planTarget(young, POLICY, at(50)).outcome).toBe('rotated');
  });
});

describe('revoke planning', () => {
  it('of the current credential: issues and stores a successor first, then switches it off whatever the overlap', () => {
    const plan = planOperator(observe([B], record('B', 30)), OVERLAP, at(31), revoke());
    expect(plan.outcome).toBe('revoked');
    expect(plan.actions).toEqual([{ type: 'issue' }, { type: 'deactivate', credentialId: 'B' }]);
  });

  it('with "delete": deletes it at once after the successor is stored', () => {
    const plan = planOperator(observe([B], record('B', 30)), POLICY, at(31), revoke('B', true));
    expect(plan.actions).toEqual([
      { type: 'issue' },
      { type: 'deactivate', credentialId: 'B' },
      { type: 'delete', credentialId: 'B', early: true },
    ]);
  });

  it('deletes an Inactive other credential early to make room for the successor', () => {
    const plan = planOperator(rotated(), POLICY, at(31), revoke());
    expect(plan.actions).toEqual([
      { type: 'delete', credentialId: 'A', early: true },
      { type: 'issue' },
      { type: 'deactivate', credentialId: 'B' },
    ]);
  });

  it('refuses when the other slot holds an Active credential, which may be in use', () => {
    const plan = planOperator(observe([cred('A', 0), B], record('B', 30)), OVERLAP, at(31), revoke());
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions).toEqual([]);
    expect(plan.reason).toMatch(/A, which is Active/);
  });

  it('of the other credential: switches it off (and deletes it) without touching the current one', () => {
    const active = observe([cred('A', 0), B], record('B', 30));
    expect(planOperator(active, OVERLAP, at(31), revoke('A')).actions).toEqual([
      { type: 'deactivate', credentialId: 'A' },
    ]);
    expect(planOperator(rotated(), POLICY, at(31), revoke('A', true)).actions).toEqual([
      { type: 'delete', credentialId: 'A', early: true },
    ]);
    const plan = planOperator(rotated(), POLICY, at(31), revoke('A'));
    expect(plan).toMatchObject({ outcome: 'revoked', actions: [], currentCredentialId: 'B' });
    expect(plan.reason).toMatch(/already Inactive/);
  });

  it.each([
    [
      'a credential of another target',
      revoke('ACCAOTHERTARGET000001'),
      /not a credential of alice\/cassandra/,
    ],
    ['no record and no id', revoke(), /records no current credential/],
  ])('refuses %s, writing nothing', (_name, request, why) => {
    const observed = _name.startsWith('no record') ? observe([B], 'placeholder') : rotated();
    const plan = planOperator(observed, POLICY, at(31), request);
    expect(plan).toMatchObject({ outcome: 'blocked', actions: [] });
    expect(plan.reason).toMatch(why);
  });

  it('fails on a record of another target, like the lifecycle', () => {
    const foreign = observe([B], JSON.parse(JSON.stringify(record('B', 30, { userName: 'bob' }))));
    expect(planOperator(foreign, POLICY, at(31), revoke()).outcome).toBe('failed');
    expect(planOperator(foreign, POLICY, at(31), ROLLBACK).outcome).toBe('failed');
  });
});
