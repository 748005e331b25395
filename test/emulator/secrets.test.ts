import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failure, type Harness, MODES, startHarness } from './harness.ts';

const TOKEN_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const MARKED = "You can't perform this operation on the secret because it was marked for deletion.";

describe.each(MODES)('Secrets Manager (%s)', (mode) => {
  let h: Harness;
  let sm: SecretsManagerClient;
  beforeEach(async () => {
    h = await startHarness(mode);
    sm = h.sm({ maxAttempts: 1 });
  });
  afterEach(() => h.close());

  const createTarget = (name: string, tags: Record<string, string> = {}, value?: string) =>
    sm.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: value,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );

  it('creates a secret with tags and describes it by name and by ARN', async () => {
    const created = await createTarget('service-credentials/alice/x', { team: 'a' }, 'v1');
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:service-credentials\/alice\/x-[A-Za-z0-9]{6}$/,
    );
    for (const id of [created.Name, created.ARN]) {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: id }));
      expect(d.Name).toBe('service-credentials/alice/x');
      expect(d.Tags).toEqual([{ Key: 'team', Value: 'a' }]);
      expect(d.VersionIdsToStages).toEqual({ [created.VersionId ?? '']: ['AWSCURRENT'] });
      expect(d.DeletedDate).toBeUndefined();
    }
    const dup = await failure(createTarget('service-credentials/alice/x'));
    expect(dup.name).toBe('ResourceExistsException');
  });

  it('answers ResourceNotFoundException 400 for an unknown secret', async () => {
    const e = await failure(sm.send(new GetSecretValueCommand({ SecretId: 'nope' })));
    expect(e.name).toBe('ResourceNotFoundException');
    expect(e.message).toBe("Secrets Manager can't find the specified secret.");
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it('answers ResourceNotFoundException for a secret without AWSCURRENT or a missing stage', async () => {
    await createTarget('empty');
    const e = await failure(sm.send(new GetSecretValueCommand({ SecretId: 'empty' })));
    expect(e.name).toBe('ResourceNotFoundException');
    expect(e.message).toBe(
      "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    );
    await sm.send(new PutSecretValueCommand({ SecretId: 'empty', SecretString: 'v1' }));
    const prev = await failure(
      sm.send(new GetSecretValueCommand({ SecretId: 'empty', VersionStage: 'AWSPREVIOUS' })),
    );
    expect(prev.name).toBe('ResourceNotFoundException');
  });

  it('moves AWSCURRENT on PutSecretValue and leaves AWSPREVIOUS on the old current', async () => {
    const c = await createTarget('s', {}, 'v1');
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' }));
    expect(v2.VersionStages).toEqual(['AWSCURRENT']);
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v3' }));
    const cur = await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(cur.SecretString).toBe('v3');
    expect(cur.VersionId).toBe(v3.VersionId);
    expect(cur.VersionStages).toEqual(['AWSCURRENT']);
    expect(cur.CreatedDate).toBeInstanceOf(Date);
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }));
    expect(prev.SecretString).toBe('v2');
    // v1 lost every label: AWS hides it from listings (deprecated) but keeps it by VersionId.
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(d.VersionIdsToStages).toEqual({
      [v2.VersionId ?? '']: ['AWSPREVIOUS'],
      [v3.VersionId ?? '']: ['AWSCURRENT'],
    });
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's' }));
    expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual([v2.VersionId, v3.VersionId].sort());
    const withDeprecated = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: 's', IncludeDeprecated: true }),
    );
    expect(withDeprecated.Versions?.map((v) => v.VersionId)).toContain(c.VersionId);
  });

  it('leaves AWSCURRENT alone when a value is put as AWSPENDING', async () => {
    await createTarget('s', {}, 'v1');
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'p', VersionStages: ['AWSPENDING'] }),
    );
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v1');
    expect(h.emu.secrets.valueAt('s', 'AWSPENDING')).toBe('p');
  });

  it('treats a repeated ClientRequestToken as a no-op with the same value and a conflict otherwise', async () => {
    const created = await createTarget('s', {}, 'v1');
    const first = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: TOKEN_A }),
    );
    expect(first.VersionId).toBe(TOKEN_A);
    const again = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: TOKEN_A }),
    );
    expect(again.VersionId).toBe(TOKEN_A);
    expect(h.emu.secrets.secret('s')?.versions).toHaveLength(2);
    const e = await failure(
      sm.send(
        new PutSecretValueCommand({ SecretId: 's', SecretString: 'other', ClientRequestToken: TOKEN_A }),
      ),
    );
    expect(e.name).toBe('ResourceExistsException');
    expect(e.message).toBe(
      `You can't use ClientRequestToken ${TOKEN_A} because that value is already in use for a version of secret ${created.ARN}.`,
    );
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it('moves a staging label with UpdateSecretVersionStage only with RemoveFromVersionId', async () => {
    const v1 = await createTarget('s', {}, 'v1');
    const v2 = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', VersionStages: ['AWSPENDING'] }),
    );
    const e = await failure(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 's',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: v2.VersionId,
        }),
      ),
    );
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toContain('RemoveFromVersionId');
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v2.VersionId,
        RemoveFromVersionId: v1.VersionId,
      }),
    );
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    // AWSPREVIOUS follows automatically; AWSPENDING is not removed.
    expect(d.VersionIdsToStages?.[v2.VersionId ?? '']?.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(d.VersionIdsToStages?.[v1.VersionId ?? '']).toEqual(['AWSPREVIOUS']);
  });

  it('filters ListSecrets by tag key, tag value and name prefix, with tags in the answer', async () => {
    await createTarget('service-credentials/a/x', {
      'credential-rotator:user-name': 'a',
      'credential-rotator:service-name': 'x',
    });
    await createTarget('service-credentials/b/x', { 'credential-rotator:user-name': 'b' });
    await createTarget('other/c', { team: 'b' });
    const byKey = await sm.send(
      new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: ['credential-rotator:user-name'] }] }),
    );
    expect(byKey.SecretList?.map((s) => s.Name)).toEqual([
      'service-credentials/a/x',
      'service-credentials/b/x',
    ]);
    expect(byKey.SecretList?.[0]?.Tags).toHaveLength(2);
    const byValue = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: ['b'] }] }));
    expect(byValue.SecretList?.map((s) => s.Name)).toEqual(['service-credentials/b/x', 'other/c']);
    const byName = await sm.send(
      new ListSecretsCommand({
        Filters: [
          { Key: 'name', Values: ['service-credentials/'] },
          { Key: 'tag-value', Values: ['b'] },
        ],
      }),
    );
    expect(byName.SecretList?.map((s) => s.Name)).toEqual(['service-credentials/b/x']);
    const negated = await sm.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['!service'] }] }),
    );
    expect(negated.SecretList?.map((s) => s.Name)).toEqual(['other/c']);
  });

  it('pages ListSecrets with MaxResults and NextToken', async () => {
    for (let i = 0; i < 5; i++) await createTarget(`s${i}`, { k: 'v' });
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretsCommand({ MaxResults: 2, NextToken: token }));
      names.push(...(page.SecretList ?? []).map((s) => s.Name ?? ''));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(['s0', 's1', 's2', 's3', 's4']);
    const tooMany = await failure(sm.send(new ListSecretsCommand({ MaxResults: 101 })));
    expect(tooMany.name).toBe('ValidationException');
  });

  it('reads many secrets with BatchGetSecretValue, reporting the missing ones as errors', async () => {
    await createTarget('a', { k: 'v' }, 'va');
    await createTarget('b', { k: 'v' }, 'vb');
    await createTarget('c', { k: 'v' });
    const byIds = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a', 'b', 'missing'] }));
    expect(byIds.SecretValues?.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([
      ['a', 'va', ['AWSCURRENT']],
      ['b', 'vb', ['AWSCURRENT']],
    ]);
    expect(byIds.Errors).toEqual([
      {
        SecretId: 'missing',
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      },
    ]);
    const byFilter = await sm.send(
      new BatchGetSecretValueCommand({ Filters: [{ Key: 'tag-key', Values: ['k'] }] }),
    );
    expect(byFilter.SecretValues?.map((v) => v.Name)).toEqual(['a', 'b']);
    expect(byFilter.Errors?.map((e) => e.ErrorCode)).toEqual(['ResourceNotFoundException']);
    const tooMany = await failure(
      sm.send(
        new BatchGetSecretValueCommand({ SecretIdList: Array.from({ length: 21 }, (_, i) => `s${i}`) }),
      ),
    );
    expect(tooMany.$metadata.httpStatusCode).toBe(400);
  });

  it('refuses most operations on a secret marked for deletion until it is restored', async () => {
    await createTarget('s', { k: 'v' }, 'v1');
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate?.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    for (const call of [
      sm.send(new GetSecretValueCommand({ SecretId: 's' })),
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' })),
      sm.send(new TagResourceCommand({ SecretId: 's', Tags: [{ Key: 'a', Value: 'b' }] })),
    ]) {
      const e = await failure(call);
      expect(e.name).toBe('InvalidRequestException');
      expect(e.message).toBe(MARKED);
    }
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).DeletedDate).toBeInstanceOf(Date);
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    expect((await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList).toHaveLength(
      1,
    );
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['s'] }));
    expect(batch.Errors?.[0]?.ErrorCode).toBe('InvalidRequestException');

    await sm.send(new RestoreSecretCommand({ SecretId: 's' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v1');
  });

  it('forgets a secret once its recovery window has passed (virtual clock) or when forced', async () => {
    await createTarget('s', {}, 'v1');
    await createTarget('t', {}, 'v1');
    await sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }));
    await sm.send(new DeleteSecretCommand({ SecretId: 't', ForceDeleteWithoutRecovery: true }));
    expect((await failure(sm.send(new DescribeSecretCommand({ SecretId: 't' })))).name).toBe(
      'ResourceNotFoundException',
    );
    h.emu.clock.advanceDays(7);
    expect((await failure(sm.send(new DescribeSecretCommand({ SecretId: 's' })))).name).toBe(
      'ResourceNotFoundException',
    );
    await expect(createTarget('s', {}, 'again')).resolves.toBeDefined();
  });

  it('rejects values over 65,536 bytes', async () => {
    await createTarget('s');
    const e = await failure(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'x'.repeat(65_537) })),
    );
    expect(e.name).toBe('InvalidParameterException');
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'x'.repeat(65_536) })),
    ).resolves.toBeDefined();
  });

  it('adds and replaces tags with TagResource', async () => {
    await createTarget('s', { a: '1' });
    await sm.send(
      new TagResourceCommand({
        SecretId: 's',
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ],
      }),
    );
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(d.Tags).toEqual([
      { Key: 'a', Value: '2' },
      { Key: 'b', Value: '3' },
    ]);
  });

  it('never logs secret values in the call log', async () => {
    await createTarget('s', {}, 'super-secret-value');
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'another-secret' }));
    const log = JSON.stringify(h.emu.calls);
    expect(log).not.toContain('super-secret-value');
    expect(log).not.toContain('another-secret');
    expect(h.emu.calls.map((c) => `${c.service}:${c.operation}:${c.outcome}`)).toEqual([
      'secretsmanager:CreateSecret:OK',
      'secretsmanager:PutSecretValue:OK',
    ]);
  });
});
