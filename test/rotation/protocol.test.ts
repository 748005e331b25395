// Secrets Manager's rotation-function protocol, end to end: the emulator plays Secrets Manager
// (RotateSecret, the four step invocations, retries, its schedule) and its invoker calls the
// real handler in process; the handler talks to the same emulator through the real SDK.
import {
  DescribeSecretCommand,
  RotateSecretCommand,
  type RotateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ROTATION_STEP_OPERATION, type RotationEvent } from '../../emulator/rotations.ts';
import { RotationStepRejectedError, RunFailedError } from '../../lambda/errors.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import { TAKE_BACK_WINDOW_MS } from '../../lambda/rotation/pending.ts';
import type { Verification, VerifyCredential } from '../../lambda/rotation/verification.ts';
import { fakeLambdaContext } from '../../invariants/index.ts';
import { handlerFor } from '../support/handler.ts';
import { World } from '../support/world.ts';
import { only } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
/** The ARN the fake Lambda context gives the handler: this function, in Secrets Manager's eyes. */
const FUNCTION_ARN = fakeLambdaContext().invokedFunctionArn;
const OTHER_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:someone-else';
const TOKEN = '11111111-2222-3333-4444-555555555555';

/** A world whose emulator invokes the real handler for each rotation step. */
function rotationWorld(opts: { verify?: VerifyCredential } = {}) {
  const w = new World();
  const h = handlerFor(w);
  const steps: { event: RotationEvent; error?: unknown }[] = [];
  w.emulator.rotations.invoker = async (arn, event) => {
    if (opts.verify) {
      // The verification seam is a run dependency: drive the executor directly.
      try {
        const report = await runCommand(
          {
            action: 'rotation-step',
            step: event.Step,
            secretId: event.SecretId,
            token: event.ClientRequestToken,
          },
          {
            credentials: w.credentials,
            secrets: w.secrets,
            policy: w.policy,
            now: () => w.now(),
            log: w.log,
            functionArn: arn,
            verifyCredential: opts.verify,
          },
        );
        const failed = report.targets.filter((t) => t.outcome === 'failed');
        if (failed.length > 0)
          throw new RunFailedError(
            failed.map((t) => t.secretId),
            failed.map((t) => t.reason ?? ''),
          );
        steps.push({ event });
      } catch (error) {
        steps.push({ event, error });
        throw error;
      }
      return;
    }
    const result = await h.invoke(event);
    steps.push({ event, error: result.error });
    if (result.error) throw result.error;
  };
  const rotate = (secretId: string, input: Partial<RotateSecretCommandInput> = {}) =>
    w.secretsClient.send(
      new RotateSecretCommand({
        SecretId: secretId,
        RotationLambdaARN: FUNCTION_ARN,
        RotationRules: { AutomaticallyAfterDays: 30 },
        ...input,
      }),
    );
  const credentialsOf = (userName: string) =>
    w.emulator.iam.credentials({ userName, serviceName: KEYSPACES });
  return { w, h, steps, rotate, credentialsOf };
}

/** A target with its first credential, issued by the scheduled run. */
async function bootstrapped(world: ReturnType<typeof rotationWorld>, user = 'app') {
  const arn = world.w.addTarget(user, KEYSPACES);
  const report = await world.w.run({
    action: 'rotate',
    target: { secretId: arn },
    force: false,
    dryRun: false,
  });
  expect(only(report).outcome).toBe('rotated');
  return arn;
}

/** A bootstrapped target whose rotation Secrets Manager started failed at testSecret's check by `verify`. */
async function failedAtTestSecret(verify: VerifyCredential) {
  const world = rotationWorld({ verify });
  const arn = await bootstrapped(world);
  const first = world.w.recordedId(arn);

  await world.rotate(arn);
  const [record] = await world.w.emulator.rotations.settled();

  expect(record?.steps.map((s) => s.step)).toEqual(['createSecret', 'setSecret', 'testSecret']);
  expect(record?.status).toBe('failed');
  return { world, arn, first, record };
}

