// The executor (execute.ts) on its own: which AWS calls each planned action makes and in what
// order, what it reports taken, what it says when it fails (and what it leaves behind: the
// intent marked ended), what the service check logs, and the claim token overlapping runs
// compare. The ports are scripted and record every call; the log records every line.
import { describe, expect, it } from 'vitest';
import { TARGET_WRITES_RESERVE_MS } from '../../lambda/budget.ts';
import {
  AccessDeniedError,
  CredentialNotFoundError,
  VerificationDeferredError,
  VerificationFailedError,
} from '../../lambda/errors.ts';
import type { RunDeps } from '../../lambda/rotation/deps.ts';
import {
  type ExecuteOptions,
  ExecutionError,
  execute,
  ignoreMissing,
  verifyOptions,
} from '../../lambda/rotation/execute.ts';
import type {
  Credential,
  CurrentVersion,
  IssuedCredential,
  ObservedTarget,
  Target,
} from '../../lambda/rotation/model.ts';
import type { PlannedAction } from '../../lambda/rotation/plan.ts';
import { recordFromIssued, serializeRecord } from '../../lambda/rotation/record.ts';
import type { Verification, VerifyOptions } from '../../lambda/rotation/verification.ts';
import { type LogLine, recordingLog } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const T0 = new Date('2026-03-01T00:00:00.000Z');
const DEADLINE = new Date('2026-03-01T00:15:00.000Z');
const INVOCATION = { requestId: 'req-1', deadline: DEADLINE };
const TARGET: Target = {
  secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-Ab12Cd',
  secretName: 'app',
  userName: 'app',
  serviceName: KEYSPACES,
};

const cred = (id: string, status: Credential['status'] = 'Active'): Credential => ({
  id,
  userName: 'app',
  serviceName: KEYSPACES,
  status,
  createdAt: T0,
});
const issued = (id: string): IssuedCredential => ({
  ...cred(id),
  serviceUserName: 'app-at-123456789012',
  servicePassword: `password-of-${id}`,
});
const recordOf = (id: string) => serializeRecord(recordFromIssued(issued(id)));
const version = (versionId: string, value: string | undefined): CurrentVersion => ({
  versionId,
  createdAt: T0,
  value,
});

/** A target whose AWSCURRENT (version v1) records C1, both listed Active. */
function observedWith(extra: Partial<ObservedTarget> = {}): ObservedTarget {
  return {
    target: TARGET,
    current: version('v1', recordOf('C1')),
    credentials: [cred('C1'), cred('C0', 'Inactive')],
    ...extra,
  };
}

interface Script {
  /** Calls that fail with this error, by the call's name (e.g. `deleteCredential C0`). */
  readonly fail?: Record<string, Error>;
  readonly verify?: Partial<Verification>;
  readonly remainingTimeMs?: number;
}

/** Scripted IAM and Secrets Manager recording every call, a verifier and a recording log. */
function world(script: Script = {}) {
  const calls: string[] = [];
  const intents: { value: Record<string, unknown>; claim: string | undefined }[] = [];
  const stored: string[] = [];
  const logs: LogLine[] = [];
  const verifyCalls: { id: string; options: VerifyOptions | undefined }[] = [];
  let clock = T0.getTime();
  const call = (name: string) => {
    calls.push(name);
    const error = script.fail?.[name];
    if (error) throw error;
  };
  const credentials = {
    createCredential: async (user: string, service: string) => {
      call(`createCredential ${user} ${service}`);
      return issued('C2');
    },
    resetCredential: async (user: string, id: string) => {
      call(`resetCredential ${user} ${id}`);
      return issued(id);
    },
    setCredentialStatus: async (_user: string, id: string, status: string) =>
      call(`setCredentialStatus ${id} ${status}`),
    deleteCredential: async (_user: string, id: string) => call(`deleteCredential ${id}`),
  } as unknown as RunDeps['credentials'];
  const secrets = {
    writeIntent: async (_id: string, value: string, claim?: string) => {
      call('writeIntent');
      intents.push({ value: JSON.parse(value) as Record<string, unknown>, claim });
      return `intent-${intents.length}`;
    },
    storeCurrent: async (_id: string, value: string) => {
      call('storeCurrent');
      stored.push(value);
      return `v${stored.length + 1}`;
    },
  } as unknown as RunDeps['secrets'];
  const deps: RunDeps = {
    credentials,
    secrets,
    policy: { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 },
    // Each reading of the clock is a second later: every `at` says when its step was taken.
    now: () => {
      const at = new Date(clock);
      clock += 1000;
      return at;
    },
    log: recordingLog(logs),
    ...(script.remainingTimeMs === undefined
      ? {}
      : { remainingTimeMs: () => script.remainingTimeMs as number }),
    ...(script.verify
      ? {
          verifyCredential: async (
            _target: Target,
            credential: IssuedCredential,
            options?: VerifyOptions,
          ) => {
            verifyCalls.push({ id: credential.id, options });
            return {
              outcome: 'verified',
              reason: 'accepted',
              attempts: 1,
              mode: 'enforce',
              ...script.verify,
            };
          },
        }
      : {}),
  };
  return { deps, calls, intents, stored, logs, verifyCalls };
}

