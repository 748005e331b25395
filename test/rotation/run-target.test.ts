// The run's own handling of one target (lambda/rotation/run.ts), as an operator sees it: the
// exact report, the log records and the AWS calls of each path: a stale rotation taken back
// before planning (and what is reported when the rest of the plan does not fit the time left),
// a young one left to Secrets Manager, a step another run has claimed, a verification cut by
// the deadline, a refused plan, and which targets a command reads and how. Real SDK clients
// against the emulator.
import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { fakeLambdaContext } from '../../invariants/index.ts';
import { OBSERVE_RESERVE_MS, TARGET_WRITES_RESERVE_MS, targetNeedMs } from '../../lambda/budget.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import { parseDeclaration } from '../../lambda/declared-targets.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import { IntentClaimedError } from '../../lambda/errors.ts';
import { BULK_OBSERVATION_THRESHOLD, type RunDeps } from '../../lambda/rotation/deps.ts';
import { TAKE_BACK_WINDOW_MS } from '../../lambda/rotation/pending.ts';
import { recordFromIssued, serializeRecord } from '../../lambda/rotation/record.ts';
import type { Verification } from '../../lambda/rotation/verification.ts';
import { World } from '../support/world.ts';
import { only, withMethod } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const FUNCTION_ARN = fakeLambdaContext().invokedFunctionArn;
const PENDING = 'AWSPENDING';
const RECONCILE = { action: 'reconcile', dryRun: false } as const;

/** The log records of one message since `since`, as level and data. */
const logged = (w: World, message: string, since = 0) =>
  w.logs
    .slice(since)
    .filter((l) => l.message === message)
    .map((l) => ({ level: l.level, data: l.data }));

const verified: Verification = { outcome: 'verified', reason: 'ok', attempts: 1, mode: 'enforce' };

/** A bootstrapped target whose secret has rotation on with this function, nothing pending. */
async function rotatingTarget(options: { bootstrapped?: boolean } = {}) {
  // One concurrency slot, and a throttled step never retried: how an empty AWSPENDING is left.
  const w = new World({ emulator: { reservedConcurrency: 1, throttledStepRetry: 'none' } });
  const arn = w.addTarget('app', KEYSPACES);
  if (options.bootstrapped ?? true) await w.run();
  w.emulator.rotations.invoker = async () => {};
  await w.secretsClient.send(
    new RotateSecretCommand({
      SecretId: arn,
      RotationLambdaARN: FUNCTION_ARN,
      RotationRules: { AutomaticallyAfterDays: 32 },
      RotateImmediately: false,
    }),
  );
  await w.emulator.rotations.settled();
  w.emulator.rotations.invoker = undefined;
  const base = { secretId: arn, userName: 'app', serviceName: KEYSPACES };
  /** When each pending version was made, as Secrets Manager lists it (the take-back's reason says). */
  const startedAt = new Map<string, Date>();
  const made = async (version: string) => {
    startedAt.set(version, (await w.secrets.versionCreatedAt(arn, version)) as Date);
    return version;
  };
  /** AWSPENDING on a new version holding `value`, as a half-made rotation leaves it. */
  const pending = async (value: string) =>
    made(
      (
        await w.secretsClient.send(
          new PutSecretValueCommand({ SecretId: arn, SecretString: value, VersionStages: [PENDING] }),
        )
      ).VersionId as string,
    );
  /** AWSPENDING on an empty version: the rotation's createSecret was throttled and never retried. */
  const emptyPending = async () => {
    w.emulator.rotations.invoker = async () => {};
    const release = w.emulator.rotations.occupy();
    const { VersionId } = await w.secretsClient.send(new RotateSecretCommand({ SecretId: arn }));
    await w.emulator.rotations.settled();
    release();
    w.emulator.rotations.invoker = undefined;
    return made(VersionId as string);
  };
  /** AWSPENDING holding the record of a credential createSecret issued: Active, never current. */
  const filledPending = async () => {
    const issued = await w.credentials.createCredential('app', KEYSPACES);
    return { id: issued.id, version: await pending(serializeRecord(recordFromIssued(issued))) };
  };
  const pendingVersions = () =>
    Object.entries(w.emulator.secrets.labels(arn))
      .filter(([, stages]) => stages.includes(PENDING))
      .map(([id]) => id);
  /** What the take-back says of a version it removed AWSPENDING from, and why. */
  const note = (version: string, why: string) =>
    `a rotation Secrets Manager started at ${startedAt.get(version)?.toISOString()} was left unfinished (version ${version}): ${why}; AWSPENDING removed`;
  return { w, arn, base, emptyPending, filledPending, pendingVersions, note };
}

