import { describe, expect, it } from 'vitest';
import type { SecretSummary, SecretsPort } from '../../lambda/aws/ports.ts';
import { TargetConfigError, TargetNotFoundError } from '../../lambda/errors.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/rotation/services.ts';
import { discover, findTarget, guessTarget } from '../../lambda/rotation/targets.ts';
import { parseDeclaration } from '../../lambda/declaration.ts';

function secret(name: string, tags: Record<string, string>, deletedAt?: Date): SecretSummary {
  return {
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    name,
    tags,
    deletedAt,
  };
}
const tagged = (user: string, service: string) => ({ [USER_NAME_TAG]: user, [SERVICE_NAME_TAG]: service });

function portWith(secrets: SecretSummary[]): SecretsPort {
  return {
    listTargetSecrets: async (prefix) => secrets.filter((s) => !prefix || s.name.startsWith(prefix)),
    describeSecret: async (id) => {
      const s = secrets.find((x) => x.arn === id || x.name === id);
      if (!s) throw new Error(`no ${id}`);
      return s;
    },
    readCurrent: async () => undefined,
    readIntent: async () => undefined,
    storeCurrent: async () => {
      throw new Error('discovery must not write');
    },
    writeIntent: async () => {
      throw new Error('discovery must not write');
    },
  };
}

describe('discover', () => {
  it('turns each secret with both tags into a target', () => {
    const { targets, misconfigured } = discover([secret('a', tagged('alice', 'cassandra.amazonaws.com'))]);
    expect(targets).toEqual([
      expect.objectContaining({ secretName: 'a', userName: 'alice', serviceName: 'cassandra.amazonaws.com' }),
    ]);
    expect(misconfigured).toEqual([]);
  });

  it('reports a secret missing the service tag, naming the tag', () => {
    const { targets, misconfigured } = discover([secret('a', { [USER_NAME_TAG]: 'alice' })]);
    expect(targets).toEqual([]);
    expect(misconfigured[0]?.reason).toContain(`lacks a value for tag ${SERVICE_NAME_TAG}`);
  });

  it('refuses both secrets when two name the same user and service', () => {
    const { targets, misconfigured } = discover([
      secret('a', tagged('alice', 'cassandra.amazonaws.com')),
      secret('b', tagged('alice', 'cassandra.amazonaws.com')),
      secret('c', tagged('alice', 'codecommit.amazonaws.com')),
    ]);
    expect(targets.map((t) => t.secretName)).toEqual(['c']);
    expect(misconfigured.map((m) => m.reason)).toEqual([
      expect.stringContaining('secrets a, b all name alice/cassandra.amazonaws.com'),
      expect.stringContaining('secrets a, b all name alice/cassandra.amazonaws.com'),
    ]);
  });

  it('skips secrets scheduled for deletion', () => {
    const { targets } = discover([secret('a', tagged('alice', 'cassandra.amazonaws.com'), new Date())]);
    expect(targets).toEqual([]);
  });
});

describe('findTarget', () => {
  const port = portWith([
    secret('service-credentials/alice/cassandra.amazonaws.com', tagged('alice', 'cassandra.amazonaws.com')),
    secret('untagged', {}),
  ]);

  it('finds a target by secret name', async () => {
    const t = await findTarget({ secretId: 'service-credentials/alice/cassandra.amazonaws.com' }, port);
    expect(t.userName).toBe('alice');
  });

  it('finds a target by user and service', async () => {
    const t = await findTarget({ userName: 'alice', serviceName: 'cassandra.amazonaws.com' }, port);
    expect(t.secretName).toBe('service-credentials/alice/cassandra.amazonaws.com');
  });

  it('rejects a secret without the tags, saying which tags are missing', async () => {
    await expect(findTarget({ secretId: 'untagged' }, port)).rejects.toThrow(TargetNotFoundError);
    await expect(findTarget({ secretId: 'untagged' }, port)).rejects.toThrow(/lacks a value for tag/);
  });

  it('rejects an unknown user and service, naming the tags it looked for', async () => {
    await expect(
      findTarget({ userName: 'bob', serviceName: 'cassandra.amazonaws.com' }, port),
    ).rejects.toThrow(new RegExp(`no secret is tagged ${USER_NAME_TAG}=bob`));
  });

  it('rejects a user and service that two secrets claim', async () => {
    const dup = portWith([
      secret('a', tagged('alice', 'cassandra.amazonaws.com')),
      secret('b', tagged('alice', 'cassandra.amazonaws.com')),
    ]);
    await expect(
      findTarget({ userName: 'alice', serviceName: 'cassandra.amazonaws.com' }, dup),
    ).rejects.toThrow(TargetConfigError);
  });
});

