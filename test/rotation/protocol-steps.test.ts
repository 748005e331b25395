// Each of Secrets Manager's four rotation steps (protocol.ts) called on its own, the way Secrets
// Manager invokes them, against the emulator through the real SDK: the exact report of every
// step, its reason, the actions taken, the AWS writes and the step's log line; then every way a
// step fails. protocol.test.ts runs the same steps end to end, driven by the emulator.
import {
  CreateServiceSpecificCredentialCommand,
  DeleteServiceSpecificCredentialCommand,
  UpdateServiceSpecificCredentialCommand,
} from '@aws-sdk/client-iam';
import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ROTATION_STEP_OPERATION } from '../../emulator/rotations.ts';
import { fakeLambdaContext } from '../../invariants/index.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import type { RunDeps } from '../../lambda/rotation/deps.ts';
import type { RunReport, TargetReport } from '../../lambda/rotation/model.ts';
import { TAKE_BACK_WINDOW_MS } from '../../lambda/rotation/pending.ts';
import type { RotationStepCommand } from '../../lambda/rotation/step-checks.ts';
import type { Verification, VerifyCredential } from '../../lambda/rotation/verification.ts';
import { World } from '../support/world.ts';
import { withMethod } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const FUNCTION_ARN = fakeLambdaContext().invokedFunctionArn;
const TOKEN = '11111111-2222-3333-4444-555555555555';
const AT = expect.any(String);

type Step = RotationStepCommand['step'];

/**
 * A bootstrapped target (its first credential a day old) whose rotation Secrets Manager has
 * started with TOKEN but whose function has not run yet: AWSPENDING on an empty version.
 */
async function started(prepare?: (w: World, arn: string) => Promise<void>) {
  const w = new World();
  const arn = w.addTarget('app', KEYSPACES);
  await w.run();
  const first = w.recordedId(arn) as string;
  w.advanceDays(1);
  await prepare?.(w, arn);
  w.emulator.rotations.invoker = async () => {};
  w.emulator.faults.add({ operation: ROTATION_STEP_OPERATION, kind: 'fail' });
  await w.secretsClient.send(
    new RotateSecretCommand({
      SecretId: arn,
      RotationLambdaARN: FUNCTION_ARN,
      RotationRules: { AutomaticallyAfterDays: 30 },
      ClientRequestToken: TOKEN,
    }),
  );
  await w.emulator.rotations.settled();
  w.emulator.rotations.invoker = undefined;
  w.logs.length = 0;
  const deps = (extra: Partial<RunDeps>): RunDeps => ({
    credentials: w.credentials,
    secrets: w.secrets,
    policy: w.policy,
    now: () => w.now(),
    log: w.log,
    functionArn: FUNCTION_ARN,
    ...extra,
  });
  /** Runs one step and returns its only target report (the report's frame checked here). */
  const step = async (name: Step, extra: Partial<RunDeps> = {}): Promise<TargetReport> => {
    const report: RunReport = await runCommand(
      { action: 'rotation-step', step: name, secretId: arn, token: TOKEN },
      deps(extra),
    );
    expect(report).toEqual({
      action: 'rotation-step',
      dryRun: false,
      startedAt: AT,
      finishedAt: AT,
      targets: [expect.objectContaining({ via: 'secrets-manager' })],
    });
    return report.targets[0] as TargetReport;
  };
  const base = { secretId: arn, userName: 'app', serviceName: KEYSPACES, via: 'secrets-manager' };
  const pendingId = () => {
    const value = w.emulator.secrets.valueAt(arn, 'AWSPENDING');
    return value === undefined ? undefined : (JSON.parse(value).credentialId as string);
  };
  const ids = () =>
    w.emulator.iam
      .credentials({ userName: 'app', serviceName: KEYSPACES })
      .map((c) => c.ServiceSpecificCredentialId);
  const issuedAt = (id: string) => w.emulator.iam.credential(id)?.CreateDate.toISOString();
  const stepLogs = () =>
    w.logs.filter((l) => l.message.startsWith('rotation step') || l.message === 'credential not verified');
  return { w, arn, first, step, base, pendingId, ids, issuedAt, stepLogs };
}

