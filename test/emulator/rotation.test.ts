// Secrets Manager rotation in the emulator, through the real SDK: RotateSecret starts a
// rotation that invokes a (dummy) rotation function for the four steps; failures leave it in
// progress, retries and the schedule are explicit calls; CancelRotateSecret turns it off.
import {
  CancelRotateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsEmulator,
  httpInvoker,
  NO_ROTATION_FUNCTION,
  ROTATION_IN_PROGRESS,
  ROTATION_STEP_OPERATION,
  type RotationEvent,
} from '../../emulator/index.ts';
import {
  dummyRotationFunction as dummyFunction,
  failure,
  type Harness,
  MODES,
  startHarness,
} from './harness.ts';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotator';
const TOKEN_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const TOKEN_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const DAY_MS = 86_400_000;

const endOfUtcDay = (d: Date) =>
  new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + DAY_MS - 1000);

describe.each(MODES)('Secrets Manager rotation (%s)', (mode) => {
  let h: Harness;
  let sm: SecretsManagerClient;
  let events: RotationEvent[];
  let arn: string;
  let v1: string;
  beforeEach(async () => {
    h = await startHarness(mode);
    sm = h.sm({ maxAttempts: 1 });
    events = [];
    h.emu.rotations.invoker = dummyFunction(sm, events);
    arn = h.emu.secrets.createSecret('s', { value: 'v1' });
    v1 = Object.keys(h.emu.secrets.labels('s'))[0] as string;
  });
  afterEach(() => h.close());

  const rotate = (input: Partial<ConstructorParameters<typeof RotateSecretCommand>[0]> = {}) =>
    sm.send(new RotateSecretCommand({ SecretId: 's', RotationLambdaARN: FUNCTION_ARN, ...input }));
  const describeS = () => sm.send(new DescribeSecretCommand({ SecretId: 's' }));

  it('answers before the steps run, with an empty AWSPENDING version, then runs the four steps in order', async () => {
    // The function is held at its first step, so what RotateSecret left can be seen.
    let open = (): void => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const inner = dummyFunction(sm, events);
    h.emu.rotations.invoker = async (fn, event) => {
      await gate;
      await inner(fn, event);
    };
    const out = await rotate({ ClientRequestToken: TOKEN_A, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(out).toMatchObject({ ARN: arn, Name: 's', VersionId: TOKEN_A });
    expect(events).toEqual([]);
    expect(h.emu.rotations.history.map((r) => r.status)).toEqual(['running']);
    expect(h.emu.secrets.labels('s')).toEqual({ [v1]: ['AWSCURRENT'], [TOKEN_A]: ['AWSPENDING'] });
    for (const input of [{ VersionStage: 'AWSPENDING' }, { VersionId: TOKEN_A }]) {
      const empty = await failure(sm.send(new GetSecretValueCommand({ SecretId: 's', ...input })));
      expect(empty.name).toBe('ResourceNotFoundException');
      expect(empty.$metadata.httpStatusCode).toBe(400);
    }
    open();

    const [record] = await h.emu.rotations.settled();
    expect(events).toEqual(
      ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((Step) => ({
        Step,
        SecretId: arn,
        ClientRequestToken: TOKEN_A,
      })),
    );
    expect(record).toMatchObject({ token: TOKEN_A, cause: 'RotateSecret', status: 'succeeded' });
    expect(h.emu.secrets.labels('s')).toEqual({
      [v1]: ['AWSPREVIOUS'],
      [TOKEN_A]: ['AWSPENDING', 'AWSCURRENT'],
    });
    expect(h.emu.secrets.valueAt('s')).toBe(`value-${TOKEN_A}`);
  });

  it('shows the rotation in DescribeSecret and ListSecrets, dated by the virtual clock', async () => {
    const before = await describeS();
    expect(before.RotationEnabled).toBeUndefined();
    expect(before.LastRotatedDate).toBeUndefined();
    h.emu.clock.set(new Date('2030-01-10T12:00:00Z'));
    await rotate({ RotationRules: { AutomaticallyAfterDays: 30, Duration: '4h' } });
    await h.emu.rotations.settled();
    const d = await describeS();
    expect(d.RotationEnabled).toBe(true);
    expect(d.RotationLambdaARN).toBe(FUNCTION_ARN);
    expect(d.RotationRules).toEqual({ AutomaticallyAfterDays: 30, Duration: '4h' });
    const rotatedAt = d.LastRotatedDate as Date;
    expect(Math.abs(rotatedAt.getTime() - Date.parse('2030-01-10T12:00:00Z'))).toBeLessThan(60_000);
    expect(d.NextRotationDate).toEqual(new Date('2030-02-09T23:59:59Z'));
    const [entry] = (await sm.send(new ListSecretsCommand({}))).SecretList ?? [];
    expect(entry).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: FUNCTION_ARN,
      RotationRules: { AutomaticallyAfterDays: 30, Duration: '4h' },
      LastRotatedDate: d.LastRotatedDate,
      NextRotationDate: d.NextRotationDate,
    });
  });

  it('refuses to enable rotation without a rotation function, changing nothing', async () => {
    const e = await failure(sm.send(new RotateSecretCommand({ SecretId: 's' })));
    expect(e.name).toBe('InvalidRequestException');
    expect(e.message).toBe(NO_ROTATION_FUNCTION);
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(h.emu.secrets.labels('s')).toEqual({ [v1]: ['AWSCURRENT'] });
    expect((await describeS()).RotationEnabled).toBeUndefined();
    // Once configured, a bare RotateSecret (the console's "Rotate secret immediately") uses it.
    await rotate();
    await h.emu.rotations.settled();
    await sm.send(new RotateSecretCommand({ SecretId: 's' }));
    const all = await h.emu.rotations.settled();
    expect(all.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('validates RotationRules, and refuses to cancel a rotation never configured', async () => {
    const both = await failure(
      rotate({ RotationRules: { AutomaticallyAfterDays: 1, ScheduleExpression: 'rate(1 days)' } }),
    );
    expect(both.name).toBe('InvalidParameterException');
    const zero = await failure(rotate({ RotationRules: { AutomaticallyAfterDays: 0 } }));
    expect(zero.name).toBe('InvalidParameterException');
    expect(zero.message).toBe('RotationRules.AutomaticallyAfterDays must be within 1-1000.');
    const cancel = await failure(sm.send(new CancelRotateSecretCommand({ SecretId: 's' })));
    expect(cancel.message).toBe(NO_ROTATION_FUNCTION);
    expect(h.emu.secrets.labels('s')).toEqual({ [v1]: ['AWSCURRENT'] });
  });

  it('leaves a rotation whose step failed in progress: a second RotateSecret is refused, a retry finishes it', async () => {
    h.emu.rotations.invoker = dummyFunction(sm, events, (e) => e.Step === 'setSecret' && events.length < 3);
    await rotate({ ClientRequestToken: TOKEN_A });
    const [failed] = await h.emu.rotations.settled();
    expect(failed?.status).toBe('failed');
    expect(failed?.steps).toEqual([
      { step: 'createSecret', outcome: 'OK' },
      { step: 'setSecret', outcome: 'StepError' },
    ]);
    expect(h.emu.secrets.labels('s')).toEqual({ [v1]: ['AWSCURRENT'], [TOKEN_A]: ['AWSPENDING'] });

    const again = await failure(rotate({ ClientRequestToken: TOKEN_B }));
    expect(again.name).toBe('InvalidRequestException');
    expect(again.message).toBe(ROTATION_IN_PROGRESS);
    expect(again.$metadata.httpStatusCode).toBe(400);

    const [retry] = await h.emu.retryPendingRotations();
    expect(retry).toMatchObject({ token: TOKEN_A, cause: 'retry', status: 'succeeded' });
    expect(retry?.steps.map((s) => s.step)).toEqual([
      'createSecret',
      'setSecret',
      'testSecret',
      'finishSecret',
    ]);
    expect(h.emu.secrets.valueAt('s')).toBe(`value-${TOKEN_A}`);
    expect(await h.emu.retryPendingRotations()).toEqual([]);
  });

  it('counts a rotation whose finishSecret did not move AWSCURRENT as failed', async () => {
    h.emu.rotations.invoker = (_arn, event) => {
      events.push(event);
    };
    await rotate({ ClientRequestToken: TOKEN_A });
    const [record] = await h.emu.rotations.settled();
    expect(record?.steps).toHaveLength(4);
    expect(record?.status).toBe('failed');
    expect((await describeS()).LastRotatedDate).toBeUndefined();
  });

  it('treats AWSPENDING put by hand like a rotation in progress, and UpdateSecretVersionStage as its end', async () => {
    await rotate();
    await h.emu.rotations.settled();
    const put = await sm.send(
      new PutSecretValueCommand({
        SecretId: 's',
        SecretString: 'p',
        VersionStages: ['AWSPENDING'],
        ClientRequestToken: TOKEN_B,
      }),
    );
    expect((await failure(rotate())).message).toBe(ROTATION_IN_PROGRESS);
    const current = Object.entries(h.emu.secrets.labels('s')).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: put.VersionId,
        RemoveFromVersionId: current,
      }),
    );
    await rotate();
    expect((await h.emu.rotations.settled()).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('CancelRotateSecret turns rotation off, keeps the labels, and stops the steps and retries', async () => {
    h.emu.rotations.invoker = dummyFunction(sm, events, (e) => e.Step === 'testSecret');
    await rotate({ ClientRequestToken: TOKEN_A, RotationRules: { AutomaticallyAfterDays: 7 } });
    await h.emu.rotations.settled();
    const out = await sm.send(new CancelRotateSecretCommand({ SecretId: 's' }));
    expect(out).toMatchObject({ ARN: arn, Name: 's', VersionId: TOKEN_A });
    const d = await describeS();
    expect(d.RotationEnabled).toBe(false);
    expect(d.RotationLambdaARN).toBe(FUNCTION_ARN);
    expect(d.NextRotationDate).toBeUndefined();
    expect(d.VersionIdsToStages).toEqual({ [v1]: ['AWSCURRENT'], [TOKEN_A]: ['AWSPENDING'] });
    expect(await h.emu.retryPendingRotations()).toEqual([]);
    // Turning it on again still finds the unfinished rotation.
    expect((await failure(rotate())).message).toBe(ROTATION_IN_PROGRESS);
  });

  it('a CancelRotateSecret between steps ends the running rotation', async () => {
    const inner = dummyFunction(sm, events);
    h.emu.rotations.invoker = async (fn, event) => {
      await inner(fn, event);
      if (event.Step === 'createSecret') await sm.send(new CancelRotateSecretCommand({ SecretId: 's' }));
    };
    await rotate();
    const [record] = await h.emu.rotations.settled();
    expect(record?.status).toBe('cancelled');
    expect(events.map((e) => e.Step)).toEqual(['createSecret']);
  });

  it('a secret scheduled for deletion mid-rotation ends it, and a crash after RotateSecret fails its first step', async () => {
    const inner = dummyFunction(sm, events);
    h.emu.rotations.invoker = async (fn, event) => {
      await inner(fn, event);
      if (event.Step === 'setSecret') await sm.send(new DeleteSecretCommand({ SecretId: 's' }));
    };
    await rotate();
    const [deleted] = await h.emu.rotations.settled();
    expect(deleted?.status).toBe('cancelled');
    expect(events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);

    h.emu.secrets.createSecret('t', { value: 'v1' });
    h.emu.faults.add({ operation: 'RotateSecret', kind: 'crash-after' });
    const crash = await failure(rotate({ SecretId: 't' }));
    expect(crash.name).toBe('EmulatedProcessCrash');
    const [, crashed] = await h.emu.rotations.settled();
    expect(crashed?.steps).toEqual([{ step: 'createSecret', outcome: 'EmulatedProcessCrash' }]);
    h.emu.faults.revive();
    h.emu.rotations.invoker = inner;
    const [retried] = await h.emu.retryPendingRotations();
    expect(retried).toMatchObject({ token: crashed?.token, status: 'succeeded' });
  });

  it('RotateImmediately=false only runs testSecret, then removes AWSPENDING', async () => {
    await rotate({
      ClientRequestToken: TOKEN_A,
      RotateImmediately: false,
      RotationRules: { AutomaticallyAfterDays: 10 },
    });
    const [record] = await h.emu.rotations.settled();
    expect(record?.status).toBe('tested');
    expect(events.map((e) => e.Step)).toEqual(['testSecret']);
    expect(h.emu.secrets.labels('s')).toEqual({ [v1]: ['AWSCURRENT'] });
    const d = await describeS();
    expect(d.RotationEnabled).toBe(true);
    expect(d.LastRotatedDate).toBeUndefined();
    expect(d.NextRotationDate).toEqual(endOfUtcDay(new Date(h.emu.clock.now().getTime() + 10 * DAY_MS)));
  });

  it('rotates on its own schedule when the virtual clock reaches NextRotationDate', async () => {
    await rotate({ RotationRules: { AutomaticallyAfterDays: 30 } });
    await h.emu.rotations.settled();
    const first = (await describeS()).LastRotatedDate as Date;
    expect(await h.emu.runScheduledRotations()).toEqual([]);
    h.emu.clock.advanceDays(29);
    expect(await h.emu.runScheduledRotations()).toEqual([]);
    h.emu.clock.advanceDays(1);
    const [scheduled] = await h.emu.runScheduledRotations();
    expect(scheduled).toMatchObject({ cause: 'schedule', status: 'succeeded' });
    const d = await describeS();
    expect((d.LastRotatedDate as Date).getTime()).toBeGreaterThan(first.getTime() + 29 * DAY_MS);
    expect(h.emu.secrets.labels('s')[scheduled?.token ?? '']).toContain('AWSCURRENT');
  });

  it('retries a lost RotateSecret answer with the same token: one rotation', async () => {
    h.emu.faults.add({ operation: 'RotateSecret', kind: 'lose-response' });
    const out = await h
      .sm({ maxAttempts: 2 })
      .send(new RotateSecretCommand({ SecretId: 's', RotationLambdaARN: FUNCTION_ARN }));
    expect(out.$metadata.attempts).toBe(2);
    const records = await h.emu.rotations.settled();
    expect(records.map((r) => [r.token, r.status])).toEqual([[out.VersionId, 'succeeded']]);
  });

  it('injects faults into RotateSecret and into step invocations', async () => {
    h.emu.faults.add({ operation: 'RotateSecret', kind: 'fail' });
    expect((await failure(rotate())).name).toBe('InternalServiceError');
    expect(h.emu.rotations.history).toEqual([]);
    h.emu.faults.add({
      operation: ROTATION_STEP_OPERATION,
      kind: 'fail',
      match: (p) => p.Step === 'testSecret',
    });
    await rotate({ ClientRequestToken: TOKEN_A });
    const [record] = await h.emu.rotations.settled();
    expect(record?.steps.map((s) => s.outcome)).toEqual(['OK', 'OK', 'fail']);
    // The function itself never saw testSecret.
    expect(events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);
    h.emu.faults.add({
      operation: ROTATION_STEP_OPERATION,
      kind: 'crash-after',
      match: (p) => p.Step === 'createSecret',
    });
    const [crashed] = await h.emu.retryPendingRotations();
    expect(crashed?.steps.map((s) => s.outcome)).toEqual(['crash-after']);
    expect(h.emu.faults.crashed).toBe(true);
    h.emu.faults.revive();
    const [retried] = await h.emu.retryPendingRotations();
    expect(retried?.status).toBe('succeeded');
  });
});

describe('rotation modes and persistence', () => {
  it('in sync mode RotateSecret answers after the steps have run', async () => {
    const h = await startHarness('http', { rotationMode: 'sync' });
    try {
      const sm = h.sm({ maxAttempts: 1 });
      const events: RotationEvent[] = [];
      h.emu.rotations.invoker = dummyFunction(sm, events);
      h.emu.secrets.createSecret('s', { value: 'v1' });
      const out = await sm.send(new RotateSecretCommand({ SecretId: 's', RotationLambdaARN: FUNCTION_ARN }));
      expect(events).toHaveLength(4);
      expect(h.emu.secrets.labels('s')[out.VersionId ?? '']).toContain('AWSCURRENT');
    } finally {
      await h.close();
    }
  });

  it('fails the first step when no invoker is set, and generates a token when none is given', async () => {
    const emu = new AwsEmulator();
    emu.secrets.createSecret('s', { value: 'v1' });
    const out = emu.secrets.RotateSecret({ SecretId: 's', RotationLambdaARN: FUNCTION_ARN });
    expect(out.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    const [record] = await emu.rotations.settled();
    expect(record?.steps).toEqual([{ step: 'createSecret', outcome: 'NoInvoker' }]);
  });

  it('keeps the rotation configuration and dates across snapshot and restore', async () => {
    const emu = new AwsEmulator();
    emu.secrets.createSecret('s', { value: 'v1' });
    emu.secrets.RotateSecret({
      SecretId: 's',
      RotationLambdaARN: FUNCTION_ARN,
      RotationRules: { AutomaticallyAfterDays: 5 },
    });
    await emu.rotations.settled();
    const copy = new AwsEmulator();
    copy.restore(JSON.parse(JSON.stringify(emu.snapshot())));
    expect(copy.secrets.DescribeSecret({ SecretId: 's' })).toEqual(
      emu.secrets.DescribeSecret({ SecretId: 's' }),
    );
    expect(copy.secrets.secret('s')?.rotation?.nextRotationDate).toBeInstanceOf(Date);
  });
});

describe('the HTTP invoker', () => {
  it("calls Lambda's Invoke API per step, and a function error fails the step", async () => {
    const received: Array<{ url: string; body: RotationEvent }> = [];
    const lambda = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RotationEvent;
        received.push({ url: req.url ?? '', body });
        res.writeHead(200, body.Step === 'testSecret' ? { 'x-amz-function-error': 'Unhandled' } : {});
        res.end('null');
      });
    });
    await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
    try {
      const emu = new AwsEmulator({
        rotationInvoker: httpInvoker(`http://127.0.0.1:${(lambda.address() as AddressInfo).port}`),
      });
      const arn = emu.secrets.createSecret('s', { value: 'v1' });
      emu.secrets.RotateSecret({
        SecretId: 's',
        RotationLambdaARN: FUNCTION_ARN,
        ClientRequestToken: TOKEN_A,
      });
      const [record] = await emu.rotations.settled();
      expect(received.map((r) => r.url)).toEqual(
        Array(3).fill(`/2015-03-31/functions/${encodeURIComponent(FUNCTION_ARN)}/invocations`),
      );
      expect(received.map((r) => r.body)).toEqual(
        ['createSecret', 'setSecret', 'testSecret'].map((Step) => ({
          Step,
          SecretId: arn,
          ClientRequestToken: TOKEN_A,
        })),
      );
      expect(record?.steps.map((s) => s.outcome)).toEqual(['OK', 'OK', 'FunctionError']);
    } finally {
      await new Promise<void>((resolve) => lambda.close(() => resolve()));
    }
  });
});
