// The deadline budget by need, through the real handler and the real SDK against the emulator:
// a run reserves time only for what each target's plan does, so a short timeout still makes
// progress, a verified rotation starts while the shortest verification fits (a verification the
// deadline cuts short defers its target to the next run, which adopts the credential), and a
// quiet fleet is checked whole. Deadlines are virtual (they move only with the emulator's clock).
import { describe, expect, it } from 'vitest';
import { toIssuedCredential } from '../../lambda/aws/iam.ts';
import {
  cappedRetryBudgetMs,
  minimumRunMs,
  OBSERVE_RESERVE_MS,
  PROBE_ATTEMPT_MAX_MS,
  SHORTEST_VERIFICATION_MS,
  TARGET_WRITES_RESERVE_MS,
  targetNeedMs,
} from '../../lambda/budget.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { recordFromIssued, serializeRecord } from '../../lambda/rotation/record.ts';
import { DAY_MS } from '../../lambda/rotation/retirement.ts';
import { handlerFor, type Invocation } from '../support/handler.ts';
import { propagatingService, virtualDeadline, virtualVerifier } from '../support/virtual-time.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const RECONCILE = { action: 'reconcile' };

/** The JSON lines Powertools wrote: logs (with `level`) and EMF metrics (with `_aws`). */
function jsonLines(run: Invocation): Record<string, unknown>[] {
  return run.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
const metricsOf = (run: Invocation) => jsonLines(run).find((l) => '_aws' in l && 'Targets' in l);
const summaryOf = (run: Invocation) => jsonLines(run).find((l) => l.message === 'run finished');
const outcomes = (report: RunReport | undefined) => report?.targets.map((t) => t.outcome) ?? [];

/** `count` targets whose current credential was issued `ageDays` ago, as a completed run leaves them. */
function seed(w: World, count: number, ageDays: number): string[] {
  w.emulator.clock.advance(-ageDays * DAY_MS);
  const arns: string[] = [];
  for (let i = 0; i < count; i++) {
    const user = `user-${String(i).padStart(4, '0')}`;
    w.emulator.iam.createUser(user);
    const view = w.emulator.iam.issueCredential(user, KEYSPACES);
    arns.push(
      w.emulator.secrets.createSecret(`service-credentials/${user}/${KEYSPACES}`, {
        tags: { [USER_NAME_TAG]: user, [SERVICE_NAME_TAG]: KEYSPACES },
        value: serializeRecord(recordFromIssued(toIssuedCredential('seed', view))),
      }),
    );
  }
  w.emulator.clock.advance(ageDays * DAY_MS);
  return arns;
}

describe('the deadline budget, through the handler', () => {
  it('with verification off and 60 s left, bootstraps new targets and rotates due ones', async () => {
    const w = new World();
    // The deployed handler always has a verifier; with mode off it asks nothing, so no
    // target may wait for a verification it will not run.
    w.verifyCredential = virtualVerifier(w.emulator, propagatingService(0), 'off');
    const h = handlerFor(w, { verification: 'off' });
    const due = seed(w, 2, 31);
    const fresh = [w.addTarget('new-a', KEYSPACES), w.addTarget('new-b', KEYSPACES)];

    const run = await h.invoke(RECONCILE, virtualDeadline(w.emulator, 60_000));

    expect(run.error).toBeUndefined();
    const byId = new Map(run.result?.targets.map((t) => [t.secretId, t]));
    for (const arn of [...due, ...fresh])
      expect(byId.get(arn)).toMatchObject({ outcome: 'rotated', via: 'direct' });
    expect(run.result).not.toHaveProperty('deferred');
    expect(metricsOf(run)).toMatchObject({ DeferredTargets: 0, Rotations: 4 });
    // 60 s fits an unverified rotation: no timeout warning at cold start.
    expect(jsonLines(run).some((l) => l.message === 'function timeout too short')).toBe(false);
    await w.expectInvariants();
  });

  it('with verification enforce and a budget that fits exactly one verified rotation, rotates one and defers the rest', async () => {
    const w = new World();
    const service = propagatingService(4); // 2 + 4 + 8 + 16 s of retries before the service accepts
    const firstProbeMs = 30_000;
    w.verifyCredential = virtualVerifier(w.emulator, service, 'enforce');
    // One worker: the budget fits one verified rotation at a time.
    const h = handlerFor(w, { verification: 'enforce' }, { concurrency: 1 });
    const arns = seed(w, 3, 31);
    // Exactly one verified rotation: its writes' reserve, its probe's last attempt and the 30 s
    // of retries its probe takes (the retry budget at the probe must reach 30 s, or the
    // verification is cut). Afterwards 40 s are left: less than the writes' reserve + the
    // shortest verification (50 s) a second one needs to start.
    const budget = TARGET_WRITES_RESERVE_MS + PROBE_ATTEMPT_MAX_MS + firstProbeMs;
    expect(budget).toBe(70_000);
    expect(cappedRetryBudgetMs(budget)).toBe(firstProbeMs);
    expect(budget - firstProbeMs).toBeLessThan(TARGET_WRITES_RESERVE_MS + SHORTEST_VERIFICATION_MS);
    expect(budget - firstProbeMs).toBeGreaterThanOrEqual(OBSERVE_RESERVE_MS);

    const run = await h.invoke(RECONCILE, virtualDeadline(w.emulator, budget));

    expect(run.error).toBeUndefined();
    expect(outcomes(run.result)).toEqual(['rotated']);
    const [rotated] = run.result?.targets ?? [];
    expect(rotated?.verification).toMatchObject({ mode: 'enforce', outcome: 'verified', attempts: 5 });
    expect(run.result?.deferred).toEqual(arns.filter((a) => a !== rotated?.secretId));
    expect(metricsOf(run)).toMatchObject({
      Targets: 1,
      Rotations: 1,
      DeferredTargets: 2,
      VerificationFailures: 0,
    });
    expect(summaryOf(run)).toMatchObject({ level: 'WARN', deferred: 2 });
    // Deferred targets were not touched: one Create in all.
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(1);
    // 70 s fits this propagation, not the worst one: the cold start says the timeout is short.
    expect(jsonLines(run).some((l) => l.message === 'function timeout too short')).toBe(true);

    // The next run, with the same budget, takes the next one: a run always makes progress.
    const next = await h.invoke(RECONCILE, virtualDeadline(w.emulator, budget));
    expect(outcomes(next.result).filter((o) => o === 'rotated')).toHaveLength(1);
    expect(next.result?.deferred).toHaveLength(1);
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(2);
    w.expectNoViolations();
    w.expectNoLockout();
    w.expectNoLeaks();
  });

  it('defers a target whose verification the deadline cuts short, and the next run adopts and verifies its credential', async () => {
    const w = new World();
    const service = propagatingService(4); // the service accepts a credential only after 30 s of retries
    w.verifyCredential = virtualVerifier(w.emulator, service, 'enforce');
    const h = handlerFor(w, { verification: 'enforce' }, { concurrency: 1 });
    const [arn] = seed(w, 1, 31);
    const user = 'user-0000';
    const before = w.recordedId(arn as string);
    // Just enough to start a verified rotation: its probe may retry for 10 s, not the 30 s the
    // service needs.
    const budget = targetNeedMs({ writes: true, verifies: true });
    expect(cappedRetryBudgetMs(budget)).toBe(10_000);

    const cut = await h.invoke(RECONCILE, virtualDeadline(w.emulator, budget));

    expect(cut.error).toBeUndefined();
    expect(cut.result?.targets).toEqual([]);
    expect(cut.result?.deferred).toEqual([arn]);
    // Deferred, not failed: no VerificationFailures, no failed target, no error log.
    expect(metricsOf(cut)).toMatchObject({
      DeferredTargets: 1,
      VerificationFailures: 0,
      Rotations: 0,
      FailedTargets: 0,
    });
    expect(
      jsonLines(cut).some((l) => l.level === 'ERROR' && l.message !== 'function timeout too short'),
    ).toBe(false);
    const deferredLog = jsonLines(cut).find(
      (l) => l.message === 'target deferred: its verification was cut by the deadline',
    );
    expect(deferredLog).toMatchObject({ level: 'WARN', verification: { outcome: 'rejected', attempts: 3 } });
    // The new credential is left Active and unstored; the recorded one stays current and Active.
    expect(w.recordedId(arn as string)).toBe(before);
    const listed = w.emulator.iam.credentials({ userName: user });
    expect(listed).toHaveLength(2);
    expect(listed.every((c) => c.Status === 'Active')).toBe(true);
    const issued = listed.find((c) => c.ServiceSpecificCredentialId !== before)?.ServiceSpecificCredentialId;
    expect(w.emulator.callsOf('DeleteServiceSpecificCredential')).toEqual([]);
    expect(w.emulator.callsOf('UpdateServiceSpecificCredential')).toEqual([]);
    w.expectNoViolations();
    w.expectNoLockout();

    // The next run, with the whole verification budget, adopts (Resets) that credential,
    // verifies it through the service's propagation, stores it and retires the old one.
    const next = await h.invoke(RECONCILE, virtualDeadline(w.emulator, minimumRunMs(true)));

    expect(next.error).toBeUndefined();
    expect(next.result?.deferred).toBeUndefined();
    const [adopted] = next.result?.targets ?? [];
    expect(adopted).toMatchObject({
      secretId: arn,
      currentCredentialId: issued,
      verification: { credentialId: issued, outcome: 'verified', attempts: 5 },
    });
    expect(adopted?.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual(
      expect.arrayContaining([`reset ${issued}`, `store ${issued}`]),
    );
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(1);
    expect(w.recordedId(arn as string)).toBe(issued);
    expect(metricsOf(next)).toMatchObject({ DeferredTargets: 0, VerificationFailures: 0 });
    await w.expectInvariants();
  });

  it('checks a quiet fleet of 1,000 targets whole with 120 s left, verification enforce: nothing deferred', async () => {
    const w = new World();
    w.verifyCredential = virtualVerifier(w.emulator, propagatingService(0), 'enforce');
    const h = handlerFor(w, { verification: 'enforce' });
    const arns = seed(w, 1000, 1);

    const run = await h.invoke(RECONCILE, virtualDeadline(w.emulator, 120_000));

    expect(run.error).toBeUndefined();
    expect(run.result?.targets).toHaveLength(1000);
    expect(new Set(run.result?.targets.map((t) => t.secretId))).toEqual(new Set(arns));
    expect(run.result?.targets.every((t) => t.outcome === 'unchanged' && t.actions.length === 0)).toBe(true);
    expect(run.result).not.toHaveProperty('deferred');
    expect(metricsOf(run)).toMatchObject({ Targets: 1000, DeferredTargets: 0 });

    // A quiet target needs no more than its reads: even with only their reserve left, not one
    // waits for writes or a verification it will not run.
    const tight = await h.invoke(RECONCILE, virtualDeadline(w.emulator, OBSERVE_RESERVE_MS));
    expect(tight.result?.targets).toHaveLength(1000);
    expect(tight.result).not.toHaveProperty('deferred');
    expect(w.writesSince(0)).toEqual([]);
  }, 120_000);
});
