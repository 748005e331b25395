// The run-time figures of issue 17, each measured through the real handler and the real SDK
// over HTTP against the emulator, in the configuration the construct deploys by default
// (harness.ts): rotation schedules on every secret, the reserved concurrency, verification
// against the service edges, the function's timeout as the context's time. They measure
// whatever the executor does on that path: a rotation is counted from the secrets (AWSCURRENT
// names a new credential), whoever made it, the run itself or Secrets Manager's steps.
// Cold start lives in coldstart.ts.
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { CallRecord } from '../emulator/index.ts';
import { createClients } from '../lambda/aws/clients.ts';
import { BenchWorld, countByOperation, DAY_MS, HANDSHAKE_LATENCY, median } from './harness.ts';
import { checkInvariants, type InvariantResult } from './invariants.ts';

/** What EventBridge's schedule sends (the construct's daily rule). */
export const SCHEDULED = {
  version: '0',
  id: 'bench',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/credential-rotator-daily'],
  detail: {},
};

/** How a figure's rotations are started: the row says which. */
export type RotationPath =
  | 'scheduled run (EventBridge)'
  | 'manual: rotate command'
  | 'manual: console "Rotate secret immediately"';

/** What Secrets Manager's steps did during a figure: started, succeeded, throttled. */
export interface StepSummary {
  readonly rotationsStarted: number;
  readonly succeeded: number;
  /** Rotations whose step Lambda throttled (never retried here). */
  readonly throttled: number;
  readonly stepInvocations: number;
}

function stepSummary(world: BenchWorld, since: number): StepSummary {
  const records = world.emulator.rotations.history.slice(since);
  return {
    rotationsStarted: records.length,
    succeeded: records.filter((r) => r.status === 'succeeded').length,
    throttled: records.filter((r) => r.throttled).length,
    stepInvocations: records.reduce(
      (n, r) => n + r.steps.filter((s) => s.outcome !== 'TooManyRequestsException').length,
      0,
    ),
  };
}

// ---- 1. critical path ------------------------------------------------------------------

export interface CriticalPathCase {
  readonly path: RotationPath;
  /** Quiet targets beside the due one (a scheduled run goes on with them after it). */
  readonly quietNeighbours: number;
  /** Per repetition: ms from the invocation (or RotateSecret) until the new credential is current. */
  readonly wallMs: number[];
  readonly medianMs: number;
  /** medianMs in L (the emulator's fixed latency per AWS call). */
  readonly medianL: number;
  /** Round trips on the critical path, as the emulator saw them (calls grouped by overlap). */
  readonly roundTrips: string[];
  /**
   * Scheduled: how many daily runs it took until the target was rotated (1 = the first); between
   * two runs Secrets Manager's own schedule runs too (it may be the one that rotates).
   */
  readonly runsUntilRotated: number;
  /** Whether it was rotated at all within the runs tried. */
  readonly rotated: boolean;
  /** What the run or Secrets Manager reported, when it did not rotate at once. */
  readonly note?: string | undefined;
  readonly steps: StepSummary;
}

export interface CriticalPathFigure {
  readonly latencyMs: number;
  readonly handshakeMs: { minMs: number; maxMs: number };
  readonly maxRuns: number;
  readonly cases: CriticalPathCase[];
}

/** Quiet targets beside the due one in the second scheduled case. */
const QUIET_NEIGHBOURS = 9;

/** Scheduled runs tried, one a day, before a due target counts as not rotated. */
const MAX_SCHEDULED_RUNS = 3;

