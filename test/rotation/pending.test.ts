// What the run does with each kind of stale AWSPENDING (pending.ts), through the executor and
// the real SDK against the emulator: what is taken back, what is left, and that nothing is
// written when the time left does not fit the take-back; then settlePending alone, with
// scripted ports.
import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { fakeLambdaContext } from '../../invariants/index.ts';
import { TARGET_WRITES_RESERVE_MS, targetNeedMs } from '../../lambda/budget.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import { VerificationDeferredError } from '../../lambda/errors.ts';
import type { RunDeps } from '../../lambda/rotation/deps.ts';
import { ExecutionError } from '../../lambda/rotation/execute.ts';
import type { Credential, IssuedCredential, ObservedTarget, Target } from '../../lambda/rotation/model.ts';
import { recordFromIssued, serializeRecord } from '../../lambda/rotation/record.ts';
import { settlePending, TAKE_BACK_WINDOW_MS } from '../../lambda/rotation/pending.ts';
import type { Verification } from '../../lambda/rotation/verification.ts';
import { type LogLine, recordingLog, World } from '../support/world.ts';
import { only, withMethod } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const FUNCTION_ARN = fakeLambdaContext().invokedFunctionArn;
const PENDING = 'AWSPENDING';
const RECONCILE = { action: 'reconcile', dryRun: false } as const;

/** A bootstrapped target whose secret has rotation on with this function, nothing pending. */
async function rotatingTarget() {
  const w = new World();
  const arn = w.addTarget('app', KEYSPACES);
  await w.run();
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
  const deps = (extra: Partial<RunDeps> = {}) => w.deps(extra);
  /** AWSPENDING on a new version holding `value`, as a half-made rotation leaves it. */
  const pending = async (value: string) =>
    (
      await w.secretsClient.send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: value, VersionStages: [PENDING] }),
      )
    ).VersionId as string;
  const pendingVersions = () =>
    Object.entries(w.emulator.secrets.labels(arn))
      .filter(([, stages]) => stages.includes(PENDING))
      .map(([id]) => id);
  const current = () => w.emulator.secrets.valueAt(arn) as string;
  return { w, arn, deps, pending, pendingVersions, current };
}

