// Lifecycle scenarios through the real SDK clients and adapters against the in-process
// emulator (which enforces docs/AWS-BEHAVIOUR.md), each checking I1–I6.
import { UpdateServiceSpecificCredentialCommand } from '@aws-sdk/client-iam';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { INTENT_STAGE, MAX_INVOCATION_MS } from '../../lambda/rotation/intent.ts';
import type { TargetReport } from '../../lambda/rotation/model.ts';
import { World } from '../support/world.ts';
import { only } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const CODECOMMIT = 'codecommit.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';

const types = (r: TargetReport) => r.actions.map((a) => a.type);
/** Lambda retries a failed asynchronous invocation about a minute later. */
const MINUTE = 60_000;
/** The store of a credential record, not the intent write (which names its own label). */
const isStore = (p: Record<string, unknown>) => p.VersionStages === undefined;

describe('rotation lifecycle', () => {
  it('bootstraps, stays quiet, rotates at day 31 and deletes the old credential after the grace period', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);

    const boot = only(await w.run());
    expect(boot.outcome).toBe('rotated');
    expect(types(boot)).toEqual(['create', 'store']);
    const first = w.recordedId(arn);
    await w.expectInvariants();

    w.advanceDays(1);
    expect(only(await w.run()).outcome).toBe('unchanged');

    w.advanceDays(30); // day 31
    const rotation = only(await w.run());
    expect(rotation.outcome).toBe('rotated');
    expect(types(rotation)).toEqual(['create', 'store', 'deactivate']);
    const second = w.recordedId(arn);
    expect(second).not.toBe(first);
    expect(w.emulator.iam.credential(String(first))?.Status).toBe('Inactive');
    // The old record moved to AWSPREVIOUS.
    expect(JSON.parse(String(w.emulator.secrets.valueAt(arn, 'AWSPREVIOUS'))).credentialId).toBe(first);
    await w.expectInvariants();

    w.advanceDays(6); // 6 days after rotation: still within the 7-day grace
    expect(only(await w.run()).outcome).toBe('unchanged');
    expect(w.emulator.iam.credential(String(first))).toBeDefined();

    w.advanceDays(1); // exactly 7 days after rotation (+ the few ms the runs took)
    const retirement = only(await w.run());
    expect(retirement.outcome).toBe('retired');
    expect(retirement.actions).toEqual([expect.objectContaining({ type: 'delete', credentialId: first })]);
    expect(w.emulator.iam.credentials({ userName: 'app', serviceName: KEYSPACES })).toHaveLength(1);
    await w.expectInvariants();
  });

  it('stores what cqlsh and git need: username and password, plus ids and the issue time', async () => {
    const w = new World();
    const arn = w.addTarget('app', CODECOMMIT);
    await w.run();
    const record = JSON.parse(String(w.emulator.secrets.valueAt(arn)));
    const cred = w.emulator.iam.credential(record.credentialId);
    expect(record).toEqual({
      username: cred?.ServiceUserName,
      password: cred?.secret,
      credentialId: cred?.ServiceSpecificCredentialId,
      userName: 'app',
      serviceName: CODECOMMIT,
      issuedAt: cred?.CreateDate.toISOString(),
    });
  });

  it('stores a Bedrock API key with its alias and an expiry of rotate + overlap + grace days', async () => {
    const w = new World({ policy: { rotateAfterDays: 30, overlapDays: 1, gracePeriodDays: 7 } });
    const arn = w.addTarget('agent', BEDROCK);
    await w.run();
    const record = JSON.parse(String(w.emulator.secrets.valueAt(arn)));
    const cred = w.emulator.iam.credential(record.credentialId);
    expect(record.apiKey).toBe(cred?.secret);
    expect(record.alias).toBe(cred?.ServiceCredentialAlias);
    expect(record.password).toBeUndefined();
    const ageDays = (Date.parse(record.expiresAt) - Date.parse(record.issuedAt)) / 86_400_000;
    expect(ageDays).toBe(38);
    await w.expectInvariants();
  });

  it('rotates by hand whatever the age, and blocks a second manual rotate within the grace period', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(2);

    const manual = only(
      await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false }),
    );
    expect(manual.outcome).toBe('rotated');
    await w.expectInvariants();

    const since = w.emulator.calls.length;
    const again = only(
      await w.run({
        action: 'rotate',
        target: { userName: 'app', serviceName: KEYSPACES },
        force: false,
        dryRun: false,
      }),
    );
    expect(again.outcome).toBe('blocked');
    expect(again.reason).toMatch(/both credential slots are taken.*"force": true/);
    expect(w.writesSince(since)).toEqual([]);
    await w.expectInvariants();
  });

  it('a forced rotate deletes the retired credential early and never the current one', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const first = w.recordedId(arn);
    await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false });
    const second = w.recordedId(arn);

    const forced = only(
      await w.run({ action: 'rotate', target: { secretId: arn }, force: true, dryRun: false }),
    );
    expect(forced.outcome).toBe('rotated');
    expect(forced.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `delete ${first}`,
      expect.stringMatching(/^create ACCA/),
      expect.stringMatching(/^store ACCA/),
      `deactivate ${second}`,
    ]);
    await w.expectInvariants();
  });

  it('recovers a credential created by a run that failed before storing it, within two slots', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const first = w.recordedId(arn);
    w.advanceDays(31);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: 10, match: isStore });

    const failed = only(await w.run());
    expect(failed.outcome).toBe('failed');
    expect(failed.reason).toMatch(/was issued but not stored: the next run adopts it/);
    expect(w.recordedId(arn)).toBe(first); // the old credential still works: no lockout
    w.expectNoLockout();
    w.emulator.faults.clear();

    // The failed run said on its way out that it ended: the next invocation adopts at once.
    w.emulator.clock.advance(MINUTE);
    const recovered = only(await w.run());
    expect(recovered.outcome).toBe('recovered');
    expect(types(recovered)).toEqual(['reset', 'store', 'deactivate']);
    expect(w.emulator.iam.credentials({ userName: 'app' })).toHaveLength(2);
    expect(w.emulator.callsOf('CreateServiceSpecificCredential').filter((c) => c.outcome !== 'OK')).toEqual(
      [],
    );
    await w.expectInvariants();
  });

  it('recovers the credential behind a lost Create response, which the adapter does not retry', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const before = w.recordedId(arn);
    w.advanceDays(31);
    w.emulator.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'lose-response' });

    const failed = only(await w.run());
    // IAM created the credential but the response never arrived. Retrying Create would take
    // the last slot with a duplicate, so the adapter refuses the SDK's retry.
    expect(failed.outcome).toBe('failed');
    expect(failed.reason).toMatch(/ECONNRESET/);
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(2); // bootstrap + lost one
    expect(w.recordedId(arn)).toBe(before);
    w.expectNoLockout();
    expect(w.emulator.iam.credentials({ userName: 'app' })).toHaveLength(2);

    w.emulator.clock.advance(MINUTE);
    expect(only(await w.run()).outcome).toBe('recovered');
    await w.expectInvariants();
  });

  it('finishes the other targets when one fails, and reports the failure', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    w.addTarget('ci', CODECOMMIT);
    w.addTarget('ghost', KEYSPACES);
    w.emulator.iam.deleteUser('ghost');

    const report = await w.run();
    const byUser = Object.fromEntries(report.targets.map((t) => [t.userName, t]));
    expect(byUser.app?.outcome).toBe('rotated');
    expect(byUser.ci?.outcome).toBe('rotated');
    expect(byUser.ghost?.outcome).toBe('failed');
    expect(byUser.ghost?.reason).toContain('The user with name ghost cannot be found.');
    await w.expectInvariants([String(byUser.app?.secretId), String(byUser.ci?.secretId)]);
  });

  it('fails an unsupported service cleanly, touching nothing', async () => {
    const w = new World();
    w.addTarget('app', 'ec2.amazonaws.com');
    const since = w.emulator.calls.length;
    const r = only(await w.run());
    expect(r.outcome).toBe('failed');
    expect(r.reason).toContain('No such service ec2.amazonaws.com is supported');
    expect(w.writesSince(since)).toEqual([]);
  });

  it('fails a rotate of a secret scheduled for deletion before issuing anything', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    await w.secretsClient.send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
    const since = w.emulator.calls.length;
    const r = only(await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false }));
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/marked for deletion/);
    expect(w.writesSince(since)).toEqual([]);
    // A scheduled run does not even list it.
    expect((await w.run()).targets).toEqual([]);
  });

  it('plans without writing in a dry run, and reports without writing for status', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    const since = w.emulator.calls.length;

    const dry = only(await w.run({ action: 'reconcile', dryRun: true }));
    expect(dry.outcome).toBe('planned');
    expect(dry.reason).toBe('would be rotated');
    expect(types(dry)).toEqual(['create', 'store', 'deactivate']);
    const status = only(await w.run({ action: 'status' }));
    expect(status.outcome).toBe('planned');
    expect(status.credentials).toEqual([
      expect.objectContaining({ id: w.recordedId(arn), status: 'Active', current: true }),
    ]);
    expect(w.writesSince(since)).toEqual([]);
  });

  it('switches a hand-deactivated current credential back on when no slot is free', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false });
    const current = String(w.recordedId(arn));
    // Someone switches the current credential off by hand.
    await w.iamClient.send(
      new UpdateServiceSpecificCredentialCommand({
        UserName: 'app',
        ServiceSpecificCredentialId: current,
        Status: 'Inactive',
      }),
    );
    const r = only(await w.run());
    expect(r.outcome).toBe('recovered');
    expect(types(r)).toEqual(['activate']);
    await w.expectInvariants();
  });

  it('refuses to overwrite a secret that records another target, touching nothing', async () => {
    const w = new World();
    const alice = w.addTarget('alice', KEYSPACES);
    await w.run();
    const foreign = String(w.emulator.secrets.valueAt(alice));
    w.addTarget('bob', KEYSPACES, { value: foreign });
    const since = w.emulator.calls.length;
    const report = await w.run();
    const bob = report.targets.find((t) => t.userName === 'bob');
    expect(bob?.outcome).toBe('failed');
    expect(bob?.reason).toContain('records a credential of alice/cassandra.amazonaws.com');
    expect(w.writesSince(since)).toEqual([]);
    w.expectNoLeaks();
  });
});

