import {
  CreateServiceSpecificCredentialCommand,
  DeleteServiceSpecificCredentialCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListServiceSpecificCredentialsCommand,
  NoSuchEntityException,
  ResetServiceSpecificCredentialCommand,
  type ServiceSpecificCredentialMetadata,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IamCredentials } from '../../lambda/aws/iam.ts';
import {
  AwsCallError,
  CredentialNotFoundError,
  CredentialQuotaError,
  NoSuchUserError,
  ThrottledError,
} from '../../lambda/errors.ts';

const iamMock = mockClient(IAMClient);
const KEYSPACES = 'cassandra.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';
const created = new Date('2025-03-01T10:00:00Z');

function listed(id: string, overrides: Partial<ServiceSpecificCredentialMetadata> = {}) {
  return {
    UserName: 'alice',
    Status: 'Active' as const,
    ServiceUserName: 'alice-at-123456789012',
    CreateDate: created,
    ServiceSpecificCredentialId: id,
    ServiceName: KEYSPACES,
    ...overrides,
  };
}

describe('IamCredentials', () => {
  let credentials: IamCredentials;

  beforeEach(() => {
    iamMock.reset();
    credentials = new IamCredentials(new IAMClient({}));
  });

  describe('listCredentials', () => {
    it('pages through all credentials by Marker', async () => {
      iamMock
        .on(ListServiceSpecificCredentialsCommand)
        .resolvesOnce({ ServiceSpecificCredentials: [listed('ACCA1')], IsTruncated: true, Marker: 'm1' })
        .resolvesOnce({ ServiceSpecificCredentials: [listed('ACCA2')], IsTruncated: true, Marker: 'm2' })
        .resolvesOnce({
          ServiceSpecificCredentials: [listed('ACCA3', { Status: 'Inactive' })],
          IsTruncated: false,
        });

      const result = await credentials.listCredentials('alice', KEYSPACES);

      expect(result.map((c) => c.id)).toEqual(['ACCA1', 'ACCA2', 'ACCA3']);
      expect(iamMock).toHaveReceivedCommandTimes(ListServiceSpecificCredentialsCommand, 3);
      const inputs = iamMock.commandCalls(ListServiceSpecificCredentialsCommand).map((c) => c.args[0].input);
      expect(inputs).toEqual([
        { UserName: 'alice', ServiceName: KEYSPACES, MaxItems: 1000 },
        { UserName: 'alice', ServiceName: KEYSPACES, MaxItems: 1000, Marker: 'm1' },
        { UserName: 'alice', ServiceName: KEYSPACES, MaxItems: 1000, Marker: 'm2' },
      ]);
    });

    it('maps a password credential without inventing a secret', async () => {
      iamMock
        .on(ListServiceSpecificCredentialsCommand)
        .resolves({ ServiceSpecificCredentials: [listed('ACCA1')] });

      const [credential] = await credentials.listCredentials('alice', KEYSPACES);

      expect(credential).toEqual({
        id: 'ACCA1',
        userName: 'alice',
        serviceName: KEYSPACES,
        status: 'Active',
        createdAt: created,
        expiresAt: undefined,
        serviceUserName: 'alice-at-123456789012',
        alias: undefined,
      });
    });

    it('maps an API key credential with alias and expiry', async () => {
      const expires = new Date('2025-04-08T10:00:00Z');
      iamMock.on(ListServiceSpecificCredentialsCommand).resolves({
        ServiceSpecificCredentials: [
          listed('ACCA9', {
            ServiceName: BEDROCK,
            ServiceUserName: undefined,
            ServiceCredentialAlias: 'BedrockAPIKey-abcd-at-123456789012',
            ExpirationDate: expires,
            Status: 'Expired',
          }),
        ],
      });

      const [credential] = await credentials.listCredentials('alice', BEDROCK);

      expect(credential).toMatchObject({
        id: 'ACCA9',
        serviceName: BEDROCK,
        status: 'Expired',
        alias: 'BedrockAPIKey-abcd-at-123456789012',
        expiresAt: expires,
      });
      expect(credential?.serviceUserName).toBeUndefined();
    });

    it('returns an empty list when IAM lists none', async () => {
      iamMock.on(ListServiceSpecificCredentialsCommand).resolves({});

      await expect(credentials.listCredentials('alice', KEYSPACES)).resolves.toEqual([]);
    });

    it('fails instead of looping when a truncated page repeats its Marker', async () => {
      iamMock
        .on(ListServiceSpecificCredentialsCommand)
        .resolves({ ServiceSpecificCredentials: [listed('ACCA1')], IsTruncated: true, Marker: 'same' });

      await expect(credentials.listCredentials('alice', KEYSPACES)).rejects.toMatchObject({
        code: 'InvalidResponse',
      });
      expect(iamMock).toHaveReceivedCommandTimes(ListServiceSpecificCredentialsCommand, 2);
    });

    it('rejects a status outside Active|Inactive|Expired', async () => {
      iamMock
        .on(ListServiceSpecificCredentialsCommand)
        .resolves({ ServiceSpecificCredentials: [listed('ACCA1', { Status: 'Suspended' as never })] });

      await expect(credentials.listCredentials('alice', KEYSPACES)).rejects.toThrow(/status Suspended/);
    });

    it('translates an unknown user into NoSuchUserError', async () => {
      iamMock.on(ListServiceSpecificCredentialsCommand).rejects(
        new NoSuchEntityException({
          message: 'The user with name bob cannot be found.',
          $metadata: { httpStatusCode: 404 },
        }),
      );

      const error = await credentials.listCredentials('bob', KEYSPACES).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(NoSuchUserError);
      expect((error as Error).message).toContain('user bob');
    });
  });

  describe('listAllCredentials', () => {
    it('lists every user with AllUsers and without UserName, paging by Marker', async () => {
      iamMock
        .on(ListServiceSpecificCredentialsCommand)
        .resolvesOnce({ ServiceSpecificCredentials: [listed('ACCA1')], IsTruncated: true, Marker: 'm1' })
        .resolvesOnce({
          ServiceSpecificCredentials: [listed('ACCA2', { UserName: 'bob' })],
          IsTruncated: false,
        });

      const result = await credentials.listAllCredentials(KEYSPACES);

      expect(result.map((c) => [c.userName, c.id])).toEqual([
        ['alice', 'ACCA1'],
        ['bob', 'ACCA2'],
      ]);
      const inputs = iamMock.commandCalls(ListServiceSpecificCredentialsCommand).map((c) => c.args[0].input);
      expect(inputs).toEqual([
        { AllUsers: true, ServiceName: KEYSPACES, MaxItems: 1000 },
        { AllUsers: true, ServiceName: KEYSPACES, MaxItems: 1000, Marker: 'm1' },
      ]);
    });

    it('omits ServiceName when no service is given', async () => {
      iamMock.on(ListServiceSpecificCredentialsCommand).resolves({ ServiceSpecificCredentials: [] });

      await credentials.listAllCredentials();

      expect(iamMock.commandCalls(ListServiceSpecificCredentialsCommand)[0]?.args[0].input).toEqual({
        AllUsers: true,
        MaxItems: 1000,
      });
    });
  });

  describe('createCredential', () => {
    it('returns the password credential with its one-time password', async () => {
      iamMock.on(CreateServiceSpecificCredentialCommand).resolves({
        ServiceSpecificCredential: { ...listed('ACCANEW'), ServicePassword: 'pw-once' },
      });

      const issued = await credentials.createCredential('alice', KEYSPACES);

      expect(issued).toMatchObject({
        id: 'ACCANEW',
        userName: 'alice',
        serviceUserName: 'alice-at-123456789012',
        servicePassword: 'pw-once',
      });
      expect(issued.serviceCredentialSecret).toBeUndefined();
    });

    it('returns the API key credential with alias, secret and expiry', async () => {
      const expires = new Date('2025-04-08T10:00:00Z');
      iamMock.on(CreateServiceSpecificCredentialCommand).resolves({
        ServiceSpecificCredential: {
          ...listed('ACCAKEY', { ServiceName: BEDROCK, ServiceUserName: undefined }),
          ServiceCredentialAlias: 'BedrockAPIKey-abcd-at-123456789012',
          ServiceCredentialSecret: 'ABSKsecret',
          ExpirationDate: expires,
        },
      });

      const issued = await credentials.createCredential('alice', BEDROCK, 38);

      expect(issued).toMatchObject({
        id: 'ACCAKEY',
        alias: 'BedrockAPIKey-abcd-at-123456789012',
        serviceCredentialSecret: 'ABSKsecret',
        expiresAt: expires,
      });
      expect(iamMock).toHaveReceivedCommandWith(CreateServiceSpecificCredentialCommand, {
        UserName: 'alice',
        ServiceName: BEDROCK,
        CredentialAgeDays: 38,
      });
    });

    it('sends CredentialAgeDays only when given', async () => {
      iamMock.on(CreateServiceSpecificCredentialCommand).resolves({
        ServiceSpecificCredential: { ...listed('ACCANEW'), ServicePassword: 'pw' },
      });

      await credentials.createCredential('alice', KEYSPACES);

      const input = iamMock.commandCalls(CreateServiceSpecificCredentialCommand)[0]?.args[0].input;
      expect(input).toEqual({ UserName: 'alice', ServiceName: KEYSPACES });
      expect(input).not.toHaveProperty('CredentialAgeDays');
    });

    it('translates the full quota into CredentialQuotaError', async () => {
      iamMock.on(CreateServiceSpecificCredentialCommand).rejects(
        new LimitExceededException({
          message: 'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2',
          $metadata: { httpStatusCode: 409 },
        }),
      );

      await expect(credentials.createCredential('alice', KEYSPACES)).rejects.toBeInstanceOf(
        CredentialQuotaError,
      );
    });

    it('fails when IAM returns neither a password nor a secret', async () => {
      iamMock
        .on(CreateServiceSpecificCredentialCommand)
        .resolves({ ServiceSpecificCredential: listed('ACCANEW') });

      await expect(credentials.createCredential('alice', KEYSPACES)).rejects.toThrow(
        /ACCANEW came with neither ServicePassword nor ServiceCredentialSecret/,
      );
    });
  });

  describe('resetCredential', () => {
    it('names the user and the credential and returns the new password', async () => {
      iamMock.on(ResetServiceSpecificCredentialCommand).resolves({
        ServiceSpecificCredential: { ...listed('ACCA1', { Status: 'Inactive' }), ServicePassword: 'pw-new' },
      });

      const issued = await credentials.resetCredential('alice', 'ACCA1');

      expect(issued).toMatchObject({ id: 'ACCA1', status: 'Inactive', servicePassword: 'pw-new' });
      expect(iamMock).toHaveReceivedCommandWith(ResetServiceSpecificCredentialCommand, {
        UserName: 'alice',
        ServiceSpecificCredentialId: 'ACCA1',
      });
    });

    it('keeps the password out of the error when the response is incomplete', async () => {
      iamMock.on(ResetServiceSpecificCredentialCommand).resolves({
        ServiceSpecificCredential: {
          ...listed('ACCA1'),
          ServiceSpecificCredentialId: undefined,
          ServicePassword: 'pw-x',
        } as never,
      });

      const error = await credentials.resetCredential('alice', 'ACCA1').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AwsCallError);
      expect((error as Error).message).not.toContain('pw-x');
    });
  });

  describe('setCredentialStatus', () => {
    it('names the user, the credential and the status', async () => {
      iamMock.on(UpdateServiceSpecificCredentialCommand).resolves({});

      await credentials.setCredentialStatus('alice', 'ACCA1', 'Inactive');

      expect(iamMock).toHaveReceivedCommandExactlyOnceWith(UpdateServiceSpecificCredentialCommand, {
        UserName: 'alice',
        ServiceSpecificCredentialId: 'ACCA1',
        Status: 'Inactive',
      });
    });

    it('translates throttling after the SDK gave up into a retryable ThrottledError', async () => {
      iamMock.on(UpdateServiceSpecificCredentialCommand).rejects(
        new IAMServiceException({
          name: 'Throttling',
          $fault: 'client',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      const error = await credentials
        .setCredentialStatus('alice', 'ACCA1', 'Active')
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ThrottledError);
      expect(error).toMatchObject({ retryable: true, httpStatus: 400, code: 'Throttling' });
    });
  });

  describe('deleteCredential', () => {
    it('names the user and the credential', async () => {
      iamMock.on(DeleteServiceSpecificCredentialCommand).resolves({});

      await credentials.deleteCredential('alice', 'ACCA1');

      expect(iamMock).toHaveReceivedCommandExactlyOnceWith(DeleteServiceSpecificCredentialCommand, {
        UserName: 'alice',
        ServiceSpecificCredentialId: 'ACCA1',
      });
    });

    it('translates an unknown id into CredentialNotFoundError', async () => {
      iamMock.on(DeleteServiceSpecificCredentialCommand).rejects(
        new NoSuchEntityException({
          message: 'No such credential ACCA1 exists',
          $metadata: { httpStatusCode: 404 },
        }),
      );

      await expect(credentials.deleteCredential('alice', 'ACCA1')).rejects.toBeInstanceOf(
        CredentialNotFoundError,
      );
    });
  });

  it('always sends UserName on per-user operations', async () => {
    iamMock.on(ListServiceSpecificCredentialsCommand).resolves({});
    iamMock.on(CreateServiceSpecificCredentialCommand).resolves({
      ServiceSpecificCredential: { ...listed('ACCA1'), ServicePassword: 'pw' },
    });
    iamMock.on(ResetServiceSpecificCredentialCommand).resolves({
      ServiceSpecificCredential: { ...listed('ACCA1'), ServicePassword: 'pw' },
    });

    await credentials.listCredentials('alice', KEYSPACES);
    await credentials.createCredential('alice', KEYSPACES);
    await credentials.resetCredential('alice', 'ACCA1');
    await credentials.setCredentialStatus('alice', 'ACCA1', 'Inactive');
    await credentials.deleteCredential('alice', 'ACCA1');

    const calls = iamMock.calls();
    expect(calls).toHaveLength(5);
    for (const call of calls) expect(call.args[0].input).toHaveProperty('UserName', 'alice');
  });
});
