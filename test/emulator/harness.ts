// Builds real SDK v3 clients against an AwsEmulator, either in-process (its Smithy request
// handler) or over HTTP on loopback, so every test can run in both modes.
import { IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsEmulator, type AwsEmulatorOptions, type RotationEvent } from '../../emulator/index.ts';

export type Mode = 'in-process' | 'http';
export const MODES: Mode[] = ['in-process', 'http'];

export interface ClientOptions {
  /** SDK maxAttempts; undefined keeps the SDK default (3). */
  maxAttempts?: number;
}

export interface Harness {
  emu: AwsEmulator;
  iam(options?: ClientOptions): IAMClient;
  sm(options?: ClientOptions): SecretsManagerClient;
  close(): Promise<void>;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export async function startHarness(mode: Mode, options: AwsEmulatorOptions = {}): Promise<Harness> {
  const emu = new AwsEmulator(options);
  const server = mode === 'http' ? await emu.listen() : undefined;
  const clients: Array<{ destroy(): void }> = [];
  const base = (o: ClientOptions) => ({
    region: 'us-east-1',
    credentials,
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
    ...(server ? { endpoint: server.url } : { requestHandler: emu.requestHandler() }),
  });
  return {
    emu,
    iam: (o = {}) => {
      const c = new IAMClient(base(o));
      clients.push(c);
      return c;
    },
    sm: (o = {}) => {
      const c = new SecretsManagerClient(base(o));
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await server?.close();
    },
  };
}

/** An SDK error as tests inspect it. */
export type SdkError = Error & {
  $metadata: { httpStatusCode?: number; attempts?: number };
  [member: string]: unknown;
};

/** The rejection of `promise` (fails the test when it resolves). */
export async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * A dummy rotation function doing what the protocol asks of each step, through the SDK:
 * createSecret fills AWSPENDING under the token (once), finishSecret moves AWSCURRENT to it.
 * `fail` makes a step throw; `during` sees each step as it runs (before `fail`).
 */
export function dummyRotationFunction(
  sm: SecretsManagerClient,
  events: RotationEvent[],
  fail?: (e: RotationEvent) => boolean,
  during?: (e: RotationEvent) => void,
) {
  return async (_arn: string, event: RotationEvent): Promise<void> => {
    events.push(event);
    during?.(event);
    if (fail?.(event)) throw Object.assign(new Error(`${event.Step} failed`), { name: 'StepError' });
    const { SecretId, ClientRequestToken: token } = event;
    if (event.Step === 'createSecret') {
      try {
        await sm.send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }));
      } catch {
        await sm.send(
          new PutSecretValueCommand({
            SecretId,
            ClientRequestToken: token,
            SecretString: `value-${token}`,
            VersionStages: ['AWSPENDING'],
          }),
        );
      }
    }
    if (event.Step === 'finishSecret') {
      const d = await sm.send(new DescribeSecretCommand({ SecretId }));
      const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) =>
        s.includes('AWSCURRENT'),
      )?.[0];
      if (current === token) return;
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          RemoveFromVersionId: current,
        }),
      );
    }
  };
}
