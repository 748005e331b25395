// Rollback and revoke through the real SDK clients and adapters against the in-process
// emulator, each checking I1, I2 (the revoked credential aside, by design), I5 and I6.
import { describe, expect, it } from 'vitest';
import { transitionsOf } from '../../lambda/notify.ts';
import type { Command } from '../../lambda/rotation/commands.ts';
import type { TargetReport } from '../../lambda/rotation/model.ts';
import { World } from '../support/world.ts';
import { only } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';

const types = (r: TargetReport) => r.actions.map((a) => a.type);
const rollback = (secretId: string): Command => ({ action: 'rollback', target: { secretId }, dryRun: false });
const revoke = (secretId: string, opts: { credentialId?: string; delete?: boolean } = {}): Command => ({
  action: 'revoke',
  target: { secretId },
  ...(opts.credentialId ? { credentialId: opts.credentialId } : {}),
  delete: opts.delete ?? false,
  dryRun: false,
});

/** Bootstraps A, then rotates to B on day 31: B current, A Inactive in its grace period. */
async function rotatedOnce(w: World, arn: string): Promise<{ a: string; b: string }> {
  await w.run();
  const a = String(w.recordedId(arn));
  w.advanceDays(31);
  await w.run();
  const b = String(w.recordedId(arn));
  expect(b).not.toBe(a);
  return { a, b };
}

describe('rollback', () => {
  it('within grace: the previous credential is current and Active again with its own password, and the schedule waits', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const { a, b } = await rotatedOnce(w, arn);
    const previous = JSON.parse(String(w.emulator.secrets.valueAt(arn, 'AWSPREVIOUS')));
    w.advanceDays(1); // day 32

    const dry = only(await w.run({ action: 'rollback', target: { secretId: arn }, dryRun: true }));
    expect(dry).toMatchObject({ outcome: 'planned', reason: expect.stringMatching(/^would be rolled-back/) });
    expect(w.recordedId(arn)).toBe(b);

    const rolled = only(await w.run(rollback(arn)));
    expect(rolled.outcome).toBe('rolled-back');
    expect(types(rolled)).toEqual(['activate', 'store', 'deactivate']);
    expect(rolled.currentCredentialId).toBe(a);
    const record = JSON.parse(String(w.emulator.secrets.valueAt(arn)));
    // The record AWSPREVIOUS held, the password A was issued with, stamped with the rollback.
    expect(record).toEqual({ ...previous, rolledBackAt: expect.any(String) });
    expect(Date.parse(record.rolledBackAt)).toBeLessThanOrEqual(w.now().getTime());
    expect(record.password).toBe(w.emulator.iam.credential(a)?.secret);
    expect(w.emulator.iam.credential(a)?.Status).toBe('Active');
    expect(w.emulator.iam.credential(b)?.Status).toBe('Inactive');
    expect(w.recordedId(arn)).toBe(a);
    expect(transitionsOf(w.reports.at(-1) as never).map((t) => t.transition)).toEqual([
      'retired',
      'rolledBack',
    ]);
    await w.expectInvariants();

    // A is 32 days old, past rotateAfterDays: still left alone until 7 days after the rollback.
    w.advanceDays(6.9);
    const since = w.emulator.calls.length;
    expect(only(await w.run()).outcome).toBe('unchanged');
    expect(w.writesSince(since)).toEqual([]);
    expect(w.recordedId(arn)).toBe(a);

    // 7 days after the rollback: B is deleted (grace counted from the rollback) and A rotated.
    w.advanceDays(0.1);
    const resumed = only(await w.run());
    expect(resumed.outcome).toBe('rotated');
    expect(types(resumed)).toEqual(['delete', 'create', 'store', 'deactivate']);
    expect(resumed.actions[0]?.credentialId).toBe(b);
    expect(w.emulator.iam.credential(b)).toBeUndefined();
    await w.expectInvariants();
  });

  it('interrupted before the store: no lockout, and the next run switches the predecessor off again', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const { a, b } = await rotatedOnce(w, arn);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: Infinity });

    const failed = only(await w.run(rollback(arn)));
    expect(failed.outcome).toBe('failed');
    expect(types(failed)).toEqual(['activate']);
    expect(w.recordedId(arn)).toBe(b);
    w.expectNoLockout();
    w.emulator.faults.clear();

    const settled = only(await w.run());
    expect(settled.actions).toEqual([expect.objectContaining({ type: 'deactivate', credentialId: a })]);
    await w.expectInvariants();
  });

  it('after the predecessor was deleted: refused with the reason, nothing written', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const { a, b } = await rotatedOnce(w, arn);
    w.advanceDays(7); // A deleted after its grace period
    await w.run();
    expect(w.emulator.iam.credential(a)).toBeUndefined();

    const since = w.emulator.calls.length;
    const refused = only(await w.run(rollback(arn)));
    expect(refused.outcome).toBe('blocked');
    expect(refused.reason).toMatch(
      new RegExp(`previous credential ${a} no longer exists.*nothing was changed`),
    );
    expect(w.writesSince(since)).toEqual([]);
    expect(w.recordedId(arn)).toBe(b);
    await w.expectInvariants();
  });

  it('of a target never rotated: refused, nothing written', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const since = w.emulator.calls.length;
    expect(only(await w.run(rollback(arn))).reason).toMatch(
      /AWSPREVIOUS is not a credential record.*never rotated/,
    );
    expect(w.writesSince(since)).toEqual([]);
    await w.expectInvariants();
  });
});

