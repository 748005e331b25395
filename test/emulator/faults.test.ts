import {
  CreateServiceSpecificCredentialCommand,
  ListServiceSpecificCredentialsCommand,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure, type Harness, MODES, startHarness } from './harness.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const createInput = { UserName: 'alice', ServiceName: KEYSPACES };

describe.each(MODES)('emulator faults (%s)', (mode) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(mode);
    h.emu.iam.createUser('alice');
    h.emu.secrets.createSecret('s', { value: 'v1' });
  });
  afterEach(() => h.close());

  it('loses a Create response after creating: the SDK retries and a second credential appears', async () => {
    h.emu.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'lose-response' });
    const out = await h.iam().send(new CreateServiceSpecificCredentialCommand(createInput));
    expect(out.$metadata.attempts).toBe(2);
    const creds = h.emu.iam.credentials({ userName: 'alice' });
    expect(creds).toHaveLength(2);
    expect(creds[1]?.ServiceSpecificCredentialId).toBe(
      out.ServiceSpecificCredential?.ServiceSpecificCredentialId,
    );
    expect(h.emu.callsOf('CreateServiceSpecificCredential').map((c) => c.fault ?? c.outcome)).toEqual([
      'lose-response',
      'OK',
    ]);
    // Both passwords were issued, only one was seen by the caller.
    expect(h.emu.issuedSecrets()).toHaveLength(2);
  });

  it('turns a lost Create with one slot left into LimitExceeded on the retry', async () => {
    h.emu.iam.issueCredential('alice', KEYSPACES);
    h.emu.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'lose-response' });
    const e = await failure(
      h.iam({ maxAttempts: 2 }).send(new CreateServiceSpecificCredentialCommand(createInput)),
    );
    expect(e.name).toBe('LimitExceededException');
    expect(h.emu.iam.credentials({ userName: 'alice' })).toHaveLength(2);
  });

  it('surfaces a lost response as a network error when the SDK may not retry', async () => {
    h.emu.faults.add({ operation: 'PutSecretValue', kind: 'lose-response' });
    const e = await failure(
      h.sm({ maxAttempts: 1 }).send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' })),
    );
    expect(e.$metadata?.httpStatusCode).toBeUndefined();
    expect(h.emu.secrets.valueAt('s')).toBe('v2');
  });

  it('fails before applying, with InternalFailure 500 by default, which the SDK retries', async () => {
    h.emu.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'fail' });
    const e = await failure(
      h.iam({ maxAttempts: 1 }).send(new CreateServiceSpecificCredentialCommand(createInput)),
    );
    expect(e.name).toBe('InternalFailure');
    expect(e.$metadata.httpStatusCode).toBe(500);
    expect(h.emu.iam.credentials()).toHaveLength(0);

    h.emu.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'fail' });
    const ok = await h.iam().send(new CreateServiceSpecificCredentialCommand(createInput));
    expect(ok.$metadata.attempts).toBe(2);
    expect(h.emu.iam.credentials()).toHaveLength(1);
  });

  it('fails with a given error, only for calls the match function selects', async () => {
    h.emu.faults.add({
      operation: 'GetSecretValue',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
      match: (p) => p.VersionStage === 'AWSPREVIOUS',
      error: { code: 'AccessDeniedException', status: 400, message: 'nope' },
    });
    const sm = h.sm({ maxAttempts: 1 });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 's' }))).resolves.toBeDefined();
    const e = await failure(
      sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' })),
    );
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toBe('nope');
    expect(h.emu.faults.pending()).toHaveLength(1);
  });

  it('answers InternalServiceError 500 for Secrets Manager failures', async () => {
    h.emu.faults.add({ operation: 'PutSecretValue', kind: 'fail' });
    const e = await failure(
      h.sm({ maxAttempts: 1 }).send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' })),
    );
    expect(e.name).toBe('InternalServiceError');
    expect(e.$metadata.httpStatusCode).toBe(500);
    expect(h.emu.secrets.valueAt('s')).toBe('v1');
  });

  it('crashes after applying: this and every later call fail with a non-retryable 400 until revived', async () => {
    h.emu.faults.add({ operation: 'PutSecretValue', kind: 'crash-after' });
    const sm = h.sm();
    const e = await failure(sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' })));
    expect(e.name).toBe('EmulatedProcessCrash');
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.$metadata.attempts).toBe(1);
    expect(h.emu.secrets.valueAt('s')).toBe('v2');
    const later = await failure(
      h.iam().send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' })),
    );
    expect(later.name).toBe('EmulatedProcessCrash');
    h.emu.faults.revive();
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 's' }))).resolves.toMatchObject({
      SecretString: 'v2',
    });
  });

  it('throttles with each service’s real throttling error, which the SDK retries', async () => {
    h.emu.faults.add({ operation: 'ListServiceSpecificCredentials', kind: 'throttle' });
    const iamErr = await failure(
      h.iam({ maxAttempts: 1 }).send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' })),
    );
    expect(iamErr.name).toBe('Throttling');
    expect(iamErr.message).toBe('Rate exceeded');
    expect(iamErr.$metadata.httpStatusCode).toBe(400);

    h.emu.faults.add({ operation: 'GetSecretValue', kind: 'throttle' });
    const smErr = await failure(h.sm({ maxAttempts: 1 }).send(new GetSecretValueCommand({ SecretId: 's' })));
    expect(smErr.name).toBe('ThrottlingException');
    expect(smErr.message).toBe('Rate exceeded');

    h.emu.faults.add({ operation: 'GetSecretValue', kind: 'throttle' });
    const retried = await h.sm().send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(retried.$metadata.attempts).toBe(2);
  });

  it('enforces rate limits with token buckets over real time', async () => {
    h.emu.faults.setRateLimits({ iamCallsPerSecond: 3 });
    const iam = h.iam({ maxAttempts: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' })),
      ),
    );
    const throttled = results.filter((r) => r.status === 'rejected');
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    expect(throttled.every((r) => (r as PromiseRejectedResult).reason.name === 'Throttling')).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    await expect(
      iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' })),
    ).resolves.toBeDefined();
  });

  it('separates Secrets Manager write and read limits', async () => {
    h.emu.faults.setRateLimits({ secretsWritesPerSecond: 1 });
    const sm = h.sm({ maxAttempts: 1 });
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' }));
    const e = await failure(sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v3' })));
    expect(e.name).toBe('ThrottlingException');
    for (let i = 0; i < 5; i++) await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
  });

  it('delays every call by latencyMs', async () => {
    h.emu.faults.latencyMs = 50;
    const started = Date.now();
    await h.sm().send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