const run = (
  w: ReturnType<typeof world>,
  actions: PlannedAction[],
  observed: ObservedTarget = observedWith(),
  options?: ExecuteOptions,
) => execute(observed, actions, INVOCATION, w.deps, options);

/** The ExecutionError a failed execution throws. */
async function failure(p: Promise<unknown>): Promise<ExecutionError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExecutionError);
  return error as ExecutionError;
}

const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000).toISOString();

describe('execute', () => {
  it('issues: writes the intent, creates, stores the record as AWSCURRENT, in that order', async () => {
    const w = world();
    const result = await run(w, [{ type: 'issue' }, { type: 'deactivate', credentialId: 'C1' }]);

    expect(w.calls).toEqual([
      'writeIntent',
      `createCredential app ${KEYSPACES}`,
      'storeCurrent',
      'setCredentialStatus C1 Inactive',
    ]);
    expect(w.intents[0]?.value).toEqual({
      requestId: 'req-1',
      writtenAt: at(0),
      deadline: DEADLINE.toISOString(),
      currentVersionId: 'v1',
      known: ['C1', 'C0'],
    });
    expect(w.stored).toEqual([recordOf('C2')]);
    expect(result).toEqual({
      taken: [
        { type: 'create', credentialId: 'C2', at: at(1) },
        { type: 'store', credentialId: 'C2', at: at(2) },
        { type: 'deactivate', credentialId: 'C1', at: at(3) },
      ],
      currentCredentialId: 'C2',
      verification: undefined,
    });
  });

  it('adopts: the intent names the credential, which is reset and stored', async () => {
    const w = world();
    const result = await run(w, [{ type: 'adopt', credentialId: 'C9' }]);

    expect(w.calls).toEqual(['writeIntent', 'resetCredential app C9', 'storeCurrent']);
    expect(w.intents[0]?.value).toMatchObject({ credentialId: 'C9', requestId: 'req-1' });
    expect(w.stored).toEqual([recordOf('C9')]);
    expect(result.taken.map((a) => `${a.type} ${a.credentialId}`)).toEqual(['reset C9', 'store C9']);
    expect(result.currentCredentialId).toBe('C9');
  });

  it('a bootstrap writes an intent without a current version', async () => {
    const w = world();
    await run(w, [{ type: 'issue' }], observedWith({ current: undefined, credentials: [] }));
    expect(w.intents[0]?.value).toEqual({
      requestId: 'req-1',
      writtenAt: at(0),
      deadline: DEADLINE.toISOString(),
      known: [],
    });
  });

  it('records to AWSPENDING: the writer gets the record, no store is reported and AWSCURRENT is not written', async () => {
    for (const action of [{ type: 'issue' }, { type: 'adopt', credentialId: 'C9' }] as const) {
      const w = world();
      const written: string[] = [];
      const write = async (value: string) => {
        written.push(value);
        return 'pending-version';
      };
      const result = await run(w, [action], observedWith(), { recordTo: { stage: 'pending', write } });
      const id = action.type === 'issue' ? 'C2' : 'C9';
      expect(written).toEqual([recordOf(id)]);
      expect(w.calls).not.toContain('storeCurrent');
      expect(result.taken.map((a) => a.type)).toEqual([action.type === 'issue' ? 'create' : 'reset']);
      expect(result.currentCredentialId).toBe(id);
    }
  });

  it('verifies an issued or adopted credential before storing it, unless told not to', async () => {
    for (const action of [{ type: 'issue' }, { type: 'adopt', credentialId: 'C9' }] as const) {
      const w = world({ verify: {} });
      const result = await run(w, [action]);
      const id = action.type === 'issue' ? 'C2' : 'C9';
      expect(w.verifyCalls).toEqual([{ id, options: {} }]);
      expect(result.verification).toEqual({
        credentialId: id,
        mode: 'enforce',
        outcome: 'verified',
        reason: 'accepted',
        attempts: 1,
      });

      const unverified = world({ verify: {} });
      const quiet = await run(unverified, [action], observedWith(), { verify: false });
      expect(unverified.verifyCalls).toEqual([]);
      expect(quiet.verification).toBeUndefined();
      expect(unverified.calls).toContain('storeCurrent');
    }
  });

  it('activates, deactivates and deletes as planned', async () => {
    const w = world();
    const result = await run(w, [
      { type: 'activate', credentialId: 'C1' },
      { type: 'deactivate', credentialId: 'C0' },
      { type: 'delete', credentialId: 'C0' },
    ]);
    expect(w.calls).toEqual([
      'setCredentialStatus C1 Active',
      'setCredentialStatus C0 Inactive',
      'deleteCredential C0',
    ]);
    expect(result).toEqual({
      taken: [
        { type: 'activate', credentialId: 'C1', at: at(0) },
        { type: 'deactivate', credentialId: 'C0', at: at(1) },
        { type: 'delete', credentialId: 'C0', at: at(2) },
      ],
      currentCredentialId: undefined,
      verification: undefined,
    });
  });

  it('a credential already gone counts as deactivated or deleted, and the plan goes on', async () => {
    const gone = new CredentialNotFoundError('DeleteServiceSpecificCredential', 'NoSuchEntity', 'gone');
    const w = world({ fail: { 'deleteCredential C0': gone, 'setCredentialStatus C8 Inactive': gone } });
    const result = await run(w, [
      { type: 'deactivate', credentialId: 'C8' },
      { type: 'delete', credentialId: 'C0' },
      { type: 'activate', credentialId: 'C1' },
    ]);
    expect(result.taken.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      'deactivate C8',
      'delete C0',
      'activate C1',
    ]);
  });
});

