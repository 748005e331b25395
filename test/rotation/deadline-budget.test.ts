// The deadline budget by need, through the real handler and the real SDK against the emulator:
// a run reserves time only for what each target's plan does, so a short timeout still makes
// progress, a verified rotation is never started without its verification budget, and a quiet
// fleet is checked whole. Deadlines are virtual (they move only with the emulator's clock).
import { describe, expect, it } from 'vitest';
import { toIssuedCredential } from '../../lambda/aws/iam.ts';
import {
  minimumRunMs,
  OBSERVE_RESERVE_MS,
  TARGET_WRITES_RESERVE_MS,
  VERIFICATION_BUDGET_MS,
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
    w.verifyCredential = virtualVerifier(w.emulator, service, 'enforce');
    // One worker: the budget fits one verified rotation at a time.
    const h = handlerFor(w, { verification: 'enforce' }, { concurrency: 1 });
    const arns = seed(w, 3, 31);
    const budget = minimumRunMs(true);
    expect(budget).toBe(135_000);

    const run = await h.invoke(RECONCILE, virtualDeadline(w.emulator, budget));

    expect(run.error).toBeUndefined();
    expect(outcomes(run.result)).toEqual(['rotated']);
    const [rotated] = run.result?.targets ?? [];
    expect(rotated?.verification).toMatchObject({ mode: 'enforce', outcome: 'verified', attempts: 5 });
    // 30 s went on the probe's retries: 105 s left, less than the 120 s a verified rotation needs.
    expect(TARGET_WRITES_RESERVE_MS + VERIFICATION_BUDGET_MS).toBe(120_000);
    expect(run.result?.deferred).toEqual(arns.filter((a) => a !== rotated?.secretId));
    expect(metricsOf(run)).toMatchObject({ Targets: 1, Rotations: 1, DeferredTargets: 2 });
    expect(summaryOf(run)).toMatchObject({ level: 'WARN', deferred: 2 });
    // Deferred targets were not touched: one Create in all.
    expect(w.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(1);

    // The next run, with the same budget, takes the next one: a run always makes progress.
    const next = await h.invoke(RECONCILE, virtualDeadline(w.emulator, budget));
    expect(outcomes(next.result).filter((o) => o === 'rotated')).toHaveLength(1);
    expect(next.result?.deferred).toHaveLength(1);
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