describe('rotation protocol', () => {
  it('rotates a secret when Secrets Manager rotates it (the console button, aws secretsmanager rotate-secret)', async () => {
    const world = rotationWorld();
    const { w } = world;
    const arn = await bootstrapped(world);
    const first = w.recordedId(arn);

    await world.rotate(arn);
    const [record] = await w.emulator.rotations.settled();

    expect(record?.status).toBe('succeeded');
    expect(record?.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
      'createSecret:OK',
      'setSecret:OK',
      'testSecret:OK',
      'finishSecret:OK',
    ]);
    const second = w.recordedId(arn);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(w.emulator.iam.credential(String(first))?.Status).toBe('Inactive');
    expect(world.credentialsOf('app')).toHaveLength(2);
    const described = await w.secretsClient.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.RotationEnabled).toBe(true);
    expect(described.LastRotatedDate).toBeInstanceOf(Date);
    await w.expectInvariants();
  });

  it('passes the configuration test of RotateImmediately false and changes nothing', async () => {
    const world = rotationWorld();
    const arn = await bootstrapped(world);
    const before = world.w.recordedId(arn);
    const since = world.w.emulator.calls.length;

    await world.rotate(arn, { RotateImmediately: false });
    const [record] = await world.w.emulator.rotations.settled();

    expect(record?.status).toBe('tested');
    expect(world.w.recordedId(arn)).toBe(before);
    expect(world.w.writesSince(since).filter((c) => !c.startsWith('RotateSecret'))).toEqual([]);
    expect(world.credentialsOf('app')).toHaveLength(1);
  });

  it('takes every step twice without a second credential or a second write', async () => {
    const world = rotationWorld();
    const { w, h } = world;
    const arn = await bootstrapped(world);
    // A rotation started without the function running: Secrets Manager's side only.
    w.emulator.faults.add({ operation: ROTATION_STEP_OPERATION, kind: 'fail' });
    const token = (await world.rotate(arn, { ClientRequestToken: TOKEN })).VersionId as string;
    await w.emulator.rotations.settled();

    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      const event = { Step: step, SecretId: arn, ClientRequestToken: token };
      const once = await h.invoke(event);
      expect(once.error).toBeUndefined();
      const since = w.emulator.calls.length;
      const twice = await h.invoke(event);
      expect(twice.error).toBeUndefined();
      expect(w.writesSince(since), `${step} repeated`).toEqual([]);
      expect(world.credentialsOf('app').length).toBeLessThanOrEqual(2);
    }
    expect(JSON.parse(String(w.emulator.secrets.valueAt(arn))).credentialId).toBe(w.recordedId(arn));
    expect(w.emulator.secrets.labels(arn)[token]).toContain('AWSCURRENT');
    await w.expectInvariants();
  });

  it('adopts, on the retry, a credential created before a crash that kept it out of AWSPENDING', async () => {
    const world = rotationWorld();
    const { w } = world;
    const arn = await bootstrapped(world);
    const first = w.recordedId(arn);
    w.emulator.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'crash-after' });

    await world.rotate(arn);
    const [failed] = await w.emulator.rotations.settled();
    expect(failed?.status).toBe('failed');
    expect(world.credentialsOf('app')).toHaveLength(2); // the unstored one
    w.emulator.faults.revive();

    const [retried] = await w.emulator.retryPendingRotations();

    expect(retried?.status).toBe('succeeded');
    expect(world.credentialsOf('app')).toHaveLength(2);
    const adopted = w.recordedId(arn);
    expect(adopted).not.toBe(first);
    expect(w.emulator.calls.some((c) => c.operation === 'ResetServiceSpecificCredential')).toBe(true);
    await w.expectInvariants();
  });

  it('completes, on Secrets Manager retry, a rotation the service crashed in between two steps', async () => {
    const world = rotationWorld();
    const { w } = world;
    const arn = await bootstrapped(world);
    w.emulator.faults.add({
      operation: ROTATION_STEP_OPERATION,
      kind: 'crash-after',
      match: (p) => p.Step === 'testSecret',
    });

    await world.rotate(arn);
    await w.emulator.rotations.settled();
    w.emulator.faults.revive();
    // The scheduled run in between leaves the target to Secrets Manager.
    const between = only(await w.run());
    expect(between).toMatchObject({ outcome: 'unchanged', via: 'secrets-manager', actions: [] });
    const [retried] = await w.emulator.retryPendingRotations();

    expect(retried?.status).toBe('succeeded');
    expect(world.credentialsOf('app')).toHaveLength(2);
    await w.expectInvariants();
  });

  it('finishes the rotation with rule 1 when the move happened but the retirement did not', async () => {
    const world = rotationWorld();
    const { w } = world;
    const arn = await bootstrapped(world);
    const first = w.recordedId(arn);
    w.emulator.faults.add({ operation: 'UpdateServiceSpecificCredential', kind: 'fail', times: 3 });

    await world.rotate(arn);
    const [failed] = await w.emulator.rotations.settled();
    expect(failed?.steps.at(-1)?.step).toBe('finishSecret');
    expect(w.emulator.iam.credential(String(first))?.Status).toBe('Active');
    // AWSCURRENT moved: the rotation counts as done and nothing is lost.
    await w.expectInvariants().catch(() => undefined);
    expect(w.recordedId(arn)).not.toBe(first);

    await w.run(); // the scheduled run applies rule 1
    expect(w.emulator.iam.credential(String(first))?.Status).toBe('Inactive');
    await w.expectInvariants();
  });

  it('fails createSecret with a clear message instead of deleting a credential in its grace period', async () => {
    const world = rotationWorld();
    const { w } = world;
    const arn = await bootstrapped(world);
    w.advanceDays(31);
    expect(only(await w.run())).toMatchObject({ outcome: 'rotated', via: 'direct' }); // no rotation configured yet
    const ids = world.credentialsOf('app').map((c) => c.ServiceSpecificCredentialId);

    await world.rotate(arn);
    const [record] = await w.emulator.rotations.settled();

    expect(record?.status).toBe('failed');
    expect(world.credentialsOf('app').map((c) => c.ServiceSpecificCredentialId)).toEqual(ids);
    const failure = world.steps.find((s) => s.error !== undefined);
    expect(failure?.event.Step).toBe('createSecret');
    expect(String(failure?.error)).toMatch(
      /createSecret failed: no credential can be issued: both credential slots are taken/,
    );
    await w.expectInvariants();
  });

  it('rejects a step for a secret it does not manage, writing nothing', async () => {
    const world = rotationWorld();
    const { w, h } = world;
    const untagged = w.emulator.secrets.createSecret('someone/else', { value: 'not ours' });
    const otherFunction = await bootstrapped(world, 'other');
    w.emulator.rotations.invoker = undefined;
    const t1 = (await world.rotate(untagged)).VersionId as string;
    const t2 = (await world.rotate(otherFunction, { RotationLambdaARN: OTHER_FUNCTION_ARN }))
      .VersionId as string;
    await w.emulator.rotations.settled();
    const since = w.emulator.calls.length;

    const a = await h.invoke({ Step: 'createSecret', SecretId: untagged, ClientRequestToken: t1 });
    const b = await h.invoke({ Step: 'createSecret', SecretId: otherFunction, ClientRequestToken: t2 });

    expect(a.error).toBeInstanceOf(RotationStepRejectedError);
    expect(String(a.error)).toMatch(/rejected, nothing written: this function does not manage it/);
    expect(b.error).toBeInstanceOf(RotationStepRejectedError);
    expect(String(b.error)).toMatch(/its rotation function is .*someone-else, not this function/);
    expect(w.writesSince(since)).toEqual([]);
  });

  it('rejects a malformed step event before touching anything', async () => {
    const { w, h } = rotationWorld();
    const since = w.emulator.calls.length;
    const bad = await h.invoke({
      Step: 'createsecret',
      SecretId: 'x',
      ClientRequestToken: 'short',
      Extra: 1,
    });
    expect(String(bad.error)).toMatch(/"Step" must be one of "createSecret"/);
    expect(String(bad.error)).toMatch(/"ClientRequestToken" must be 32-64/);
    expect(String(bad.error)).toMatch(/unknown field\(s\) "Extra"/);
    expect(w.emulator.calls.length).toBe(since);
  });

  it('removes the new credential and AWSPENDING when enforced verification refuses it', async () => {
    const verify: VerifyCredential = async () => ({
      outcome: 'rejected',
      reason: 'the service refused the login',
      attempts: 1,
      mode: 'enforce',
    });
    const { world, arn, first } = await failedAtTestSecret(verify);
    const { w } = world;
    expect(world.credentialsOf('app').map((c) => c.ServiceSpecificCredentialId)).toEqual([first]);
    expect(Object.values(w.emulator.secrets.labels(arn)).flat()).not.toContain('AWSPENDING');
    expect(w.recordedId(arn)).toBe(first);
    // The next rotation starts clean.
    await world.rotate(arn);
    await w.emulator.rotations.settled();
    await w.expectInvariants();
  });

  describe('when the deadline cuts enforced verification short (no verdict)', () => {
    /** Rejected with the retries cut by the invocation's deadline, then the given verdicts. */
    function cutThen(...later: Verification['outcome'][]): { verify: VerifyCredential; calls: () => number } {
      let calls = 0;
      const verify: VerifyCredential = async () => {
        const outcome = calls === 0 ? undefined : later[Math.min(calls, later.length) - 1];
        calls++;
        if (outcome === undefined) {
          return {
            outcome: 'rejected',
            reason: "the service refused the login, cut short by the caller's 3 s budget",
            attempts: 2,
            budgetCut: true,
            mode: 'enforce',
          };
        }
        return { outcome, reason: `the service said ${outcome}`, attempts: 1, mode: 'enforce' };
      };
      return { verify, calls: () => calls };
    }

    /** A bootstrapped target whose Secrets Manager rotation failed at the cut testSecret. */
    async function cutRotation(...later: Verification['outcome'][]) {
      const { verify, calls } = cutThen(...later);
      const { world, arn, first, record } = await failedAtTestSecret(verify);
      const { w } = world;
      const failure = world.steps.find((s) => s.error !== undefined);
      expect(String(failure?.error)).toMatch(
        /testSecret failed: verification of pending credential \S+ was cut short by the invocation's deadline .*no verdict, so it is kept and AWSPENDING stays/,
      );
      // Nothing deleted, nothing removed: the pending credential and its version stay for the retry.
      const ids = world.credentialsOf('app').map((c) => c.ServiceSpecificCredentialId);
      expect(ids).toHaveLength(2);
      const pending = ids.find((id) => id !== first);
      expect(world.credentialsOf('app').every((c) => c.Status === 'Active')).toBe(true);
      const pendingVersion = Object.entries(w.emulator.secrets.labels(arn)).find(([, labels]) =>
        labels.includes('AWSPENDING'),
      )?.[0];
      expect(pendingVersion).toBe(record?.token);
      expect(w.recordedId(arn)).toBe(first);
      expect(calls()).toBe(1);
      return { world, arn, first, pending, verify, calls };
    }

    it('fails testSecret keeping the credential and AWSPENDING; Secrets Manager retry finishes the rotation', async () => {
      const { world, arn, first, pending } = await cutRotation('verified');
      const { w } = world;
      // The scheduled run in between leaves the young rotation to Secrets Manager.
      expect(only(await w.run())).toMatchObject({
        outcome: 'unchanged',
        via: 'secrets-manager',
        actions: [],
      });

      const [retried] = await w.emulator.retryPendingRotations();

      expect(retried?.status).toBe('succeeded');
      // The retry's createSecret found the record: no new credential, the cut one is current.
      expect(w.recordedId(arn)).toBe(pending);
      expect(
        world
          .credentialsOf('app')
          .map((c) => c.ServiceSpecificCredentialId)
          .sort(),
      ).toEqual([first, pending].sort());
      expect(w.emulator.iam.credential(String(first))?.Status).toBe('Inactive');
      await w.expectInvariants();
    });

    it('deletes the credential only when a later test gives the verdict "rejected"', async () => {
      const { world, arn, first } = await cutRotation('rejected');
      const { w } = world;

      const [retried] = await w.emulator.retryPendingRotations();

      expect(retried?.status).toBe('failed');
      expect(world.credentialsOf('app').map((c) => c.ServiceSpecificCredentialId)).toEqual([first]);
      expect(Object.values(w.emulator.secrets.labels(arn)).flat()).not.toContain('AWSPENDING');
      expect(w.recordedId(arn)).toBe(first);
      await w.expectInvariants();
    });

    it('leaves a rotation nobody retries to the scheduled run, which takes it back after the window', async () => {
      const { world, arn, first, pending, verify, calls } = await cutRotation('verified');
      const { w } = world;
      // The scheduled run verifies with the same (deployed) verifier as the steps.
      w.verifyCredential = verify;
      w.emulator.clock.advance(TAKE_BACK_WINDOW_MS);

      const run = only(await w.run());

      // The run verifies the pending credential itself (verified) and stores it as AWSCURRENT.
      expect(calls()).toBe(2);
      expect(run).toMatchObject({ outcome: 'rotated' });
      expect(w.recordedId(arn)).toBe(pending);
      expect(Object.values(w.emulator.secrets.labels(arn)).flat()).not.toContain('AWSPENDING');
      expect(world.credentialsOf('app')).toHaveLength(2);
      expect(w.emulator.iam.credential(String(first))?.Status).toBe('Inactive');
      await w.expectInvariants();
    });
  });
});