export async function criticalPath(latencyMs = 50, reps = 3): Promise<CriticalPathFigure> {
  // A scheduled run with the due target alone ends right after it; with quiet neighbours
  // after it (the usual day: few targets due among many) the run goes on while it holds the slot.
  const paths: [RotationPath, number][] = [
    ['scheduled run (EventBridge)', 0],
    ['scheduled run (EventBridge)', QUIET_NEIGHBOURS],
    ['manual: rotate command', 0],
    ['manual: console "Rotate secret immediately"', 0],
  ];
  const cases: CriticalPathCase[] = [];
  for (const [path, quietNeighbours] of paths) {
    const wall: number[] = [];
    let trips: string[] = [];
    let runs = 0;
    let rotated = true;
    let note: string | undefined;
    let steps: StepSummary = { rotationsStarted: 0, succeeded: 0, throttled: 0, stepInvocations: 0 };
    for (let rep = 0; rep < reps; rep++) {
      const world = await new BenchWorld({ emulator: { latencyMs } }).start();
      try {
        // One Keyspaces target: its probe is the CQL sign-in (the slower of the two).
        const [arn] = await world.seed({ count: 1, ageDays: 31, services: ['cassandra.amazonaws.com'] });
        // Named after it: listed, and so processed, after the due target.
        await world.seed({ count: quietNeighbours, ageDays: 1, prefix: 'quiet-' });
        await world.invoke({ action: 'status' }); // warm: the SDK's first call costs
        const before = world.currentCredentials();
        const historyFrom = world.emulator.rotations.history.length;
        const one = await rotateOnce(world, path, String(arn), before);
        wall.push(one.wallMs);
        trips = roundTrips(one.calls, latencyMs);
        runs = one.runs;
        rotated &&= one.rotated;
        note = one.note ?? note;
        steps = stepSummary(world, historyFrom);
      } finally {
        await world.stop();
      }
    }
    cases.push({
      path,
      quietNeighbours,
      wallMs: wall.map((w) => Math.round(w)),
      medianMs: Math.round(median(wall)),
      medianL: round2(median(wall) / latencyMs),
      roundTrips: trips,
      runsUntilRotated: runs,
      rotated,
      note,
      steps,
    });
  }
  return { latencyMs, handshakeMs: { ...HANDSHAKE_LATENCY }, maxRuns: MAX_SCHEDULED_RUNS, cases };
}

interface OneRotation {
  readonly wallMs: number;
  readonly calls: readonly CallRecord[];
  readonly runs: number;
  readonly rotated: boolean;
  readonly note?: string | undefined;
}

async function rotateOnce(
  world: BenchWorld,
  path: RotationPath,
  arn: string,
  before: ReadonlyMap<string, string | undefined>,
): Promise<OneRotation> {
  if (path === 'manual: console "Rotate secret immediately"') {
    // What the console sends: RotateSecret on the secret, nothing else; Secrets Manager then
    // invokes the function for the four steps.
    const { secrets } = createClients();
    const since = world.emulator.calls.length;
    const started = performance.now();
    await secrets.send(new RotateSecretCommand({ SecretId: arn }));
    await world.emulator.rotations.settled();
    const wallMs = performance.now() - started;
    const rotated = world.rotatedSince(before).length === 1;
    const last = world.emulator.rotations.history.at(-1);
    return {
      wallMs,
      calls: world.emulator.calls.slice(since),
      runs: 1,
      rotated,
      note: rotated ? undefined : `Secrets Manager's rotation ${last?.status ?? 'did not start'}`,
    };
  }
  const event = path === 'manual: rotate command' ? { action: 'rotate', secretId: arn } : SCHEDULED;
  const tries = path === 'manual: rotate command' ? 1 : MAX_SCHEDULED_RUNS;
  let note: string | undefined;
  for (let run = 1; run <= tries; run++) {
    const started = performance.now();
    const inv = await world.invoke(event);
    // Until the new credential is current: the run, and the steps it had Secrets Manager run.
    const wallMs = performance.now() - started;
    if (world.rotatedSince(before).length === 1)
      return { wallMs, calls: inv.calls, runs: run, rotated: true, note };
    const target = inv.report?.targets[0];
    const said = `run ${run}: ${target?.outcome ?? 'no report'}${target?.via === 'secrets-manager' ? ' (left to Secrets Manager)' : ''}: ${target?.reason ?? describe(inv.error)}`;
    note = note ? `${note}; ${said}` : said;
    if (run === tries) return { wallMs, calls: inv.calls, runs: run, rotated: false, note };
    // The next day: Secrets Manager's own schedule (AutomaticallyAfterDays) may come first, at an
    // hour when the function is idle, then the function's scheduled run.
    world.emulator.clock.advance(DAY_MS);
    const since = world.emulator.rotations.history.length;
    await world.emulator.runScheduledRotations();
    const scheduled = world.emulator.rotations.history.slice(since);
    if (world.rotatedSince(before).length === 1) {
      note = `${note}; then Secrets Manager's own schedule rotated it (${scheduled.length} rotation started)`;
      return { wallMs, calls: inv.calls, runs: run, rotated: true, note };
    }
    if (scheduled.length === 0) note = `${note}; Secrets Manager's schedule started nothing the next day`;
  }
  throw new Error('unreachable');
}