describe('a stale AWSPENDING', () => {
  it('holding no record of the target: the label is removed, the value kept as a version', async () => {
    const t = await rotatingTarget();
    const version = await t.pending('not a credential record');
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const since = t.w.emulator.calls.length;

    const r = only(await runCommand(RECONCILE, t.deps()));

    expect(r.outcome).toBe('unchanged');
    expect(r.reason).toMatch(/holds no credential record of this target; AWSPENDING removed/);
    expect(t.pendingVersions()).toEqual([]);
    expect(t.w.emulator.secrets.labels(t.arn)[version]).toBeUndefined();
    expect(t.w.writesSince(since)).toEqual([expect.stringMatching(/^UpdateSecretVersionStage .*AWSPENDING/)]);
    await t.w.expectInvariants();
  });

  it('recording the current credential, or one IAM no longer lists: only the label is removed', async () => {
    const t = await rotatingTarget();
    const current = t.current();
    await t.pending(current);
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    expect(only(await runCommand(RECONCILE, t.deps())).reason).toMatch(/its credential is already current/);

    const gone = JSON.stringify({ ...JSON.parse(current), credentialId: 'ACCA0000000000000GONE' });
    await t.pending(gone);
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const r = only(await runCommand(RECONCILE, t.deps()));
    expect(r.reason).toMatch(/its credential ACCA0000000000000GONE no longer exists; AWSPENDING removed/);
    expect(r.actions).toEqual([]);
    expect(t.pendingVersions()).toEqual([]);
    await t.w.expectInvariants();
  });

  it('is left while younger than the window, and taken back once it is that old', async () => {
    const t = await rotatingTarget();
    await t.pending('not a credential record');
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS - 60_000);
    const young = only(await runCommand(RECONCILE, t.deps()));
    expect(young).toMatchObject({ outcome: 'unchanged', via: 'secrets-manager', actions: [] });
    // A manual command is blocked, saying why.
    const manual = only(
      await runCommand(
        { action: 'rotate', target: { secretId: t.arn }, force: false, dryRun: false },
        t.deps(),
      ),
    );
    expect(manual).toMatchObject({ outcome: 'blocked', via: 'secrets-manager' });
    expect(t.pendingVersions()).toHaveLength(1);

    t.w.emulator.clock.advance(60_000);
    only(await runCommand(RECONCILE, t.deps()));
    expect(t.pendingVersions()).toEqual([]);
  });

  it('of unknown age (no CreatedDate listed) is taken back at once', async () => {
    const t = await rotatingTarget();
    await t.pending('not a credential record');
    const secrets = withMethod(t.w.secrets, 'versionCreatedAt', async () => undefined);
    const r = only(await runCommand(RECONCILE, t.deps({ secrets })));
    expect(r.reason).toMatch(/of unknown age was left unfinished/);
    expect(t.pendingVersions()).toEqual([]);
  });

  it('recording an Active credential is not touched when its verified finish does not fit the time left', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn);
    // A credential createSecret issued: Active, recorded only under AWSPENDING.
    const issued = await t.w.credentials.createCredential('app', KEYSPACES);
    await t.pending(serializeRecord(recordFromIssued(issued)));
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const verifyCredential = async (): Promise<Verification> => ({
      outcome: 'verified',
      reason: 'ok',
      attempts: 1,
      mode: 'enforce',
    });
    // The writes' reserve and the shortest verification worth starting (budget.ts).
    const need = targetNeedMs({ writes: true, verifies: true });
    const since = t.w.emulator.calls.length;

    const short = await runCommand(
      RECONCILE,
      t.deps({ verifyCredential, verificationMode: 'enforce', remainingTimeMs: () => need - 1 }),
    );
    expect(short.targets).toEqual([]);
    expect(short.deferred).toEqual([t.arn]);
    expect(t.w.writesSince(since)).toEqual([]);

    // Verification off: only the writes' reserve is needed, and 1 ms less is not enough.
    const offShort = await runCommand(
      RECONCILE,
      t.deps({
        verifyCredential,
        verificationMode: 'off',
        remainingTimeMs: () => TARGET_WRITES_RESERVE_MS - 1,
      }),
    );
    expect(offShort.deferred).toEqual([t.arn]);
    expect(t.w.writesSince(since)).toEqual([]);

    const done = only(
      await runCommand(
        RECONCILE,
        t.deps({ verifyCredential, verificationMode: 'enforce', remainingTimeMs: () => need }),
      ),
    );
    expect(done).toMatchObject({
      outcome: 'rotated',
      currentCredentialId: issued.id,
      verification: { credentialId: issued.id, mode: 'enforce', outcome: 'verified' },
    });
    expect(done.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `store ${issued.id}`,
      `deactivate ${before}`,
    ]);
    expect(t.pendingVersions()).toEqual([]);
    await t.w.expectInvariants();
  });

  it('recording an Active credential is deferred, untouched, when the deadline cuts its verification short', async () => {
    const t = await rotatingTarget();
    const before = t.w.recordedId(t.arn);
    const issued = await t.w.credentials.createCredential('app', KEYSPACES);
    await t.pending(serializeRecord(recordFromIssued(issued)));
    t.w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const cut = async (): Promise<Verification> => ({
      outcome: 'rejected',
      reason: 'refused after 3 attempts over 6 s',
      attempts: 3,
      budgetCut: true,
      mode: 'enforce',
    });
    const since = t.w.emulator.calls.length;
    const deps = t.deps({
      verifyCredential: cut,
      verificationMode: 'enforce',
      remainingTimeMs: () => 50_000,
    });

    const r = await runCommand(RECONCILE, deps);

    // No verdict: not deleted, not stored, not counted as failed; the next run takes it back again.
    expect(r.targets).toEqual([]);
    expect(r.deferred).toEqual([t.arn]);
    expect(t.w.writesSince(since)).toEqual([]);
    expect(t.w.recordedId(t.arn)).toBe(before);
    expect(t.pendingVersions()).toHaveLength(1);
    const next = only(await runCommand(RECONCILE, t.deps({ verificationMode: 'off' })));
    expect(next).toMatchObject({ outcome: 'rotated', currentCredentialId: issued.id });
    await t.w.expectInvariants();
  });
});