describe('a stale rotation taken back by the run', () => {
  it('empty, on a due target: the label is removed and the target rotated directly, both reasons given', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    t.w.advanceDays(31);
    const version = await t.emptyPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const since = t.w.logs.length;

    const r = only(await runCommand(RECONCILE, t.w.deps()));

    const created = r.actions.find((a) => a.type === 'create')?.credentialId as string;
    expect(r.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `create ${created}`,
      `store ${created}`,
      `deactivate ${before}`,
    ]);
    expect(r).toMatchObject({ ...t.base, outcome: 'rotated', via: 'direct', currentCredentialId: created });
    // The scheduled rotation itself needs no explanation: the take-back's is the whole reason.
    expect(r.reason).toBe(t.note(version, 'createSecret never filled it'));
    expect(t.pendingVersions()).toEqual([]);
    expect(logged(t.w, 'target changed', since)).toEqual([
      { level: 'info', data: { ...t.base, outcome: 'rotated', actions: r.actions } },
    ]);
  });

  it('empty, on a new secret: both the take-back and the first credential are explained', async () => {
    const t = await rotatingTarget({ bootstrapped: false });
    const version = await t.emptyPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

    const r = only(await runCommand(RECONCILE, t.w.deps()));

    expect(r).toMatchObject({ outcome: 'rotated', via: 'direct' });
    expect(r.reason).toBe(
      `${t.note(version, 'createSecret never filled it')}; placeholder value, so a first credential is issued`,
    );
  });

  it('empty, on a target not due: only the label is removed, and the report says so alone', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    const version = await t.emptyPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const since = t.w.emulator.calls.length;

    const r = only(await runCommand(RECONCILE, t.w.deps()));

    expect(r).toStrictEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      currentCredentialId: before,
      currentIssuedAt: r.currentIssuedAt,
      nextDueAt: r.nextDueAt,
      reason: t.note(version, 'createSecret never filled it'),
    });
    expect(r.nextDueAt).toBeDefined();
    expect(t.pendingVersions()).toEqual([]);
    // The target is read again after the take-back, without AWSPREVIOUS (only a rollback needs it).
    const reads = t.w.emulator.calls.slice(since).filter((c) => c.operation === 'GetSecretValue');
    expect(reads.map((c) => c.params.VersionStage ?? c.params.VersionId ?? 'AWSCURRENT')).not.toContain(
      'AWSPREVIOUS',
    );
  });

  it('holding an Active credential: finished and stored, the one it replaces switched off', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    const { id } = await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

    const r = only(await runCommand(RECONCILE, t.w.deps()));

    expect(r).toMatchObject({ ...t.base, outcome: 'rotated', via: 'direct', currentCredentialId: id });
    expect(r.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `store ${id}`,
      `deactivate ${before}`,
    ]);
    expect(t.w.recordedId(t.arn)).toBe(id);
  });

  it('holding an Active credential whose predecessor is gone: finished is still reported as rotated', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    const { id } = await t.filledPending();
    await t.w.credentials.deleteCredential('app', before);
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

    const r = only(await runCommand(RECONCILE, t.w.deps()));

    expect(r).toMatchObject({ ...t.base, outcome: 'rotated', via: 'direct', currentCredentialId: id });
    expect(r.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([`store ${id}`]);
  });

  it('empty, on a due target with time only to observe: the label is removed and the target deferred', async () => {
    const t = await rotatingTarget();
    t.w.advanceDays(31);
    await t.emptyPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

    const r = await runCommand(RECONCILE, t.w.deps({ remainingTimeMs: () => OBSERVE_RESERVE_MS }));

    expect(r.targets).toEqual([]);
    expect(r.deferred).toEqual([t.arn]);
    expect(t.pendingVersions()).toEqual([]);
    expect(t.w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(1);
  });

  it('finished, when the rest of the plan no longer fits: reported with what it did and why it stopped', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    const { id, version } = await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    // Enough for the verified finish; the store uses up all but the observation reserve.
    let left = targetNeedMs({ writes: true, verifies: true });
    const storeCurrent = t.w.secrets.storeCurrent.bind(t.w.secrets);
    const secrets = withMethod(t.w.secrets, 'storeCurrent', async (secretId: string, value: string) => {
      const stored = await storeCurrent(secretId, value);
      left = OBSERVE_RESERVE_MS;
      return stored;
    });

    const r = await runCommand(
      RECONCILE,
      t.w.deps({ secrets, remainingTimeMs: () => left, verifyCredential: async () => verified }),
    );

    expect(r).not.toHaveProperty('deferred');
    expect(only(r)).toStrictEqual({
      ...t.base,
      outcome: 'rotated',
      actions: [{ type: 'store', credentialId: id, at: expect.any(String) }],
      currentCredentialId: id,
      reason: `${t.note(version, `its credential ${id} was finished: stored as AWSCURRENT`)}; the rest of its plan is deferred to the next run`,
      via: 'direct',
      verification: { credentialId: id, mode: 'enforce', outcome: 'verified', reason: 'ok', attempts: 1 },
    });
    // The one it replaced is left Active for the next run to switch off.
    expect(t.w.emulator.iam.credential(before)?.Status).toBe('Active');
  });

  it('refused under enforce, when the new credential no longer fits: reported as retired, the recorded one current', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    t.w.advanceDays(31);
    const { id, version } = await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    let left = targetNeedMs({ writes: true, verifies: true });
    const refused: Verification = { outcome: 'rejected', reason: 'no', attempts: 1, mode: 'enforce' };
    const verifyCredential = async () => {
      left = OBSERVE_RESERVE_MS;
      return refused;
    };

    const r = only(await runCommand(RECONCILE, t.w.deps({ remainingTimeMs: () => left, verifyCredential })));

    expect(r).toStrictEqual({
      ...t.base,
      outcome: 'retired',
      actions: [{ type: 'delete', credentialId: id, at: expect.any(String) }],
      currentCredentialId: before,
      reason: `${t.note(version, `its credential ${id} failed verification (rejected: no) and was deleted`)}; the rest of its plan is deferred to the next run`,
      verification: { credentialId: id, mode: 'enforce', outcome: 'rejected', reason: 'no', attempts: 1 },
    });
    expect(t.w.emulator.iam.credential(id)).toBeUndefined();
    expect(t.w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(2);
  });

  it('refused under enforce on a target not due: reported as retired (a credential was deleted), the recorded one current', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn) as string;
    const { id, version } = await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const refused: Verification = { outcome: 'rejected', reason: 'no', attempts: 1, mode: 'enforce' };

    const r = only(await runCommand(RECONCILE, t.w.deps({ verifyCredential: async () => refused })));

    expect(r).toMatchObject({
      ...t.base,
      outcome: 'retired',
      actions: [{ type: 'delete', credentialId: id, at: expect.any(String) }],
      currentCredentialId: before,
    });
    expect(r.reason).toContain(
      t.note(version, `its credential ${id} failed verification (rejected: no) and was deleted`),
    );
    expect(t.w.emulator.iam.credential(id)).toBeUndefined();
    expect(t.w.emulator.iam.credential(before)?.Status).toBe('Active');
  });

  it('refused under enforce on a due target: the rest of the plan rotates, and the report says rotated', async () => {
    const t = await rotatingTarget();
    t.w.advanceDays(31);
    const { id } = await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    let calls = 0;
    const refusedThenVerified = async (): Promise<Verification> =>
      calls++ === 0 ? { outcome: 'rejected', reason: 'no', attempts: 1, mode: 'enforce' } : verified;

    const r = only(await runCommand(RECONCILE, t.w.deps({ verifyCredential: refusedThenVerified })));

    expect(r.outcome).toBe('rotated');
    expect(r.actions.map((a) => a.type)).toEqual(['delete', 'create', 'store', 'deactivate']);
    expect(r.actions[0]).toMatchObject({ type: 'delete', credentialId: id });
    expect(t.w.emulator.iam.credential(id)).toBeUndefined();
  });

  it('holding an Active credential whose verified finish does not fit: deferred, nothing written', async () => {
    const t = await rotatingTarget();
    await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const since = t.w.emulator.calls.length;
    const need = targetNeedMs({ writes: true, verifies: true });

    const r = await runCommand(
      RECONCILE,
      t.w.deps({ remainingTimeMs: () => need - 1, verifyCredential: async () => verified }),
    );

    expect(r.targets).toEqual([]);
    expect(r.deferred).toEqual([t.arn]);
    expect(t.w.writesSince(since)).toEqual([]);
    expect(t.pendingVersions()).toHaveLength(1);
  });

  it('whose verification the deadline cuts short: deferred, the check logged with the warning', async () => {
    const t = await rotatingTarget();
    const { id } = await t.filledPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const cut: Verification = {
      outcome: 'rejected',
      reason: 'cut',
      attempts: 3,
      budgetCut: true,
      mode: 'enforce',
    };
    const since = t.w.logs.length;

    const r = await runCommand(RECONCILE, t.w.deps({ verifyCredential: async () => cut }));

    expect(r.targets).toEqual([]);
    expect(r.deferred).toEqual([t.arn]);
    expect(logged(t.w, 'target deferred: its verification was cut by the deadline', since)).toEqual([
      {
        level: 'warn',
        data: {
          ...t.base,
          reason: expect.stringContaining(`verification of pending credential ${id} was cut short`),
          actions: [],
          verification: {
            credentialId: id,
            mode: 'enforce',
            outcome: 'rejected',
            reason: 'cut',
            attempts: 3,
          },
        },
      },
    ]);
  });

  it('before a rollback: the target is read again with AWSPREVIOUS and rolled back', async () => {
    const t = await rotatingTarget();
    const first = t.w.recordedId(t.arn) as string;
    t.w.advanceDays(31);
    await t.w.run();
    const second = t.w.recordedId(t.arn) as string;
    expect(second).not.toBe(first);
    await t.emptyPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

    const r = only(
      await runCommand({ action: 'rollback', target: { secretId: t.arn }, dryRun: false }, t.w.deps()),
    );

    expect(r).toMatchObject({ outcome: 'rolled-back', currentCredentialId: first });
    expect(t.w.recordedId(t.arn)).toBe(first);
    expect(t.pendingVersions()).toEqual([]);
  });
});