describe('guessTarget', () => {
  it('guesses the default secret name from a user and service', () => {
    expect(guessTarget({ userName: 'alice', serviceName: 'cassandra.amazonaws.com' })).toEqual({
      userName: 'alice',
      serviceName: 'cassandra.amazonaws.com',
      secretId: 'service-credentials/alice/cassandra.amazonaws.com',
    });
    expect(guessTarget({ userName: 'a', serviceName: 'codecommit.amazonaws.com' }, 'team/').secretId).toBe(
      'team/a/codecommit.amazonaws.com',
    );
  });

  it('guesses user and service from a conventional secret name or ARN', () => {
    const arn =
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:service-credentials/alice/bedrock.amazonaws.com-AbCdEf';
    expect(guessTarget({ secretId: arn })).toEqual({
      secretId: arn,
      userName: 'alice',
      serviceName: 'bedrock.amazonaws.com',
    });
  });

  it('guesses nothing about the user from an unconventional name', () => {
    expect(guessTarget({ secretId: 'apps/alice-db' })).toEqual({ secretId: 'apps/alice-db' });
  });
});

describe('discover with declared targets', () => {
  const declared = parseDeclaration({
    version: 1,
    targets: [
      { secretName: 'a', userName: 'alice', serviceName: 'cassandra.amazonaws.com' },
      { secretName: 'b', userName: 'bob', serviceName: 'cassandra.amazonaws.com' },
    ],
  });

  it('makes a target of each declared secret whose tags agree', () => {
    const found = discover(
      [
        secret('a', tagged('alice', 'cassandra.amazonaws.com')),
        secret('b', tagged('bob', 'cassandra.amazonaws.com')),
      ],
      declared,
    );
    expect(found.targets.map((t) => t.secretName)).toEqual(['a', 'b']);
    expect(found.misconfigured).toEqual([]);
    expect(found.rejected).toEqual([]);
  });

  it('fails a declared secret whose tag lost its value, under its declared pair', () => {
    const found = discover(
      [secret('a', { [USER_NAME_TAG]: 'alice' }), secret('b', tagged('bob', 'cassandra.amazonaws.com'))],
      declared,
    );
    expect(found.targets.map((t) => t.secretName)).toEqual(['b']);
    expect(found.misconfigured).toEqual([
      expect.objectContaining({
        userName: 'alice',
        reason: expect.stringContaining('it is declared for alice/cassandra.amazonaws.com: not written'),
      }),
    ]);
  });

  it('rejects an undeclared tagged secret without failing anything, even one copying no declared pair', () => {
    const found = discover(
      [
        secret('a', tagged('alice', 'cassandra.amazonaws.com')),
        secret('b', tagged('bob', 'cassandra.amazonaws.com')),
        secret('z', tagged('zed', 'codecommit.amazonaws.com')),
      ],
      declared,
    );
    expect(found.targets).toHaveLength(2);
    expect(found.misconfigured).toEqual([]);
    expect(found.rejected).toEqual([
      expect.objectContaining({
        secretName: 'z',
        userName: 'zed',
        reason:
          "secret z carries the rotator's tags (zed/codecommit.amazonaws.com) but is not declared: ignored; remove its tags, or declare it in the deployment",
      }),
    ]);
  });

  it('skips a declared secret scheduled for deletion and reports it as not found', () => {
    const found = discover(
      [
        secret('a', tagged('alice', 'cassandra.amazonaws.com'), new Date()),
        secret('b', tagged('bob', 'cassandra.amazonaws.com')),
      ],
      declared,
    );
    expect(found.misconfigured.map((m) => m.reason)).toEqual([
      expect.stringContaining('declared secret a (alice/cassandra.amazonaws.com) was not found'),
    ]);
  });
});