/** A verifier answering `outcome` under `mode`, with the retries cut by the deadline when `budgetCut`. */
function verifier(
  mode: Verification['mode'],
  outcome: Verification['outcome'],
  budgetCut = false,
): VerifyCredential {
  return async () => ({
    outcome,
    mode,
    reason: `the service said ${outcome}`,
    attempts: 2,
    ...(budgetCut ? { budgetCut: true as const } : {}),
  });
}

describe('the four steps, one by one', () => {
  it('reports each step exactly: issue, nothing to set, the IAM check, the move and rule 1', async () => {
    const t = await started();
    const since = t.w.emulator.calls.length;

    const created = await t.step('createSecret');
    const issued = t.pendingId() as string;
    expect(issued).toBeDefined();
    expect(issued).not.toBe(t.first);
    expect(created).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [{ type: 'create', credentialId: issued, at: AT }],
      currentCredentialId: t.first,
      reason: `credential ${issued} issued into AWSPENDING (version ${TOKEN})`,
    });

    expect(await t.step('setSecret')).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      reason: 'nothing to set: IAM issued the credential in createSecret and the service takes it from IAM',
    });

    expect(await t.step('testSecret')).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      reason: `credential ${issued} is Active in IAM`,
    });

    const finished = await t.step('finishSecret');
    expect(finished).toEqual({
      ...t.base,
      outcome: 'rotated',
      actions: [
        { type: 'store', credentialId: issued, at: AT },
        { type: 'deactivate', credentialId: t.first, at: AT },
      ],
      currentCredentialId: issued,
      currentIssuedAt: t.issuedAt(issued),
      nextDueAt: expect.any(String),
    });
    expect(finished.currentIssuedAt).not.toBe(t.issuedAt(t.first));
    expect(t.w.recordedId(t.arn)).toBe(issued);
    expect(t.w.emulator.secrets.labels(t.arn)[TOKEN]).toContain('AWSCURRENT');
    expect(t.w.writesSince(since).map((c) => c.split(' ')[0])).toEqual([
      'PutSecretValue', // the intent, before the issue
      'CreateServiceSpecificCredential',
      'PutSecretValue',
      'UpdateSecretVersionStage',
      'UpdateServiceSpecificCredential',
    ]);

    const done = (step: Step, reason?: string) => ({
      level: 'info',
      message: 'rotation step done',
      data: { secretId: t.arn, userName: 'app', serviceName: KEYSPACES, step, token: TOKEN, reason },
    });
    expect(t.stepLogs()).toEqual([
      done('createSecret', created.reason),
      done(
        'setSecret',
        'nothing to set: IAM issued the credential in createSecret and the service takes it from IAM',
      ),
      done('testSecret', `credential ${issued} is Active in IAM`),
      done('finishSecret'),
    ]);
    await t.w.expectInvariants();
  });

  it('answers a late retry of every step after the rotation finished without a write', async () => {
    const t = await started();
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await t.step(s);
    const issued = t.w.recordedId(t.arn) as string;
    const since = t.w.emulator.calls.length;

    for (const s of ['createSecret', 'setSecret', 'testSecret'] as const) {
      expect(await t.step(s), s).toEqual({
        ...t.base,
        outcome: 'unchanged',
        actions: [],
        reason: `version ${TOKEN} is already AWSCURRENT`,
      });
    }
    // finishSecret runs again: rule 1 has nothing left to do.
    expect(await t.step('finishSecret')).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      currentCredentialId: issued,
      currentIssuedAt: t.issuedAt(issued),
      nextDueAt: expect.any(String),
    });
    expect(t.w.writesSince(since)).toEqual([]);
    expect(t.ids().sort()).toEqual([t.first, issued].sort());
  });

  it('repeats createSecret without a second credential', async () => {
    const t = await started();
    await t.step('createSecret');
    const issued = t.pendingId();
    const since = t.w.emulator.calls.length;
    expect(await t.step('createSecret')).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      reason: `credential ${issued} is already in AWSPENDING (version ${TOKEN}): nothing to do`,
    });
    expect(t.w.writesSince(since)).toEqual([]);
  });

  it('passes testSecret on a version that holds no credential (the configuration test)', async () => {
    const t = await started();
    const since = t.w.emulator.calls.length;
    expect(await t.step('testSecret')).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      reason: `version ${TOKEN} holds no credential: a test of the rotation configuration, which passes`,
    });
    expect(t.w.writesSince(since)).toEqual([]);
  });
});