describe('a rotation Secrets Manager is still running', () => {
  it('is left to it, and the log says why', async () => {
    const t = await rotatingTarget();
    await t.emptyPending();
    const since = t.w.logs.length;

    const r = only(await runCommand(RECONCILE, t.w.deps()));

    expect(r).toMatchObject({ outcome: 'unchanged', via: 'secrets-manager', actions: [] });
    expect(logged(t.w, 'target left to secrets manager', since)).toEqual([
      { level: 'info', data: { ...t.base, reason: r.reason } },
    ]);
  });

  it('a dry run takes no stale rotation back', async () => {
    const t = await rotatingTarget();
    await t.emptyPending();
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const since = t.w.emulator.calls.length;

    await runCommand({ action: 'reconcile', dryRun: true }, t.w.deps());

    expect(t.w.writesSince(since)).toEqual([]);
    expect(t.pendingVersions()).toHaveLength(1);
  });
});

describe('a step another run has claimed', () => {
  const claimed = (w: World) =>
    withMethod(w.secrets, 'writeIntent', async () => {
      throw new IntentClaimedError('PutSecretValue', 'ResourceExistsException', 'another run wrote it');
    });
  const reason = 'another run is doing the same step right now; it completes it';

  it('is left to that run: unchanged on the schedule, blocked for an operator, with the warning logged', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const base = { secretId: arn, userName: 'app', serviceName: KEYSPACES };
    const secrets = claimed(w);

    const scheduled = only(await runCommand(RECONCILE, w.deps({ secrets })));
    expect(scheduled).toStrictEqual({ ...base, outcome: 'unchanged', actions: [], reason });
    expect(logged(w, 'target left to another run')).toEqual([
      { level: 'warn', data: { ...base, reason, actions: [] } },
    ]);

    const manual = only(
      await runCommand(
        { action: 'rotate', target: { secretId: arn }, force: false, dryRun: false },
        w.deps({ secrets }),
      ),
    );
    expect(manual).toStrictEqual({ ...base, outcome: 'blocked', actions: [], reason });
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toEqual([]);
  });

  it('after a credential was retired this run: reported as retired with that action', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const first = w.recordedId(arn) as string;
    w.advanceDays(31);
    await w.run();
    w.advanceDays(31);

    const r = only(await runCommand(RECONCILE, w.deps({ secrets: claimed(w) })));

    expect(r).toStrictEqual({
      secretId: arn,
      userName: 'app',
      serviceName: KEYSPACES,
      outcome: 'retired',
      actions: [{ type: 'delete', credentialId: first, at: expect.any(String) }],
      reason,
    });
  });
});

