// The whole lifecycle through the real SDK over real HTTP: bootstrap, a quiet day, rotation,
// deletion after the grace period, a manual rotate (blocked when repeated), a forced rotate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeForScan, findLeakedSecrets } from '../../invariants/index.ts';
import { actions, type LocalAws, outcomes, startLocalAws, targetOf } from './local-aws.ts';

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
const KEYSPACES_SECRET = 'service-credentials/app-keyspaces/cassandra.amazonaws.com';

describe('handler over HTTP: lifecycle', () => {
  let aws: LocalAws;
  beforeEach(async () => {
    aws = await startLocalAws();
  });
  afterEach(() => aws.close());

  it('bootstraps, stays quiet, rotates, deletes after the grace period, and rotates by hand, with no lockout at any step', async () => {
    const seen: unknown[] = [];
    const step = async (event: unknown) => {
      const since = aws.emulator.calls.length;
      const result = await aws.invoke(event);
      seen.push(result.report, result.error);
      expect(result.error).toBeUndefined();
      expect(aws.lockoutProblems()).toEqual([]);
      return { report: result.report, writes: aws.writesSince(since) };
    };

    const boot = await step(scheduled);
    expect(outcomes(boot.report)).toEqual({
      'app-keyspaces': 'rotated',
      'app-codecommit': 'rotated',
      'app-bedrock': 'rotated',
    });
    const first = targetOf(boot.report, 'app-keyspaces').currentCredentialId;

    aws.advanceDays(1);
    const quiet = await step({ action: 'reconcile' });
    expect(Object.values(outcomes(quiet.report))).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(quiet.writes).toEqual([]);

    aws.advanceDays(30);
    const rotation = await step(scheduled);
    expect(Object.values(outcomes(rotation.report))).toEqual(['rotated', 'rotated', 'rotated']);
    expect(actions(rotation.report, 'app-keyspaces')).toEqual(['create', 'store', 'deactivate']);
    const second = targetOf(rotation.report, 'app-keyspaces').currentCredentialId;
    expect(second).not.toBe(first);
    expect(aws.emulator.iam.credential(String(first))?.Status).toBe('Inactive');

    aws.advanceDays(6);
    const early = await step(scheduled);
    expect(Object.values(outcomes(early.report))).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(aws.emulator.iam.credential(String(first))).toBeDefined();

    aws.advanceDays(1);
    const deletion = await step(scheduled);
    expect(Object.values(outcomes(deletion.report))).toEqual(['retired', 'retired', 'retired']);
    expect(aws.emulator.iam.credential(String(first))).toBeUndefined();

    aws.advanceDays(2);
    const manual = await step({
      action: 'rotate',
      userName: 'app-keyspaces',
      serviceName: 'cassandra.amazonaws.com',
    });
    expect(outcomes(manual.report)).toEqual({ 'app-keyspaces': 'rotated' });
    const third = targetOf(manual.report, 'app-keyspaces').currentCredentialId;

    const again = await step({ action: 'rotate', secretId: KEYSPACES_SECRET });
    expect(outcomes(again.report)).toEqual({ 'app-keyspaces': 'blocked' });
    expect(again.writes).toEqual([]);

    const forced = await step({ action: 'rotate', secretId: KEYSPACES_SECRET, force: true });
    expect(outcomes(forced.report)).toEqual({ 'app-keyspaces': 'rotated' });
    expect(actions(forced.report, 'app-keyspaces')).toEqual(['delete', 'create', 'store', 'deactivate']);
    expect(targetOf(forced.report, 'app-keyspaces').actions[0]?.credentialId).toBe(second);
    expect(aws.emulator.iam.credential(String(third))?.Status).toBe('Inactive');

    // Every call went over HTTP to the emulator; no issued secret reached a report.
    expect(new Set(aws.emulator.calls.map((c) => c.service))).toEqual(new Set(['iam', 'secretsmanager']));
    expect(findLeakedSecrets(seen.map(describeForScan), aws.emulator.issuedSecrets())).toEqual([]);
  });
});