describe('scheduled run and Secrets Manager rotation', () => {
  it('rotates due targets directly, never through RotateSecret, and Secrets Manager counts it as a rotation', async () => {
    const world = rotationWorld();
    const { w, h } = world;
    const managed = await bootstrapped(world, 'app');
    const plain = await bootstrapped(world, 'plain');
    await world.rotate(managed, { RotateImmediately: false });
    await w.emulator.rotations.settled();
    w.advanceDays(31);
    const due = w.now().getTime();
    const rotations = w.emulator.rotations.history.length;

    const run = await h.invoke({ action: 'reconcile' });
    const byId = new Map(run.result?.targets.map((t) => [t.secretId, t]));
    expect(byId.get(managed)).toMatchObject({ outcome: 'rotated', via: 'direct' });
    expect(byId.get(plain)).toMatchObject({ outcome: 'rotated', via: 'direct' });
    expect(w.emulator.callsOf('RotateSecret')).toHaveLength(1); // the test's own, above
    expect(w.emulator.rotations.history).toHaveLength(rotations);

    // The run's PutSecretValue moved Secrets Manager's next rotation date (a manual update
    // "is considered a valid rotation"): its schedule has nothing to do.
    const described = await w.secretsClient.send(new DescribeSecretCommand({ SecretId: managed }));
    expect(described.NextRotationDate?.getTime()).toBeGreaterThanOrEqual(due + 30 * 86_400_000);
    expect(await w.emulator.runScheduledRotations()).toEqual([]);
    const quiet = await h.invoke({ action: 'reconcile' });
    expect(quiet.result?.targets.every((t) => t.outcome === 'unchanged' && t.actions.length === 0)).toBe(
      true,
    );
    await w.expectInvariants();
  });

  it('rotates once when RotateSecret starts while a scheduled run is in progress', async () => {
    const world = rotationWorld();
    const { w, h } = world;
    const arn = await bootstrapped(world);
    await world.rotate(arn, { RotateImmediately: false });
    await w.emulator.rotations.settled();
    w.advanceDays(31);
    const first = w.recordedId(arn);
    // Reserved concurrency 1: a step invoked while the run is still going is throttled.
    let running = 0;
    const invoke = w.emulator.rotations.invoker;
    w.emulator.rotations.invoker = async (fn, event) => {
      if (running > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      running++;
      try {
        return await invoke?.(fn, event);
      } finally {
        running--;
      }
    };
    const most = { count: 0 };
    const watch = setInterval(() => {
      most.count = Math.max(most.count, world.credentialsOf('app').length);
    }, 1);

    running++;
    const scheduled = h.invoke({ action: 'reconcile' }).finally(() => running--);
    const button = world.rotate(arn).catch((error: unknown) => error);
    const [run, started] = await Promise.all([scheduled, button]);
    await w.emulator.rotations.settled();
    for (let i = 0; i < 3 && w.emulator.secrets.unfinishedRotations().length > 0; i++) {
      await w.emulator.retryPendingRotations();
    }
    clearInterval(watch);

    expect(run.error).toBeUndefined();
    expect(only(run.result).via).toBe('secrets-manager');
    expect(started).toBeDefined();
    const succeeded = w.emulator.rotations.history.filter((r) => r.status === 'succeeded');
    expect(succeeded).toHaveLength(1);
    expect(w.recordedId(arn)).not.toBe(first);
    expect(world.credentialsOf('app')).toHaveLength(2);
    expect(most.count).toBeLessThanOrEqual(2);
    await w.expectInvariants();
  });

  it('leaves a manual rotate for a target whose Secrets Manager rotation is in progress', async () => {
    const world = rotationWorld();
    const { w, h } = world;
    const arn = await bootstrapped(world);
    w.emulator.faults.add({
      operation: ROTATION_STEP_OPERATION,
      kind: 'fail',
      match: (p) => p.Step === 'testSecret',
    });
    await world.rotate(arn);
    await w.emulator.rotations.settled();
    const count = world.credentialsOf('app').length;

    const manual = await h.invoke({ action: 'rotate', secretId: arn });

    expect(manual.result && only(manual.result)).toMatchObject({
      outcome: 'blocked',
      via: 'secrets-manager',
    });
    expect(world.credentialsOf('app')).toHaveLength(count);
    const [retried] = await w.emulator.retryPendingRotations();
    expect(retried?.status).toBe('succeeded');
    await w.expectInvariants();
  });
});