describe('a failure', () => {
  it('of an AWS call is reported with the reason alone, and logged as an error', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    w.emulator.faults.add({
      operation: 'CreateServiceSpecificCredential',
      kind: 'fail',
      times: 10,
      error: { code: 'AccessDenied', status: 403, message: 'not allowed' },
    });
    const base = { secretId: arn, userName: 'app', serviceName: KEYSPACES };

    const r = only(await runCommand(RECONCILE, w.deps()));

    expect(r).toStrictEqual({ ...base, outcome: 'failed', actions: [], reason: r.reason });
    expect(r.reason).toMatch(/AccessDenied/);
    expect(logged(w, 'target failed')).toEqual([
      { level: 'error', data: { ...base, reason: r.reason, actions: [] } },
    ]);
  });

  it('a plan that refuses (another pair’s record) is warned of with its reason', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const other = w.addTarget('other', KEYSPACES);
    await w.run();
    // Another pair's record: overwriting it would destroy that pair's only copy of its password.
    const foreign = w.emulator.secrets.valueAt(other) as string;
    await w.secretsClient.send(new PutSecretValueCommand({ SecretId: arn, SecretString: foreign }));
    const since = w.logs.length;

    const r = only(
      await runCommand({ action: 'rotate', target: { secretId: arn }, force: true, dryRun: false }, w.deps()),
    );

    expect(r).toMatchObject({ outcome: 'failed', actions: [] });
    expect(r).not.toHaveProperty('tampering');
    expect(logged(w, 'target failed', since)).toEqual([
      { level: 'warn', data: { secretId: arn, userName: 'app', serviceName: KEYSPACES, reason: r.reason } },
    ]);
  });

  it('a value the rotator did not write is reported with the tampering, and its record written back', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const recorded = w.recordedId(arn);
    await w.secretsClient.send(
      new PutSecretValueCommand({ SecretId: arn, SecretString: 'overwritten by hand' }),
    );

    const r = only(await runCommand(RECONCILE, w.deps()));

    expect(r.outcome).toBe('recovered');
    expect(r.tampering).toMatch(/holds no credential record .*tampering/);
    expect(w.recordedId(arn)).toBe(recorded);
  });

  it('a manual rotate blocked by two taken slots is warned of with its reason', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    await w.run();
    const since = w.logs.length;

    const r = only(
      await runCommand(
        { action: 'rotate', target: { secretId: arn }, force: false, dryRun: false },
        w.deps(),
      ),
    );

    expect(r.outcome).toBe('blocked');
    expect(r.reason).toMatch(/both credential slots are taken/);
    expect(logged(w, 'target blocked', since)).toEqual([
      { level: 'warn', data: { secretId: arn, userName: 'app', serviceName: KEYSPACES, reason: r.reason } },
    ]);
  });
});

