// Observation (observe.ts): which reads a run makes for a target, what bulk reads answer for
// many targets at once, and how a manual command's guessed reads are kept or dropped. The
// planner's answers are plan.test.ts's; here the ports are scripted and every call recorded.
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, SecretNotFoundError } from '../../lambda/errors.ts';
import type { SecretSummary } from '../../lambda/aws/ports.ts';
import type { RunDeps } from '../../lambda/rotation/deps.ts';
import type { Credential, CurrentVersion, Target } from '../../lambda/rotation/model.ts';
import { findAndObserve, observe, observeInBulk } from '../../lambda/rotation/observe.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const CODECOMMIT = 'codecommit.amazonaws.com';
const T0 = new Date('2026-01-01T00:00:00.000Z');

function target(userName: string, serviceName = KEYSPACES, extra: Partial<Target> = {}): Target {
  const name = `service-credentials/${userName}/${serviceName}`;
  return {
    secretId: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-Ab12Cd`,
    secretName: name,
    userName,
    serviceName,
    ...extra,
  };
}
function cred(
  id: string,
  userName: string,
  serviceName = KEYSPACES,
  status: Credential['status'] = 'Active',
): Credential {
  return { id, userName, serviceName, status, createdAt: T0 };
}
const version = (versionId: string, value?: string): CurrentVersion => ({ versionId, createdAt: T0, value });

interface Script {
  current?: Record<string, CurrentVersion | undefined>;
  previous?: Record<string, CurrentVersion | undefined>;
  intent?: Record<string, CurrentVersion | undefined>;
  credentials?: Credential[];
  many?: Map<string, CurrentVersion | undefined | Error> | Error;
  listAll?: Error;
  listFails?: Error;
  readFails?: Error;
  tags?: Record<string, Record<string, string>>;
}

/** A secret as DescribeSecret and ListSecrets give it, by name or ARN. */
function summary(id: string, tags: Record<string, string>): SecretSummary {
  const name = id.replace(/^arn:.*:secret:(.+)-[A-Za-z0-9]{6}$/, '$1');
  const arn = id.startsWith('arn:')
    ? id
    : `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-Ab12Cd`;
  return { arn, name, tags };
}

/** Scripted IAM and Secrets Manager that record every call, and a log that records warnings. */
function world(script: Script = {}, extra: Partial<RunDeps> = {}) {
  const calls: string[] = [];
  const warnings: [string, Record<string, unknown> | undefined][] = [];
  const all = script.credentials ?? [];
  const credentials = {
    listCredentials: async (u: string, s: string) => {
      calls.push(`listCredentials ${u} ${s}`);
      if (script.listFails) throw script.listFails;
      return all.filter((c) => c.userName === u && c.serviceName === s);
    },
    listAllCredentials: async (s?: string) => {
      calls.push(`listAllCredentials ${s}`);
      if (script.listAll) throw script.listAll;
      return all.filter((c) => c.serviceName === s);
    },
  } as unknown as RunDeps['credentials'];
  const secrets = {
    readCurrent: async (id: string) => {
      calls.push(`readCurrent ${id}`);
      if (script.readFails) throw script.readFails;
      return script.current?.[id];
    },
    readPrevious: async (id: string) => {
      calls.push(`readPrevious ${id}`);
      return script.previous?.[id];
    },
    readIntent: async (id: string) => {
      calls.push(`readIntent ${id}`);
      return script.intent?.[id];
    },
    readCurrentMany: async (ids: readonly string[]) => {
      calls.push(`readCurrentMany ${ids.length}`);
      if (script.many instanceof Error) throw script.many;
      return script.many ?? new Map();
    },
    describeSecret: async (id: string) => {
      calls.push(`describeSecret ${id}`);
      const tags = script.tags?.[id];
      if (!tags)
        throw new SecretNotFoundError('DescribeSecret', 'ResourceNotFoundException', 'no such secret');
      return summary(id, tags);
    },
    listTargetSecrets: async () => {
      calls.push('listTargetSecrets');
      return Object.entries(script.tags ?? {}).map(([id, tags]) => summary(id, tags));
    },
  } as unknown as RunDeps['secrets'];
  const deps: RunDeps = {
    credentials,
    secrets,
    policy: { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 },
    now: () => T0,
    log: {
      debug() {},
      info() {},
      warn: (message, data) => warnings.push([message, data]),
      error() {},
    },
    ...extra,
  };
  return { deps, calls, warnings };
}

const ALICE = target('alice');
const RECORD = JSON.stringify({
  credentialId: 'C',
  userName: 'alice',
  serviceName: KEYSPACES,
  issuedAt: T0.toISOString(),
  username: 'alice-at-1',
  password: 'pw',
});

describe('observe', () => {
  it('reads the current version and the credentials of the target, nothing more', async () => {
    const { deps, calls } = world({
      current: { [ALICE.secretId]: version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    const observed = await observe(ALICE, deps);
    expect(observed).toStrictEqual({
      target: ALICE,
      current: version('v1', RECORD),
      credentials: [cred('C', 'alice')],
    });
    expect(calls.toSorted()).toStrictEqual([
      `listCredentials alice ${KEYSPACES}`,
      `readCurrent ${ALICE.secretId}`,
    ]);
  });

  it('reads AWSPREVIOUS too for a rollback, and leaves it out when there is none', async () => {
    const previous = version('v0', RECORD);
    const { deps, calls } = world({ previous: { [ALICE.secretId]: previous } });
    expect((await observe(ALICE, deps, {}, true)).previous).toStrictEqual(previous);
    expect(calls).toContain(`readPrevious ${ALICE.secretId}`);
    const none = world();
    expect(await observe(ALICE, none.deps, {}, true)).not.toHaveProperty('previous');
  });

  it('takes what bulk observation already read, even an absent current version', async () => {
    const { deps, calls } = world({ current: { [ALICE.secretId]: version('v1', RECORD) } });
    const observed = await observe(ALICE, deps, {
      current: { value: undefined },
      credentials: [cred('X', 'alice')],
    });
    expect(observed.current).toBeUndefined();
    expect(observed.credentials).toStrictEqual([cred('X', 'alice')]);
    expect(calls).toStrictEqual([]);
  });

  it('reads the intent only for an Active credential the secret does not record', async () => {
    const withIntent = target('alice', KEYSPACES, { intentVersionId: 'i1' });
    const intent = version('i1', '{}');
    const unrecorded = world({
      current: { [withIntent.secretId]: version('v1', RECORD) },
      intent: { [withIntent.secretId]: intent },
      credentials: [cred('C', 'alice'), cred('O', 'alice')],
    });
    expect((await observe(withIntent, unrecorded.deps)).intent).toStrictEqual(intent);
    expect(unrecorded.calls).toContain(`readIntent ${withIntent.secretId}`);

    const recorded = world({
      current: { [withIntent.secretId]: version('v1', RECORD) },
      intent: { [withIntent.secretId]: intent },
      credentials: [cred('C', 'alice')],
    });
    expect(await observe(withIntent, recorded.deps)).not.toHaveProperty('intent');
    expect(recorded.calls).not.toContain(`readIntent ${withIntent.secretId}`);
  });
});

describe("observe, when AWSCURRENT may not be the rotator's", () => {
  // A value that is no record of a credential IAM lists: tampering.ts decides from AWSPREVIOUS
  // and the intent whether the rotator wrote it, so both are read (only then).
  // Written a day after IAM created C: no credential is newer than it, so the intent is read
  // for the tampering check alone (mayNeedIntent would not ask for it).
  const PLACEHOLDER: CurrentVersion = {
    versionId: 'v2',
    createdAt: new Date(T0.getTime() + 86_400_000),
    value: 'not a record',
  };
  const previous = version('v1', RECORD);

  it('reads AWSPREVIOUS, and the intent when the secret has one', async () => {
    const withIntent = target('alice', KEYSPACES, { intentVersionId: 'i1' });
    const intent = version('i1', '{}');
    const { deps, calls } = world({
      current: { [withIntent.secretId]: PLACEHOLDER },
      previous: { [withIntent.secretId]: previous },
      intent: { [withIntent.secretId]: intent },
      credentials: [cred('C', 'alice')],
    });
    expect(await observe(withIntent, deps)).toStrictEqual({
      target: withIntent,
      current: PLACEHOLDER,
      credentials: [cred('C', 'alice')],
      previous,
      intent,
    });
    expect(
      calls.filter((c) => c.startsWith('readPrevious') || c.startsWith('readIntent')).toSorted(),
    ).toStrictEqual([`readIntent ${withIntent.secretId}`, `readPrevious ${withIntent.secretId}`]);
  });

  it('reads no intent for a secret without one, and AWSPREVIOUS once for a rollback', async () => {
    const { deps, calls } = world({
      current: { [ALICE.secretId]: PLACEHOLDER },
      previous: { [ALICE.secretId]: previous },
      credentials: [cred('C', 'alice')],
    });
    expect((await observe(ALICE, deps, {}, true)).previous).toStrictEqual(previous);
    expect(calls.filter((c) => c.startsWith('readPrevious'))).toStrictEqual([
      `readPrevious ${ALICE.secretId}`,
    ]);
    expect(calls.some((c) => c.startsWith('readIntent'))).toBe(false);
  });

  it('reads neither for a record of a listed credential', async () => {
    const withIntent = target('alice', KEYSPACES, { intentVersionId: 'i1' });
    const { deps, calls } = world({
      current: { [withIntent.secretId]: version('v1', RECORD) },
      previous: { [withIntent.secretId]: previous },
      credentials: [cred('C', 'alice')],
    });
    expect(await observe(withIntent, deps)).not.toHaveProperty('previous');
    expect(calls.some((c) => c.startsWith('readPrevious') || c.startsWith('readIntent'))).toBe(false);
  });
});

describe('observeInBulk', () => {
  const BOB = target('bob');
  const CAROL = target('carol', CODECOMMIT);

  it('reads every secret in one batched call, and no credentials unless bulk listing is on', async () => {
    const many = new Map<string, CurrentVersion | undefined | Error>([
      [ALICE.secretId, version('a1', RECORD)],
      [BOB.secretId, undefined],
    ]);
    const { deps, calls } = world({ many });
    const observed = await observeInBulk([ALICE, BOB], deps);
    expect(calls).toStrictEqual(['readCurrentMany 2']);
    expect(observed?.get(ALICE.secretId)).toStrictEqual({
      current: { value: version('a1', RECORD) },
      credentials: undefined,
    });
    // A secret without a current version is known to have none: no read per target.
    expect(observed?.get(BOB.secretId)).toStrictEqual({
      current: { value: undefined },
      credentials: undefined,
    });
  });

  it('leaves a secret the batch failed on, or did not answer for, to the per-target read', async () => {
    const many = new Map<string, CurrentVersion | undefined | Error>([
      [ALICE.secretId, new AccessDeniedError('BatchGetSecretValue', 'AccessDeniedException', 'no')],
    ]);
    const { deps } = world({ many });
    const observed = await observeInBulk([ALICE, BOB], deps);
    expect(observed?.get(ALICE.secretId)?.current).toBeUndefined();
    expect(observed?.get(BOB.secretId)?.current).toBeUndefined();
  });

  it('lists credentials once per service with bulk listing, giving each target its own (or none)', async () => {
    const credentials = [
      cred('A1', 'alice'),
      cred('A2', 'alice', KEYSPACES, 'Inactive'),
      cred('Z1', 'zed'),
      cred('C1', 'carol', CODECOMMIT),
      cred('A3', 'alice', CODECOMMIT),
    ];
    const { deps, calls } = world({ credentials }, { bulkCredentialListing: true });
    const observed = await observeInBulk([ALICE, BOB, CAROL], deps);
    expect(calls.toSorted()).toStrictEqual([
      `listAllCredentials ${KEYSPACES}`,
      `listAllCredentials ${CODECOMMIT}`,
      'readCurrentMany 3',
    ]);
    expect(observed?.get(ALICE.secretId)?.credentials).toStrictEqual([
      cred('A1', 'alice'),
      cred('A2', 'alice', KEYSPACES, 'Inactive'),
    ]);
    // Bob has none: an empty list is an answer, not a reason to read again.
    expect(observed?.get(BOB.secretId)?.credentials).toStrictEqual([]);
    expect(observed?.get(CAROL.secretId)?.credentials).toStrictEqual([cred('C1', 'carol', CODECOMMIT)]);
  });

  it('falls back to per-target reads when a bulk call fails, with a warning that names the error', async () => {
    const denied = new AccessDeniedError(
      'ListServiceSpecificCredentials',
      'AccessDenied',
      'no List on user/*',
    );
    const { deps, warnings } = world(
      { many: new Error('batch down'), listAll: denied },
      { bulkCredentialListing: true },
    );
    const observed = await observeInBulk([ALICE, BOB], deps);
    expect(observed?.get(ALICE.secretId)).toStrictEqual({ current: undefined, credentials: undefined });
    expect(observed?.get(BOB.secretId)).toStrictEqual({ current: undefined, credentials: undefined });
    expect(warnings.toSorted((a, b) => String(a[1]?.error).localeCompare(String(b[1]?.error)))).toStrictEqual(
      [
        ['bulk observation failed; observing target by target', { error: 'Error: batch down' }],
        [
          'bulk observation failed; observing target by target',
          { error: 'ListServiceSpecificCredentials failed: AccessDenied: no List on user/*' },
        ],
      ],
    );
  });
});

describe('findAndObserve', () => {
  const TAGS = { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: KEYSPACES };
  const NAME = `service-credentials/alice/${KEYSPACES}`;

  it('reads the secret and credentials the naming convention suggests while it looks the target up, and keeps them', async () => {
    const { deps, calls } = world({
      tags: { [NAME]: TAGS },
      current: { [NAME]: version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    const found = await findAndObserve({ userName: 'alice', serviceName: KEYSPACES }, deps);
    expect(found.target).toMatchObject({ secretName: NAME, userName: 'alice', serviceName: KEYSPACES });
    expect(found.prefetched).toStrictEqual({
      current: { value: version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    expect(calls.toSorted()).toStrictEqual([
      `listCredentials alice ${KEYSPACES}`,
      'listTargetSecrets',
      `readCurrent ${NAME}`,
    ]);
  });

  it("guesses the user and service from a secret ARN's name", async () => {
    const { deps, calls } = world({
      tags: { [ALICE.secretId]: TAGS },
      current: { [ALICE.secretId]: version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    const found = await findAndObserve({ secretId: ALICE.secretId }, deps);
    expect(found.prefetched).toStrictEqual({
      current: { value: version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    expect(calls).toContain(`listCredentials alice ${KEYSPACES}`);
  });

  it('drops a guess the tags contradict: another user, or another secret', async () => {
    // The secret under alice's conventional name is tagged for bob: the credentials read for
    // alice are not this target's.
    const { deps } = world({
      tags: { [NAME]: { [USER_NAME_TAG]: 'bob', [SERVICE_NAME_TAG]: KEYSPACES } },
      current: { [NAME]: version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    const found = await findAndObserve({ secretId: NAME }, deps);
    expect(found.target.userName).toBe('bob');
    expect(found.prefetched.credentials).toBeUndefined();
    expect(found.prefetched.current).toStrictEqual({ value: version('v1', RECORD) });
  });

  it("drops the credentials read for the name's service when the tags name the user's other service", async () => {
    const { deps } = world({
      tags: { [NAME]: { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: CODECOMMIT } },
      current: { [NAME]: version('v1', RECORD) },
      credentials: [cred('C', 'alice'), cred('D', 'alice', CODECOMMIT)],
    });
    const found = await findAndObserve({ secretId: NAME }, deps);
    expect(found.target.serviceName).toBe(CODECOMMIT);
    expect(found.prefetched.credentials).toBeUndefined();
  });

  it("drops the secret read under the conventional name when the target's secret is named otherwise", async () => {
    const { deps } = world({
      tags: { 'custom/alice': TAGS },
      current: { [NAME]: version('stranger', RECORD), 'custom/alice': version('v1', RECORD) },
      credentials: [cred('C', 'alice')],
    });
    const found = await findAndObserve({ userName: 'alice', serviceName: KEYSPACES }, deps);
    expect(found.target.secretName).toBe('custom/alice');
    expect(found.prefetched).toStrictEqual({ current: undefined, credentials: [cred('C', 'alice')] });
  });

  it('keeps no guess that failed: the per-target read repeats it and reports', async () => {
    const denied = new AccessDeniedError('GetSecretValue', 'AccessDeniedException', 'no');
    const { deps } = world({ tags: { [NAME]: TAGS }, readFails: denied, listFails: denied });
    const found = await findAndObserve({ userName: 'alice', serviceName: KEYSPACES }, deps);
    expect(found.prefetched).toStrictEqual({ current: undefined, credentials: undefined });
  });

  it('makes no credential read for a secret name that names no user and service', async () => {
    const { deps, calls } = world({
      tags: { 'my-secret': TAGS },
      current: { 'my-secret': version('v1', RECORD) },
    });
    const found = await findAndObserve({ secretId: 'my-secret' }, deps);
    expect(calls.some((c) => c.startsWith('listCredentials'))).toBe(false);
    expect(found.prefetched).toStrictEqual({
      current: { value: version('v1', RECORD) },
      credentials: undefined,
    });
  });
});
