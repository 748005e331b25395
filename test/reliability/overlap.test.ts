// Overlapping runs (issue #5). Reserved concurrency 1 is the deployed guard, but two runs on
// the same targets at once (a manual rotate during the schedule, a retried async invocation,
// a second deployment) must still never exceed two credentials, lock anyone out, or leave
// work for more than one more run. Two worlds (separate SDK clients, one emulator) run at
// once; the emulator's per-call latency and staggered starts make them interleave.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';
import type { Command } from '../../lambda/rotation/commands.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { World } from '../support/world.ts';

/** The next run: a minute later (the schedule, a manual run, or Lambda's retry). */
const NEXT_RUN_MS = 60_000;

const TARGETS = [
  { user: 'alice', service: 'cassandra.amazonaws.com' },
  { user: 'bob', service: 'bedrock.amazonaws.com' },
] as const;

type Start = 'bootstrap' | 'rotation due' | 'orphan' | 'retire due';
const RECONCILE: Command = { action: 'reconcile', dryRun: false };

async function setUp(start: Start): Promise<{ a: World; b: World; arns: string[] }> {
  const emulator = new AwsEmulator({ iamPageSize: 1 });
  const a = new World({ sharedEmulator: emulator, retryDelayMs: 0 });
  const b = new World({ sharedEmulator: emulator, retryDelayMs: 0 });
  const arns = TARGETS.map((t) => a.addTarget(t.user, t.service));
  if (start !== 'bootstrap') {
    await a.run();
    a.advanceDays(1);
  }
  if (start === 'rotation due') a.advanceDays(30);
  if (start === 'orphan') {
    // What an interrupted rotation leaves: its intent, marked ended, and Active credentials
    // nothing records (every store failed).
    a.advanceDays(30);
    emulator.faults.add({
      operation: 'PutSecretValue',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
      match: (p) => p.VersionStages === undefined,
    });
    await a.run();
    emulator.faults.clear();
    emulator.clock.advance(NEXT_RUN_MS);
  }
  if (start === 'retire due') {
    a.advanceDays(30);
    await a.run();
    a.advanceDays(7);
  }
  return { a, b, arns };
}

async function settle(p: Promise<RunReport>): Promise<string> {
  try {
    const r = await p;
    return r.targets.map((t) => `${t.userName}:${t.outcome}`).join(',');
  } catch (error) {
    return `threw ${(error as Error).name}`;
  }
}

interface Interleaving {
  readonly start: Start;
  readonly latencyMs: number;
  /** Real-time delay before the second run starts. */
  readonly staggerMs: number;
  readonly second: 'scheduled' | 'manual rotate' | 'forced rotate';
}

const INTERLEAVINGS: Interleaving[] = [];
for (const start of ['bootstrap', 'rotation due', 'orphan', 'retire due'] as const) {
  for (const [latencyMs, staggerMs] of [
    [0, 0],
    [2, 0],
    [3, 4],
    [2, 9],
  ] as const) {
    for (const second of ['scheduled', 'manual rotate', 'forced rotate'] as const) {
      INTERLEAVINGS.push({ start, latencyMs, staggerMs, second });
    }
  }
}

const results: string[] = [];

describe('overlapping runs', () => {
  it.each(INTERLEAVINGS)(
    'never exceeds two credentials or locks out: $start, latency $latencyMs ms, second run ($second) $staggerMs ms later',
    async ({ start, latencyMs, staggerMs, second }) => {
      const { a, b, arns } = await setUp(start);
      const emulator = a.emulator;
      emulator.faults.latencyMs = latencyMs;
      const secondCommand: Command =
        second === 'scheduled'
          ? RECONCILE
          : {
              action: 'rotate',
              target: { secretId: arns[0] as string },
              force: second === 'forced rotate',
              dryRun: false,
            };
      // The second run is the manual or forced one: World's I3 guard allows early deletes
      // only while a forced rotate runs, and only b runs it.
      const first = settle(a.run(RECONCILE));
      const later = sleep(staggerMs).then(() => settle(b.run(secondCommand)));
      const [ra, rb] = await Promise.all([first, later]);
      emulator.faults.latencyMs = 0;

      // At once: at most two credentials, no I2 violation (I3: see below).
      for (const t of TARGETS) {
        expect(
          emulator.iam.credentials({ userName: t.user, serviceName: t.service }).length,
        ).toBeLessThanOrEqual(2);
      }
      expect(
        a.violations.filter((v) => v.startsWith('I2')),
        'I2 (first run)',
      ).toEqual([]);
      expect(
        b.violations.filter((v) => v.startsWith('I2')),
        'I2 (second run)',
      ).toEqual([]);

      // Never a stale password: whatever AWSCURRENT records holds what IAM last issued for it.
      for (const arn of arns)
        expect(storedIsLatest(a, arn), `${arn}: the stored secret is IAM's latest`).toBe(true);
      // I1 right after both (a bootstrap that lost every race may not have stored anything yet).
      const lockedOut: string[] = [];
      for (const arn of arns) {
        try {
          a.expectNoLockout([arn]);
        } catch {
          lockedOut.push(arn);
        }
      }
      // I4: one more run, a minute later, completes whatever is left...
      emulator.clock.advance(NEXT_RUN_MS);
      const third = await settle(a.run(RECONCILE));
      a.expectNoLockout();
      a.expectNoStrayCredentials();
      // ...and then the target is settled (I6).
      await a.expectIdempotent();
      a.expectNoLeaks();
      b.expectNoLeaks();
      results.push(
        `${start} | ${latencyMs} | ${staggerMs} | ${second} | ${ra} | ${rb} | ${lockedOut.length > 0 ? `locked out until next run: ${lockedOut.length}` : 'no'} | ${third}`,
      );
    },
  );
});