describe('execute: restore', () => {
  const previous = version('v0', recordOf('C0'));

  it('writes the AWSPREVIOUS record back as AWSCURRENT, stamped when it is a rollback', async () => {
    const w = world();
    const result = await run(w, [{ type: 'restore', credentialId: 'C0' }], observedWith({ previous }));
    expect(w.stored.map((s) => JSON.parse(s))).toEqual([JSON.parse(recordOf('C0'))]);
    expect(result.taken).toEqual([{ type: 'store', credentialId: 'C0', at: at(0) }]);
    expect(result.currentCredentialId).toBe('C0');

    const rollback = world();
    const rolledBackAt = new Date('2026-03-02T00:00:00.000Z');
    await run(rollback, [{ type: 'restore', credentialId: 'C0', rolledBackAt }], observedWith({ previous }));
    expect(rollback.stored.map((s) => JSON.parse(s))).toEqual([
      { ...JSON.parse(recordOf('C0')), rolledBackAt: rolledBackAt.toISOString() },
    ]);
  });

  it('refuses, writing nothing, when AWSPREVIOUS is missing, not a record, or records another credential', async () => {
    const cases: Partial<ObservedTarget>[] = [
      {},
      { previous: version('v0', undefined) },
      { previous: version('v0', 'placeholder') },
      { previous: version('v0', recordOf('C5')) },
    ];
    for (const extra of cases) {
      const w = world();
      const error = await failure(run(w, [{ type: 'restore', credentialId: 'C0' }], observedWith(extra)));
      expect((error.cause as Error).message).toBe('AWSPREVIOUS no longer records C0');
      expect(error.taken).toEqual([]);
      expect(w.calls).toEqual([]);
    }
  });
});

