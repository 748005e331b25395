// Secrets Manager's rotation against a rotation function with reserved concurrency: a step
// invoked while the slots are taken is throttled and never reaches the function, and (unless
// asked otherwise) nothing retries that rotation. Also: which manual updates count as a
// rotation for the next rotation date.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AwsEmulatorOptions,
  ROTATION_IN_PROGRESS,
  ROTATION_STEP_OPERATION,
  type RotationEvent,
  THROTTLED_STEP,
} from '../../emulator/index.ts';
import { dummyRotationFunction, failure, type Harness, MODES, startHarness } from './harness.ts';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotator';
const TOKEN = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const DAY_MS = 86_400_000;

describe.each(MODES)('a throttled rotation step (%s)', (mode) => {
  let h: Harness;
  let sm: SecretsManagerClient;
  let events: RotationEvent[];
  afterEach(() => h.close());

  async function start(options: AwsEmulatorOptions = {}, during?: (e: RotationEvent) => void) {
    h = await startHarness(mode, { reservedConcurrency: 1, ...options });
    sm = h.sm({ maxAttempts: 1 });
    events = [];
    h.emu.rotations.invoker = dummyRotationFunction(sm, events, undefined, during);
    h.emu.secrets.createSecret('s', { value: 'v1' });
  }
  const rotate = (token = TOKEN) =>
    sm.send(
      new RotateSecretCommand({
        SecretId: 's',
        ClientRequestToken: token,
        RotationLambdaARN: FUNCTION_ARN,
        RotationRules: { AutomaticallyAfterDays: 1 },
      }),
    );
  const pendingVersion = async () =>
    (await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's' }))).Versions?.find((v) =>
      v.VersionStages?.includes('AWSPENDING'),
    );

  it('while the scheduled run holds the only slot: createSecret is throttled, AWSPENDING stays on an empty version, nothing retries it', async () => {
    await start();
    const release = h.emu.rotations.occupy();
    const startedAt = h.emu.clock.now();
    await rotate();
    const [record] = await h.emu.rotations.settled();
    release();

    expect(record).toMatchObject({ status: 'failed', throttled: true });
    expect(record?.steps).toEqual([{ step: 'createSecret', outcome: THROTTLED_STEP }]);
    expect(events).toEqual([]);
    const empty = await failure(
      sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPENDING' })),
    );
    expect(empty.name).toBe('ResourceNotFoundException');
    // ListSecretVersionIds lists the empty version with its CreatedDate: enough to age it.
    const pending = await pendingVersion();
    expect(pending?.VersionId).toBe(TOKEN);
    // The virtual clock runs on with real time: the version dates from within the call.
    expect(pending?.CreatedDate?.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
    expect(pending?.CreatedDate?.getTime()).toBeLessThanOrEqual(h.emu.clock.now().getTime());

    expect(await h.emu.retryPendingRotations()).toEqual([]);
    h.emu.clock.advance(3 * DAY_MS);
    expect(await h.emu.runScheduledRotations()).toEqual([]);
    // A new RotateSecret (another token) is refused: the given-up rotation is still in progress.
    const refused = await failure(rotate('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'));
    expect(refused.message).toBe(ROTATION_IN_PROGRESS);
    expect(h.emu.rotations.isAbandoned(record?.secretArn as string, TOKEN)).toBe(true);
    expect(events).toEqual([]);
  });

  it('when a run starts after createSecret: the next step is throttled and AWSPENDING stays on a filled version', async () => {
    let release: (() => void) | undefined;
    await start({}, (e) => {
      // The scheduled run is invoked while createSecret runs, and still holds its slot after.
      if (e.Step === 'createSecret') release = h.emu.rotations.occupy();
    });
    await rotate();
    const [record] = await h.emu.rotations.settled();
    release?.();

    expect(record?.steps).toEqual([
      { step: 'createSecret', outcome: 'OK' },
      { step: 'setSecret', outcome: THROTTLED_STEP },
    ]);
    const pending = await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPENDING' }));
    expect(pending).toMatchObject({ VersionId: TOKEN, SecretString: `value-${TOKEN}` });
    expect(h.emu.secrets.valueAt('s')).toBe('v1');
    expect(await h.emu.retryPendingRotations()).toEqual([]);
  });

  it('a throttle fault on any step has the same effect', async () => {
    await start({ reservedConcurrency: undefined });
    h.emu.faults.add({
      operation: ROTATION_STEP_OPERATION,
      kind: 'throttle',
      match: (p) => p.Step === 'finishSecret',
    });
    await rotate();
    const [record] = await h.emu.rotations.settled();
    expect(record?.steps.map((s) => s.outcome)).toEqual(['OK', 'OK', 'OK', THROTTLED_STEP]);
    expect(record?.throttled).toBe(true);
    expect(await h.emu.retryPendingRotations()).toEqual([]);
  });

  it("with throttledStepRetry 'later' the rotation is retried, same token, once a slot is free", async () => {
    await start({ throttledStepRetry: 'later' });
    const release = h.emu.rotations.occupy();
    await rotate();
    await h.emu.rotations.settled();
    release();
    const [retried] = await h.emu.retryPendingRotations();
    expect(retried).toMatchObject({ token: TOKEN, cause: 'retry', status: 'succeeded' });
    expect(events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
  });

  it('steps hold a slot while they run, one at a time, so a free function rotates through', async () => {
    let seen = 0;
    await start({}, () => {
      seen = Math.max(seen, h.emu.rotations.invocationsInFlight);
    });
    await rotate();
    const [record] = await h.emu.rotations.settled();
    expect(record?.status).toBe('succeeded');
    expect(seen).toBe(1);
    expect(h.emu.rotations.invocationsInFlight).toBe(0);
  });

  it('once AWSPENDING is taken off the abandoned version, Secrets Manager rotates the secret again', async () => {
    await start();
    const release = h.emu.rotations.occupy();
    await rotate();
    await h.emu.rotations.settled();
    release();
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: TOKEN,
      }),
    );
    h.emu.clock.advance(3 * DAY_MS);
    const [scheduled] = await h.emu.runScheduledRotations();
    expect(scheduled).toMatchObject({ cause: 'schedule', status: 'succeeded' });
    expect(scheduled?.token).not.toBe(TOKEN);
  });
});

