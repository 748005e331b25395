// Configuration the standard way: with only AWS_ENDPOINT_URL_IAM and
// AWS_ENDPOINT_URL_SECRETS_MANAGER set, the production clients reach the emulator. The
// general AWS_ENDPOINT_URL points at a closed port (vitest.config.ts), so a client that
// ignored the service-specific variables would fail.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';
import { createClients } from '../../lambda/aws/clients.ts';
import { IamCredentials } from '../../lambda/aws/iam.ts';
import { SecretsStore } from '../../lambda/aws/secrets.ts';
import { createDemoAccount, setEnv } from '../../scripts/local.ts';

describe('production clients configured by the standard endpoint variables', () => {
  let emulator: AwsEmulator;
  let server: Awaited<ReturnType<AwsEmulator['listen']>>;
  let restoreEnv: () => void;
  beforeEach(async () => {
    emulator = new AwsEmulator();
    createDemoAccount(emulator, [{ userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' }]);
    server = await emulator.listen();
    restoreEnv = setEnv({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_IAM: undefined,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: undefined,
    });
  });
  afterEach(async () => {
    restoreEnv();
    await server.close();
  });

  const discoverAndList = async () => {
    const { iam, secrets } = createClients({ maxAttempts: 1 });
    try {
      const found = await new SecretsStore(secrets).listTargetSecrets('service-credentials/');
      const listed = await new IamCredentials(iam).listCredentials(
        'app-keyspaces',
        'cassandra.amazonaws.com',
      );
      return { found, listed };
    } finally {
      iam.destroy();
      secrets.destroy();
    }
  };

  it('reach the emulator over HTTP for both services', async () => {
    process.env.AWS_ENDPOINT_URL_IAM = server.url;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = server.url;

    const { found, listed } = await discoverAndList();

    expect(found.map((s) => s.name)).toEqual(['service-credentials/app-keyspaces/cassandra.amazonaws.com']);
    expect(listed).toEqual([]);
    expect(emulator.calls.map((c) => `${c.service} ${c.operation} ${c.outcome}`)).toEqual([
      'secretsmanager ListSecrets OK',
      'iam ListServiceSpecificCredentials OK',
    ]);
  });

  it('do not reach it without them (the negative control)', async () => {
    await expect(discoverAndList()).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(emulator.calls).toEqual([]);
  });
});
