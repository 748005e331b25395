// Targets per account by user tag (pure), and the handler step: a tag is read each run, a
// secret is created only on a reconcile, a bad tag is refused by name, and a failed listing
// leaves the deployment's own targets rotating and fails the invocation.
import { describe, expect, it, vi } from 'vitest';
import type { OptInPort } from '../../lambda/aws/opt-in.ts';
import type { SecretsPort } from '../../lambda/aws/ports.ts';
import { parseDeclaration } from '../../lambda/declared-targets.ts';
import { mergeDeclarations, OPT_IN_TAG, optedInTargets } from '../../lambda/opt-in.ts';
import { OptInFailedError, resolveOptIn } from '../../lambda/opt-in-run.ts';

const KNOWN = ['cassandra.amazonaws.com', 'codecommit.amazonaws.com', 'bedrock.amazonaws.com'];
const PREFIX = 'service-credentials/';

describe('optedInTargets and mergeDeclarations (pure)', () => {
  it("one target per user and listed service, under the construct's secret names; users without the tag are not targets", () => {
    const { targets, problems } = optedInTargets(
      [
        { userName: 'etl', tags: { [OPT_IN_TAG]: 'cassandra.amazonaws.com  codecommit.amazonaws.com' } },
        { userName: 'web', tags: { team: 'web' } },
        { userName: 'dup', tags: { [OPT_IN_TAG]: 'bedrock.amazonaws.com,bedrock.amazonaws.com' } },
      ],
      PREFIX,
      KNOWN,
    );
    expect(problems).toEqual([]);
    expect(targets).toEqual([
      {
        secretName: 'service-credentials/etl/cassandra.amazonaws.com',
        userName: 'etl',
        serviceName: 'cassandra.amazonaws.com',
      },
      {
        secretName: 'service-credentials/etl/codecommit.amazonaws.com',
        userName: 'etl',
        serviceName: 'codecommit.amazonaws.com',
      },
      {
        secretName: 'service-credentials/dup/bedrock.amazonaws.com',
        userName: 'dup',
        serviceName: 'bedrock.amazonaws.com',
      },
    ]);
  });

  it('refuses a whole tag that names an unknown service, or nothing, saying what it expected', () => {
    const { targets, problems } = optedInTargets(
      [
        { userName: 'typo', tags: { [OPT_IN_TAG]: 'cassandra.amazonaws.com casandra.amazonaws.com' } },
        { userName: 'blank', tags: { [OPT_IN_TAG]: '  ' } },
      ],
      PREFIX,
      KNOWN,
    );
    expect(targets).toEqual([]);
    expect(problems).toEqual([
      {
        userName: 'typo',
        reason: expect.stringMatching(
          /names "casandra\.amazonaws\.com", not one of cassandra\.amazonaws\.com/,
        ),
      },
      {
        userName: 'blank',
        reason: expect.stringMatching(/is empty; expected service names separated by spaces/),
      },
    ]);
  });

  it("the deployment's declaration wins on a pair both name; the rest is added", () => {
    const declared = parseDeclaration({
      version: 1,
      targets: [
        {
          secretName: 'custom/etl-keyspaces',
          userName: 'etl',
          serviceName: 'cassandra.amazonaws.com',
          verification: 'off',
        },
      ],
    });
    const merged = mergeDeclarations(
      declared,
      optedInTargets(
        [{ userName: 'etl', tags: { [OPT_IN_TAG]: 'cassandra.amazonaws.com codecommit.amazonaws.com' } }],
        PREFIX,
        KNOWN,
      ).targets,
    );
    expect([...merged.bySecretName.keys()]).toEqual([
      'custom/etl-keyspaces',
      'service-credentials/etl/codecommit.amazonaws.com',
    ]);
    expect(merged.bySecretName.get('custom/etl-keyspaces')?.verification).toBe('off');
  });
});

function deps(optIn: Partial<OptInPort>, existing: string[] = []) {
  const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const port: OptInPort = {
    taggedUsers: optIn.taggedUsers ?? (async () => []),
    createTargetSecret: optIn.createTargetSecret ?? vi.fn(async () => true),
  };
  const secrets = {
    listTargetSecrets: vi.fn(async () => existing.map((name) => ({ arn: `arn:${name}`, name, tags: {} }))),
  } as unknown as SecretsPort;
  return { log, port, secrets };
}

describe('resolveOptIn (the handler step)', () => {
  const etl = async () => [
    { userName: 'etl', tags: { [OPT_IN_TAG]: 'cassandra.amazonaws.com codecommit.amazonaws.com' } },
  ];

  it('on a reconcile, creates only the secrets that do not exist yet', async () => {
    const create = vi.fn(async () => true);
    const d = deps({ taggedUsers: etl, createTargetSecret: create }, [
      'service-credentials/etl/cassandra.amazonaws.com',
    ]);
    const out = await resolveOptIn({
      optIn: d.port,
      secrets: d.secrets,
      tagKey: OPT_IN_TAG,
      secretNamePrefix: PREFIX,
      declared: undefined,
      provision: true,
      log: d.log,
    });
    expect(out.error).toBeUndefined();
    expect([...(out.declared?.bySecretName.keys() ?? [])]).toHaveLength(2);
    expect(create.mock.calls.map((c) => (c as unknown as [{ secretName: string }])[0].secretName)).toEqual([
      'service-credentials/etl/codecommit.amazonaws.com',
    ]);
  });

  it('status, dry runs and manual commands create nothing', async () => {
    const create = vi.fn(async () => true);
    const d = deps({ taggedUsers: etl, createTargetSecret: create });
    await resolveOptIn({
      optIn: d.port,
      secrets: d.secrets,
      tagKey: OPT_IN_TAG,
      secretNamePrefix: PREFIX,
      declared: undefined,
      provision: false,
      log: d.log,
    });
    expect(create).not.toHaveBeenCalled();
    expect(d.secrets.listTargetSecrets).not.toHaveBeenCalled();
  });

  it("a failed listing keeps the deployment's declaration, says why, and the handler fails the invocation with it", async () => {
    const declared = parseDeclaration({
      version: 1,
      targets: [{ secretName: 's/app', userName: 'app', serviceName: 'cassandra.amazonaws.com' }],
    });
    const d = deps({
      taggedUsers: async () => {
        throw new Error('ListUsers failed: AccessDenied: not authorized');
      },
    });
    const out = await resolveOptIn({
      optIn: d.port,
      secrets: d.secrets,
      tagKey: OPT_IN_TAG,
      secretNamePrefix: PREFIX,
      declared,
      provision: true,
      log: d.log,
    });
    expect(out.declared).toBe(declared);
    expect(out.error).toMatch(/AccessDenied/);
    expect(d.log.error).toHaveBeenCalledWith('opted-in users not read', {
      error: expect.stringMatching(/AccessDenied/),
    });
    expect(new OptInFailedError(out.error as string).message).toMatch(
      /^the users that opted in by tag were not read, so they were not rotated: ListUsers failed/,
    );
    // Without a declaration of its own, the deployment then rotates nothing: no tag was read to trust.
    const bare = await resolveOptIn({
      optIn: d.port,
      secrets: d.secrets,
      tagKey: OPT_IN_TAG,
      secretNamePrefix: PREFIX,
      declared: undefined,
      provision: true,
      log: d.log,
    });
    expect(bare.declared?.bySecretName.size).toBe(0);
  });
});