describe('recovery by the write-ahead intent', () => {
  it('adopts at once after the store failed: the next invocation in the same minute stores the new credential, the one after writes nothing', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: Infinity, match: isStore });
    const failed = only(await w.run());
    const issued = failed.actions.find((a) => a.type === 'create')?.credentialId;
    expect(issued).toBeDefined();
    // The intent, marked ended on the way out: ids and times only.
    const intent = JSON.parse(String(w.emulator.secrets.valueAt(arn, INTENT_STAGE)));
    expect(Object.keys(intent).sort()).toEqual(
      ['currentVersionId', 'deadline', 'endedAt', 'known', 'requestId', 'writtenAt'].sort(),
    );
    w.emulator.faults.clear();

    w.emulator.clock.advance(MINUTE);
    const next = only(await w.run());
    expect(next.outcome).toBe('recovered');
    expect(w.recordedId(arn)).toBe(issued);
    expect(w.emulator.iam.credentials({ userName: 'app' }).length).toBeLessThanOrEqual(2);
    w.expectNoLockout();
    await w.expectInvariants(); // its second run writes nothing (I6)
  });

  it('adopts at once after a lost Create response (the applied Create is adopted, not repeated)', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    w.emulator.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'lose-response' });
    expect(only(await w.run()).outcome).toBe('failed');
    const orphan = w.emulator.iam
      .credentials({ userName: 'app' })
      .find((c) => c.ServiceSpecificCredentialId !== w.recordedId(arn));

    w.emulator.clock.advance(MINUTE);
    expect(only(await w.run()).outcome).toBe('recovered');
    expect(w.recordedId(arn)).toBe(orphan?.ServiceSpecificCredentialId);
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(2);
    await w.expectInvariants();
  });

  it("after a crash, adopts on Lambda's retry of the same invocation; another invocation waits for the deadline", async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    // The process dies right after Create: nothing is marked ended.
    w.emulator.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'crash-after' });
    await w.run({ action: 'reconcile', dryRun: false }, { requestId: 'crashed-invocation' });
    w.emulator.faults.clear();
    w.emulator.clock.advance(MINUTE);

    // A different invocation cannot know the crashed one is gone: it leaves the credential alone.
    const since = w.emulator.calls.length;
    const other = only(await w.run());
    expect(other.outcome).toBe('unchanged');
    expect(other.reason).toMatch(/issued by invocation crashed-invocation, which may still be running/);
    expect(w.writesSince(since)).toEqual([]);
    w.expectNoLockout();

    // Lambda's retry keeps the request id: that invocation has ended, so it adopts at once.
    const retry = only(
      await w.run({ action: 'reconcile', dryRun: false }, { requestId: 'crashed-invocation' }),
    );
    expect(retry.outcome).toBe('recovered');
    expect(w.recordedId(arn)).toBe(retry.currentCredentialId);
    await w.expectInvariants();
  });

  it('adopts after the deadline when the issuing invocation could not say it ended', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    w.emulator.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'crash-after' });
    await w.run();
    w.emulator.faults.clear();
    w.emulator.clock.advance(MAX_INVOCATION_MS - MINUTE);
    expect(only(await w.run()).outcome).toBe('unchanged');
    w.emulator.clock.advance(MINUTE);
    const r = only(await w.run());
    expect(r.outcome).toBe('recovered');
    expect(w.recordedId(arn)).toBe(r.currentCredentialId);
    await w.expectInvariants();
  });

  it('blocks, without any IAM write, when both slots are taken by credentials made by hand after the placeholder; a forced rotate converges', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    w.advanceDays(1);
    const byHand = [
      w.emulator.iam.issueCredential('app', KEYSPACES),
      w.emulator.iam.issueCredential('app', KEYSPACES),
    ].map((c) => c.ServiceSpecificCredentialId);
    const since = w.emulator.calls.length;

    const reconcile = only(await w.run());
    expect(reconcile.outcome).toBe('blocked');
    expect(reconcile.reason).toMatch(/both credential slots are taken/);
    const rotate = only(
      await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false }),
    );
    expect(rotate.outcome).toBe('blocked');
    expect(w.writesSince(since)).toEqual([]);
    for (const id of byHand) expect(w.emulator.iam.credential(id)?.Status).toBe('Active');
    w.emulator.clock.advance(20 * MINUTE); // no waiting makes them the rotator's own
    expect(only(await w.run()).outcome).toBe('blocked');
    expect(w.emulator.callsOf('ResetServiceSpecificCredential')).toEqual([]);

    const forced = only(
      await w.run({ action: 'rotate', target: { secretId: arn }, force: true, dryRun: false }),
    );
    expect(forced.outcome).toBe('rotated');
    await w.expectInvariants();
    expect(w.emulator.callsOf('ResetServiceSpecificCredential')).toEqual([]);
  });

  it('never resets a hand-made credential newer than the placeholder: issues its own and retires that one by rule 1', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    w.advanceDays(1);
    const byHand = w.emulator.iam.issueCredential('app', KEYSPACES).ServiceSpecificCredentialId;
    w.emulator.clock.advance(20 * MINUTE);

    const r = only(await w.run());
    expect(r.outcome).toBe('rotated');
    expect(types(r)).toEqual(['create', 'store', 'deactivate']);
    expect(r.actions.at(-1)?.credentialId).toBe(byHand);
    expect(w.recordedId(arn)).not.toBe(byHand);
    expect(w.emulator.callsOf('ResetServiceSpecificCredential')).toEqual([]);
    await w.expectInvariants();
  });
});

