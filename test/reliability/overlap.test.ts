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
import { IN_FLIGHT_WINDOW_MS } from '../../lambda/rotation/plan.ts';
import { World } from '../support/world.ts';

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
    // What an interrupted run leaves: Active credentials nothing records, past the window.
    for (const t of TARGETS) emulator.iam.issueCredential(t.user, t.service);
    emulator.clock.advance(IN_FLIGHT_WINDOW_MS);
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

      // I1 right after both, unless the only credential in question is still in flight.
      const lockedOut: string[] = [];
      for (const arn of arns) {
        try {
          a.expectNoLockout([arn]);
        } catch {
          lockedOut.push(arn);
        }
      }
      // I4: one more run (after the in-flight window) completes whatever is left...
      emulator.clock.advance(IN_FLIGHT_WINDOW_MS);
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
  // KNOWN LIMITATION (docs/RELIABILITY.md): two runs adopting the same orphan both Reset it;
  // if the run whose Reset came first stores last, AWSCURRENT holds a password IAM no longer
  // accepts, and no later run can tell (List shows no password change). Re-reading the secret
  // around the store only narrows the window; closing it needs either an exclusive claim before
  // the Reset or the next run observing AWSPREVIOUS (two consecutive versions recording the
  // same credential = re-adopt). Reserved concurrency 1 is what prevents it in production.
  // `it.fails`: this test starts failing (and must be flipped) once the engine closes the race.
  it('repairs a stale password left when the first run stores after the second reset', async () => {
    const { a, b, arns } = await setUp('orphan');
    const arn = arns[0] as string;
    // Per-call delay: the first run's store waits until the second run has reset and stored.
    const slowStore = a.secrets.storeCurrent.bind(a.secrets);
    a.secrets.storeCurrent = async (secretId, value) => {
      await sleep(40);
      return slowStore(secretId, value);
    };
    const first = settle(a.run(RECONCILE));
    await sleep(10);
    const second = await settle(b.run(RECONCILE));
    const firstOutcome = await first;
    results.push(`adoption race | - | 10 | scheduled | ${firstOutcome} | ${second}`);
    a.emulator.clock.advance(IN_FLIGHT_WINDOW_MS);
    await settle(a.run(RECONCILE));
    a.expectNoLockout([arn]);
    await a.expectIdempotent();
  });
});

// A report, not a test: the measured interleavings, for docs/RELIABILITY.md.
afterAll(() => {
  console.log(`overlap results:\n${results.join('\n')}`);
});