describe('manual updates and the next rotation date', () => {
  let h: Harness;
  afterEach(() => h.close());

  async function rotatingSecret(options: AwsEmulatorOptions = {}) {
    h = await startHarness('in-process', options);
    const sm = h.sm({ maxAttempts: 1 });
    h.emu.rotations.invoker = dummyRotationFunction(sm, []);
    h.emu.secrets.createSecret('s', { value: 'v1' });
    await sm.send(
      new RotateSecretCommand({
        SecretId: 's',
        RotationLambdaARN: FUNCTION_ARN,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );
    await h.emu.rotations.settled();
    const next = async () => (await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).NextRotationDate;
    return { sm, next };
  }

  it('counts a PutSecretValue that moves AWSCURRENT as a rotation (the documented behaviour)', async () => {
    const { sm, next } = await rotatingSecret();
    const before = await next();
    h.emu.clock.advance(10 * DAY_MS);
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' }));
    expect((await next())?.getTime()).toBe((before?.getTime() ?? 0) + 10 * DAY_MS);
    // A version under a custom label only does not move AWSCURRENT: not counted by default.
    h.emu.clock.advance(DAY_MS);
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'i', VersionStages: ['INTENT'] }));
    expect((await next())?.getTime()).toBe((before?.getTime() ?? 0) + 10 * DAY_MS);
  });

  it("counts nothing with 'none', and every value update with 'any'", async () => {
    const none = await rotatingSecret({ manualUpdateRotation: 'none' });
    const before = await none.next();
    h.emu.clock.advance(10 * DAY_MS);
    await none.sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' }));
    expect(await none.next()).toEqual(before);
    await h.close();

    const any = await rotatingSecret({ manualUpdateRotation: 'any' });
    const start = await any.next();
    h.emu.clock.advance(10 * DAY_MS);
    await any.sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'i', VersionStages: ['INTENT'] }),
    );
    expect((await any.next())?.getTime()).toBe((start?.getTime() ?? 0) + 10 * DAY_MS);
  });
});