describe('executor details', () => {
  const denied = { code: 'AccessDenied', status: 403, message: 'User is not authorized' };

  it('reports a denied deactivate as a failure, never as done', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    w.emulator.faults.add({
      operation: 'UpdateServiceSpecificCredential',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
      error: denied,
    });
    const r = only(await w.run());
    expect(r.outcome).toBe('failed');
    expect(types(r)).toEqual(['create', 'store']);
    expect(r.reason).toMatch(/AccessDenied/);
  });

  it('reports a denied delete as a failure, never as done', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    await w.run();
    w.advanceDays(7);
    w.emulator.faults.add({
      operation: 'DeleteServiceSpecificCredential',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
      error: denied,
    });
    const r = only(await w.run());
    expect(r.outcome).toBe('failed');
    expect(r.actions).toEqual([]);
    expect(w.emulator.iam.credentials({ userName: 'app' })).toHaveLength(2);
  });

  it('reads a secret the batch read left out on its own, rather than taking it for empty', async () => {
    const w = new World();
    const arns = Array.from({ length: 20 }, (_, i) => w.addTarget(`user${i}`, KEYSPACES));
    await w.run();
    const batch = w.secrets.readCurrentMany.bind(w.secrets);
    w.secrets.readCurrentMany = async (ids) => {
      const values = await batch(ids);
      values.delete(arns[3] as string);
      return values;
    };
    w.advanceDays(1);
    const since = w.emulator.calls.length;
    const report = await w.run();
    expect(report.targets.map((t) => t.outcome)).toEqual(Array(20).fill('unchanged'));
    expect(w.writesSince(since)).toEqual([]);
    expect(w.emulator.calls.slice(since).filter((c) => c.operation === 'GetSecretValue')).toHaveLength(1);
  });

  it('reports a blocked rotation as blocked in a dry run even when rule 1 has work to do', async () => {
    const w = new World({ policy: { rotateAfterDays: 30, overlapDays: 1, gracePeriodDays: 7 } });
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false });
    w.advanceDays(2); // the replaced credential's overlap is over: deactivating it is due
    const dry = only(
      await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: true }),
    );
    expect(dry.outcome).toBe('blocked');
    expect(dry.reason).toMatch(/both credential slots are taken/);
  });

  it('marks exactly the recorded credential as current in a status report', async () => {
    const w = new World({ policy: { rotateAfterDays: 30, overlapDays: 1, gracePeriodDays: 7 } });
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const first = w.recordedId(arn);
    await w.run({ action: 'rotate', target: { secretId: arn }, force: false, dryRun: false });
    const status = only(await w.run({ action: 'status' }));
    expect(status.outcome).toBe('unchanged');
    expect(status.credentials?.map((c) => [c.id, c.current]).sort()).toEqual(
      [
        [first, false],
        [w.recordedId(arn), true],
      ].sort(),
    );
  });
});