describe('revoke', () => {
  it('of the current credential: a new one is current and the old one Inactive in the same run, even with overlapDays 2', async () => {
    const w = new World({ policy: { rotateAfterDays: 30, overlapDays: 2, gracePeriodDays: 7 } });
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const leaked = String(w.recordedId(arn));
    w.advanceDays(3);

    const report = only(await w.run(revoke(arn)));
    expect(report.outcome).toBe('revoked');
    expect(types(report)).toEqual(['create', 'store', 'deactivate']);
    const fresh = String(w.recordedId(arn));
    expect(fresh).not.toBe(leaked);
    expect(report.currentCredentialId).toBe(fresh);
    expect(w.emulator.iam.credential(leaked)?.Status).toBe('Inactive');
    expect(w.emulator.iam.credential(fresh)?.Status).toBe('Active');
    const events = transitionsOf(w.reports.at(-1) as never);
    expect(events.map((e) => e.transition)).toEqual(['rotated', 'retired', 'revoked']);
    expect(events.at(-1)?.detail).toMatchObject({ credentialId: leaked, currentCredentialId: fresh });
    await w.expectInvariants();
  });

  it('of the other credential with "delete": deleted at once, the current one untouched', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const { a, b } = await rotatedOnce(w, arn);
    const current = w.emulator.secrets.valueAt(arn);
    w.advanceDays(1); // well within A's grace period

    const report = only(await w.run(revoke(arn, { credentialId: a, delete: true })));
    expect(report.outcome).toBe('revoked');
    expect(report.actions).toEqual([expect.objectContaining({ type: 'delete', credentialId: a })]);
    expect(w.emulator.iam.credential(a)).toBeUndefined();
    expect(w.emulator.secrets.valueAt(arn)).toBe(current);
    expect(w.emulator.iam.credential(b)?.Status).toBe('Active');
    await w.expectInvariants();
  });

  it("of another target's credential: refused, nothing written", async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const other = w.addTarget('other', KEYSPACES);
    await w.run();
    const foreign = String(w.recordedId(other));

    const since = w.emulator.calls.length;
    const report = only(await w.run(revoke(arn, { credentialId: foreign, delete: true })));
    expect(report.outcome).toBe('blocked');
    expect(report.reason).toMatch(`${foreign} is not a credential of app/${KEYSPACES}`);
    expect(w.writesSince(since)).toEqual([]);
    expect(w.emulator.iam.credential(foreign)?.Status).toBe('Active');
    await w.expectInvariants();
  });
});