/** The step's failure log line, with the reason and actions its report carries. */
function failedLog(t: Awaited<ReturnType<typeof started>>, step: Step, report: TargetReport) {
  return {
    level: 'error',
    message: 'rotation step failed',
    data: {
      secretId: t.arn,
      userName: 'app',
      serviceName: KEYSPACES,
      step,
      token: TOKEN,
      reason: report.reason,
      actions: report.actions,
    },
  };
}

describe('createSecret failing', () => {
  it('says which credential was issued but not stored, and the retry adopts it', async () => {
    const t = await started();
    // Every attempt of the AWSPENDING write fails (the SDK retries a 500).
    t.w.emulator.faults.add({
      operation: 'PutSecretValue',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
      match: (p) => p.ClientRequestToken === TOKEN,
    });

    const failed = await t.step('createSecret');
    const unstored = t.ids().find((id) => id !== t.first) as string;
    expect(failed).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [{ type: 'create', credentialId: unstored, at: AT }],
      reason: expect.stringMatching(
        new RegExp(
          `^createSecret failed: PutSecretValue failed: InternalServiceError: [^;]*; credential ${unstored} was issued but not stored: the retry of createSecret adopts it$`,
        ),
      ),
    });
    expect(t.stepLogs()).toEqual([failedLog(t, 'createSecret', failed)]);

    // A retry that adopts it and fails the same way says so too.
    const again = await t.step('createSecret');
    expect(again).toMatchObject({
      outcome: 'failed',
      actions: [{ type: 'reset', credentialId: unstored, at: AT }],
      reason: expect.stringMatching(
        new RegExp(
          `; credential ${unstored} was issued but not stored: the retry of createSecret adopts it$`,
        ),
      ),
    });
    expect(t.ids()).toHaveLength(2);

    t.w.emulator.faults.clear();
    const retried = await t.step('createSecret');
    expect(retried).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [{ type: 'reset', credentialId: unstored, at: AT }],
      currentCredentialId: t.first,
      reason: `credential ${unstored} adopted into AWSPENDING (version ${TOKEN})`,
    });
    expect(t.pendingId()).toBe(unstored);
  });

  it('names no unstored credential when nothing was issued', async () => {
    const t = await started();
    t.w.emulator.faults.add({ operation: 'CreateServiceSpecificCredential', kind: 'fail' });
    const failed = await t.step('createSecret');
    expect(failed).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: expect.stringMatching(
        /^createSecret failed: CreateServiceSpecificCredential failed: InternalFailure: [^;]*$/,
      ),
    });
    expect(t.ids()).toEqual([t.first]);
  });

  it('refuses when both slots are taken, one in its grace period, touching nothing', async () => {
    // A direct rotation before: the replaced credential is Inactive in its grace period.
    const t = await started(async (w, arn) => {
      await w.run({ action: 'rotate', target: { secretId: arn }, force: true, dryRun: false });
    });
    const ids = t.ids();
    expect(ids).toHaveLength(2);
    const since = t.w.emulator.calls.length;
    const failed = await t.step('createSecret');
    expect(failed).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: expect.stringMatching(/^createSecret failed: no credential can be issued: /),
    });
    expect(t.ids()).toEqual(ids);
    expect(t.w.writesSince(since)).toEqual([]);
  });

  it('reports "retired" when making room deletes a credential past its grace period', async () => {
    // A direct rotation long before: the replaced credential is Inactive past its grace period.
    const t = await started(async (w, arn) => {
      await w.run({ action: 'rotate', target: { secretId: arn }, force: true, dryRun: false });
      w.advanceDays(30);
    });
    const [old] = t.ids().filter((id) => id !== t.w.recordedId(t.arn));
    const created = await t.step('createSecret');
    const issued = t.pendingId() as string;
    expect(created).toEqual({
      ...t.base,
      outcome: 'retired',
      actions: [
        { type: 'delete', credentialId: old, at: AT },
        { type: 'create', credentialId: issued, at: AT },
      ],
      currentCredentialId: t.w.recordedId(t.arn),
      reason: `credential ${issued} issued into AWSPENDING (version ${TOKEN})`,
    });
  });
});