describe('manual commands read ahead by the naming convention', () => {
  it('uses the tags, not the name, when a conventional name names another user', async () => {
    const w = new World();
    w.addTarget('bob', KEYSPACES);
    const misnamed = w.addTarget('alice', KEYSPACES, {
      secretName: 'team/bob/cassandra.amazonaws.com',
    });
    await w.run();
    const bobBefore = w.emulator.iam
      .credentials({ userName: 'bob' })
      .map((c) => c.ServiceSpecificCredentialId);

    const r = only(
      await w.run({
        action: 'rotate',
        target: { secretId: 'team/bob/cassandra.amazonaws.com' },
        force: false,
        dryRun: false,
      }),
    );
    expect(r.userName).toBe('alice');
    expect(r.outcome).toBe('rotated');
    expect(w.recordedId(misnamed)).toBe(r.currentCredentialId);
    expect(w.emulator.iam.credentials({ userName: 'bob' }).map((c) => c.ServiceSpecificCredentialId)).toEqual(
      bobBefore,
    );
    await w.expectInvariants();
  });

  it('finds a custom-named secret by user and service', async () => {
    const w = new World();
    const custom = w.addTarget('alice', KEYSPACES, { secretName: 'service-credentials/apps/alice-db' });
    await w.run();
    const r = only(
      await w.run({
        action: 'rotate',
        target: { userName: 'alice', serviceName: KEYSPACES },
        force: false,
        dryRun: false,
      }),
    );
    expect(r.outcome).toBe('rotated');
    expect(w.recordedId(custom)).toBe(r.currentCredentialId);
    await w.expectInvariants();
  });
});