describe('execute: failures', () => {
  it('keeps what was done, and the cause, in an ExecutionError', async () => {
    const denied = new AccessDeniedError('DeleteServiceSpecificCredential', 'AccessDenied', 'no');
    const w = world({ fail: { 'deleteCredential C0': denied } });
    const error = await failure(
      run(w, [
        { type: 'deactivate', credentialId: 'C1' },
        { type: 'delete', credentialId: 'C0' },
        { type: 'activate', credentialId: 'C1' },
      ]),
    );
    expect(error.message).toBe('execution failed');
    expect(error.cause).toBe(denied);
    expect(error.taken).toEqual([{ type: 'deactivate', credentialId: 'C1', at: at(0) }]);
    // No intent was written, so none is marked ended.
    expect(w.calls).toEqual(['setCredentialStatus C1 Inactive', 'deleteCredential C0']);
  });

  it('marks its intent ended when it fails between the intent and the store', async () => {
    const throttled = new Error('store failed');
    const w = world({ fail: { storeCurrent: throttled } });
    const error = await failure(run(w, [{ type: 'issue' }]));
    expect(error.cause).toBe(throttled);
    expect(error.taken.map((a) => a.type)).toEqual(['create']);
    expect(w.calls).toEqual([
      'writeIntent',
      `createCredential app ${KEYSPACES}`,
      'storeCurrent',
      'writeIntent',
    ]);
    const [written, ended] = w.intents;
    // The same intent, with when it ended; written without a claim (it only closes its own).
    expect(ended?.value).toEqual({ ...written?.value, endedAt: at(2) });
    expect(ended?.claim).toBeUndefined();
  });

  it('leaves the intent open once the credential is stored: a later failure is not the intent’s', async () => {
    const w = world({ fail: { 'deleteCredential C0': new Error('delete failed') } });
    await failure(run(w, [{ type: 'issue' }, { type: 'delete', credentialId: 'C0' }]));
    expect(w.calls.filter((c) => c === 'writeIntent')).toHaveLength(1);
  });

  it('says so when marking the intent ended fails too, and throws the first failure', async () => {
    const first = new Error('create failed');
    const w = world({ fail: { [`createCredential app ${KEYSPACES}`]: first } });
    let writes = 0;
    const writeIntent = w.deps.secrets.writeIntent;
    (w.deps.secrets as { writeIntent: typeof writeIntent }).writeIntent = async (...args) => {
      writes += 1;
      if (writes > 1) throw new AccessDeniedError('PutSecretValue', 'AccessDenied', 'denied');
      return writeIntent(...args);
    };
    const error = await failure(run(w, [{ type: 'issue' }]));
    expect(error.cause).toBe(first);
    expect(w.logs).toEqual([
      {
        level: 'warn',
        message: 'could not mark the intent ended; the next run waits for its deadline',
        data: {
          secretId: TARGET.secretId,
          deadline: DEADLINE.toISOString(),
          error: 'PutSecretValue failed: AccessDenied: denied',
        },
      },
    ]);
  });
});

describe('execute: verification', () => {
  const base = { secretId: TARGET.secretId, userName: 'app', serviceName: KEYSPACES };

  it('logs a verified credential with its report, and nothing when verification is off', async () => {
    const w = world({ verify: { mode: 'warn' } });
    await run(w, [{ type: 'issue' }]);
    expect(w.logs).toEqual([
      {
        level: 'info',
        message: 'credential verified',
        data: {
          ...base,
          verification: {
            credentialId: 'C2',
            mode: 'warn',
            outcome: 'verified',
            reason: 'accepted',
            attempts: 1,
          },
        },
      },
    ]);
    const off = world({ verify: { mode: 'off', outcome: 'skipped', reason: 'off' } });
    await run(off, [{ type: 'issue' }]);
    expect(off.logs).toEqual([]);
  });

  it('under warn, a failed credential is stored anyway and the failure logged', async () => {
    const w = world({ verify: { mode: 'warn', outcome: 'rejected', reason: 'login refused', attempts: 3 } });
    const result = await run(w, [{ type: 'issue' }]);
    expect(w.calls).toContain('storeCurrent');
    expect(result.currentCredentialId).toBe('C2');
    expect(w.logs).toEqual([
      {
        level: 'warn',
        message: 'credential failed verification; stored anyway (verification: warn)',
        data: {
          ...base,
          verification: {
            credentialId: 'C2',
            mode: 'warn',
            outcome: 'rejected',
            reason: 'login refused',
            attempts: 3,
          },
        },
      },
    ]);
  });

  it('under enforce, a failed credential is deleted, never stored, and the recorded one stays', async () => {
    const w = world({ verify: { outcome: 'rejected', reason: 'login refused', attempts: 3 } });
    const error = await failure(run(w, [{ type: 'issue' }]));
    expect(w.calls).toEqual([
      'writeIntent',
      `createCredential app ${KEYSPACES}`,
      'deleteCredential C2',
      'writeIntent',
    ]);
    expect(error.taken.map((a) => `${a.type} ${a.credentialId}`)).toEqual(['create C2', 'delete C2']);
    const cause = error.cause as VerificationFailedError;
    expect(cause).toBeInstanceOf(VerificationFailedError);
    expect(cause.message).toBe(
      'new credential C2 failed verification (rejected): login refused; it was deleted and the next run tries again; credential C1 stays current',
    );
    expect(cause.cause).toBeUndefined();
    expect(cause.currentCredentialId).toBe('C1');
  });

  it('under enforce, a failed delete leaves the credential for the next run to adopt', async () => {
    const denied = new AccessDeniedError('DeleteServiceSpecificCredential', 'AccessDenied', 'no');
    const w = world({
      verify: { outcome: 'rejected', reason: 'login refused' },
      fail: { 'deleteCredential C2': denied },
    });
    const error = await failure(run(w, [{ type: 'issue' }], observedWith({ current: undefined })));
    const cause = error.cause as VerificationFailedError;
    expect(cause.message).toBe(
      'new credential C2 failed verification (rejected): login refused; deleting it failed too ' +
        '(DeleteServiceSpecificCredential failed: AccessDenied: no): the next run adopts it and verifies it again; ' +
        'the target keeps no working credential until then',
    );
    expect(cause.cause).toBe(denied);
    expect(error.taken.map((a) => a.type)).toEqual(['create']);
  });

  it('a verification the deadline cut short is no verdict: nothing deleted or stored', async () => {
    const w = world({
      verify: { outcome: 'rejected', reason: 'refused 3 times', attempts: 3, budgetCut: true },
    });
    const error = await failure(run(w, [{ type: 'issue' }]));
    const cause = error.cause as VerificationDeferredError;
    expect(cause).toBeInstanceOf(VerificationDeferredError);
    expect(cause.message).toBe(
      "verification of new credential C2 was cut short by the invocation's deadline (refused 3 times): " +
        'the next run adopts it and verifies it again; credential C1 stays current',
    );
    expect(cause.verification).toEqual({
      credentialId: 'C2',
      mode: 'enforce',
      outcome: 'rejected',
      reason: 'refused 3 times',
      attempts: 3,
    });
    expect(w.calls).toEqual(['writeIntent', `createCredential app ${KEYSPACES}`, 'writeIntent']);
  });

  it('caps the retries by the time left, and defers when not one attempt fits', async () => {
    const w = world({ verify: {}, remainingTimeMs: TARGET_WRITES_RESERVE_MS + 60_000 });
    await run(w, [{ type: 'issue' }]);
    expect(w.verifyCalls[0]?.options).toEqual({ retryBudgetMs: 50_000 });

    expect(verifyOptions(world().deps)).toEqual({});
    const late = world({ remainingTimeMs: 30_500 });
    expect(() => verifyOptions(late.deps)).toThrow(
      new VerificationDeferredError(
        "no time left to verify the new credential before the invocation's deadline (30 s left): " +
          'the next run adopts it and verifies it',
      ),
    );
  });
});

