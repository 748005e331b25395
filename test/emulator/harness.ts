// Builds real SDK v3 clients against an AwsEmulator, either in-process (its Smithy request
// handler) or over HTTP on loopback, so every test can run in both modes.
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator, type AwsEmulatorOptions } from '../../emulator/index.ts';

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
