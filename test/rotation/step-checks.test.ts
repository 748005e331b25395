// What every rotation step checks before it acts (step-checks.ts): whether this function manages
// the secret and the token is a version of its rotation, the invocation an intent records, and
// the record under AWSPENDING. The steps run end to end in protocol.test.ts; here each refusal
// is pinned on its own, against a scripted Secrets Manager that answers only what they read.
import { describe, expect, it } from 'vitest';
import type { RotationState, SecretSummary } from '../../lambda/aws/ports.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import type { DeclaredTargets } from '../../lambda/declared-targets.ts';
import { pairKey } from '../../lambda/declared-targets.ts';
import { AccessDeniedError, RotationStepRejectedError, RotatorError } from '../../lambda/errors.ts';
import type { RunDeps } from '../../lambda/rotation/deps.ts';
import type { CurrentVersion } from '../../lambda/rotation/model.ts';
import { MAX_INVOCATION_MS } from '../../lambda/rotation/intent.ts';
import {
  CURRENT,
  checkManaged,
  invocationOf,
  PENDING,
  pendingRecord,
  type RotationStepCommand,
  rotationRequestId,
} from '../../lambda/rotation/step-checks.ts';

const SERVICE = 'cassandra.amazonaws.com';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/cassandra-Ab12Cd';
const NAME = 'app/cassandra';
const THIS_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:rotator';
const TOKEN = '11111111-2222-3333-4444-555555555555';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const TAGS = { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: SERVICE };
const TARGET = { secretId: ARN, secretName: NAME, userName: 'alice', serviceName: SERVICE };

interface Script {
  tags?: Record<string, string>;
  describeError?: Error;
  rotation?: Partial<RotationState>;
  versions?: Record<string, CurrentVersion | undefined>;
}

/** A Secrets Manager that answers DescribeSecret and reads of versions; anything else is a bug here. */
function secretsManager(script: Script = {}) {
  const reads: [string, string, string | undefined][] = [];
  const summary: SecretSummary = { arn: ARN, name: NAME, tags: script.tags ?? TAGS };
  const rotation: RotationState = {
    enabled: true,
    functionArn: THIS_FUNCTION,
    versionStages: { [TOKEN]: [PENDING], v0: [CURRENT] },
    ...script.rotation,
  };
  const port = {
    describeSecret: async (id: string) => {
      if (script.describeError) throw script.describeError;
      expect(id).toBe(ARN);
      return summary;
    },
    describeRotation: async (id: string) => {
      expect(id).toBe(ARN);
      return rotation;
    },
    readVersion: async (id: string, versionId: string, stage?: string) => {
      reads.push([id, versionId, stage]);
      return script.versions?.[versionId];
    },
  };
  const secrets = new Proxy(port, {
    get: (t, name) => {
      if (name in t) return t[name as keyof typeof t];
      if (name === 'then') return undefined;
      throw new Error(`the step checks called ${String(name)}: they must only read`);
    },
  }) as unknown as RunDeps['secrets'];
  return { secrets, reads };
}

function deps(secrets: RunDeps['secrets'], extra: Partial<RunDeps> = {}): RunDeps {
  return {
    credentials: {} as RunDeps['credentials'],
    secrets,
    policy: { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 },
    now: () => NOW,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    functionArn: THIS_FUNCTION,
    ...extra,
  };
}

const step = (overrides: Partial<RotationStepCommand> = {}): RotationStepCommand => ({
  action: 'rotation-step',
  step: 'createSecret',
  secretId: ARN,
  token: TOKEN,
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<RotationStepRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RotationStepRejectedError);
  return error as RotationStepRejectedError;
}