describe('overlapping adoption of the same orphan', () => {
  // Two runs adopting the same orphan would both Reset it; if the first to Reset stored last,
  // the secret would hold a password IAM no longer accepts. Both runs saw the same versions, so
  // their intents carry the same ClientRequestToken: only the first is written, and the other
  // run leaves the adoption to it. The first run's store is slowed so that, without that
  // claim, its reset would be the older one and its store the last.
  it('resets the orphan once and leaves no stale password, even when the first run stores last', async () => {
    const { a, b, arns } = await setUp('orphan');
    const slowStore = a.secrets.storeCurrent.bind(a.secrets);
    a.secrets.storeCurrent = async (secretId, value) => {
      await sleep(40);
      return slowStore(secretId, value);
    };
    const since = a.emulator.calls.length;
    // Both observe before either writes its intent (every call held 3 ms).
    a.emulator.faults.latencyMs = 3;
    const [firstOutcome, second] = await Promise.all([settle(a.run(RECONCILE)), settle(b.run(RECONCILE))]);
    a.emulator.faults.latencyMs = 0;
    results.push(`adoption race | 3 | 0 | scheduled | ${firstOutcome} | ${second}`);
    const resets = a.emulator.calls
      .slice(since)
      .filter((c) => c.operation === 'ResetServiceSpecificCredential');
    expect(resets.map((c) => c.params.ServiceSpecificCredentialId)).toHaveLength(
      new Set(resets.map((c) => c.params.ServiceSpecificCredentialId)).size,
    );
    for (const arn of arns) expect(storedIsLatest(a, arn)).toBe(true);
    a.expectNoLockout();
    a.emulator.clock.advance(NEXT_RUN_MS);
    await settle(a.run(RECONCILE));
    a.expectNoLockout();
    a.expectNoStrayCredentials();
    await a.expectIdempotent();
  });

  it('lets only one of two runs that saw the same state write its intent', async () => {
    const { a, b, arns } = await setUp('rotation due');
    // Both runs observe before either writes: the emulator holds every call 5 ms.
    a.emulator.faults.latencyMs = 5;
    const [ra, rb] = await Promise.all([a.run(RECONCILE), b.run(RECONCILE)]);
    a.emulator.faults.latencyMs = 0;
    for (const arn of arns) {
      const outcomes = [ra, rb].map((r) => r.targets.find((t) => t.secretId === arn)?.outcome).sort();
      expect(outcomes, `${arn}: one rotates, the other leaves it to it`).toEqual(['rotated', 'unchanged']);
      const left = [ra, rb].flatMap((r) =>
        r.targets.filter((t) => t.secretId === arn && t.outcome === 'unchanged'),
      );
      expect(left[0]?.reason).toMatch(/another run is doing the same step right now/);
    }
    expect(a.emulator.callsOf('CreateServiceSpecificCredential')).toHaveLength(2 * arns.length);
    await a.expectInvariants();
  });
});

/** Whether AWSCURRENT (if it records a credential that exists) holds the secret IAM last issued for it. */
function storedIsLatest(w: World, arn: string): boolean {
  const value = w.emulator.secrets.valueAt(arn);
  let record: Record<string, unknown> | undefined;
  try {
    record = JSON.parse(value ?? '');
  } catch {
    return true; // a placeholder stores no password
  }
  const cred = w.emulator.iam.credential(String(record?.credentialId));
  if (!cred) return true;
  return (record?.password ?? record?.apiKey) === cred.secret;
}

// A report, not a test: the measured interleavings, for docs/RELIABILITY.md.
afterAll(() => {
  console.log(`overlap results:\n${results.join('\n')}`);
});
