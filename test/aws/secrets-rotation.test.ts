// The Secrets Manager adapter's rotation-protocol calls, through the real SDK over HTTP against
// the emulator (secrets.test.ts mocks the client class for the whole file, so these live here).
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';
import { SecretsStore } from '../../lambda/aws/secrets.ts';
import { RotationInProgressError, SecretNotFoundError } from '../../lambda/errors.ts';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotator';

describe('SecretsStore rotation calls', () => {
  let emu: AwsEmulator;
  let server: Awaited<ReturnType<AwsEmulator['listen']>>;
  let client: SecretsManagerClient;
  let store: SecretsStore;
  let v1: string;

  beforeEach(async () => {
    emu = new AwsEmulator();
    server = await emu.listen();
    client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    store = new SecretsStore(client);
    emu.secrets.createSecret('s', { value: 'old-value' });
    v1 = Object.keys(emu.secrets.labels('s'))[0] as string;
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
  });

  it('describes a secret never rotated as rotation off, with its labels', async () => {
    expect(await store.describeRotation('s')).toEqual({
      enabled: false,
      functionArn: undefined,
      automaticallyAfterDays: undefined,
      scheduleExpression: undefined,
      duration: undefined,
      lastRotatedAt: undefined,
      nextRotationAt: undefined,
      versionStages: { [v1]: ['AWSCURRENT'] },
    });
  });

  it('walks a rotation: rotateSecret, the empty pending version, storePending, moveCurrent', async () => {
    emu.secrets.RotateSecret({
      SecretId: 's',
      RotationLambdaARN: FUNCTION_ARN,
      RotationRules: { AutomaticallyAfterDays: 30, Duration: '4h' },
    });
    await emu.rotations.settled(); // no invoker: the first step fails, the rotation stays pending
    const first = await store.describeRotation('s');
    expect(first).toMatchObject({
      enabled: true,
      functionArn: FUNCTION_ARN,
      automaticallyAfterDays: 30,
      duration: '4h',
    });
    const token = Object.entries(first.versionStages).find(([, s]) =>
      s.includes('AWSPENDING'),
    )?.[0] as string;

    await expect(store.rotateSecret('s')).rejects.toBeInstanceOf(RotationInProgressError);
    expect(await store.readVersion('s', token, 'AWSPENDING')).toBeUndefined();
    expect(await store.readVersion('s', token)).toBeUndefined();

    expect(await store.storePending('s', token, 'new-value')).toBe(token);
    expect(await store.storePending('s', token, 'new-value')).toBe(token);
    expect((await store.readVersion('s', token, 'AWSPENDING'))?.value).toBe('new-value');
    expect(await store.readVersion('s', v1, 'AWSPENDING')).toBeUndefined();

    await store.moveCurrent('s', token, v1);
    expect(emu.secrets.labels('s')).toEqual({ [v1]: ['AWSPREVIOUS'], [token]: ['AWSPENDING', 'AWSCURRENT'] });
    // AWSPENDING now sits on AWSCURRENT: the next rotation may start.
    const next = await store.rotateSecret('s');
    expect(next).not.toBe(token);
    expect(emu.secrets.labels('s')[next]).toEqual(['AWSPENDING']);
  });

  it("dates a version by ListSecretVersionIds' CreatedDate, the empty pending one included", async () => {
    const startedAt = emu.clock.now().getTime();
    const { VersionId: pending } = emu.secrets.RotateSecret({
      SecretId: 's',
      RotationLambdaARN: FUNCTION_ARN,
    });
    await emu.rotations.settled();
    const at = await store.versionCreatedAt('s', pending as string);
    expect(at?.getTime()).toBeGreaterThanOrEqual(startedAt);
    expect(at?.getTime()).toBeLessThanOrEqual(emu.clock.now().getTime());
    expect(await store.versionCreatedAt('s', v1)).toBeInstanceOf(Date);
    expect(await store.versionCreatedAt('s', 'no-such-version-00000000000000000000')).toBeUndefined();
    await expect(store.versionCreatedAt('missing', v1)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('pages ListSecretVersionIds to find the version', async () => {
    const paged = new AwsEmulator({ secretsPageSize: 1 });
    const pagedServer = await paged.listen();
    const pagedClient = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: pagedServer.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      paged.secrets.createSecret('p', { value: 'a' });
      const last = paged.secrets.PutSecretValue({ SecretId: 'p', SecretString: 'b', VersionStages: ['X'] });
      paged.secrets.PutSecretValue({ SecretId: 'p', SecretString: 'c', VersionStages: ['Y'] });
      const pagedStore = new SecretsStore(pagedClient);
      expect(await pagedStore.versionCreatedAt('p', last.VersionId as string)).toBeInstanceOf(Date);
      const pages = paged.callsOf('ListSecretVersionIds').length;
      expect(pages).toBeGreaterThan(1);
    } finally {
      pagedClient.destroy();
      await pagedServer.close();
    }
  });

  it('reports a missing secret as SecretNotFoundError, not as a missing version', async () => {
    await expect(store.readVersion('nope', 'x'.repeat(32))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(store.describeRotation('nope')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('never puts the value in an error', async () => {
    emu.faults.add({
      operation: 'PutSecretValue',
      kind: 'fail',
      error: { code: 'InvalidRequestException', status: 400, message: 'no: new-value' },
    });
    const error = await store
      .storePending('s', 'a'.repeat(36), 'new-value')
      .catch((e: unknown) => e as Error);
    expect(String((error as Error).message)).not.toContain('new-value');
  });
});