// settlePending on its own, with scripted ports recording every call and a recording log: the
// exact outcome, note and log line of each case, and where the take-back window ends.
describe('settlePending', () => {
  const T0 = new Date('2026-03-01T00:00:00.000Z');
  const target: Target = {
    secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-Ab12Cd',
    secretName: 'app',
    userName: 'app',
    serviceName: KEYSPACES,
    rotation: { enabled: true, pendingVersionId: 'p1' },
  };
  const cred = (id: string, status: Credential['status'] = 'Active'): Credential => ({
    id,
    userName: 'app',
    serviceName: KEYSPACES,
    status,
    createdAt: T0,
  });
  const recordOf = (id: string) =>
    serializeRecord(
      recordFromIssued({ ...cred(id), serviceUserName: 'app-at-1', servicePassword: `password-of-${id}` }),
    );
  const observed: ObservedTarget = {
    target,
    current: { versionId: 'v1', createdAt: T0, value: recordOf('C1') },
    credentials: [cred('C1'), cred('C2'), cred('C3', 'Inactive')],
  };

  interface Script {
    /** The pending version's age at `now`, in ms; undefined: listed without a date. */
    readonly ageMs: number | undefined;
    readonly pending?: string | undefined;
    readonly verify?: Partial<Verification>;
    readonly extra?: Partial<RunDeps>;
    readonly removeFails?: Error;
  }

  function world(script: Script) {
    const calls: string[] = [];
    const logs: LogLine[] = [];
    const verified: string[] = [];
    const now = new Date(T0.getTime() + TAKE_BACK_WINDOW_MS * 2);
    const secrets = {
      versionCreatedAt: async (_id: string, versionId: string) => {
        calls.push(`versionCreatedAt ${versionId}`);
        return script.ageMs === undefined ? undefined : new Date(now.getTime() - script.ageMs);
      },
      readVersion: async (_id: string, versionId: string, stage?: string) => {
        calls.push(`readVersion ${versionId} ${stage}`);
        return { versionId, createdAt: T0, value: script.pending };
      },
      removePending: async (_id: string, versionId: string) => {
        calls.push(`removePending ${versionId}`);
        if (script.removeFails) throw script.removeFails;
      },
      storeCurrent: async (_id: string, value: string) => {
        calls.push(`storeCurrent ${JSON.parse(value).credentialId}`);
        return 'v2';
      },
    } as unknown as RunDeps['secrets'];
    const credentials = {
      deleteCredential: async (_user: string, id: string) => {
        calls.push(`deleteCredential ${id}`);
      },
    } as unknown as RunDeps['credentials'];
    const deps: RunDeps = {
      credentials,
      secrets,
      policy: { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 },
      now: () => now,
      log: recordingLog(logs),
      ...(script.verify
        ? {
            verifyCredential: async (_t: Target, issued: IssuedCredential): Promise<Verification> => {
              verified.push(issued.id);
              return {
                outcome: 'verified',
                reason: 'accepted',
                attempts: 1,
                mode: 'enforce',
                ...script.verify,
              };
            },
          }
        : {}),
      ...script.extra,
    };
    return { deps, calls, logs, verified, now };
  }
  const settle = (w: ReturnType<typeof world>) => settlePending(observed, 'p1', w.deps);
  const startedAt = (w: ReturnType<typeof world>, ageMs: number) =>
    new Date(w.now.getTime() - ageMs).toISOString();

  it('leaves a rotation younger than the window, saying until when, and reads nothing more', async () => {
    const w = world({ ageMs: TAKE_BACK_WINDOW_MS - 1 });
    const started = startedAt(w, TAKE_BACK_WINDOW_MS - 1);
    const until = new Date(w.now.getTime() + 1).toISOString();
    expect(await settle(w)).toEqual({
      kind: 'left',
      reason:
        `a rotation Secrets Manager started at ${started} is in progress (version p1): ` +
        `left to it; a run after ${until} takes it back if it is still unfinished`,
    });
    expect(w.calls).toEqual(['versionCreatedAt p1']);
  });

  it('takes back a rotation exactly as old as the window, and logs what it did', async () => {
    const w = world({ ageMs: TAKE_BACK_WINDOW_MS, pending: undefined });
    const note =
      `a rotation Secrets Manager started at ${startedAt(w, TAKE_BACK_WINDOW_MS)} was left unfinished ` +
      '(version p1): createSecret never filled it; AWSPENDING removed';
    expect(await settle(w)).toStrictEqual({ kind: 'taken-back', taken: [], note });
    expect(w.calls).toEqual(['versionCreatedAt p1', 'readVersion p1 AWSPENDING', 'removePending p1']);
    expect(w.logs).toEqual([
      {
        level: 'warn',
        message: 'stale rotation taken back',
        data: { secretId: target.secretId, versionId: 'p1', reason: note, actions: [] },
      },
    ]);
  });

  it('takes back a version of unknown age at once', async () => {
    const w = world({ ageMs: undefined, pending: 'placeholder' });
    const outcome = await settle(w);
    expect(outcome).toMatchObject({
      kind: 'taken-back',
      note:
        'a rotation Secrets Manager of unknown age was left unfinished (version p1): ' +
        'it holds no credential record of this target; AWSPENDING removed',
    });
  });

  it('only removes the label from a record of a credential switched off', async () => {
    const w = world({ ageMs: undefined, pending: recordOf('C3') });
    expect(await settle(w)).toMatchObject({
      kind: 'taken-back',
      taken: [],
      note: expect.stringContaining(
        '(version p1): its credential C3 is Inactive; rule 1 retires it; AWSPENDING removed',
      ),
    });
    expect(w.calls).not.toContain('storeCurrent C3');
  });

  it('finishes a record of an Active credential: stored as AWSCURRENT, then the label removed', async () => {
    // No deadline (a run outside Lambda): the finish always fits.
    const w = world({ ageMs: undefined, pending: recordOf('C2') });
    const outcome = await settle(w);
    expect(outcome).toStrictEqual({
      kind: 'taken-back',
      taken: [{ type: 'store', credentialId: 'C2', at: w.now.toISOString() }],
      note:
        'a rotation Secrets Manager of unknown age was left unfinished (version p1): ' +
        'its credential C2 was finished: stored as AWSCURRENT; AWSPENDING removed',
    });
    expect(w.calls).toEqual([
      'versionCreatedAt p1',
      'readVersion p1 AWSPENDING',
      'storeCurrent C2',
      'removePending p1',
    ]);
  });

  it('does not verify a target whose mode is off, verifier or not', async () => {
    const w = world({
      ageMs: undefined,
      pending: recordOf('C2'),
      verify: {},
      extra: { verificationMode: 'off' },
    });
    const outcome = await settle(w);
    expect(w.verified).toEqual([]);
    expect(outcome).toMatchObject({ kind: 'taken-back', taken: [{ type: 'store', credentialId: 'C2' }] });
    expect(outcome).not.toHaveProperty('verification');
  });

  it('under warn, stores a credential that failed verification and logs the failure', async () => {
    const w = world({
      ageMs: undefined,
      pending: recordOf('C2'),
      verify: { mode: 'warn', outcome: 'rejected', reason: 'login refused', attempts: 2 },
    });
    const outcome = await settle(w);
    expect(w.calls).toEqual([
      'versionCreatedAt p1',
      'readVersion p1 AWSPENDING',
      'storeCurrent C2',
      'removePending p1',
    ]);
    expect(outcome).toMatchObject({
      verification: {
        credentialId: 'C2',
        mode: 'warn',
        outcome: 'rejected',
        reason: 'login refused',
        attempts: 2,
      },
    });
    expect(w.logs[0]).toEqual({
      level: 'warn',
      message: 'credential failed verification; stored anyway (verification: warn)',
      data: { secretId: target.secretId, credentialId: 'C2', outcome: 'rejected', reason: 'login refused' },
    });
  });

  it('under enforce, deletes a credential that failed verification and removes the label', async () => {
    const w = world({
      ageMs: undefined,
      pending: recordOf('C2'),
      verify: { outcome: 'rejected', reason: 'login refused' },
    });
    const outcome = await settle(w);
    expect(w.calls).toEqual([
      'versionCreatedAt p1',
      'readVersion p1 AWSPENDING',
      'deleteCredential C2',
      'removePending p1',
    ]);
    expect(outcome).toMatchObject({
      taken: [{ type: 'delete', credentialId: 'C2' }],
      note: expect.stringContaining(
        '(version p1): its credential C2 failed verification (rejected: login refused) and was deleted; AWSPENDING removed',
      ),
    });
  });

  it('a verification the deadline cut short writes nothing and says so', async () => {
    const w = world({
      ageMs: undefined,
      pending: recordOf('C2'),
      verify: { outcome: 'rejected', reason: 'refused 3 times', attempts: 3, budgetCut: true },
    });
    const error = await settle(w).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecutionError);
    const cause = (error as ExecutionError).cause;
    expect(cause).toBeInstanceOf(VerificationDeferredError);
    expect((cause as Error).message).toBe(
      "verification of pending credential C2 was cut short by the invocation's deadline (refused 3 times): " +
        'the next run takes the rotation back again',
    );
    expect(w.calls).toEqual(['versionCreatedAt p1', 'readVersion p1 AWSPENDING']);
  });

  it('a failure after the store keeps what was taken, like the executor', async () => {
    const failed = new Error('label not removed');
    const w = world({ ageMs: undefined, pending: recordOf('C2'), removeFails: failed });
    const error = await settle(w).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).cause).toBe(failed);
    expect((error as ExecutionError).taken).toEqual([
      { type: 'store', credentialId: 'C2', at: w.now.toISOString() },
    ]);
  });
});
