import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsStore } from '../../lambda/aws/secrets.ts';
import {
  AccessDeniedError,
  AwsCallError,
  IntentClaimedError,
  SecretDeletedError,
  SecretNotFoundError,
  ThrottledError,
} from '../../lambda/errors.ts';
import { INTENT_STAGE } from '../../lambda/rotation/intent.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';

const smMock = mockClient(SecretsManagerClient);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const written = new Date('2025-03-01T10:00:00Z');
const notFound = () =>
  new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret.",
    $metadata: { httpStatusCode: 400 },
  });
const noCurrentVersion = () =>
  new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    $metadata: { httpStatusCode: 400 },
  });

function listEntry(name: string, tags: Record<string, string>) {
  return { ARN: arn(name), Name: name, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
}

describe('SecretsStore', () => {
  let store: SecretsStore;

  beforeEach(() => {
    smMock.reset();
    store = new SecretsStore(new SecretsManagerClient({}));
  });

  describe('listTargetSecrets', () => {
    it('filters by the user-name tag key and pages by NextToken', async () => {
      smMock
        .on(ListSecretsCommand)
        .resolvesOnce({
          SecretList: [
            listEntry('a', { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: 'cassandra.amazonaws.com' }),
          ],
          NextToken: 't1',
        })
        .resolvesOnce({ SecretList: [], NextToken: 't2' })
        .resolvesOnce({ SecretList: [listEntry('b', { [USER_NAME_TAG]: 'bob' })] });

      const secrets = await store.listTargetSecrets();

      expect(secrets.map((s) => s.name)).toEqual(['a', 'b']);
      const inputs = smMock.commandCalls(ListSecretsCommand).map((c) => c.args[0].input);
      const filters = [{ Key: 'tag-key', Values: [USER_NAME_TAG] }];
      expect(inputs).toEqual([
        { Filters: filters, MaxResults: 100 },
        { Filters: filters, MaxResults: 100, NextToken: 't1' },
        { Filters: filters, MaxResults: 100, NextToken: 't2' },
      ]);
    });

    it('adds a name filter when a prefix is given', async () => {
      smMock.on(ListSecretsCommand).resolves({ SecretList: [] });

      await store.listTargetSecrets('service-credentials/');

      expect(smMock).toHaveReceivedCommandWith(ListSecretsCommand, {
        Filters: [
          { Key: 'tag-key', Values: [USER_NAME_TAG] },
          { Key: 'name', Values: ['service-credentials/'] },
        ],
      });
    });

    it('maps tags to a record and DeletedDate to deletedAt', async () => {
      const deleted = new Date('2025-03-02T00:00:00Z');
      smMock.on(ListSecretsCommand).resolves({
        SecretList: [
          {
            ...listEntry('a', { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: 'x', team: '' }),
            DeletedDate: deleted,
          },
        ],
      });

      const [secret] = await store.listTargetSecrets();

      expect(secret).toEqual({
        arn: arn('a'),
        name: 'a',
        tags: { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: 'x', team: '' },
        deletedAt: deleted,
      });
    });

    it('drops secrets that only match the tag-key filter as a prefix', async () => {
      smMock.on(ListSecretsCommand).resolves({
        SecretList: [
          listEntry('a', { [`${USER_NAME_TAG}-old`]: 'alice' }),
          listEntry('b', { [USER_NAME_TAG]: 'bob' }),
        ],
      });

      const secrets = await store.listTargetSecrets();

      expect(secrets.map((s) => s.name)).toEqual(['b']);
    });

    it('translates access denied', async () => {
      smMock.on(ListSecretsCommand).rejects(
        new SecretsManagerServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          message: 'not authorized to perform secretsmanager:ListSecrets',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      await expect(store.listTargetSecrets()).rejects.toBeInstanceOf(AccessDeniedError);
    });
  });

  describe('describeSecret', () => {
    it('returns the summary of one secret', async () => {
      smMock.on(DescribeSecretCommand).resolves({
        ARN: arn('a'),
        Name: 'a',
        Tags: [{ Key: USER_NAME_TAG, Value: 'alice' }],
      });

      const secret = await store.describeSecret('a');

      expect(secret).toEqual({
        arn: arn('a'),
        name: 'a',
        tags: { [USER_NAME_TAG]: 'alice' },
        deletedAt: undefined,
      });
      expect(smMock).toHaveReceivedCommandWith(DescribeSecretCommand, { SecretId: 'a' });
    });

    it('throws SecretNotFoundError for an unknown secret, naming it', async () => {
      smMock.on(DescribeSecretCommand).rejects(notFound());

      const error = await store.describeSecret('nope').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(SecretNotFoundError);
      expect((error as Error).message).toContain('secret nope');
    });
  });

  describe('readIntent', () => {
    it('reads the version under the intent label, and undefined when there is none', async () => {
      smMock
        .on(GetSecretValueCommand, { VersionStage: INTENT_STAGE })
        .resolvesOnce({ ARN: arn('a'), VersionId: 'i1', CreatedDate: written, SecretString: '{}' })
        .rejectsOnce(
          new ResourceNotFoundException({
            message: `Secrets Manager can't find the specified secret value for staging label: ${INTENT_STAGE}`,
            $metadata: { httpStatusCode: 400 },
          }),
        );
      await expect(store.readIntent(arn('a'))).resolves.toEqual({
        versionId: 'i1',
        createdAt: written,
        value: '{}',
      });
      await expect(store.readIntent(arn('a'))).resolves.toBeUndefined();
    });
  });

  describe('intent metadata', () => {
    it('tells from the staging labels ListSecrets and DescribeSecret return which version holds the intent', async () => {
      const tags = [{ Key: USER_NAME_TAG, Value: 'u' }];
      smMock.on(ListSecretsCommand).resolves({
        SecretList: [
          {
            ARN: arn('a'),
            Name: 'a',
            Tags: tags,
            SecretVersionsToStages: { v1: ['AWSCURRENT'], i1: [INTENT_STAGE] },
          },
          { ARN: arn('b'), Name: 'b', Tags: tags, SecretVersionsToStages: { v1: ['AWSCURRENT'] } },
        ],
      });
      smMock.on(DescribeSecretCommand).resolves({
        ARN: arn('a'),
        Name: 'a',
        VersionIdsToStages: { v1: ['AWSCURRENT'], i2: [INTENT_STAGE] },
      });
      const listed = await store.listTargetSecrets();
      expect(listed.map((s) => s.intentVersionId)).toEqual(['i1', undefined]);
      expect((await store.describeSecret(arn('a'))).intentVersionId).toBe('i2');
    });
  });

  describe('writeIntent', () => {
    it('writes a version under the intent label only, with the claim as its token', async () => {
      smMock
        .on(PutSecretValueCommand)
        .resolves({ ARN: arn('a'), VersionId: 'claim-token-000000000000000000000' });
      await expect(
        store.writeIntent(arn('a'), '{"requestId":"r"}', 'claim-token-000000000000000000000'),
      ).resolves.toBe('claim-token-000000000000000000000');
      expect(smMock).toHaveReceivedCommandWith(PutSecretValueCommand, {
        SecretId: arn('a'),
        SecretString: '{"requestId":"r"}',
        VersionStages: [INTENT_STAGE],
        ClientRequestToken: 'claim-token-000000000000000000000',
      });
    });

    it('reports a claim another run already took as IntentClaimedError', async () => {
      smMock.on(PutSecretValueCommand).rejects(
        new ResourceExistsException({
          message: `You can't use ClientRequestToken t because that value is already in use for a version of secret ${arn('a')}.`,
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const error = await store
        .writeIntent(arn('a'), '{}', 'claim-token-000000000000000000000')
        .catch((e) => e);
      expect(error).toBeInstanceOf(IntentClaimedError);
      expect((error as Error).message).toMatch(/another run already wrote the intent for this step/);
    });
  });

  describe('readCurrent', () => {
    it('reads the AWSCURRENT version', async () => {
      smMock.on(GetSecretValueCommand).resolves({
        ARN: arn('a'),
        VersionId: 'v1',
        CreatedDate: written,
        SecretString: '{"password":"x"}',
        VersionStages: ['AWSCURRENT'],
      });

      const current = await store.readCurrent(arn('a'));

      expect(current).toEqual({ versionId: 'v1', createdAt: written, value: '{"password":"x"}' });
      expect(smMock).toHaveReceivedCommandWith(GetSecretValueCommand, {
        SecretId: arn('a'),
        VersionStage: 'AWSCURRENT',
      });
    });

    it('returns undefined for a secret without an AWSCURRENT version', async () => {
      smMock.on(GetSecretValueCommand).rejects(noCurrentVersion());

      await expect(store.readCurrent(arn('a'))).resolves.toBeUndefined();
    });

    it('throws SecretNotFoundError for an unknown secret', async () => {
      smMock.on(GetSecretValueCommand).rejects(notFound());

      await expect(store.readCurrent(arn('a'))).rejects.toBeInstanceOf(SecretNotFoundError);
    });

    it('throws SecretDeletedError for a secret scheduled for deletion', async () => {
      smMock.on(GetSecretValueCommand).rejects(
        new InvalidRequestException({
          message: "You can't perform this operation on the secret because it was marked for deletion.",
          $metadata: { httpStatusCode: 400 },
        }),
      );

      await expect(store.readCurrent(arn('a'))).rejects.toBeInstanceOf(SecretDeletedError);
    });
  });

  describe('storeCurrent', () => {
    it('puts the value without VersionStages or token and returns the VersionId', async () => {
      smMock
        .on(PutSecretValueCommand)
        .resolves({ ARN: arn('a'), VersionId: 'v2', VersionStages: ['AWSCURRENT'] });

      const versionId = await store.storeCurrent(arn('a'), '{"password":"new"}');

      expect(versionId).toBe('v2');
      expect(smMock.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
        SecretId: arn('a'),
        SecretString: '{"password":"new"}',
      });
    });

    it('never puts the SecretString into a translated error', async () => {
      const value = '{"username":"alice-at-1","password":"S3cr3t+Pa55/word="}';
      const failures = [
        notFound(),
        new InvalidRequestException({
          message: "You can't perform this operation on the secret because it was marked for deletion.",
          $metadata: { httpStatusCode: 400 },
        }),
        new SecretsManagerServiceException({
          name: 'ValidationException',
          $fault: 'client',
          message: `Value ${value} at 'secretString' failed to satisfy constraint`,
          $metadata: { httpStatusCode: 400 },
        }),
      ];
      for (const failure of failures) {
        smMock.on(PutSecretValueCommand).rejects(failure);

        const error = (await store.storeCurrent(arn('a'), value).catch((e: unknown) => e)) as AwsCallError;

        expect(error).toBeInstanceOf(AwsCallError);
        expect(error.message).not.toContain('S3cr3t');
        const cause = error.cause as Error;
        expect(`${cause.message} ${JSON.stringify(cause)}`).not.toContain('S3cr3t');
      }
    });
  });

  describe('readCurrentMany', () => {
    it('reads 20 secrets per BatchGetSecretValue call', async () => {
      const ids = Array.from({ length: 45 }, (_, i) => arn(`s${i}`));
      smMock.on(BatchGetSecretValueCommand).callsFake((input: { SecretIdList: string[] }) => ({
        SecretValues: input.SecretIdList.map((id) => ({
          ARN: id,
          Name: id.split(':').at(-1),
          VersionId: `v-${id}`,
          CreatedDate: written,
          SecretString: 'x',
        })),
      }));

      const results = await store.readCurrentMany(ids);

      const chunks = smMock.commandCalls(BatchGetSecretValueCommand).map((c) => c.args[0].input.SecretIdList);
      expect(chunks.map((c) => c?.length)).toEqual([20, 20, 5]);
      expect(chunks.flat()).toEqual(ids);
      expect(results.size).toBe(45);
      expect(results.get(ids[44] as string)).toEqual({
        versionId: `v-${ids[44]}`,
        createdAt: written,
        value: 'x',
      });
    });

    it('maps per-secret errors to typed errors and a missing AWSCURRENT to undefined', async () => {
      smMock.on(BatchGetSecretValueCommand).resolves({
        SecretValues: [
          { ARN: arn('ok'), Name: 'ok', VersionId: 'v1', CreatedDate: written, SecretString: 'x' },
        ],
        Errors: [
          {
            SecretId: arn('gone'),
            ErrorCode: 'ResourceNotFoundException',
            Message: "Secrets Manager can't find the specified secret.",
          },
          {
            SecretId: arn('empty'),
            ErrorCode: 'ResourceNotFoundException',
            Message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
          },
          { SecretId: arn('denied'), ErrorCode: 'AccessDeniedException', Message: 'not authorized' },
          {
            SecretId: arn('deleted'),
            ErrorCode: 'InvalidRequestException',
            Message: "You can't perform this operation on the secret because it was marked for deletion.",
          },
        ],
      });

      const results = await store.readCurrentMany(
        ['ok', 'gone', 'empty', 'denied', 'deleted'].map((n) => arn(n)),
      );

      expect(results.get(arn('ok'))).toEqual({ versionId: 'v1', createdAt: written, value: 'x' });
      expect(results.get(arn('gone'))).toBeInstanceOf(SecretNotFoundError);
      expect(results.has(arn('empty'))).toBe(true);
      expect(results.get(arn('empty'))).toBeUndefined();
      expect(results.get(arn('denied'))).toBeInstanceOf(AccessDeniedError);
      expect(results.get(arn('deleted'))).toBeInstanceOf(SecretDeletedError);
      expect((results.get(arn('gone')) as Error).message).toContain(arn('gone'));
    });

    it('matches values asked for by name', async () => {
      smMock.on(BatchGetSecretValueCommand).resolves({
        SecretValues: [
          { ARN: arn('a'), Name: 'a', VersionId: 'v1', CreatedDate: written, SecretString: 'x' },
        ],
      });

      const results = await store.readCurrentMany(['a']);

      expect(results.get('a')).toMatchObject({ versionId: 'v1' });
    });

    it('reports a secret nothing came back for as an error, not as missing', async () => {
      smMock.on(BatchGetSecretValueCommand).resolves({ SecretValues: [] });

      const results = await store.readCurrentMany([arn('a')]);

      expect(results.get(arn('a'))).toBeInstanceOf(AwsCallError);
    });

    it('follows NextToken within a chunk', async () => {
      smMock
        .on(BatchGetSecretValueCommand)
        .resolvesOnce({
          SecretValues: [{ ARN: arn('a'), Name: 'a', VersionId: 'v1', CreatedDate: written }],
          NextToken: 'n1',
        })
        .resolvesOnce({
          SecretValues: [{ ARN: arn('b'), Name: 'b', VersionId: 'v2', CreatedDate: written }],
        });

      const results = await store.readCurrentMany([arn('a'), arn('b')]);

      expect([...results.keys()]).toEqual([arn('a'), arn('b')]);
      expect(smMock).toHaveReceivedNthCommandWith(BatchGetSecretValueCommand, 2, {
        SecretIdList: [arn('a'), arn('b')],
        NextToken: 'n1',
      });
    });

    it('throws when a whole batch call fails', async () => {
      smMock.on(BatchGetSecretValueCommand).rejects(
        new SecretsManagerServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      await expect(store.readCurrentMany([arn('a')])).rejects.toBeInstanceOf(ThrottledError);
    });

    it('asks each id once', async () => {
      smMock.on(BatchGetSecretValueCommand).resolves({
        SecretValues: [{ ARN: arn('a'), Name: 'a', VersionId: 'v1', CreatedDate: written }],
      });

      await store.readCurrentMany([arn('a'), arn('a')]);

      expect(smMock).toHaveReceivedCommandWith(BatchGetSecretValueCommand, { SecretIdList: [arn('a')] });
    });
  });
});
