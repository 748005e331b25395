import { describe, expect, it } from 'vitest';
import type { SecretSummary, SecretsPort } from '../../lambda/aws/ports.ts';
import { TargetConfigError, TargetNotFoundError } from '../../lambda/errors.ts';
import {
  CANARY_LOG_GROUP_TAG,
  CANARY_LOG_STREAM_TAG,
  CODECOMMIT_REPOSITORY_TAG,
  SERVICE_NAME_TAG,
  USER_NAME_TAG,
  VERIFICATION_TAG,
} from '../../lambda/contract.ts';
import { discover, findTarget, guessTarget, verificationFromTags } from '../../lambda/rotation/discovery.ts';
import { type DeclaredTargets, parseDeclaration } from '../../lambda/declared-targets.ts';

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
    readPrevious: async () => undefined,
    readCurrentMany: async () => new Map(),
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

// The edges of discovery: tag values with stray spaces or missing, a declared secret retagged
// to another service, and what a by-pair lookup may and may not match.
describe('discovery at the edges', () => {
  const KEYSPACES = 'cassandra.amazonaws.com';
  const CODECOMMIT = 'codecommit.amazonaws.com';
  const NEEDS_BOTH = `a target needs both ${USER_NAME_TAG} and ${SERVICE_NAME_TAG}`;

  it('trims the tag values', () => {
    const { targets } = discover([secret('a', tagged(' alice ', ` ${KEYSPACES}\t`))]);
    expect(targets).toEqual([expect.objectContaining({ userName: 'alice', serviceName: KEYSPACES })]);
  });

  it.each([
    ['the user-name tag', { [SERVICE_NAME_TAG]: KEYSPACES }, USER_NAME_TAG, '', KEYSPACES],
    ['the service-name tag', { [USER_NAME_TAG]: 'alice' }, SERVICE_NAME_TAG, 'alice', ''],
    ['a value in either tag', tagged(' ', ''), `${USER_NAME_TAG} and ${SERVICE_NAME_TAG}`, '', ''],
  ])('fails a secret without %s, naming exactly what lacks', (_, tags, lacking, userName, serviceName) => {
    expect(discover([secret('a', tags)])).toEqual({
      targets: [],
      misconfigured: [
        {
          secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf',
          userName,
          serviceName,
          reason: `secret a lacks a value for tag ${lacking}; ${NEEDS_BOTH}`,
        },
      ],
    });
  });

  const declared = parseDeclaration({
    version: 1,
    targets: [{ secretName: 'a', userName: 'alice', serviceName: KEYSPACES }],
  });

  it('fails a declared secret retagged to another service of the same user, saying how to fix it', () => {
    const found = discover([secret('a', tagged('alice', CODECOMMIT))], declared);
    expect(found.targets).toEqual([]);
    expect(found.misconfigured.map((m) => m.reason)).toEqual([
      `secret a is declared for alice/${KEYSPACES} but tagged alice/${CODECOMMIT}: not written; ` +
        `restore its tags (${USER_NAME_TAG}=alice, ${SERVICE_NAME_TAG}=${KEYSPACES}) or correct the declaration`,
    ]);
  });

  it('rejects an undeclared secret with a tag missing, trimming what it has and naming the pair it copies', () => {
    const found = discover(
      [
        secret('a', tagged('alice', KEYSPACES)),
        secret('b', { [USER_NAME_TAG]: ' bob ' }),
        secret('c', tagged(' alice', KEYSPACES)),
      ],
      declared,
    );
    expect(found.rejected?.map((r) => [r.userName, r.serviceName, r.reason])).toEqual([
      [
        'bob',
        '',
        "secret b carries the rotator's tags (bob/?) but is not declared: ignored; remove its tags, or declare it in the deployment",
      ],
      [
        'alice',
        KEYSPACES,
        `secret c carries the rotator's tags (alice/${KEYSPACES}) but is not declared: ignored; that pair is declared for secret a; remove its tags, or declare it in the deployment`,
      ],
    ]);
    const untagged = discover(
      [secret('a', tagged('alice', KEYSPACES)), secret('d', { [SERVICE_NAME_TAG]: ` ${KEYSPACES} ` })],
      declared,
    );
    expect(untagged.rejected?.[0]?.reason).toContain(`(?/${KEYSPACES})`);
  });

  it('finds a pair only by both its user and its service', async () => {
    const port = portWith([secret('a', tagged('alice', KEYSPACES)), secret('b', tagged('bob', CODECOMMIT))]);
    await expect(findTarget({ userName: 'alice', serviceName: CODECOMMIT }, port)).rejects.toThrow(
      TargetNotFoundError,
    );
    await expect(findTarget({ userName: 'bob', serviceName: KEYSPACES }, port)).rejects.toThrow(
      TargetNotFoundError,
    );
  });

  it('reports a conflict only for the pair in conflict', async () => {
    const port = portWith([
      secret('a', tagged('alice', KEYSPACES)),
      secret('a2', tagged('alice', KEYSPACES)),
      secret('b', tagged('bob', CODECOMMIT)),
    ]);
    await expect(findTarget({ userName: 'alice', serviceName: KEYSPACES }, port)).rejects.toThrow(
      TargetConfigError,
    );
    await expect(findTarget({ userName: 'alice', serviceName: CODECOMMIT }, port)).rejects.toThrow(
      TargetNotFoundError,
    );
    await expect(findTarget({ userName: 'bob', serviceName: KEYSPACES }, port)).rejects.toThrow(
      TargetNotFoundError,
    );
  });

  it('says which tags it looked for, and under which prefix', async () => {
    const port = portWith([]);
    await expect(findTarget({ userName: 'alice', serviceName: KEYSPACES }, port)).rejects.toThrow(
      `no secret is tagged ${USER_NAME_TAG}=alice and ${SERVICE_NAME_TAG}=${KEYSPACES}; expected a secret created by the stack for this target`,
    );
    await expect(findTarget({ userName: 'alice', serviceName: KEYSPACES }, port, 'team/')).rejects.toThrow(
      `no secret is tagged ${USER_NAME_TAG}=alice and ${SERVICE_NAME_TAG}=${KEYSPACES} under the name prefix team/; expected`,
    );
  });

  it('guesses from an ARN only when the random suffix ends it', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:u/cassandra.amazonaws.com-AbCdEf';
    expect(guessTarget({ secretId: arn })).toEqual({ secretId: arn, userName: 'u', serviceName: KEYSPACES });
    expect(guessTarget({ secretId: `${arn}XY` })).toEqual({ secretId: `${arn}XY` });
  });
});