describe('the time a plan needs', () => {
  const enforce = (extra: Partial<RunDeps>) => ({
    verifyCredential: async () => verified,
    verificationMode: 'enforce' as const,
    ...extra,
  });

  it('includes the shortest verification for a first credential, an adoption, not for a deactivation', async () => {
    const writesOnly = { remainingTimeMs: () => TARGET_WRITES_RESERVE_MS };
    // A first credential.
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const first = await runCommand(RECONCILE, w.deps(enforce(writesOnly)));
    expect(first.deferred).toEqual([arn]);

    // An adoption: the store of a new credential failed, the next run adopts it.
    w.advanceDays(31);
    await w.run();
    w.emulator.faults.add({
      operation: 'PutSecretValue',
      kind: 'fail',
      times: 10,
      match: (p) => p.VersionStages === undefined,
    });
    w.advanceDays(31);
    await w.run();
    w.emulator.faults.clear();
    const since = w.emulator.calls.length;
    const adopting = await runCommand(RECONCILE, w.deps({ ...enforce(writesOnly) }));
    expect(adopting.deferred).toEqual([arn]);
    // Not started at all: no intent, no Reset (a started one would also end deferred, cut short).
    expect(w.writesSince(since)).toEqual([]);
    const adopted = only(await runCommand({ action: 'reconcile', dryRun: true }, w.deps()));
    expect(adopted.actions.map((a) => a.type)).toContain('reset');

    // A deactivation of a credential someone else issued.
    const v = new World();
    const other = v.addTarget('app', KEYSPACES);
    await v.run();
    const stray = await v.credentials.createCredential('app', KEYSPACES);
    const r = only(await runCommand(RECONCILE, v.deps(enforce(writesOnly))));
    expect(r).toMatchObject({ secretId: other, outcome: 'retired' });
    // Nothing was issued, so the report names no way it was issued.
    expect(r).not.toHaveProperty('via');
    expect(r.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([`deactivate ${stray.id}`]);
  });

  it('a first credential is reported with the plan’s reason alone', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const r = only(await runCommand(RECONCILE, w.deps()));
    expect(r.reason).toBe('placeholder value, so a first credential is issued');
  });
});