/** A started rotation whose createSecret has run: the new credential under AWSPENDING. */
async function created(prepare?: (w: World, arn: string) => Promise<void>) {
  const t = await started(prepare);
  await t.step('createSecret');
  const issued = t.pendingId() as string;
  t.w.logs.length = 0;
  const setStatus = (id: string, Status: 'Active' | 'Inactive') =>
    t.w.iamClient.send(
      new UpdateServiceSpecificCredentialCommand({
        UserName: 'app',
        ServiceSpecificCredentialId: id,
        Status,
      }),
    );
  const remove = (id: string) =>
    t.w.iamClient.send(
      new DeleteServiceSpecificCredentialCommand({ UserName: 'app', ServiceSpecificCredentialId: id }),
    );
  const pendingLabelled = () =>
    Object.values(t.w.emulator.secrets.labels(t.arn)).flat().includes('AWSPENDING');
  return { ...t, issued, setStatus, remove, pendingLabelled };
}

describe('testSecret', () => {
  it('fails when IAM lists the pending credential Inactive, or not at all', async () => {
    const t = await created();
    await t.setStatus(t.issued, 'Inactive');
    const inactive = await t.step('testSecret');
    expect(inactive).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: `testSecret failed: IAM does not list credential ${t.issued} Active for app/${KEYSPACES} (it is Inactive)`,
    });
    expect(t.stepLogs()).toEqual([failedLog(t, 'testSecret', inactive)]);

    await t.remove(t.issued);
    expect(await t.step('testSecret')).toMatchObject({
      outcome: 'failed',
      reason: `testSecret failed: IAM does not list credential ${t.issued} Active for app/${KEYSPACES} (it is not listed)`,
    });
  });

  it('fails when IAM answers with the credential of another user or service', async () => {
    const t = await created();
    for (const other of [{ userName: 'someone-else' }, { serviceName: 'codecommit.amazonaws.com' }]) {
      const port = t.w.credentials;
      const credentials = withMethod(port, 'listCredentials', async (userName, serviceName) =>
        (await port.listCredentials(userName, serviceName)).map((c) => ({ ...c, ...other })),
      );
      expect(await t.step('testSecret', { credentials }), JSON.stringify(other)).toMatchObject({
        outcome: 'failed',
        reason: `testSecret failed: IAM does not list credential ${t.issued} Active for app/${KEYSPACES} (it is Active)`,
      });
    }
  });

  it('adds the service check to the reason, and a warning when "warn" is not accepted', async () => {
    const t = await created();
    const active = `credential ${t.issued} is Active in IAM`;
    const cases: [VerifyCredential, string][] = [
      [verifier('off', 'skipped'), active],
      [verifier('enforce', 'verified'), `${active}; the service check: verified`],
      [verifier('warn', 'skipped'), `${active}; the service check: skipped`],
      [verifier('warn', 'rejected'), `${active}; the service check: rejected`],
      // Cut short under "warn": a warning, never a deferred failure.
      [verifier('warn', 'rejected', true), `${active}; the service check: rejected`],
    ];
    for (const [verifyCredential, reason] of cases) {
      expect(await t.step('testSecret', { verifyCredential }), reason).toEqual({
        ...t.base,
        outcome: 'unchanged',
        actions: [],
        reason,
      });
    }
    const warning = {
      level: 'warn',
      message: 'credential not verified',
      data: {
        secretId: t.arn,
        userName: 'app',
        serviceName: KEYSPACES,
        credentialId: t.issued,
        outcome: 'rejected',
        reason: 'the service said rejected',
      },
    };
    expect(t.stepLogs().filter((l) => l.level === 'warn')).toEqual([warning, warning]);
    expect(t.ids()).toContain(t.issued);
    expect(t.pendingLabelled()).toBe(true);
  });

  it('under "enforce", deletes a credential the service refuses and removes AWSPENDING', async () => {
    const t = await created();
    const since = t.w.emulator.calls.length;
    const refused = await t.step('testSecret', { verifyCredential: verifier('enforce', 'rejected') });
    expect(refused).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [{ type: 'delete', credentialId: t.issued, at: AT }],
      reason:
        `testSecret failed: the service did not accept credential ${t.issued} (the service said rejected); ` +
        'it was deleted and AWSPENDING removed, the current credential stays',
    });
    expect(t.stepLogs()).toEqual([failedLog(t, 'testSecret', refused)]);
    expect(t.ids()).toEqual([t.first]);
    expect(t.pendingLabelled()).toBe(false);
    expect(t.w.recordedId(t.arn)).toBe(t.first);
    expect(t.w.writesSince(since).map((c) => c.split(' ')[0])).toEqual([
      'DeleteServiceSpecificCredential',
      'UpdateSecretVersionStage',
    ]);
  });

  it('under "enforce", deletes a refused credential also when AWSCURRENT reads as empty', async () => {
    const t = await created();
    const secrets = withMethod(t.w.secrets, 'readCurrent', async () => undefined);
    expect(
      await t.step('testSecret', { secrets, verifyCredential: verifier('enforce', 'rejected') }),
    ).toMatchObject({
      outcome: 'failed',
      actions: [{ type: 'delete', credentialId: t.issued, at: AT }],
    });
    expect(t.ids()).toEqual([t.first]);
  });

  it('under "enforce", reports the deletion when removing AWSPENDING fails after it', async () => {
    const t = await created();
    t.w.emulator.faults.add({
      operation: 'UpdateSecretVersionStage',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
    });
    const refused = await t.step('testSecret', { verifyCredential: verifier('enforce', 'rejected') });
    expect(refused).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [{ type: 'delete', credentialId: t.issued, at: AT }],
      reason: expect.stringMatching(/^testSecret failed: UpdateSecretVersionStage failed: /),
    });
    expect(t.ids()).toEqual([t.first]);
  });

  it('under "enforce", reports no action when the deletion itself fails', async () => {
    const t = await created();
    t.w.emulator.faults.add({
      operation: 'DeleteServiceSpecificCredential',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
    });
    const refused = await t.step('testSecret', { verifyCredential: verifier('enforce', 'rejected') });
    expect(refused).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: expect.stringMatching(/^testSecret failed: DeleteServiceSpecificCredential failed: /),
    });
    expect(t.ids()).toContain(t.issued);
    expect(t.pendingLabelled()).toBe(true);
  });

  it('under "enforce", keeps a refused credential that is already current', async () => {
    const t = await started();
    // AWSPENDING holding the current record, as a rotation whose move already happened elsewhere.
    await t.w.secretsClient.send(
      new PutSecretValueCommand({
        SecretId: t.arn,
        ClientRequestToken: TOKEN,
        SecretString: t.w.emulator.secrets.valueAt(t.arn),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const since = t.w.emulator.calls.length;
    const kept = await t.step('testSecret', { verifyCredential: verifier('enforce', 'rejected') });
    expect(kept).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: `testSecret failed: credential ${t.first} failed the service check but is already current: kept`,
    });
    expect(t.ids()).toEqual([t.first]);
    expect(t.w.writesSince(since)).toEqual([]);
  });

  it('under "enforce", fails without a verdict when the deadline cut the check short, keeping everything', async () => {
    const t = await created();
    const since = t.w.emulator.calls.length;
    const cut = await t.step('testSecret', { verifyCredential: verifier('enforce', 'rejected', true) });
    expect(cut).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason:
        `testSecret failed: verification of pending credential ${t.issued} was cut short by the invocation's deadline ` +
        `(the service said rejected): no verdict, so it is kept and AWSPENDING stays on version ${TOKEN}; ` +
        "Secrets Manager's retry of the rotation tests it again, or a scheduled run takes the rotation back " +
        `after ${TAKE_BACK_WINDOW_MS / 60_000} minutes; the current credential stays`,
    });
    expect(cut.reason).toContain('after 60 minutes');
    expect(t.ids()).toContain(t.issued);
    expect(t.pendingLabelled()).toBe(true);
    expect(t.w.writesSince(since)).toEqual([]);
  });
});