// A target's verification settings: from its tags when discovered by tag, from its declaration
// when declared, so that whoever may tag a declared secret cannot switch its verification off.
describe('verification settings', () => {
  const KEYSPACES = 'cassandra.amazonaws.com';
  const CODECOMMIT = 'codecommit.amazonaws.com';
  const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  const allTags = {
    [VERIFICATION_TAG]: ' warn ',
    [CODECOMMIT_REPOSITORY_TAG]: ' repo ',
    [CANARY_LOG_GROUP_TAG]: ' group ',
    [CANARY_LOG_STREAM_TAG]: ' stream ',
  };
  const allSettings = {
    mode: 'warn',
    codeCommitRepository: 'repo',
    canaryLogGroup: 'group',
    canaryLogStream: 'stream',
  };

  it('reads each verification tag, trimmed, and nothing when none has a value', () => {
    expect(verificationFromTags(allTags)).toStrictEqual(allSettings);
    expect(verificationFromTags({ [VERIFICATION_TAG]: 'off' })).toStrictEqual({ mode: 'off' });
    expect(verificationFromTags({ [VERIFICATION_TAG]: 'enforce' })).toStrictEqual({ mode: 'enforce' });
    expect(verificationFromTags({ [CANARY_LOG_GROUP_TAG]: 'g' })).toStrictEqual({ canaryLogGroup: 'g' });
    expect(verificationFromTags({})).toBeUndefined();
    expect(
      verificationFromTags({ [VERIFICATION_TAG]: ' ', [CODECOMMIT_REPOSITORY_TAG]: '' }),
    ).toBeUndefined();
  });

  it('names a mode tag that is not a mode, and the modes it may be, cutting a long value', () => {
    const expected = `tag ${VERIFICATION_TAG} must be one of off, warn, enforce, got`;
    expect(verificationFromTags({ [VERIFICATION_TAG]: 'Off' })).toBe(`${expected} "Off"`);
    expect(verificationFromTags({ [VERIFICATION_TAG]: 'x'.repeat(50) })).toBe(
      `${expected} "${'x'.repeat(40)}"`,
    );
  });

  it('gives a tag-discovered target the settings its tags hold, and its rotation', () => {
    const rotation = { enabled: true, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' };
    const found = discover([
      { ...secret('a', { ...tagged('alice', KEYSPACES), ...allTags }), rotation },
      secret('b', tagged('bob', KEYSPACES)),
    ]);
    expect(found.misconfigured).toEqual([]);
    expect(found.targets).toStrictEqual([
      {
        secretId: arnOf('a'),
        secretName: 'a',
        userName: 'alice',
        serviceName: KEYSPACES,
        rotation,
        verification: allSettings,
      },
      { secretId: arnOf('b'), secretName: 'b', userName: 'bob', serviceName: KEYSPACES },
    ]);
  });

  it('fails a tag-discovered target whose mode tag is misspelt rather than verify it by default', () => {
    expect(
      discover([secret('a', { ...tagged('alice', KEYSPACES), [VERIFICATION_TAG]: 'of' })]),
    ).toStrictEqual({
      targets: [],
      misconfigured: [
        {
          secretId: arnOf('a'),
          userName: 'alice',
          serviceName: KEYSPACES,
          reason: `secret a: tag ${VERIFICATION_TAG} must be one of off, warn, enforce, got "of"`,
        },
      ],
    });
  });

  it('gives a declared target the settings its declaration holds, whatever its tags say', () => {
    const declared = parseDeclaration({
      version: 1,
      targets: [
        {
          secretName: 'a',
          userName: 'alice',
          serviceName: CODECOMMIT,
          verification: 'warn',
          codeCommitRepository: 'repo',
          canaryLogGroup: 'group',
          canaryLogStream: 'stream',
        },
        { secretName: 'b', userName: 'bob', serviceName: KEYSPACES },
        { secretName: 'c', userName: 'carol', serviceName: KEYSPACES, canaryLogStream: 'only-stream' },
      ],
    });
    const found = discover(
      [
        secret('a', { ...tagged('alice', CODECOMMIT), [VERIFICATION_TAG]: 'off' }),
        // A misspelt or switched-off mode tag on a declared secret is not read at all.
        secret('b', { ...tagged('bob', KEYSPACES), [VERIFICATION_TAG]: 'of', [CANARY_LOG_GROUP_TAG]: 'g' }),
        secret('c', { ...tagged('carol', KEYSPACES), [VERIFICATION_TAG]: 'off' }),
      ],
      declared,
    );
    expect(found.misconfigured).toEqual([]);
    expect(found.targets).toStrictEqual([
      {
        secretId: arnOf('a'),
        secretName: 'a',
        userName: 'alice',
        serviceName: CODECOMMIT,
        verification: {
          mode: 'warn',
          codeCommitRepository: 'repo',
          canaryLogGroup: 'group',
          canaryLogStream: 'stream',
        },
      },
      { secretId: arnOf('b'), secretName: 'b', userName: 'bob', serviceName: KEYSPACES },
      {
        secretId: arnOf('c'),
        secretName: 'c',
        userName: 'carol',
        serviceName: KEYSPACES,
        verification: { canaryLogStream: 'only-stream' },
      },
    ]);
  });
});

// A secret of a declared name that the deploying stack did not create (deleted and recreated
// by someone else) is a look-alike: reported, never a target, and the declared one not found.
describe('look-alikes of declared secrets', () => {
  const KEYSPACES = 'cassandra.amazonaws.com';
  const arnOf = (name: string, suffix = 'AbCdEf') =>
    `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-${suffix}`;
  const base = parseDeclaration({
    version: 1,
    targets: [
      { secretName: 'a', userName: 'alice', serviceName: KEYSPACES, logicalId: 'AliceSecret' },
      { secretName: 'b', userName: 'bob', serviceName: KEYSPACES, logicalId: 'BobSecret' },
      { secretName: 'c', userName: 'carol', serviceName: KEYSPACES },
      { secretName: 'd', userName: 'dave', serviceName: KEYSPACES },
    ],
  });
  // a: the stack's ARN is another secret's; b: the stack has no secret under its logical id;
  // c: not pinned (matched by name); d: pinned without a logical id (a declaration out of step).
  const declared: DeclaredTargets = {
    ...base,
    deployedArns: new Map<string, string | undefined>([
      ['a', arnOf('a', 'Stack1')],
      ['b', undefined],
      ['d', undefined],
    ]),
  };

  it('rejects a secret whose ARN is not the deployed one, and reports the declared one gone', () => {
    const found = discover(
      [
        secret('a', { [USER_NAME_TAG]: ' alice ' }),
        secret('b', tagged('bob', KEYSPACES)),
        secret('c', tagged('carol', KEYSPACES)),
        secret('d', { [SERVICE_NAME_TAG]: ` ${KEYSPACES} ` }),
      ],
      declared,
    );
    expect(found.targets.map((t) => t.secretName)).toEqual(['c']);
    expect(found.rejected).toStrictEqual([
      {
        secretId: arnOf('a'),
        secretName: 'a',
        userName: 'alice',
        serviceName: '',
        reason:
          `secret a (${arnOf('a')}) has a declared name but is not the secret the stack created ` +
          `(${arnOf('a', 'Stack1')}): a look-alike, recreated under that name; never read for writing nor written`,
        lookAlike: true,
      },
      {
        secretId: arnOf('b'),
        secretName: 'b',
        userName: 'bob',
        serviceName: KEYSPACES,
        reason:
          'secret b is declared with logical id BobSecret, which names no secret in the deploying stack: ' +
          'nothing is written to it; redeploy so the declaration and the stack agree',
        lookAlike: true,
      },
      {
        secretId: arnOf('d'),
        secretName: 'd',
        userName: '',
        serviceName: KEYSPACES,
        reason:
          'secret d is declared with logical id ?, which names no secret in the deploying stack: ' +
          'nothing is written to it; redeploy so the declaration and the stack agree',
        lookAlike: true,
      },
    ]);
    const gone = (name: string, pair: string, deployed: string) =>
      `declared secret ${name} (${pair}/${KEYSPACES}) is gone: the secret of that name (${arnOf(name)}) ` +
      `is not the one the stack created (${deployed}), so nothing is written to it; ` +
      'delete the look-alike and redeploy the stack to recreate the secret';
    expect(found.misconfigured).toStrictEqual([
      {
        secretId: 'a',
        userName: 'alice',
        serviceName: KEYSPACES,
        reason: gone('a', 'alice', arnOf('a', 'Stack1')),
      },
      { secretId: 'b', userName: 'bob', serviceName: KEYSPACES, reason: gone('b', 'bob', 'none') },
      { secretId: 'd', userName: 'dave', serviceName: KEYSPACES, reason: gone('d', 'dave', 'none') },
    ]);
  });

  it('makes a target of the secret the stack created', () => {
    const deployed = { ...secret('a', tagged('alice', KEYSPACES)), arn: arnOf('a', 'Stack1') };
    const found = discover([deployed], declared);
    expect(found.targets).toStrictEqual([
      { secretId: arnOf('a', 'Stack1'), secretName: 'a', userName: 'alice', serviceName: KEYSPACES },
    ]);
    expect(found.rejected).toEqual([]);
  });

  it('refuses a command naming a look-alike, by name or by pair, with the reason', async () => {
    const port = portWith([secret('a', tagged('alice', KEYSPACES)), secret('c', tagged('carol', KEYSPACES))]);
    const reason = `secret a (${arnOf('a')}) has a declared name but is not the secret the stack created`;
    await expect(findTarget({ secretId: 'a' }, port, undefined, declared)).rejects.toThrow(TargetConfigError);
    await expect(findTarget({ secretId: 'a' }, port, undefined, declared)).rejects.toThrow(reason);
    await expect(
      findTarget({ userName: 'alice', serviceName: KEYSPACES }, port, undefined, declared),
    ).rejects.toThrow(reason);
    const carol = await findTarget({ userName: 'carol', serviceName: KEYSPACES }, port, undefined, declared);
    expect(carol.secretId).toBe(arnOf('c'));
  });
});