describe('which targets a command reads, and how', () => {
  it('a status of one target reads that target alone, once', async () => {
    const w = new World();
    const arn = w.addTarget('a', KEYSPACES);
    w.addTarget('b', KEYSPACES);
    await w.run();
    const since = w.emulator.calls.length;

    const r = await runCommand({ action: 'status', target: { secretId: arn } }, w.deps());

    expect(only(r).secretId).toBe(arn);
    const calls = w.emulator.calls.slice(since);
    expect(calls.filter((c) => c.operation === 'GetSecretValue')).toHaveLength(1);
    expect(calls.filter((c) => c.operation === 'ListServiceSpecificCredentials')).toHaveLength(1);
  });

  it('reads in bulk from the threshold on, target by target below it', async () => {
    const w = new World();
    for (let i = 0; i < BULK_OBSERVATION_THRESHOLD - 1; i++) w.addTarget(`u${i}`, KEYSPACES);
    let since = w.emulator.calls.length;
    const below = await runCommand({ action: 'status' }, w.deps());
    expect(below.targets).toHaveLength(BULK_OBSERVATION_THRESHOLD - 1);
    const each = w.emulator.calls.slice(since);
    expect(each.filter((c) => c.operation === 'BatchGetSecretValue')).toEqual([]);
    expect(
      each.filter((c) => c.operation === 'GetSecretValue' && c.params.VersionStage !== 'AWSPREVIOUS'),
    ).toHaveLength(BULK_OBSERVATION_THRESHOLD - 1);

    w.addTarget('last', KEYSPACES);
    since = w.emulator.calls.length;
    const at = await runCommand({ action: 'status' }, w.deps());
    expect(at.targets).toHaveLength(BULK_OBSERVATION_THRESHOLD);
    const calls = w.emulator.calls.slice(since);
    expect(calls.filter((c) => c.operation === 'BatchGetSecretValue')).toHaveLength(1);
    // AWSCURRENT came in the batch; only a placeholder's AWSPREVIOUS is read per target.
    expect(
      calls.filter((c) => c.operation === 'GetSecretValue' && c.params.VersionStage !== 'AWSPREVIOUS'),
    ).toEqual([]);
  });

  it('a status run reports each credential, and plans no action', async () => {
    const w = new World();
    const arn = w.addTarget('a', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    const t = only(await runCommand({ action: 'status', target: { secretId: arn } }, w.deps()));
    expect(t.actions).toEqual([]);
    expect(t.credentials).toHaveLength(1);
  });

  it('logs a misconfigured secret with what is wrong, and reports it failed', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const broken = w.emulator.secrets.createSecret('service-credentials/broken', {
      tags: { [USER_NAME_TAG]: 'broken' },
      value: 'x',
    });

    const r = await runCommand(RECONCILE, w.deps());

    expect(r.targets.map((t) => t.secretId).sort()).toEqual([arn, broken].sort());
    const misconfigured = r.targets.find((t) => t.secretId === broken);
    expect(misconfigured).toMatchObject({ outcome: 'failed', actions: [] });
    expect(misconfigured?.reason).toContain(`lacks a value for tag ${SERVICE_NAME_TAG}`);
    expect(logged(w, 'target misconfigured')).toEqual([
      { level: 'error', data: { secretId: broken, reason: misconfigured?.reason } },
    ]);
  });

  it('logs the secrets a declaration rejects', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const intruder = w.emulator.secrets.createSecret('service-credentials/app/copy', {
      tags: { [USER_NAME_TAG]: 'app', [SERVICE_NAME_TAG]: KEYSPACES },
      value: 'x',
    });
    const declaredTargets = parseDeclaration({
      version: 1,
      targets: [
        { secretName: `service-credentials/app/${KEYSPACES}`, userName: 'app', serviceName: KEYSPACES },
      ],
    });

    const r = await runCommand(RECONCILE, w.deps({ declaredTargets }));

    expect(r.rejected?.map((x) => x.secretId)).toEqual([intruder]);
    expect(logged(w, 'secrets rejected')).toEqual([
      {
        level: 'warn',
        data: expect.objectContaining({
          count: 1,
          secrets: [expect.objectContaining({ secretId: intruder, reason: r.rejected?.[0]?.reason })],
        }),
      },
    ]);
  });
});
