// The executor's own contract, beyond the lifecycle rules: what an intent it writes promises,
// how a run near its deadline defers targets, what a report says in each mode, and how
// failures of its own bookkeeping are reported. Real SDK clients against the emulator.
import { describe, expect, it } from 'vitest';
import { parseIntent } from '../../lambda/rotation/intent.ts';
import {
  MIN_VERIFICATION_MS,
  OBSERVE_RESERVE_MS,
  TARGET_WRITES_RESERVE_MS,
  targetNeedMs,
  VERIFICATION_BUDGET_MS,
} from '../../lambda/budget.ts';
import { DEFAULT_RETRY_POLICY } from '../../lambda/probes/retry.ts';
import { BULK_OBSERVATION_THRESHOLD, DEFAULT_CONCURRENCY } from '../../lambda/rotation/deps.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import type { Verification } from '../../lambda/rotation/verification.ts';
import { World } from '../support/world.ts';
import { only } from '../support/reports.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const isStore = (p: Record<string, unknown>) => p.VersionStages === undefined;
const isIntent = (p: Record<string, unknown>) => p.VersionStages !== undefined;

describe('runCommand', () => {
  it('keeps its documented defaults', () => {
    // The benchmark tuned these; a change must be deliberate (docs/OPERATIONS and bench/results.md cite them).
    expect(DEFAULT_CONCURRENCY).toBe(4);
    expect(BULK_OBSERVATION_THRESHOLD).toBe(20);
  });

  it('writes an intent naming the invocation, what it saw and its Lambda deadline, and marks it ended on failure', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: 10, match: isStore });
    // A clock that stands still, so that every time the run writes is the one it started at.
    const start = w.now().getTime();
    const report = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ now: () => new Date(start), requestId: 'req-42', remainingTimeMs: () => 120_000 }),
    );
    expect(only(report).outcome).toBe('failed');
    const intent = parseIntent((await w.secrets.readIntent(arn))?.value);
    const placeholder = await w.secrets.readCurrent(arn);
    expect(intent).toStrictEqual({
      requestId: 'req-42',
      writtenAt: new Date(start).toISOString(),
      deadline: new Date(start + 120_000).toISOString(),
      currentVersionId: placeholder?.versionId,
      known: [],
      endedAt: new Date(start).toISOString(),
    });
  });

  it('promises Lambda’s 15-minute maximum when there is no Lambda context', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: 10, match: isStore });
    const start = w.now().getTime();
    await runCommand({ action: 'reconcile', dryRun: false }, w.deps({ now: () => new Date(start) }));
    const intent = parseIntent((await w.secrets.readIntent(arn))?.value);
    expect(intent?.deadline).toBe(new Date(start + 15 * 60_000).toISOString());
    expect(intent?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names the credential it is about to Reset in an adoption’s intent, and lists what IAM showed', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    await w.run();
    const first = w.recordedId(arn) as string;
    w.advanceDays(31);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: 10, match: isStore });
    await w.run();
    w.emulator.faults.clear();
    const orphan = w.emulator.iam
      .credentials({ userName: 'app' })
      .find((c) => c.ServiceSpecificCredentialId !== first)?.ServiceSpecificCredentialId as string;
    // The adoption's own store fails too: its intent stays for inspection.
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: 10, match: isStore });
    const failed = only(await w.run());
    expect(failed.actions.map((a) => a.type)).toEqual(['reset']);
    const intent = parseIntent((await w.secrets.readIntent(arn))?.value);
    expect(intent?.credentialId).toBe(orphan);
    expect([...(intent?.known ?? [])].sort()).toEqual([first, orphan].sort());
    expect(intent?.endedAt).toBeDefined();
  });

  it('still reports the failure when marking the intent ended fails too, and says the deadline ends it', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    w.emulator.faults.add({ operation: 'PutSecretValue', kind: 'fail', times: 10, match: isStore });
    // The first intent write passes; the end mark (and the SDK's retries of it) fail.
    let intents = 0;
    w.emulator.faults.add({
      operation: 'PutSecretValue',
      kind: 'fail',
      times: 10,
      match: (p) => isIntent(p) && ++intents >= 2,
    });
    const r = only(await w.run());
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/was issued but not stored: the next run adopts it/);
    expect(w.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'could not mark the intent ended; the next run waits for its deadline',
      }),
    );
  });

  it('defers a target with writes when less than their reserve is left, and starts it with the reserve left exactly', async () => {
    const w = new World();
    const arns = [w.addTarget('a', KEYSPACES), w.addTarget('b', KEYSPACES)];
    const late = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ remainingTimeMs: () => TARGET_WRITES_RESERVE_MS - 1 }),
    );
    expect(late.targets).toEqual([]);
    expect([...(late.deferred ?? [])].sort()).toEqual([...arns].sort());
    expect(w.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'deadline near: targets deferred to the next run',
        data: { deferred: 2 },
      }),
    );
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toEqual([]);
    expect(w.writesSince(0)).toEqual([]);

    const inTime = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ remainingTimeMs: () => TARGET_WRITES_RESERVE_MS }),
    );
    expect(inTime.targets.map((t) => t.outcome)).toEqual(['rotated', 'rotated']);
    expect(inTime).not.toHaveProperty('deferred');
    expect(inTime).not.toHaveProperty('rejected');
  });

  it('reserves nothing for a quiet target: it is checked with only the observation reserve left', async () => {
    const w = new World();
    const arn = w.addTarget('a', KEYSPACES);
    await w.run();
    const verifier = async (): Promise<Verification> => ({
      outcome: 'verified',
      reason: 'ok',
      attempts: 1,
      mode: 'enforce',
    });
    const quiet = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({
        remainingTimeMs: () => OBSERVE_RESERVE_MS,
        verifyCredential: verifier,
        verificationMode: 'enforce',
      }),
    );
    expect(only(quiet)).toMatchObject({ secretId: arn, outcome: 'unchanged' });
    expect(quiet).not.toHaveProperty('deferred');

    const tooLate = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ remainingTimeMs: () => OBSERVE_RESERVE_MS - 1 }),
    );
    expect(tooLate.deferred).toEqual([arn]);
  });

  it('reserves the verification budget only for a verified new credential', async () => {
    const w = new World();
    const [a, b] = [w.addTarget('a', KEYSPACES), w.addTarget('b', KEYSPACES)];
    const budgets: (number | undefined)[] = [];
    const verifyCredential = async (
      _t: unknown,
      _i: unknown,
      options?: { retryBudgetMs?: number },
    ): Promise<Verification> => {
      budgets.push(options?.retryBudgetMs);
      return { outcome: 'verified', reason: 'ok', attempts: 1, mode: 'enforce' };
    };
    // The writes' reserve and the shortest verification worth starting (20 s), not the whole 90 s.
    const left = targetNeedMs({ writes: true, verifies: true });
    expect(left).toBe(TARGET_WRITES_RESERVE_MS + 20_000);
    // Verification off: the writes' reserve is enough, the verifier is asked without a budget.
    const off = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ remainingTimeMs: () => TARGET_WRITES_RESERVE_MS, verifyCredential, verificationMode: 'off' }),
    );
    expect(off.targets.map((t) => t.outcome)).toEqual(['rotated', 'rotated']);
    expect(budgets).toEqual([undefined, undefined]);

    w.advanceDays(31);
    const short = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ remainingTimeMs: () => left - 1, verifyCredential, verificationMode: 'enforce' }),
    );
    expect([...(short.deferred ?? [])].sort()).toEqual([a, b].sort());
    expect(budgets).toHaveLength(2);

    const exact = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ remainingTimeMs: () => left, verifyCredential, verificationMode: 'enforce' }),
    );
    expect(exact.targets.map((t) => t.outcome)).toEqual(['rotated', 'rotated']);
    // Started with the shortest verification: the probe retries for what is left (10 s).
    expect(budgets.slice(2)).toEqual([MIN_VERIFICATION_MS, MIN_VERIFICATION_MS]);

    w.advanceDays(31);
    const whole = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({
        remainingTimeMs: () => TARGET_WRITES_RESERVE_MS + VERIFICATION_BUDGET_MS,
        verifyCredential,
        verificationMode: 'enforce',
      }),
    );
    expect(whole.targets.map((t) => t.outcome)).toEqual(['rotated', 'rotated']);
    // With the whole verification budget left, the probe gets the policy's whole retry budget.
    expect(budgets.slice(4)).toEqual([DEFAULT_RETRY_POLICY.budgetMs, DEFAULT_RETRY_POLICY.budgetMs]);
  });

  it('caps a verification by the time left when time was lost after the target started', async () => {
    const w = new World();
    w.addTarget('a', KEYSPACES);
    const budgets: (number | undefined)[] = [];
    let left = TARGET_WRITES_RESERVE_MS + VERIFICATION_BUDGET_MS;
    // The Create took 50 s (throttled): 70 s are left, the writes keep 30 s, the last attempt
    // 10 s, so the probe may retry for 30 s instead of 80 s.
    const verifyCredential = async (
      _t: unknown,
      _i: unknown,
      options?: { retryBudgetMs?: number },
    ): Promise<Verification> => {
      budgets.push(options?.retryBudgetMs);
      return { outcome: 'verified', reason: 'ok', attempts: 1, mode: 'enforce' };
    };
    const credentials = {
      ...w.credentials,
      createCredential: async (u: string, s: string, age?: number) => {
        const issued = await w.credentials.createCredential(u, s, age);
        left -= 50_000;
        return issued;
      },
    };
    const r = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({ credentials, remainingTimeMs: () => left, verifyCredential, verificationMode: 'enforce' }),
    );
    expect(only(r).outcome).toBe('rotated');
    expect(budgets).toEqual([30_000]);

    // With less than one attempt left after the Create, no verification starts: no verdict, so
    // no failure. The target is deferred, the credential left unstored, and the next run adopts it.
    w.advanceDays(31);
    left = TARGET_WRITES_RESERVE_MS + VERIFICATION_BUDGET_MS;
    const late = {
      ...w.credentials,
      createCredential: async (u: string, s: string, age?: number) => {
        const issued = await w.credentials.createCredential(u, s, age);
        left = TARGET_WRITES_RESERVE_MS + 9_999;
        return issued;
      },
    };
    const cut = await runCommand(
      { action: 'reconcile', dryRun: false },
      w.deps({
        credentials: late,
        remainingTimeMs: () => left,
        verifyCredential,
        verificationMode: 'enforce',
      }),
    );
    expect(cut.targets).toEqual([]);
    expect(cut.deferred).toHaveLength(1);
    const deferredLog = w.logs.find(
      (l) => l.message === 'target deferred: its verification was cut by the deadline',
    );
    expect(deferredLog?.level).toBe('warn');
    expect(String(deferredLog?.data?.reason)).toMatch(
      /no time left to verify the new credential.*the next run adopts it/,
    );
    expect(w.logs.some((l) => l.level === 'error')).toBe(false);
    expect(budgets).toHaveLength(1);
    const next = await w.run();
    expect(only(next).outcome).toBe('recovered');
  });

  it('reports the mode, the times and the outcome of a real run', async () => {
    const w = new World();
    w.addTarget('a', KEYSPACES);
    const ticks = [new Date('2026-12-01T00:00:00.000Z'), new Date('2026-12-01T00:00:05.000Z')];
    let calls = 0;
    // The first reading of the clock starts the run, the last one finishes it.
    const now = () => (calls++ === 0 ? (ticks[0] as Date) : (ticks[1] as Date));
    const r = await runCommand({ action: 'reconcile', dryRun: false }, w.deps({ now }));
    expect(r).toMatchObject({
      action: 'reconcile',
      dryRun: false,
      startedAt: '2026-12-01T00:00:00.000Z',
      finishedAt: '2026-12-01T00:00:05.000Z',
    });
    const t = only(r);
    expect(t.outcome).toBe('rotated');
    expect(t.currentCredentialId).toBe(t.actions.find((a) => a.type === 'store')?.credentialId);
    expect(t.currentIssuedAt).toBe('2026-12-01T00:00:05.000Z');
    expect(t.nextDueAt).toBe('2026-12-31T00:00:05.000Z');
    expect(w.logs).toContainEqual(expect.objectContaining({ level: 'info', message: 'target changed' }));
  });

  it('changes nothing and logs no change for a quiet target', async () => {
    const w = new World();
    w.addTarget('a', KEYSPACES);
    await w.run();
    const logged = w.logs.length;
    const r = only(await runCommand({ action: 'reconcile', dryRun: false }, w.deps()));
    expect(r.outcome).toBe('unchanged');
    expect(r).not.toHaveProperty('reason');
    // Nothing was issued, so the report names no way it was issued.
    expect(r).not.toHaveProperty('via');
    expect(w.logs.slice(logged).filter((l) => l.message === 'target changed')).toEqual([]);
    expect(w.logs.slice(logged).filter((l) => l.level !== 'info' && l.level !== 'debug')).toEqual([]);
  });

  it('plans an issue in a dry run as create and store of "new", and says what the run would be', async () => {
    const w = new World();
    w.addTarget('a', KEYSPACES);
    const r = await runCommand({ action: 'reconcile', dryRun: true }, w.deps());
    expect(r.dryRun).toBe(true);
    expect(only(r)).toMatchObject({
      outcome: 'planned',
      actions: [
        { type: 'create', credentialId: 'new', at: 'planned' },
        { type: 'store', credentialId: 'new', at: 'planned' },
      ],
      currentCredentialId: undefined,
      nextDueAt: undefined,
      reason: 'would be rotated: placeholder value, so a first credential is issued',
    });
    expect(only(r)).not.toHaveProperty('credentials');
  });

  it('reports a status run as dry, with no actions, and each credential with its issue time', async () => {
    const w = new World();
    const arn = w.addTarget('a', KEYSPACES);
    await w.run();
    w.advanceDays(31);
    const r = await runCommand({ action: 'status' }, w.deps());
    expect(r.dryRun).toBe(true);
    const t = only(r);
    expect(t.outcome).toBe('planned');
    expect(t.actions).toEqual([]);
    const id = w.recordedId(arn);
    expect(t.currentCredentialId).toBe(id);
    const issued = w.emulator.iam.credentials({ userName: 'a' })[0];
    expect(t.credentials).toEqual([
      { id, status: 'Active', issuedAt: issued?.CreateDate.toISOString(), current: true },
    ]);
    expect(t.currentIssuedAt).toBe(issued?.CreateDate.toISOString());
  });

  it('reports a denied Create plainly, with the error’s name', async () => {
    const w = new World();
    w.addTarget('a', KEYSPACES);
    w.emulator.faults.add({
      operation: 'CreateServiceSpecificCredential',
      kind: 'fail',
      times: 10,
      error: { code: 'AccessDenied', status: 403, message: 'not allowed' },
    });
    const r = only(await w.run());
    expect(r.outcome).toBe('failed');
    expect(r.actions).toEqual([]);
    expect(r.reason).toMatch(/AccessDenied/);
    expect(r.reason).not.toMatch(/issued but not stored/);
    expect(w.logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'target failed' }));
  });
  it('enforce: when deleting the refused credential fails too, says so, keeps the recorded one current and leaves the new one to the next run', async () => {
    const w = new World();
    const arn = w.addTarget('app', KEYSPACES);
    const first = only(await w.run());
    w.advanceDays(31);
    const refused: Verification = {
      mode: 'enforce',
      outcome: 'rejected',
      reason: 'refused by the edge',
      attempts: 2,
    };
    w.emulator.faults.add({
      operation: 'DeleteServiceSpecificCredential',
      kind: 'fail',
      times: 10,
      error: { code: 'AccessDenied', status: 403, message: 'not allowed' },
    });

    const r = only(
      await runCommand(
        { action: 'reconcile', dryRun: false },
        w.deps({ verifyCredential: async () => refused }),
      ),
    );

    const newId = r.verification?.credentialId;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(
      new RegExp(
        `^new credential ${newId} failed verification \\(rejected\\): refused by the edge; deleting it failed too \\(.*AccessDenied.*\\): the next run adopts it and verifies it again; credential ${first.currentCredentialId} stays current`,
      ),
    );
    expect(r.verification).toStrictEqual({
      credentialId: newId,
      mode: 'enforce',
      outcome: 'rejected',
      reason: 'refused by the edge',
      attempts: 2,
    });
    expect(r.actions.map((a) => a.type)).toEqual(['create']);
    expect(r.currentCredentialId).toBe(first.currentCredentialId);
    expect(w.recordedId(arn)).toBe(first.currentCredentialId);
    expect(
      w.emulator.iam
        .credentials({ userName: 'app', serviceName: KEYSPACES })
        .map((c) => c.ServiceSpecificCredentialId),
    ).toContain(newId);
  });

  it('enforce at bootstrap: a refused first credential is deleted, and the report says no credential works until the next run', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const refused: Verification = { mode: 'enforce', outcome: 'rejected', reason: 'no', attempts: 1 };

    const r = only(
      await runCommand(
        { action: 'reconcile', dryRun: false },
        w.deps({ verifyCredential: async () => refused }),
      ),
    );

    const newId = r.verification?.credentialId;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toBe(
      `new credential ${newId} failed verification (rejected): no; it was deleted and the next run tries again; the target keeps no working credential until then`,
    );
    expect(r.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `create ${newId}`,
      `delete ${newId}`,
    ]);
    expect(r.currentCredentialId).toBeUndefined();
    expect(w.emulator.iam.credentials({ userName: 'app', serviceName: KEYSPACES })).toEqual([]);
  });

  it('warn stores a refused credential and logs the warning; off and skipped pass without a verified log', async () => {
    for (const [v, level, message] of [
      [
        { mode: 'warn', outcome: 'rejected', reason: 'r', attempts: 1 },
        'warn',
        'credential failed verification; stored anyway (verification: warn)',
      ],
      [{ mode: 'enforce', outcome: 'skipped', reason: 's', attempts: 0 }, 'info', 'credential verified'],
    ] as const) {
      const w = new World();
      const arn = w.addTarget('app', KEYSPACES);
      const r = only(
        await runCommand({ action: 'reconcile', dryRun: false }, w.deps({ verifyCredential: async () => v })),
      );
      expect(r.outcome).toBe('rotated');
      expect(r.via).toBe('direct');
      expect(r.verification).toMatchObject({
        credentialId: r.currentCredentialId,
        mode: v.mode,
        outcome: v.outcome,
      });
      expect(w.recordedId(arn)).toBe(r.currentCredentialId);
      expect(w.logs).toContainEqual(expect.objectContaining({ level, message }));
    }
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const off: Verification = { mode: 'off', outcome: 'skipped', reason: 'off', attempts: 0 };
    const r = only(
      await runCommand({ action: 'reconcile', dryRun: false }, w.deps({ verifyCredential: async () => off })),
    );
    expect(r.outcome).toBe('rotated');
    expect(w.logs.map((l) => l.message)).not.toContain('credential verified');
  });
});