describe('checkManaged', () => {
  it("gives the target and its rotation for a managed secret and a version of this function's rotation", async () => {
    const { secrets } = secretsManager();
    const checked = await checkManaged(step(), secrets, deps(secrets));
    expect(checked.target).toStrictEqual(TARGET);
    expect(checked.rotation.functionArn).toBe(THIS_FUNCTION);
  });

  it('takes the token of the current version too (finishSecret after AWSCURRENT moved)', async () => {
    const { secrets } = secretsManager({
      rotation: { versionStages: { [TOKEN]: [CURRENT, 'AWSPREVIOUS'] } },
    });
    await expect(checkManaged(step({ step: 'finishSecret' }), secrets, deps(secrets))).resolves.toBeDefined();
  });

  it('takes a qualified ARN of this function (an alias or a version)', async () => {
    const { secrets } = secretsManager({ rotation: { functionArn: `${THIS_FUNCTION}:live` } });
    await expect(checkManaged(step(), secrets, deps(secrets))).resolves.toBeDefined();
  });

  it('takes any configured function when it does not know its own ARN (a run outside Lambda)', async () => {
    const { secrets } = secretsManager({
      rotation: { functionArn: 'arn:aws:lambda:us-east-1:1:function:x' },
    });
    await expect(
      checkManaged(step(), secrets, deps(secrets, { functionArn: undefined })),
    ).resolves.toBeDefined();
  });

  it('refuses a secret that is not a rotation target, naming the step, the secret and why', async () => {
    const { secrets } = secretsManager({ tags: {} });
    const error = await refusal(checkManaged(step({ step: 'setSecret' }), secrets, deps(secrets)));
    expect(error.message).toMatch(
      new RegExp(
        `^setSecret for secret ${ARN} rejected, nothing written: this function does not manage it \\(${ARN} is not a rotation target: `,
      ),
    );
    expect(error.cause).toBeInstanceOf(RotatorError);
  });

  it('refuses a secret the declaration does not name', async () => {
    const { secrets } = secretsManager();
    const declared: DeclaredTargets = { bySecretName: new Map(), byPair: new Map() };
    const error = await refusal(checkManaged(step(), secrets, deps(secrets, { declaredTargets: declared })));
    expect(error.message).toContain('this function does not manage it (');
    expect(error.message).toContain('is not a declared target');
  });

  it('refuses a declared secret whose tags name another target', async () => {
    const { secrets } = secretsManager({ tags: { ...TAGS, [USER_NAME_TAG]: 'bob' } });
    const declaration = { secretName: NAME, userName: 'alice', serviceName: SERVICE };
    const declared: DeclaredTargets = {
      bySecretName: new Map([[NAME, declaration]]),
      byPair: new Map([[pairKey('alice', SERVICE), declaration]]),
    };
    const error = await refusal(checkManaged(step(), secrets, deps(secrets, { declaredTargets: declared })));
    expect(error.message).toContain(
      'this function does not manage it (secret app/cassandra is declared for alice/',
    );
  });

  it('lets any other failure to find the secret through as it is, not as a refusal', async () => {
    const denied = new AccessDeniedError('DescribeSecret', 'AccessDeniedException', 'no');
    const { secrets } = secretsManager({ describeError: denied });
    await expect(checkManaged(step(), secrets, deps(secrets))).rejects.toBe(denied);
  });

  it('refuses a secret whose rotation is not configured', async () => {
    const { secrets } = secretsManager({ rotation: { functionArn: undefined } });
    const error = await refusal(checkManaged(step(), secrets, deps(secrets)));
    expect(error.message).toBe(
      `createSecret for secret ${ARN} rejected, nothing written: its rotation is not configured in Secrets Manager`,
    );
    // No cause at all, not an undefined one: nothing failed underneath, the check refused.
    expect(Object.hasOwn(error, 'cause')).toBe(false);
  });

  it('refuses a secret whose rotation names another function', async () => {
    const other = 'arn:aws:lambda:us-east-1:123456789012:function:someone-else';
    const { secrets } = secretsManager({ rotation: { functionArn: other } });
    const error = await refusal(checkManaged(step(), secrets, deps(secrets)));
    expect(error.message).toBe(
      `createSecret for secret ${ARN} rejected, nothing written: its rotation function is ${other}, not this function (${THIS_FUNCTION})`,
    );
  });

  it('refuses a token that is no version of the secret', async () => {
    const { secrets } = secretsManager({ rotation: { versionStages: { v0: [CURRENT] } } });
    const error = await refusal(checkManaged(step(), secrets, deps(secrets)));
    expect(error.message).toBe(
      `createSecret for secret ${ARN} rejected, nothing written: it has no version ${TOKEN} (RotateSecret creates the rotation's version)`,
    );
  });

  it('refuses a version that is neither pending nor current', async () => {
    const { secrets } = secretsManager({ rotation: { versionStages: { [TOKEN]: ['AWSPREVIOUS'] } } });
    const error = await refusal(checkManaged(step(), secrets, deps(secrets)));
    expect(error.message).toBe(
      `createSecret for secret ${ARN} rejected, nothing written: version ${TOKEN} is neither AWSPENDING nor AWSCURRENT: it is not this rotation's`,
    );
  });
});

describe('invocationOf', () => {
  it("names the rotation's token and ends when the invocation's time runs out", () => {
    const { secrets } = secretsManager();
    expect(invocationOf(TOKEN, deps(secrets, { remainingTimeMs: () => 90_000 }))).toStrictEqual({
      requestId: `rotation-${TOKEN}`,
      deadline: new Date(NOW.getTime() + 90_000),
    });
  });

  it("assumes Lambda's longest invocation outside Lambda", () => {
    const { secrets } = secretsManager();
    expect(invocationOf(TOKEN, deps(secrets)).deadline).toStrictEqual(
      new Date(NOW.getTime() + MAX_INVOCATION_MS),
    );
  });

  it('gives every attempt of one rotation the same request id', () => {
    expect(rotationRequestId('abc')).toBe('rotation-abc');
  });
});

describe('pendingRecord', () => {
  const record = {
    credentialId: 'ACCA0123456789EXAMPLE',
    userName: 'alice',
    serviceName: SERVICE,
    issuedAt: NOW.toISOString(),
    username: 'alice-at-123',
    password: 'pw',
  };
  const version = (value: string | undefined): CurrentVersion => ({
    versionId: TOKEN,
    createdAt: NOW,
    value,
  });

  it('reads the pending version of the token and gives its credential record', async () => {
    const { secrets, reads } = secretsManager({ versions: { [TOKEN]: version(JSON.stringify(record)) } });
    expect(await pendingRecord(TARGET, TOKEN, secrets)).toMatchObject({
      credentialId: record.credentialId,
      userName: 'alice',
      serviceName: SERVICE,
    });
    expect(reads).toStrictEqual([[ARN, TOKEN, PENDING]]);
  });

  it('is undefined while the version is empty or not pending', async () => {
    const empty = secretsManager({ versions: { [TOKEN]: version(undefined) } });
    expect(await pendingRecord(TARGET, TOKEN, empty.secrets)).toBeUndefined();
    const none = secretsManager();
    expect(await pendingRecord(TARGET, TOKEN, none.secrets)).toBeUndefined();
  });

  it("refuses a pending value that is not this target's credential record, without showing it", async () => {
    const forms = ['{"password":"hunter2"}', JSON.stringify({ ...record, userName: 'bob' }), 'hunter2'];
    for (const value of forms) {
      const { secrets } = secretsManager({ versions: { [TOKEN]: version(value) } });
      const error = await pendingRecord(TARGET, TOKEN, secrets).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RotatorError);
      expect((error as Error).message).toBe(
        `version ${TOKEN} holds something other than a credential record of alice/${SERVICE}: not used, not overwritten`,
      );
    }
  });
});