/** Groups calls whose latency windows overlap: one group = one round trip. */
function roundTrips(calls: readonly CallRecord[], latencyMs: number): string[] {
  const groups: { end: number; ops: string[] }[] = [];
  for (const c of calls) {
    const end = c.at.getTime();
    const last = groups.at(-1);
    if (last && end - last.end < latencyMs / 2) last.ops.push(c.operation);
    else groups.push({ end, ops: [c.operation] });
  }
  return groups.map((g) => g.ops.join(' + '));
}

// ---- 2. quiet run ------------------------------------------------------------------------

export interface CallCount {
  readonly calls: number;
  readonly perTarget: number;
  readonly byOperation: Record<string, number>;
  readonly wallMs: number;
}

export interface QuietRunFigure {
  readonly path: RotationPath;
  readonly targets: number;
  readonly latencyMs: number;
  /** As deployed: batched secret reads, IAM listed per target. */
  readonly deployedDefault: CallCount;
  /** With the opt-in AllUsers IAM listing (bulkCredentialListing), not deployed by default. */
  readonly bulkListing: CallCount;
  readonly invariants: InvariantResult;
  readonly goal: number;
}

export async function quietRun(targets = 1000, latencyMs = 10): Promise<QuietRunFigure> {
  const measure = async (bulk: boolean) => {
    const world = await new BenchWorld({
      emulator: { latencyMs },
      ...(bulk ? { bulkCredentialListing: true } : {}),
    }).start();
    try {
      await world.seed({ count: targets, ageDays: 1 });
      const run = await world.invoke(SCHEDULED);
      if (run.error) throw run.error;
      const changed = run.report?.targets.filter((t) => t.outcome !== 'unchanged').length;
      if (changed !== 0) throw new Error(`quiet run: ${changed} targets changed`);
      const result: CallCount = {
        calls: run.calls.length,
        perTarget: round3(run.calls.length / targets),
        byOperation: countByOperation(run.calls),
        wallMs: Math.round(run.wallMs),
      };
      return { result, invariants: bulk ? undefined : await checkInvariants(world) };
    } finally {
      await world.stop();
    }
  };
  const deployed = await measure(false);
  const bulk = await measure(true);
  return {
    path: 'scheduled run (EventBridge)',
    targets,
    latencyMs,
    deployedDefault: deployed.result,
    bulkListing: bulk.result,
    invariants: deployed.invariants as InvariantResult,
    goal: 1.1,
  };
}

// ---- 3 and 4. fleet throughput and rotations per run ----------------------------------------

export interface FleetFigure {
  readonly path: RotationPath;
  readonly targets: number;
  readonly latencyMs: number;
  readonly limits: { iamCallsPerSecond: number; secretsWritesPerSecond: number };
  /** The Lambda context's time: the deployed timeout. */
  readonly contextSeconds: number;
  readonly rotated: number;
  readonly failed: number;
  readonly deferred: number;
  readonly steps: StepSummary;
  /** The handler's run, from invocation to return. */
  readonly wallMs: number;
  /** ms left on the context when the handler returned. */
  readonly msBeforeTimeout: number;
  readonly rotationsPerSecond: number;
  /** IAM calls answered OK during the run, per rotated target (throttled attempts not counted). */
  readonly iamCallsPerRotation: number;
  /** What a rotation needs of IAM as deployed: IAM_CALLS_NEEDED. */
  readonly iamCallsNeeded: number;
  /** The IAM limit over iamCallsNeeded: the most the limit allows. */
  readonly maxRotationsPerSecond: number;
  /** rotationsPerSecond / maxRotationsPerSecond: goal ≥ 0.85. */
  readonly fraction: number;
  readonly throughputGoal: number;
  /**
   * How the run ended: `deferred`, it ran out of time (rotated is its capacity); `exhausted`,
   * it rotated the whole fleet (capacity not measured); `unrotated`, it reached every target
   * with time left and still left some unrotated (a longer run would rotate no more).
   */
  readonly runEnd: 'deferred' | 'exhausted' | 'unrotated';
  readonly rotationsPerRun: {
    /** Rotated in the run whose context had the deployed timeout (300 s). */
    readonly measured: number;
    /** Goal: 0.9 × ((contextSeconds − 30) × limit / iamCallsNeeded); 270 s at 300 s. */
    readonly goal: number;
    /** The same with the measured IAM calls per rotation in place of iamCallsNeeded. */
    readonly goalWithMeasuredCalls: number;
    /**
     * At 900 s, not run: after `deferred`, the measured run plus (900 − contextSeconds) s more at
     * its rate; after `unrotated`, the same count; after `exhausted`, unknown (NaN).
     */
    readonly at900sExtrapolated: number;
  };
  readonly throttled: Record<string, number>;
  readonly byOperation: Record<string, number>;
  readonly invariants: InvariantResult;
}

