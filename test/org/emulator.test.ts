// The organization emulator: one endpoint, one account per access key, each with its own
// IAM and Secrets Manager state and faults, through the real SDK clients in both modes.
import { ListUsersCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { accessKeyIdOf, OrganizationEmulator } from '../../emulator/organization.ts';
import { failure } from '../emulator/harness.ts';

const ACCOUNTS = [
  { accountId: '111111111111', accessKeyId: 'AKIAONE', name: 'one' },
  { accountId: '222222222222', accessKeyId: 'AKIATWO', name: 'two' },
];

describe('OrganizationEmulator', () => {
  const destroy: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const d of destroy.splice(0)) await d();
  });

  const clientsFor = async (org: OrganizationEmulator, mode: 'in-process' | 'http', accessKeyId: string) => {
    const server = mode === 'http' ? await org.listen() : undefined;
    if (server) destroy.push(server.close);
    const config = {
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey: 'x' },
      maxAttempts: 1,
      ...(server ? { endpoint: server.url } : { requestHandler: org.requestHandler() }),
    };
    const iam = new IAMClient(config);
    const sm = new SecretsManagerClient(config);
    destroy.push(
      () => iam.destroy(),
      () => sm.destroy(),
    );
    return { iam, sm };
  };

  it('reads the access key id from a SigV4 Authorization header', () => {
    expect(
      accessKeyIdOf({
        Authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc',
      }),
    ).toBe('AKIAEXAMPLE');
    expect(accessKeyIdOf({ host: 'x' })).toBeUndefined();
  });

  for (const mode of ['in-process', 'http'] as const) {
    it(`${mode}: each key sees its own account's users and secrets, and ARNs name that account`, async () => {
      const org = new OrganizationEmulator(ACCOUNTS);
      org.account('111111111111').iam.createUser('alice');
      org.account('222222222222').iam.createUser('bob');
      org.account('222222222222').secrets.createSecret('service-credentials/bob/x', { tags: { a: 'b' } });
      const one = await clientsFor(org, mode, 'AKIAONE');
      const two = await clientsFor(org, mode, 'AKIATWO');

      // Every account also has the emulator's caller, emulator-admin.
      const users = async (c: IAMClient) =>
        (await c.send(new ListUsersCommand({}))).Users?.map((u) => u.Arn).filter(
          (a) => !a?.endsWith('/emulator-admin'),
        );
      expect(await users(one.iam)).toEqual(['arn:aws:iam::111111111111:user/alice']);
      expect(await users(two.iam)).toEqual(['arn:aws:iam::222222222222:user/bob']);
      const secrets = async (c: SecretsManagerClient) =>
        (await c.send(new ListSecretsCommand({}))).SecretList ?? [];
      expect(await secrets(one.sm)).toEqual([]);
      expect((await secrets(two.sm)).map((s) => s.ARN)).toEqual([
        expect.stringMatching(
          /^arn:aws:secretsmanager:us-east-1:222222222222:secret:service-credentials\/bob\/x-/,
        ),
      ]);
    });

    it(`${mode}: a key no account has is refused by both services, and nothing is answered from another account`, async () => {
      const org = new OrganizationEmulator(ACCOUNTS);
      org.account('111111111111').iam.createUser('alice');
      const stranger = await clientsFor(org, mode, 'AKIASTRANGER');
      const iamError = await failure(stranger.iam.send(new ListUsersCommand({})));
      expect(iamError.name).toBe('InvalidClientTokenId');
      expect(iamError.$metadata.httpStatusCode).toBe(403);
      const smError = await failure(stranger.sm.send(new ListSecretsCommand({})));
      expect(smError.name).toBe('UnrecognizedClientException');
      for (const id of org.accountIds) expect(org.account(id).calls).toEqual([]);
    });

    it(`${mode}: faults are per account: a throttled account throttles only its own callers`, async () => {
      const org = new OrganizationEmulator(ACCOUNTS);
      org.account('222222222222').faults.add({ operation: 'ListUsers', kind: 'throttle', times: Infinity });
      const one = await clientsFor(org, mode, 'AKIAONE');
      const two = await clientsFor(org, mode, 'AKIATWO');
      expect((await one.iam.send(new ListUsersCommand({}))).Users).toHaveLength(1);
      expect((await failure(two.iam.send(new ListUsersCommand({})))).name).toBe('Throttling');
      expect(
        org
          .account('111111111111')
          .callsOf('ListUsers')
          .map((c) => c.outcome),
      ).toEqual(['OK']);
    });
  }

  it('refuses a bad account id, a duplicate account, a reused access key and an empty organization', () => {
    expect(() => new OrganizationEmulator([])).toThrow(/at least one account/);
    expect(() => new OrganizationEmulator([{ accountId: '12', accessKeyId: 'K' }])).toThrow(
      /12 digits, got "12"/,
    );
    const org = new OrganizationEmulator(ACCOUNTS);
    expect(() => org.addAccount({ accountId: '111111111111', accessKeyId: 'NEW' })).toThrow(
      /already in the organization/,
    );
    expect(() => org.addAccount({ accountId: '333333333333', accessKeyId: 'AKIAONE' })).toThrow(
      /already names another account/,
    );
    expect(() => org.account('999999999999')).toThrow(/not in the organization/);
  });
});
