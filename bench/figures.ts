// The four run-time figures of issue #6, each measured through the real handler and the real
// SDK over HTTP against the emulator. Cold start (figure 5) lives in coldstart.ts.
import type { CallRecord } from '../emulator/index.ts';
import type { CredentialsPort, SecretRotationPort, SecretsPort } from '../lambda/aws/ports.ts';
import { BenchWorld, countByOperation, KEYSPACES, median } from './harness.ts';
import { checkInvariants, type InvariantResult } from './invariants.ts';

const SCHEDULED = {
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

// ---- 1. critical path ------------------------------------------------------------------

export interface CriticalPathCase {
  readonly command: string;
  readonly wallMs: number[];
  readonly medianL: number;
  /** Round trips on the critical path, as the emulator saw them (calls grouped by overlap). */
  readonly roundTrips: string[];
  /** The rotation proper (first observation call to the last retire call), in L, median. */
  readonly rotationL: number;
}

export interface CriticalPathFigure {
  readonly latencyMs: number;
  readonly cases: CriticalPathCase[];
  readonly goalL: number;
}

export async function criticalPath(latencyMs = 50, reps = 3): Promise<CriticalPathFigure> {
  const commands: Record<string, (arn: string) => unknown> = {
    'scheduled reconcile (1 due target)': () => SCHEDULED,
    'rotate by secretId': (arn) => ({ action: 'rotate', secretId: arn }),
    'rotate by userName + serviceName': () => ({
      action: 'rotate',
      userName: 'user-00000',
      serviceName: KEYSPACES,
    }),
  };
  const cases: CriticalPathCase[] = [];
  for (const [name, event] of Object.entries(commands)) {
    const wall: number[] = [];
    let trips: string[] = [];
    const rotation: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const world = await new BenchWorld({ emulator: { latencyMs } }).start();
      try {
        const [arn] = world.seed({ count: 1, ageDays: 31 });
        await world.invoke({ action: 'status' }); // warm: TLS-free, but the SDK's first call costs
        const run = await world.invoke(event(String(arn)));
        if (run.error) throw run.error;
        const outcome = run.report?.targets[0]?.outcome;
        if (outcome !== 'rotated') throw new Error(`${name}: expected a rotation, got ${outcome}`);
        wall.push(run.wallMs);
        trips = roundTrips(run.calls, latencyMs);
        rotation.push(rotationSpan(run.calls, latencyMs));
      } finally {
        await world.stop();
      }
    }
    cases.push({
      command: name,
      wallMs: wall.map((w) => Math.round(w)),
      medianL: round2(median(wall) / latencyMs),
      roundTrips: trips,
      rotationL: round2(median(rotation)),
    });
  }
  return { latencyMs, cases, goalL: 4.5 };
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

/** From the start of the first observation call to the end of the last call, in L. */
function rotationSpan(calls: readonly CallRecord[], latencyMs: number): number {
  const observe = calls.find(
    (c) => c.operation === 'ListServiceSpecificCredentials' || c.operation === 'GetSecretValue',
  );
  const last = calls.at(-1);
  if (!observe || !last) return Number.NaN;
  return (last.at.getTime() - observe.at.getTime() + latencyMs) / latencyMs;
}

// ---- 2. steady state -------------------------------------------------------------------

export interface CallCount {
  readonly calls: number;
  readonly perTarget: number;
  readonly byOperation: Record<string, number>;
  readonly wallMs: number;
}

export interface SteadyStateFigure {
  readonly targets: number;
  readonly latencyMs: number;
  /** As deployed by default: batched secret reads, IAM listed per target. */
  readonly deployedDefault: CallCount;
  /** With the opt-in AllUsers IAM listing (bulkCredentialListing). */
  readonly bulkListing: CallCount;
  /** No bulk reads at all (the ports without their optional methods): the "before". */
  readonly perTargetFallback: CallCount;
  readonly invariants: InvariantResult;
  readonly goal: number;
  readonly stretch: number;
}

/**
 * No bulk reads: the AllUsers listing stays off (bulkCredentialListing false) and the batch
 * read answers nothing without a call, so the executor observes target by target.
 */
function withoutBulk(ports: { credentials: CredentialsPort; secrets: SecretsPort & SecretRotationPort }) {
  const { credentials, secrets } = ports;
  return {
    credentials,
    secrets: new Proxy(secrets, {
      get: (target, key, receiver) =>
        key === 'readCurrentMany' ? async () => new Map<string, never>() : Reflect.get(target, key, receiver),
    }),
  };
}

export async function steadyState(targets = 1000, latencyMs = 10): Promise<SteadyStateFigure> {
  const measure = async (mode: 'default' | 'bulk' | 'fallback', check: boolean) => {
    const world = await new BenchWorld({
      emulator: { latencyMs, iamPageSize: 1000 },
      bulkCredentialListing: mode === 'bulk',
      ...(mode === 'fallback' ? { wrapPorts: withoutBulk } : {}),
    }).start();
    try {
      world.seed({ count: targets, ageDays: 1 });
      const run = await world.invoke(SCHEDULED);
      if (run.error) throw run.error;
      const changed = run.report?.targets.filter((t) => t.outcome !== 'unchanged').length;
      if (changed !== 0) throw new Error(`steady state: ${changed} targets changed`);
      const result: CallCount = {
        calls: run.calls.length,
        perTarget: round3(run.calls.length / targets),
        byOperation: countByOperation(run.calls),
        wallMs: Math.round(run.wallMs),
      };
      return { result, invariants: check ? await checkInvariants(world) : undefined };
    } finally {
      await world.stop();
    }
  };
  const deployed = await measure('default', true);
  const bulk = await measure('bulk', false);
  const fallback = await measure('fallback', false);
  return {
    targets,
    latencyMs,
    deployedDefault: deployed.result,
    bulkListing: bulk.result,
    perTargetFallback: fallback.result,
    invariants: deployed.invariants as InvariantResult,
    goal: 1.1,
    stretch: 0.2,
  };
}

// ---- 3. fleet rotation under throttling ---------------------------------------------------

export interface FleetFigure {
  readonly targets: number;
  readonly bulkCredentialListing: boolean;
  readonly latencyMs: number;
  readonly limits: { iamCallsPerSecond: number; secretsWritesPerSecond: number };
  readonly rotated: number;
  readonly failed: number;
  readonly wallMs: number;
  readonly rotationsPerSecond: number;
  readonly iamCallsPerRotation: number;
  readonly maxRotationsPerSecond: number;
  readonly fraction: number;
  readonly throttled: Record<string, number>;
  readonly byOperation: Record<string, number>;
  readonly invariants: InvariantResult;
  readonly goal: number;
}

export async function fleet(
  targets = 2000,
  limits = { iamCallsPerSecond: 20, secretsWritesPerSecond: 50 },
  latencyMs = 20,
  bulkCredentialListing = true,
): Promise<FleetFigure> {
  const world = await new BenchWorld({
    emulator: { latencyMs, iamPageSize: 1000, rateLimits: limits },
    bulkCredentialListing,
  }).start();
  try {
    world.seed({ count: targets, ageDays: 31 });
    const run = await world.invoke(SCHEDULED);
    const report = run.report;
    const rotated = report?.targets.filter((t) => t.outcome === 'rotated').length ?? 0;
    const failed = report ? report.targets.filter((t) => t.outcome === 'failed').length : targets;
    const ok = run.calls.filter((c) => c.outcome === 'OK');
    // What a rotation needs of IAM, by the calls that succeeded (listing amortised over the fleet).
    const iamOk = ok.filter((c) => c.service === 'iam').length;
    const iamCallsPerRotation = rotated > 0 ? iamOk / rotated : Number.NaN;
    // The intent before Create, and the store.
    const writesPerRotation = 2;
    // The limits' max: create + deactivate (+ a per-target List without the AllUsers listing).
    const needed = bulkCredentialListing ? 2 : 3;
    const maxFloor = Math.min(
      limits.iamCallsPerSecond / needed,
      limits.secretsWritesPerSecond / writesPerRotation,
    );
    const rate = rotated / (run.wallMs / 1000);
    const throttled = countByOperation(run.calls.filter((c) => c.outcome.startsWith('Throttling')));
    const invariants = await checkInvariants(world);
    return {
      targets,
      bulkCredentialListing,
      latencyMs,
      limits,
      rotated,
      failed: failed + (run.error && !report ? 1 : 0),
      wallMs: Math.round(run.wallMs),
      rotationsPerSecond: round2(rate),
      iamCallsPerRotation: round3(iamCallsPerRotation),
      maxRotationsPerSecond: round2(maxFloor),
      fraction: round3(rate / maxFloor),
      throttled,
      byOperation: countByOperation(run.calls),
      invariants,
      goal: 0.85,
    };
  } finally {
    await world.stop();
  }
}

// ---- 4. deadline -------------------------------------------------------------------------

export interface DeadlineFigure {
  readonly targets: number;
  readonly remainingMs: number;
  readonly first: {
    rotated: number;
    deferred: number;
    failed: number;
    wallMs: number;
    msBeforeTimeout: number;
  };
  readonly second: { rotated: number; unchanged: number; deferred: number; failed: number; wallMs: number };
  readonly invariants: InvariantResult;
}

export async function deadline(
  targets = 150,
  remainingMs = 38_000,
  limits = { iamCallsPerSecond: 20, secretsWritesPerSecond: 50 },
  latencyMs = 20,
): Promise<DeadlineFigure> {
  const world = await new BenchWorld({
    emulator: { latencyMs, iamPageSize: 1000, rateLimits: limits },
  }).start();
  try {
    world.seed({ count: targets, ageDays: 31 });
    const first = await world.invoke(SCHEDULED, remainingMs);
    const count = (r: typeof first, outcome: string) =>
      r.report?.targets.filter((t) => t.outcome === outcome).length ?? 0;
    const second = await world.invoke(SCHEDULED);
    return {
      targets,
      remainingMs,
      first: {
        rotated: count(first, 'rotated'),
        deferred: first.report?.deferred?.length ?? 0,
        failed: count(first, 'failed'),
        wallMs: Math.round(first.wallMs),
        msBeforeTimeout: Math.round(first.msBeforeTimeout ?? Number.NaN),
      },
      second: {
        rotated: count(second, 'rotated'),
        unchanged: count(second, 'unchanged'),
        deferred: second.report?.deferred?.length ?? 0,
        failed: count(second, 'failed'),
        wallMs: Math.round(second.wallMs),
      },
      invariants: await checkInvariants(world),
    };
  } finally {
    await world.stop();
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
