// What a run reports without acting (report.ts): a plan rendered for a dry run or a status,
// the credential a secret records, and the text of a failure. Runs reach these through the
// executor (run.test.ts); here each rendering rule is pinned on its own.
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, RotatorError, SecretDeletedError } from '../../lambda/errors.ts';
import type { ActionTaken, Credential, ObservedTarget } from '../../lambda/rotation/model.ts';
import type { Plan } from '../../lambda/rotation/plan.ts';
import { describeError, describeFailure, recordedId, reportPlan } from '../../lambda/rotation/report.ts';

const SERVICE = 'cassandra.amazonaws.com';
const BASE = { secretId: 'arn:secret', userName: 'alice', serviceName: SERVICE };
const target = { ...BASE, secretName: 's' };
const DAY0 = new Date('2026-01-01T00:00:00.000Z');
const DAY5 = new Date('2026-01-06T00:00:00.000Z');
const DUE = new Date('2026-02-05T00:00:00.000Z');

function cred(id: string, createdAt: Date, status: Credential['status'] = 'Active'): Credential {
  return { id, userName: 'alice', serviceName: SERVICE, status, createdAt };
}
const C = cred('C', DAY0);
const P = cred('P', DAY5, 'Inactive');
/** AWSCURRENT holds `value`; IAM lists C and P. */
function observed(value: string | undefined): ObservedTarget {
  return { target, current: { versionId: 'v1', createdAt: DAY0, value }, credentials: [C, P] };
}
const RECORDS_C = observed(JSON.stringify({ credentialId: 'C', password: 'pw' }));

describe('reportPlan', () => {
  it('renders each planned action as the calls it makes, marked planned, in order', () => {
    const plan: Plan = {
      outcome: 'rotated',
      actions: [
        { type: 'delete', credentialId: 'P', early: true },
        { type: 'issue' },
        { type: 'deactivate', credentialId: 'C' },
        { type: 'adopt', credentialId: 'O' },
        { type: 'restore', credentialId: 'R', rolledBackAt: DAY5 },
        { type: 'activate', credentialId: 'C' },
      ],
      currentIssuedAt: DUE,
      nextDueAt: DUE,
    };
    const report = reportPlan(BASE, plan, 'dryRun', RECORDS_C);
    const planned = (type: ActionTaken['type'], credentialId: string): ActionTaken => ({
      type,
      credentialId,
      at: 'planned',
    });
    expect(report).toStrictEqual({
      ...BASE,
      outcome: 'planned',
      actions: [
        planned('delete', 'P'),
        planned('create', 'new'),
        planned('store', 'new'),
        planned('deactivate', 'C'),
        planned('reset', 'O'),
        planned('store', 'O'),
        planned('store', 'R'),
        planned('activate', 'C'),
      ],
      // Nothing has happened yet: the secret still records C, and no due date is promised.
      currentCredentialId: 'C',
      currentIssuedAt: DAY0.toISOString(),
      nextDueAt: undefined,
      reason: 'would be rotated',
    });
  });

  it('says why a pending plan would act, after its outcome', () => {
    const plan: Plan = {
      outcome: 'retired',
      actions: [{ type: 'delete', credentialId: 'P' }],
      reason: 'P is past its grace',
    };
    expect(reportPlan(BASE, plan, 'dryRun', RECORDS_C).reason).toBe('would be retired: P is past its grace');
  });

  it("reports a plan with nothing to do as the plan's own outcome, current credential and due date", () => {
    const plan: Plan = { outcome: 'unchanged', actions: [], currentCredentialId: 'C', nextDueAt: DUE };
    expect(reportPlan(BASE, plan, 'dryRun', observed(undefined))).toStrictEqual({
      ...BASE,
      outcome: 'unchanged',
      actions: [],
      currentCredentialId: 'C',
      currentIssuedAt: DAY0.toISOString(),
      nextDueAt: DUE.toISOString(),
    });
  });

  it.each(['blocked', 'failed'] as const)(
    'reports a %s plan as it is, with its reason, even when it has actions (not pending)',
    (outcome) => {
      const plan: Plan = {
        outcome,
        actions: [{ type: 'delete', credentialId: 'P' }],
        reason: 'both credential slots are taken',
        currentCredentialId: 'C',
        nextDueAt: DUE,
      };
      const report = reportPlan(BASE, plan, 'dryRun', observed(undefined));
      expect(report.outcome).toBe(outcome);
      expect(report.reason).toBe('both credential slots are taken');
      // The plan's current credential, not the recorded one (there is none here).
      expect(report.currentCredentialId).toBe('C');
      expect(report.currentIssuedAt).toBe(DAY0.toISOString());
      expect(report.nextDueAt).toBe(DUE.toISOString());
      expect(report.actions).toStrictEqual([{ type: 'delete', credentialId: 'P', at: 'planned' }]);
    },
  );

  it('lists every credential IAM lists for a status, marking the current one, and no actions', () => {
    const plan: Plan = { outcome: 'retired', actions: [{ type: 'delete', credentialId: 'P' }] };
    const report = reportPlan(BASE, plan, 'status', RECORDS_C);
    expect(report.actions).toStrictEqual([]);
    expect(report.outcome).toBe('planned');
    expect(report.credentials).toStrictEqual([
      { id: 'C', status: 'Active', issuedAt: DAY0.toISOString(), current: true },
      { id: 'P', status: 'Inactive', issuedAt: DAY5.toISOString(), current: false },
    ]);
  });

  it('carries what the planner found in place of its own record, and nothing when it found nothing', () => {
    const tampering = 'AWSCURRENT holds a placeholder where the rotator wrote a record';
    const plan: Plan = { outcome: 'failed', actions: [], reason: 'held', tampering };
    expect(reportPlan(BASE, plan, 'status', RECORDS_C).tampering).toBe(tampering);
    expect(reportPlan(BASE, { ...plan, tampering: undefined }, 'status', RECORDS_C)).not.toHaveProperty(
      'tampering',
    );
  });

  it('lists no credentials outside a status', () => {
    const plan: Plan = { outcome: 'unchanged', actions: [], currentCredentialId: 'C' };
    expect(reportPlan(BASE, plan, 'dryRun', RECORDS_C)).not.toHaveProperty('credentials');
    expect(reportPlan(BASE, plan, 'apply', RECORDS_C)).not.toHaveProperty('credentials');
  });

  it('gives no issue date when the current credential is not among those IAM lists', () => {
    const plan: Plan = { outcome: 'unchanged', actions: [], currentCredentialId: 'gone' };
    expect(reportPlan(BASE, plan, 'dryRun', RECORDS_C).currentIssuedAt).toBeUndefined();
  });
});

