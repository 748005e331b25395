// What the run does with each kind of stale AWSPENDING (pending.ts), through the executor and
// the real SDK against the emulator: what is taken back, what is left, and that nothing is
// written when the time left does not fit the take-back.
import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { fakeLambdaContext } from '../../invariants/index.ts';
import { TARGET_WRITES_RESERVE_MS, VERIFICATION_BUDGET_MS } from '../../lambda/budget.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import type { RunDeps } from '../../lambda/rotation/deps.ts';
import type { TargetReport } from '../../lambda/rotation/model.ts';
import { recordFromIssued, serializeRecord } from '../../lambda/rotation/record.ts';
import { TAKE_BACK_WINDOW_MS } from '../../lambda/rotation/pending.ts';
import type { Verification } from '../../lambda/rotation/verification.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const FUNCTION_ARN = fakeLambdaContext().invokedFunctionArn;
const PENDING = 'AWSPENDING';
const RECONCILE = { action: 'reconcile', dryRun: false } as const;

function only(report: { targets: readonly TargetReport[] }): TargetReport {
  expect(report.targets).toHaveLength(1);
  return report.targets[0] as TargetReport;
}

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
  const deps = (extra: Partial<RunDeps> = {}): RunDeps => ({
    credentials: w.credentials,
    secrets: w.secrets,
    policy: w.policy,
    now: () => w.now(),
    log: w.log,
    ...extra,
  });
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
    const store = t.w.secrets;
    const secrets = new Proxy(store, {
      get: (target, key) => {
        if (key === 'versionCreatedAt') return async () => undefined;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
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
    const need = TARGET_WRITES_RESERVE_MS + VERIFICATION_BUDGET_MS;
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
});