describe('finishSecret', () => {
  it('fails before createSecret stored a credential', async () => {
    const t = await started();
    const since = t.w.emulator.calls.length;
    const early = await t.step('finishSecret');
    expect(early).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: `finishSecret failed: version ${TOKEN} holds no credential: createSecret has not stored one`,
    });
    expect(t.stepLogs()).toEqual([failedLog(t, 'finishSecret', early)]);
    expect(t.w.writesSince(since)).toEqual([]);
  });

  it('never moves AWSCURRENT to a credential IAM lists Inactive or not at all', async () => {
    const t = await created();
    await t.setStatus(t.issued, 'Inactive');
    const since = t.w.emulator.calls.length;
    expect(await t.step('finishSecret')).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [],
      reason: `finishSecret failed: credential ${t.issued} is Inactive in IAM: AWSCURRENT not moved`,
    });
    await t.remove(t.issued);
    expect(await t.step('finishSecret')).toMatchObject({
      outcome: 'failed',
      reason: `finishSecret failed: credential ${t.issued} is gone in IAM: AWSCURRENT not moved`,
    });
    expect(t.w.recordedId(t.arn)).toBe(t.first);
    expect(t.w.writesSince(since).filter((c) => !c.startsWith('DeleteServiceSpecificCredential'))).toEqual(
      [],
    );
  });

  it('reports the move when rule 1 fails after it, and the retry completes rule 1 as "retired"', async () => {
    const t = await created();
    t.w.emulator.faults.add({
      operation: 'UpdateServiceSpecificCredential',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
    });
    const moved = await t.step('finishSecret');
    expect(moved).toEqual({
      ...t.base,
      outcome: 'failed',
      actions: [{ type: 'store', credentialId: t.issued, at: AT }],
      reason: expect.stringMatching(/^finishSecret failed: UpdateServiceSpecificCredential failed: /),
    });
    expect(t.w.recordedId(t.arn)).toBe(t.issued);

    t.w.emulator.faults.clear();
    expect(await t.step('finishSecret')).toEqual({
      ...t.base,
      outcome: 'retired',
      actions: [{ type: 'deactivate', credentialId: t.first, at: AT }],
      currentCredentialId: t.issued,
      currentIssuedAt: t.issuedAt(t.issued),
      nextDueAt: expect.any(String),
    });
  });

  it('repeated after the new credential vanished from IAM, reports no current credential', async () => {
    const t = await created();
    await t.step('finishSecret');
    await t.remove(t.issued);
    expect(await t.step('finishSecret')).toEqual({
      ...t.base,
      outcome: 'unchanged',
      actions: [],
      nextDueAt: expect.any(String),
    });
  });

  it('reports no due date when neither slot holds the recorded credential', async () => {
    const t = await created();
    await t.step('finishSecret');
    // The new credential vanished and someone else's took its slot: the plan is blocked, with no
    // current credential to count a due date from.
    await t.remove(t.issued);
    await t.w.iamClient.send(
      new CreateServiceSpecificCredentialCommand({ UserName: 'app', ServiceName: KEYSPACES }),
    );
    expect(await t.step('finishSecret')).toEqual({ ...t.base, outcome: 'unchanged', actions: [] });
  });
});