describe('observation at fleet scale', () => {
  const countCalls = (w: World, since: number) => {
    const counts: Record<string, number> = {};
    for (const c of w.emulator.calls.slice(since)) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
    return counts;
  };

  it('reads secrets in batches of 20 and lists credentials per target by default', async () => {
    const w = new World({ emulator: { iamPageSize: 1000 } });
    for (let i = 0; i < 45; i++) w.addTarget(`user${i}`, KEYSPACES);
    await w.run();
    w.advanceDays(1);
    const since = w.emulator.calls.length;
    const report = await w.run();
    expect(report.targets.map((t) => t.outcome)).toEqual(Array(45).fill('unchanged'));
    expect(countCalls(w, since)).toEqual({
      ListSecrets: 1,
      BatchGetSecretValue: 3,
      ListServiceSpecificCredentials: 45,
    });
  });

  it("lists every user's credentials in one paged call per service when bulk listing is on", async () => {
    const w = new World({ emulator: { iamPageSize: 1000 }, bulkCredentialListing: true });
    for (let i = 0; i < 30; i++) w.addTarget(`user${i}`, i % 2 ? KEYSPACES : CODECOMMIT);
    await w.run();
    w.advanceDays(31);
    const since = w.emulator.calls.length;
    const report = await w.run();
    expect(report.targets.map((t) => t.outcome)).toEqual(Array(30).fill('rotated'));
    const counts = countCalls(w, since);
    expect(counts.ListServiceSpecificCredentials).toBe(2);
    expect(
      w.emulator.calls.slice(since).find((c) => c.operation === 'ListServiceSpecificCredentials')?.params,
    ).toEqual(expect.objectContaining({ AllUsers: 'true' }));
    await w.expectInvariants();
  });
});