describe('execute: the claim token', () => {
  /** The claim of the intent `action` writes from `observed`. */
  async function claim(action: PlannedAction, observed: ObservedTarget = observedWith()) {
    const w = world();
    await run(w, [action], observed);
    return w.intents[0]?.claim;
  }

  it('is the same for the same step from the same versions, and changes with any of them', async () => {
    const issue = await claim({ type: 'issue' });
    expect(await claim({ type: 'issue' })).toBe(issue);
    const others = [
      await claim({ type: 'adopt', credentialId: 'C8' }),
      await claim({ type: 'adopt', credentialId: 'C9' }),
      await claim({ type: 'issue' }, observedWith({ current: version('v2', recordOf('C1')) })),
      await claim({ type: 'issue' }, observedWith({ current: undefined })),
      await claim({ type: 'issue' }, observedWith({ intent: version('i1', undefined) })),
      await claim({ type: 'issue' }, observedWith({ target: { ...TARGET, intentVersionId: 'i2' } })),
      await claim(
        { type: 'issue' },
        observedWith({ target: { ...TARGET, secretId: `${TARGET.secretId}x` } }),
      ),
    ];
    expect(new Set([issue, ...others]).size).toBe(others.length + 1);
  });

  it('keeps its form across releases: overlapping runs of two deployed versions claim alike', async () => {
    // Pinned values: a change here lets an old and a new function take the same step at once
    // during a deployment.
    expect(await claim({ type: 'issue' })).toBe('2f5452c2e574e55c2d4bbc82281695d2');
    expect(await claim({ type: 'adopt', credentialId: 'C9' })).toBe('554fe80cd572790ce14a9093cc6c9788');
    expect(await claim({ type: 'issue' }, observedWith({ current: undefined }))).toBe(
      '90a71ab1489ad382a42b256c12ec4c01',
    );
    expect(await claim({ type: 'issue' }, observedWith({ intent: version('i1', undefined) }))).toBe(
      '9b433ed40fee6f498c850e07ba051f0c',
    );
  });
});

describe('ignoreMissing', () => {
  it('passes a missing credential and rethrows anything else', async () => {
    await expect(
      ignoreMissing(
        Promise.reject(new CredentialNotFoundError('DeleteServiceSpecificCredential', 'NoSuchEntity', 'x')),
      ),
    ).resolves.toBeUndefined();
    const denied = new AccessDeniedError('DeleteServiceSpecificCredential', 'AccessDenied', 'no');
    await expect(ignoreMissing(Promise.reject(denied))).rejects.toBe(denied);
  });
});