describe('recordedId', () => {
  it('is the credential the secret records when IAM lists it', () => {
    expect(recordedId(RECORDS_C)).toBe('C');
  });

  it.each([
    ['a credential IAM does not list', JSON.stringify({ credentialId: 'gone' })],
    ['a record without a credential id', JSON.stringify({ username: 'u' })],
    ['JSON null', 'null'],
    ['a value that is not JSON', 'not json'],
    ['no value', undefined],
  ])('is undefined for %s', (_, value) => {
    expect(recordedId(observed(value))).toBeUndefined();
  });

  it('is undefined when the secret has no current version', () => {
    expect(recordedId({ target, current: undefined, credentials: [C] })).toBeUndefined();
  });
});

describe('describeFailure', () => {
  const taken = (type: ActionTaken['type'], credentialId = 'N'): ActionTaken[] => [
    { type: 'delete', credentialId: 'P', at: DAY0.toISOString() },
    { type, credentialId, at: DAY0.toISOString() },
  ];

  it.each(['create', 'reset'] as const)(
    'says a credential was issued but not stored when the last step was a %s, and that the next run adopts it',
    (type) => {
      expect(describeFailure(new RotatorError('store failed'), taken(type))).toBe(
        'store failed; credential N was issued but not stored: the next run adopts it',
      );
    },
  );

  it('says nothing of an issue when the last step was another', () => {
    expect(describeFailure(new RotatorError('store failed'), taken('store'))).toBe('store failed');
    expect(describeFailure(new RotatorError('store failed'), [])).toBe('store failed');
  });

  it('says to restore a secret scheduled for deletion', () => {
    const error = new SecretDeletedError('PutSecretValue', 'InvalidRequestException', 'marked for deletion');
    expect(describeFailure(error, [])).toBe(
      'PutSecretValue failed: InvalidRequestException: marked for deletion; restore the secret to resume rotation',
    );
  });

  it('says an issued credential was left unstored before anything about the secret', () => {
    const error = new SecretDeletedError('PutSecretValue', 'InvalidRequestException', 'marked for deletion');
    expect(describeFailure(error, taken('create'))).toMatch(
      /was issued but not stored: the next run adopts it$/,
    );
  });
});

describe('describeError', () => {
  it("gives the product's errors as they are (built never to carry a secret)", () => {
    expect(
      describeError(new AccessDeniedError('CreateServiceSpecificCredential', 'AccessDenied', 'no')),
    ).toBe('CreateServiceSpecificCredential failed: AccessDenied: no');
  });

  it('names the kind of any other error', () => {
    expect(describeError(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
  });

  it('renders a thrown value that is not an error', () => {
    expect(describeError('plain text')).toBe('plain text');
    expect(describeError(42)).toBe('42');
  });
});
