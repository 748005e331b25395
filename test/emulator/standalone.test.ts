import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateServiceSpecificCredentialCommand,
  IAMClient,
  ListServiceSpecificCredentialsCommand,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/main.ts', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('standalone emulator (emulator/main.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves both services over HTTP and keeps state across restarts with --state', async () => {
    const state = join(dir, 'state.json');
    const first = await start(['--state', state, '--user', 'alice']);
    try {
      const iam = new IAMClient({ region: 'us-east-1', endpoint: first.url, credentials });
      const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: first.url, credentials });
      await iam.send(
        new CreateServiceSpecificCredentialCommand({
          UserName: 'alice',
          ServiceName: 'cassandra.amazonaws.com',
        }),
      );
      await sm.send(new CreateSecretCommand({ Name: 'kept', SecretString: 'v1' }));
    } finally {
      await stop(first.child);
    }
    const second = await start(['--state', state, '--user', 'alice']);
    try {
      const iam = new IAMClient({ region: 'us-east-1', endpoint: second.url, credentials });
      const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: second.url, credentials });
      const listed = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' }));
      expect(listed.ServiceSpecificCredentials).toHaveLength(1);
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 'kept' }))).SecretString).toBe('v1');
    } finally {
      await stop(second.child);
    }
  });
});

describe('AwsEmulator snapshot/restore', () => {
  it('restores credentials, secrets, issued secrets and the clock offset', () => {
    const a = new AwsEmulator();
    a.iam.createUser('alice');
    const c = a.iam.issueCredential('alice', 'codecommit.amazonaws.com');
    a.secrets.createSecret('s', { tags: { k: 'v' }, value: 'x' });
    a.clock.advanceDays(3);
    const b = new AwsEmulator();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.iam.credential(c.ServiceSpecificCredentialId)?.secret).toBe(c.ServicePassword);
    expect(b.iam.credential(c.ServiceSpecificCredentialId)?.CreateDate).toEqual(c.CreateDate);
    expect(b.secrets.valueAt('s')).toBe('x');
    expect(b.secrets.secret('s')?.tags).toEqual([{ Key: 'k', Value: 'v' }]);
    expect(b.issuedSecrets()).toEqual([c.ServicePassword]);
    expect(Math.abs(b.clock.offset - 3 * 86_400_000)).toBeLessThan(1000);
  });
});

describe('VirtualClock', () => {
  it('flows with real time from the offset set by advance and set', async () => {
    const emu = new AwsEmulator();
    const before = emu.clock.now().getTime();
    emu.clock.advance(60_000);
    expect(emu.clock.now().getTime() - before).toBeGreaterThanOrEqual(60_000);
    emu.clock.set(new Date('2030-01-01T00:00:00Z'));
    const t0 = emu.clock.now().getTime();
    expect(t0 - Date.parse('2030-01-01T00:00:00Z')).toBeLessThan(50);
    await new Promise((r) => setTimeout(r, 20));
    expect(emu.clock.now().getTime()).toBeGreaterThan(t0);
  });

  it('dates IAM credentials and secret versions by the virtual clock', () => {
    const emu = new AwsEmulator();
    emu.clock.set(new Date('2030-01-01T00:00:00Z'));
    emu.iam.createUser('alice');
    const c = emu.iam.issueCredential('alice', 'cassandra.amazonaws.com');
    expect(c.CreateDate.toISOString().slice(0, 10)).toBe('2030-01-01');
    emu.secrets.createSecret('s', { value: 'v' });
    expect(emu.secrets.secret('s')?.versions[0]?.createdDate.toISOString().slice(0, 10)).toBe('2030-01-01');
  });
});

describe('endpoint from the environment', () => {
  it('serves clients configured only by AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
    const emu = new AwsEmulator();
    emu.iam.createUser('alice');
    emu.secrets.createSecret('s', { value: 'v' });
    const server = await emu.listen();
    vi.stubEnv('AWS_ENDPOINT_URL_IAM', server.url);
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', server.url);
    try {
      const iam = new IAMClient({ region: 'us-east-1', credentials });
      const sm = new SecretsManagerClient({ region: 'us-east-1', credentials });
      const listed = await iam.send(new ListServiceSpecificCredentialsCommand({ UserName: 'alice' }));
      expect(listed.ServiceSpecificCredentials).toEqual([]);
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v');
      expect(emu.calls.map((c) => c.service)).toEqual(['iam', 'secretsmanager']);
    } finally {
      vi.unstubAllEnvs();
      await server.close();
    }
  });
});

describe('direct access for test setup and tampering', () => {
  it('puts values, reads labels and tampers with credentials without the wire', () => {
    const emu = new AwsEmulator();
    emu.secrets.createSecret('s', { value: 'v1' });
    const v2 = emu.secrets.putValue('s', 'v2');
    expect(emu.secrets.labels('s')[v2]).toEqual(['AWSCURRENT']);
    expect(emu.secrets.valueAt('s', 'AWSPREVIOUS')).toBe('v1');

    emu.iam.createUser('alice');
    const c = emu.iam.issueCredential('alice', 'cassandra.amazonaws.com');
    emu.iam.setStatus(c.ServiceSpecificCredentialId, 'Inactive');
    expect(emu.iam.credential(c.ServiceSpecificCredentialId)?.Status).toBe('Inactive');
    emu.iam.removeCredential(c.ServiceSpecificCredentialId);
    expect(emu.iam.credentials()).toEqual([]);
    expect(emu.calls).toEqual([]);
  });
});