/**
 * Seconds of a run's time the rotation-per-run goal counts: issue 17 writes it 270 × 20 / IAM
 * calls per rotation at 300 s, i.e. the timeout less 30 s for the writes of targets in flight.
 */
const GOAL_WRITES_RESERVE_S = 30;

/**
 * The IAM calls a rotation needs as deployed (bulk credential listing off): the target's
 * ListServiceSpecificCredentials, the Create, and the Update that deactivates the replaced
 * credential. The limit's maximum is counted with this, not with the measured calls per
 * rotation, so that calls spent without rotating (a run that rotates little) lower the figure.
 */
export const IAM_CALLS_NEEDED = 3;

export async function fleet(
  targets = 2000,
  limits = { iamCallsPerSecond: 20, secretsWritesPerSecond: 50 },
  latencyMs = 20,
): Promise<FleetFigure> {
  const world = await new BenchWorld({ emulator: { latencyMs, rateLimits: limits } }).start();
  try {
    await world.seed({ count: targets, ageDays: 31 });
    const before = world.currentCredentials();
    const historyFrom = world.emulator.rotations.history.length;
    const contextSeconds = world.deployed.timeoutSeconds;
    const run = await world.invoke(SCHEDULED, contextSeconds * 1000);
    const report = run.report;
    const rotated = world.rotatedSince(before).length;
    const failed = report ? report.targets.filter((t) => t.outcome === 'failed').length : targets;
    const deferred = report?.deferred?.length ?? 0;
    const iamOk = run.calls.filter((c) => c.service === 'iam' && c.outcome === 'OK').length;
    const iamCallsPerRotation = rotated > 0 ? iamOk / rotated : Number.NaN;
    const rate = rotated / (run.wallMs / 1000);
    const maxRate = limits.iamCallsPerSecond / IAM_CALLS_NEEDED;
    const throttled = countByOperation(run.calls.filter((c) => c.outcome.startsWith('Throttling')));
    const seconds = contextSeconds - GOAL_WRITES_RESERVE_S;
    const runEnd = deferred > 0 ? 'deferred' : rotated >= targets ? 'exhausted' : 'unrotated';
    const goal = (0.9 * seconds * limits.iamCallsPerSecond) / IAM_CALLS_NEEDED;
    // The invariants at rest; a second run is not "nothing to do" when targets were deferred,
    // and it would list every target under the limits: they are lifted for it.
    world.emulator.faults.setRateLimits({});
    const invariants = await checkInvariants(world, { secondRun: deferred === 0 && rotated > 0 });
    return {
      path: 'scheduled run (EventBridge)',
      targets,
      latencyMs,
      limits,
      contextSeconds,
      rotated,
      failed: failed + (run.error && !report ? 1 : 0),
      deferred,
      steps: stepSummary(world, historyFrom),
      wallMs: Math.round(run.wallMs),
      msBeforeTimeout: Math.round(run.msBeforeTimeout ?? Number.NaN),
      rotationsPerSecond: round2(rate),
      iamCallsPerRotation: round3(iamCallsPerRotation),
      iamCallsNeeded: IAM_CALLS_NEEDED,
      maxRotationsPerSecond: round2(maxRate),
      fraction: round3(rate / maxRate),
      throughputGoal: 0.85,
      runEnd,
      rotationsPerRun: {
        measured: rotated,
        goal: Math.round(goal),
        goalWithMeasuredCalls: Math.round((0.9 * seconds * limits.iamCallsPerSecond) / iamCallsPerRotation),
        at900sExtrapolated:
          runEnd === 'deferred'
            ? Math.round(rotated + rate * (900 - contextSeconds))
            : runEnd === 'unrotated'
              ? rotated
              : Number.NaN,
      },
      throttled,
      byOperation: countByOperation(run.calls),
      invariants,
    };
  } finally {
    await world.stop();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : 'no reason';
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
