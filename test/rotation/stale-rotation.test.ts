// The scheduled path when Secrets Manager's step invocation is throttled and never retried
// (the emulator's default, the unfavourable reading of what AWS leaves undocumented): the
// function reserves one concurrency slot, a run holds it, and the rotation Secrets Manager
// started meanwhile is left half-made for good. The real handler serves both the scheduled
// runs and the steps, through the real SDK against the emulator. Whatever Secrets Manager does,
// the due target is rotated within two scheduled runs after the take-back window, once, with
// never more than two credentials.
import {
  DescribeSecretCommand,
  RotateSecretCommand,
  type RotateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import type { ThrottledStepRetry } from '../../emulator/index.ts';
import { fakeLambdaContext } from '../../invariants/index.ts';
import type { Config } from '../../lambda/config.ts';
import type { TargetReport } from '../../lambda/rotation/model.ts';
import { TAKE_BACK_WINDOW_MS } from '../../lambda/rotation/pending.ts';
import type { Verification, VerifyCredential } from '../../lambda/rotation/verification.ts';
import { handlerFor, type Invocation } from '../support/handler.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const FUNCTION_ARN = fakeLambdaContext().invokedFunctionArn;
const PENDING = 'AWSPENDING';

function only(run: Invocation): TargetReport {
  expect(run.error).toBeUndefined();
  expect(run.result?.targets).toHaveLength(1);
  return run.result?.targets[0] as TargetReport;
}

/**
 * A deployed rotator: reserved concurrency 1, a rotation schedule on the secret naming the
 * function, and its first credential issued. `onStep` runs inside each step's invocation.
 */
async function deployed(
  options: {
    throttledStepRetry?: ThrottledStepRetry;
    verify?: VerifyCredential;
    config?: Partial<Config>;
    onStep?: (step: string) => void;
  } = {},
) {
  const w = new World({
    emulator: { reservedConcurrency: 1, throttledStepRetry: options.throttledStepRetry ?? 'none' },
  });
  w.verifyCredential = options.verify;
  const h = handlerFor(w, options.config ?? {});
  w.emulator.rotations.invoker = async (_arn, event) => {
    const step = await h.invoke(event);
    options.onStep?.(event.Step);
    if (step.error) throw step.error;
  };
  const arn = w.addTarget('app', KEYSPACES);
  const first = only(await h.invoke({ action: 'reconcile' }));
  expect(first.outcome).toBe('rotated');
  const rotate = (input: Partial<RotateSecretCommandInput> = {}) =>
    w.secretsClient.send(new RotateSecretCommand({ SecretId: arn, ...input }));
  // What the construct deploys: the schedule (ceil(30) + 2 days), testSecret only on deploy.
  await rotate({
    RotationLambdaARN: FUNCTION_ARN,
    RotationRules: { AutomaticallyAfterDays: 32 },
    RotateImmediately: false,
  });
  expect((await w.emulator.rotations.settled()).at(-1)?.status).toBe('tested');

  const credentials = () => w.emulator.iam.credentials({ userName: 'app', serviceName: KEYSPACES });
  const most = { count: credentials().length };
  /** At most two credentials after every step of the scenario, and no Create IAM refused. */
  const checkSlots = () => {
    most.count = Math.max(most.count, credentials().length);
    expect(credentials().length).toBeLessThanOrEqual(2);
    expect(w.emulator.callsOf('CreateServiceSpecificCredential').every((c) => c.outcome === 'OK')).toBe(true);
  };
  /** The scheduled run: one invocation of the function, holding its only slot while it runs. */
  const scheduledRun = async () => {
    const run = await w.emulator.rotations.asInvocation(() => h.invoke({ action: 'reconcile' }));
    checkSlots();
    return run;
  };
  const pendingVersions = () =>
    Object.entries(w.emulator.secrets.labels(arn))
      .filter(([, stages]) => stages.includes(PENDING))
      .map(([id]) => id);
  const creates = () => w.emulator.callsOf('CreateServiceSpecificCredential').length;
  return { w, h, arn, rotate, credentials, checkSlots, scheduledRun, pendingVersions, creates, most };
}

describe('a rotation Secrets Manager started while the scheduled run held the only slot', () => {
  it('empty AWSPENDING, never retried: left while young, taken back by the first run after the window, rotated once', async () => {
    const d = await deployed();
    const { w, arn } = d;
    const before = w.recordedId(arn);
    w.advanceDays(31); // due for the rotator

    // Someone presses "Rotate secret immediately" while a run holds the slot.
    const release = w.emulator.rotations.occupy();
    const { VersionId: token } = await d.rotate();
    const [record] = (await w.emulator.rotations.settled()).slice(-1);
    release();
    expect(record).toMatchObject({ status: 'failed', throttled: true, token });
    expect(w.emulator.rotations.isAbandoned(arn, token as string)).toBe(true);
    expect(d.pendingVersions()).toEqual([token]);
    d.checkSlots();
    const createsBefore = d.creates();

    // Run 1, within the window: Secrets Manager may be between two steps; left to it.
    const young = only(await d.scheduledRun());
    expect(young).toMatchObject({ outcome: 'unchanged', via: 'secrets-manager', actions: [] });
    expect(young.reason).toMatch(/in progress .*left to it; a run after .* takes it back/);
    expect(d.creates()).toBe(createsBefore);

    // Run 2, after the window: taken back and rotated directly.
    w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const taken = only(await d.scheduledRun());
    expect(taken).toMatchObject({ outcome: 'rotated', via: 'direct' });
    expect(taken.reason).toMatch(/createSecret never filled it; AWSPENDING removed/);
    expect(d.pendingVersions()).toEqual([]);
    expect(d.creates()).toBe(createsBefore + 1);
    expect(w.recordedId(arn)).not.toBe(before);

    // Secrets Manager never takes the token up again, and its schedule counted the run's
    // PutSecretValue: nothing rotates the target a second time.
    expect(await w.emulator.retryPendingRotations()).toEqual([]);
    const described = await w.secretsClient.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.NextRotationDate?.getTime()).toBeGreaterThan(w.now().getTime() + 31 * 86_400_000);
    expect(await w.emulator.runScheduledRotations()).toEqual([]);
    expect(d.creates()).toBe(createsBefore + 1);
    expect(d.most.count).toBeLessThanOrEqual(2);
    await w.expectInvariants();
  });

  it("with throttledStepRetry 'later', Secrets Manager's late retry of the taken-back token changes nothing", async () => {
    const d = await deployed({ throttledStepRetry: 'later' });
    const { w, arn } = d;
    w.advanceDays(31);
    const release = w.emulator.rotations.occupy();
    const { VersionId: token } = await d.rotate();
    await w.emulator.rotations.settled();
    // Secrets Manager's retry comes only after the window, and the run is there first.
    w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    expect(
      only(await w.emulator.rotations.asInvocation(() => d.h.invoke({ action: 'reconcile' }))),
    ).toMatchObject({
      outcome: 'rotated',
    });
    release();
    const after = w.recordedId(arn);
    const creates = d.creates();

    expect(await w.emulator.retryPendingRotations()).toEqual([]);
    // The token's steps, if Secrets Manager invoked them anyway, are refused before any write.
    const late = await d.h.invoke({ Step: 'createSecret', SecretId: arn, ClientRequestToken: token });
    expect(String(late.error)).toMatch(/createSecret for secret .* rejected, nothing written/);
    expect(d.creates()).toBe(creates);
    expect(w.recordedId(arn)).toBe(after);
    d.checkSlots();
    await w.expectInvariants();
  });

  it("with throttledStepRetry 'later', a retry within the window finishes the rotation and the run leaves it be", async () => {
    const d = await deployed({ throttledStepRetry: 'later' });
    const { w, arn } = d;
    const before = w.recordedId(arn);
    w.advanceDays(31);
    const release = w.emulator.rotations.occupy();
    await d.rotate();
    await w.emulator.rotations.settled();
    // The scheduled run still holds the slot: it leaves the young rotation alone.
    expect(only(await d.h.invoke({ action: 'reconcile' }))).toMatchObject({ via: 'secrets-manager' });
    release();
    const createsBefore = d.creates();

    const [retried] = await w.emulator.retryPendingRotations();
    expect(retried).toMatchObject({ cause: 'retry', status: 'succeeded' });
    d.checkSlots();
    const after = w.recordedId(arn);
    expect(after).not.toBe(before);

    w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const next = only(await d.scheduledRun());
    expect(next.outcome).not.toBe('rotated');
    expect(d.creates()).toBe(createsBefore + 1);
    expect(w.recordedId(arn)).toBe(after);
    await w.expectInvariants();
  });

  it('AWSPENDING holding the new credential (a later step throttled): finished by the run, not issued again', async () => {
    let hold: (() => void) | undefined;
    const d = await deployed({
      // A run starts while createSecret runs and still holds the slot when setSecret comes.
      onStep: (step) => {
        if (step === 'createSecret') hold = d.w.emulator.rotations.occupy();
      },
    });
    const { w, arn } = d;
    const before = w.recordedId(arn);
    w.advanceDays(31);
    const { VersionId: token } = await d.rotate();
    const [record] = (await w.emulator.rotations.settled()).slice(-1);
    hold?.();
    expect(record?.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
      'createSecret:OK',
      'setSecret:TooManyRequestsException',
    ]);
    expect(d.pendingVersions()).toEqual([token]);
    expect(d.credentials()).toHaveLength(2);
    const createsBefore = d.creates();
    const pendingId = d
      .credentials()
      .map((c) => c.ServiceSpecificCredentialId)
      .find((id) => id !== before);

    expect(only(await d.scheduledRun())).toMatchObject({ outcome: 'unchanged', via: 'secrets-manager' });
    w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);
    const finished = only(await d.scheduledRun());

    expect(finished).toMatchObject({ outcome: 'rotated', via: 'direct', currentCredentialId: pendingId });
    expect(finished.reason).toMatch(/was finished: stored as AWSCURRENT; AWSPENDING removed/);
    expect(finished.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `store ${pendingId}`,
      `deactivate ${before}`,
    ]);
    expect(w.recordedId(arn)).toBe(pendingId);
    expect(d.pendingVersions()).toEqual([]);
    expect(d.creates()).toBe(createsBefore);
    expect(await w.emulator.runScheduledRotations()).toEqual([]);
    expect(d.most.count).toBeLessThanOrEqual(2);
    await w.expectInvariants();
  });

  it('a pending credential that fails enforced verification is deleted, and the due target rotated directly', async () => {
    // The bootstrap's credential passes; the pending one is refused; the next one passes.
    const verdicts: Verification['outcome'][] = ['verified', 'rejected', 'verified'];
    const verify: VerifyCredential = async () => {
      const outcome = verdicts.shift() ?? 'verified';
      return { outcome, reason: `the service said ${outcome}`, attempts: 1, mode: 'enforce' };
    };
    let hold: (() => void) | undefined;
    const d = await deployed({
      verify,
      config: { verification: 'enforce' },
      onStep: (step) => {
        if (step === 'createSecret') hold = d.w.emulator.rotations.occupy();
      },
    });
    const { w, arn } = d;
    const before = w.recordedId(arn);
    w.advanceDays(31);
    await d.rotate();
    await w.emulator.rotations.settled();
    hold?.();
    const pendingId = d
      .credentials()
      .map((c) => c.ServiceSpecificCredentialId)
      .find((id) => id !== before);
    w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

    const run = only(await d.scheduledRun());

    expect(run.outcome).toBe('rotated');
    expect(run.reason).toMatch(/failed verification \(rejected: the service said rejected\) and was deleted/);
    expect(run.actions.map((a) => a.type)).toEqual(['delete', 'create', 'store', 'deactivate']);
    expect(run.actions[0]?.credentialId).toBe(pendingId);
    // The report carries the check of the credential issued in the end.
    expect(run.verification).toMatchObject({ mode: 'enforce', outcome: 'verified' });
    expect(run.verification?.credentialId).not.toBe(pendingId);
    expect(w.emulator.iam.credential(String(pendingId))).toBeUndefined();
    expect(w.recordedId(arn)).not.toBe(before);
    expect(d.pendingVersions()).toEqual([]);
    expect(d.most.count).toBeLessThanOrEqual(2);
    await w.expectInvariants();
  });
});
