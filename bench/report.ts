// Renders the bench's results as bench/results.md: the configuration measured, the figures
// against their goals (each row naming the path it measures), the details, and a draft of the
// README's "Scale" section.
import type { ColdStartFigure } from './coldstart.ts';
import type { DeployedConfiguration } from './deployed.ts';
import type { CriticalPathFigure, FleetFigure, QuietRunFigure, StepSummary } from './figures.ts';
import type { InvariantResult } from './invariants.ts';

interface Results {
  machine: { node: string; cpus: number; quick: boolean };
  deployed: DeployedConfiguration;
  criticalPath?: CriticalPathFigure;
  quietRun?: QuietRunFigure;
  fleet?: FleetFigure;
  coldStart?: ColdStartFigure;
  runtimeSeconds: number;
}

const verdict = (met: boolean) => (met ? '**met**' : '**missed**');
const ops = (byOperation: Record<string, number>) =>
  Object.entries(byOperation)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ') || 'none';
const invariants = (r: InvariantResult) =>
  (r.passed
    ? `all pass on ${r.targets} targets (${Object.keys(r.violations).join('; ')})`
    : `**FAILED** on ${r.targets} targets: ${Object.entries(r.violations)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k}: ${n}`)
        .join('; ')} — e.g. ${r.examples.join(' | ')}`) +
  (r.secondRunChecked ? '' : '; I6 (a second run writes nothing) not checked: the run deferred targets');
const steps = (s: StepSummary) =>
  `Secrets Manager started ${s.rotationsStarted} rotation(s): ${s.succeeded} succeeded, ${s.throttled} with a step Lambda throttled (never retried), ${s.stepInvocations} step invocation(s) ran`;
/** Figure 4's count, with what it means for how the run ended. */
const perRun = (f: FleetFigure) =>
  f.runEnd === 'exhausted'
    ? `≥ ${fmt(f.rotationsPerRun.measured)} (the whole fleet)`
    : f.runEnd === 'unrotated'
      ? `${fmt(f.rotationsPerRun.measured)} of ${fmt(f.targets)} due, with time left`
      : fmt(f.rotationsPerRun.measured);
const at900 = (f: FleetFigure) =>
  f.runEnd === 'deferred'
    ? `~${fmt(f.rotationsPerRun.at900sExtrapolated)} extrapolated (the ${f.contextSeconds}-s run + ${900 - f.contextSeconds} s at its rate: the run stops by the time left, so a 900-s run is the ${f.contextSeconds}-s one after ${900 - f.contextSeconds} s more; not run, it would take 15 minutes)`
    : f.runEnd === 'unrotated'
      ? `${fmt(f.rotationsPerRun.at900sExtrapolated)} (the ${f.contextSeconds}-s run reached every target with time left: more time rotates no more)`
      : 'not measured: the fleet ran out';
/** The goal with the measured IAM calls per rotation, when that is a plausible per-rotation cost. */
const withMeasured = (f: FleetFigure) =>
  Number.isFinite(f.iamCallsPerRotation) && f.iamCallsPerRotation <= 2 * f.iamCallsNeeded
    ? `; with the ${f.iamCallsPerRotation} measured: ${fmt(f.rotationsPerRun.goalWithMeasuredCalls)}`
    : '';
const neighbours = (c: { quietNeighbours: number }) =>
  c.quietNeighbours > 0 ? ` (first of ${c.quietNeighbours + 1} targets)` : '';
const fmt = (n: number) => n.toLocaleString('en');
const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;

export function renderMarkdown(raw: Record<string, unknown>): string {
  const r = raw as unknown as Results;
  const d = r.deployed;
  const out: string[] = [];
  out.push('# Bench results: the deployed configuration (issue 17)', '');
  out.push(
    '`npm run bench:record` — the real handler (`createHandler`) through the real SDK clients ' +
      '(`createClients`: adaptive retries) over HTTP to the local emulator on 127.0.0.1, with the ' +
      'verifier the Lambda entry point builds (`createVerifier` over `ServiceProbes`) aimed at the ' +
      "emulator's service edges. " +
      `Node ${r.machine.node}, ${r.machine.cpus} cores (shared with other work while measured: ` +
      `timings carry that noise). Whole bench: ${r.runtimeSeconds} s.` +
      (r.machine.quick ? ' **QUICK RUN (`npm run bench`): small fleets, not the reported figures.**' : ''),
    '',
    '**Configuration measured: what the construct deploys when nothing is set**, read from a synthesized ' +
      'stack (bench/deployed.ts), not copied:',
    '',
    `- function timeout ${d.timeoutSeconds} s: the Lambda context's time of every invocation (scheduled run, manual command, rotation step);`,
    `- reserved concurrency ${d.reservedConcurrency ?? 'none'}: every invocation holds a slot while it runs; a rotation step ` +
      "Secrets Manager invokes while the slots are taken is throttled, and the emulator's Secrets Manager never retries it " +
      "(AWS documents nothing either way: the unfavourable reading, emulator option `throttledStepRetry: 'none'`);",
    `- a rotation schedule on every secret naming the function (AutomaticallyAfterDays ${d.rotationRuleDays}, ` +
      `RotateImmediatelyOnUpdate ${d.rotateImmediatelyOnUpdate}): Secrets Manager invokes the handler for createSecret, ` +
      'setSecret, testSecret and finishSecret, one step at a time, as AWS documents;',
    `- verification \`${d.verification}\` (no VERIFICATION variable in the template: the function's default, ` +
      '`DEFAULT_VERIFICATION_MODE`) against the service edges: Keyspaces by a CQL sign-in over TLS, Bedrock by an HTTPS ' +
      'request with the bearer key; every connection to an edge waits 50–200 ms (uniform) before its first answer, as a ' +
      "real endpoint's TLS and session set-up does; IAM propagation delay 0 (each probe's first attempt passes);",
    `- declared targets (the construct ships a declaration), policy ${d.policy.rotateAfterDays}/${d.policy.overlapDays}/${d.policy.gracePeriodDays} ` +
      `(rotate after / overlap / grace days), bulk credential listing ${d.bulkCredentialListing ? 'on' : 'off'};`,
    '- targets alternate Keyspaces and Bedrock (the critical path: one Keyspaces target). The executor runs as it is on this branch.',
    '',
  );

  out.push('| # | figure | path measured | result | goal | |', '|---|---|---|---|---|---|');
  const cp = r.criticalPath;
  if (cp) {
    for (const c of cp.cases) {
      const result = c.rotated
        ? `${fmt(c.medianMs)} ms = ${c.medianL} L, ${c.roundTrips.length} AWS round trips${c.runsUntilRotated > 1 ? `, rotated by run ${c.runsUntilRotated}` : ''}`
        : `**not rotated** in ${c.runsUntilRotated} run(s) (section 1 says what happened)`;
      out.push(
        `| 1 | critical path of one rotation (L = ${cp.latencyMs} ms per AWS call) | ${c.path}${neighbours(c)} | ${result} | report | |`,
      );
    }
  }
  const q = r.quietRun;
  if (q) {
    out.push(
      `| 2 | AWS calls per target, quiet run, ${fmt(q.targets)} targets | ${q.path} | ${q.deployedDefault.perTarget} (opt-in bulk listing: ${q.bulkListing.perTarget}) | ≤ ${q.goal} | ${verdict(q.deployedDefault.perTarget <= q.goal)} |`,
    );
  }
  const f = r.fleet;
  if (f) {
    const met = f.fraction >= f.throughputGoal && f.failed === 0;
    out.push(
      `| 3 | fleet throughput, ${fmt(f.targets)} due targets, ${f.limits.iamCallsPerSecond} IAM calls/s, verification on | ${f.path} | ${f.rotationsPerSecond} rotations/s of max ${f.maxRotationsPerSecond} (= ${f.limits.iamCallsPerSecond} / ${f.iamCallsNeeded} IAM calls a rotation needs) = **${f.fraction}**, ${f.failed} failed | ≥ ${f.throughputGoal}, 0 failed | ${verdict(met)} |`,
    );
    const rp = f.rotationsPerRun;
    out.push(
      `| 4 | rotations per run, ${f.contextSeconds} s context | ${f.path} | **${perRun(f)}**, ${fmt(f.deferred)} deferred; IAM calls per rotation measured: ${f.iamCallsPerRotation} | ≥ ${fmt(rp.goal)} = 0.9 × ${f.contextSeconds - 30} × ${f.limits.iamCallsPerSecond} / ${f.iamCallsNeeded}${withMeasured(f)} | ${f.runEnd === 'exhausted' ? 'not measured: the fleet ran out' : verdict(rp.measured >= rp.goal)} |`,
      `| 4 | rotations per run, 900 s context | ${f.path} | ${at900(f)} | report | |`,
    );
  }
  const cs = r.coldStart;
  if (cs) {
    out.push(
      `| 5 | cold start: module init, deployed bundle / SDK-clients-only bundle | every invocation's first in a container | ${cs.handler.medianMs} / ${cs.baseline.medianMs} ms = **${cs.ratio}** (CPU ${cs.cpuRatio}); ${kb(cs.handler.bytes)} / ${kb(cs.baseline.bytes)} | ≤ ${cs.goal} | ${verdict(cs.ratio <= cs.goal)} |`,
    );
  }
  out.push('');

  if (cp) {
    out.push('## 1. Critical path', '');
    out.push(
      `Fixed latency L = ${cp.latencyMs} ms per AWS call on the emulator, ${cp.cases[0]?.wallMs.length ?? 0} repetitions each (median), ` +
        "each on a fresh emulator with one Keyspaces target whose credential is 31 days old (due for the rotator, not yet for Secrets Manager's schedule), " +
        "the handler warmed by a `status` call first. Wall time runs from the invocation (or the console's RotateSecret) until the " +
        'new credential is current, the rotation steps Secrets Manager ran meanwhile included; it contains one verification probe ' +
        `(a connection of ${cp.handshakeMs.minMs}–${cp.handshakeMs.maxMs} ms). Round trips are read from the emulator's call log (calls whose latency ` +
        `windows overlap form one). A scheduled run that leaves the target unrotated is followed by Secrets Manager's own schedule for the next day (run while the function is idle: steps are not throttled) and then the next day's run, up to ${cp.maxRuns} runs.`,
      '',
      '| path | wall (ms) | median | runs | round trips | Secrets Manager |',
      '|---|---|---|---|---|---|',
    );
    for (const c of cp.cases) {
      out.push(
        `| ${c.path}${neighbours(c)} | ${c.wallMs.join(', ')} | ${c.rotated ? `${c.medianL} L` : '**not rotated**'} | ${c.runsUntilRotated} | ${c.roundTrips.length}: ${c.roundTrips.join(' → ')} | ${steps(c.steps)} |`,
      );
    }
    const notes = cp.cases.filter((c) => c.note);
    if (notes.length > 0) out.push('', ...notes.map((c) => `- ${c.path}${neighbours(c)}: ${c.note}`));
    if (cp.cases.some((c) => c.path.startsWith('scheduled') && c.steps.rotationsStarted > 0)) {
      out.push(
        '',
        'Where a scheduled run hands its due target to Secrets Manager (RotateSecret), whether the four steps run depends ' +
          'on whether the run still holds the only slot when Secrets Manager invokes the first: a run whose due target is ' +
          "its last ends milliseconds after RotateSecret answers, before the emulator's Secrets Manager invokes createSecret " +
          '(AWS says nothing of that delay); a run that goes on with other targets still holds it, the step is throttled, ' +
          'and nothing retries it.',
      );
    }
    out.push('');
  }

  if (q) {
    out.push('## 2. Quiet run', '');
    out.push(
      `${fmt(q.targets)} targets, each with a 1-day-old credential (nothing due), rotation schedules on; emulator pages as AWS's: ` +
        `ListSecrets 100, ListServiceSpecificCredentials 1000, BatchGetSecretValue 20; L = ${q.latencyMs} ms. Calls counted from the emulator's log.`,
      '',
      '| configuration | calls | per target | wall | calls by operation |',
      '|---|---|---|---|---|',
      `| as deployed (batched secret reads, IAM listed per target) | ${q.deployedDefault.calls} | ${q.deployedDefault.perTarget} | ${fmt(q.deployedDefault.wallMs)} ms | ${ops(q.deployedDefault.byOperation)} |`,
      `| opt-in bulkCredentialListing (not deployed by default) | ${q.bulkListing.calls} | ${q.bulkListing.perTarget} | ${fmt(q.bulkListing.wallMs)} ms | ${ops(q.bulkListing.byOperation)} |`,
      '',
      `Invariants after the run (as deployed): ${invariants(q.invariants)}.`,
      '',
    );
  }

  if (f) {
    out.push('## 3–4. Fleet throughput and rotations per run', '');
    out.push(
      `One scheduled run over ${fmt(f.targets)} targets, all due (31-day-old credential), with the deployed timeout ` +
        `(${f.contextSeconds} s) on the context; emulator rate limits ${f.limits.iamCallsPerSecond} IAM calls/s and ` +
        `${f.limits.secretsWritesPerSecond} Secrets Manager writes/s (token buckets over real time; beyond them: Throttling 400), L = ${f.latencyMs} ms. ` +
        {
          deferred:
            'The run ran out of time and deferred targets: its count is its capacity (figure 4) and its rate the throughput (figure 3). ',
          exhausted:
            '**The run rotated the whole fleet: its count is not its capacity** (the full bench uses more targets). ',
          unrotated:
            '**The run reached every target with time to spare and left some unrotated**: a longer run would rotate no more. ',
        }[f.runEnd] +
        'A target counts as rotated when its AWSCURRENT names a new credential, whoever made it.',
      '',
      `- rotated ${fmt(f.rotated)}, failed ${f.failed}, deferred ${fmt(f.deferred)}; ${steps(f.steps)}`,
      `- the run took ${(f.wallMs / 1000).toFixed(1)} s and returned ${(f.msBeforeTimeout / 1000).toFixed(1)} s before the context's timeout`,
      `- IAM calls answered OK per rotation: **${f.iamCallsPerRotation}** measured; a rotation needs ${f.iamCallsNeeded} as deployed (List + Create + Update), so the limit allows ${f.limits.iamCallsPerSecond} / ${f.iamCallsNeeded} = ${f.maxRotationsPerSecond}/s; measured ${f.rotationsPerSecond}/s = **${f.fraction}** of it`,
      `- rotations per run: ${perRun(f)} at ${f.contextSeconds} s (goal 0.9 × ${f.contextSeconds - 30} s × ${f.limits.iamCallsPerSecond} / ${f.iamCallsNeeded} = ${fmt(f.rotationsPerRun.goal)}${withMeasured(f)}); at 900 s ${at900(f)}`,
      `- throttled calls (retried by the SDK): ${ops(f.throttled)}`,
      `- all calls: ${ops(f.byOperation)}`,
      `- invariants: ${invariants(f.invariants)}`,
      '',
    );
  }

  if (cs) {
    out.push('## 5. Cold start', '');
    out.push(
      "Both bundles built with the package build's esbuild options (scripts/build.ts: ESM, minified, mainFields module/main, " +
        `the createRequire banner, platform node, target ${cs.target}); each imported in a fresh \`node\` ${cs.runs} times, interleaved, ` +
        'with the deployed environment (EVENT_BUS_NAME set). Init = time of the `import()` (compile + evaluation, including ' +
        'loadConfig, client construction, Logger/Metrics/middy set-up).',
      '',
      '| bundle | size | init median (wall) | init median (CPU) |',
      '|---|---|---|---|',
      `| deployed handler | ${kb(cs.handler.bytes)} | ${cs.handler.medianMs} ms | ${cs.handler.medianCpuMs} ms |`,
      ...(cs.inlinedDriver
        ? [
            `| the same handler as one file, CQL driver inlined (before code splitting) | ${kb(cs.inlinedDriver.bytes)} | ${cs.inlinedDriver.medianMs} ms | ${cs.inlinedDriver.medianCpuMs} ms |`,
          ]
        : []),
      `| baseline: IAMClient + SecretsManagerClient constructed | ${kb(cs.baseline.bytes)} | ${cs.baseline.medianMs} ms | ${cs.baseline.medianCpuMs} ms |`,
      '',
      `Ratio ${cs.ratio} (CPU ${cs.cpuRatio}). Largest inputs of the handler bundle: ${cs.handler.largestInputs
        .map(([k, n]) => `${k} ${kb(n)}`)
        .join(', ')}.`,
      '',
    );
  }

  out.push(...scaleSection(r));
  return `${out.join('\n')}\n`;
}

/** The README draft, every number from this run's figures. */
function scaleSection(r: Results): string[] {
  const { criticalPath: cp, quietRun: q, fleet: f, coldStart: cs, deployed: d } = r;
  const rows: string[] = [];
  for (const c of cp?.cases ?? []) {
    rows.push(
      `| critical path, 1 due target${neighbours(c)}, L = ${cp?.latencyMs} ms/call, probe 50–200 ms | ${c.path} | ${c.rotated ? `${fmt(c.medianMs)} ms (${c.roundTrips.length} round trips${c.runsUntilRotated > 1 ? `, run ${c.runsUntilRotated}` : ''})` : `not rotated in ${c.runsUntilRotated} runs`} |`,
    );
  }
  if (q)
    rows.push(
      `| AWS calls per target, quiet run, ${fmt(q.targets)} targets | scheduled run | ${q.deployedDefault.perTarget} (bulk listing, opt-in: ${q.bulkListing.perTarget}) |`,
    );
  if (f) {
    rows.push(
      `| throughput, ${fmt(f.targets)} due, 20 IAM calls/s, verification on | scheduled run | ${f.rotationsPerSecond}/s = ${f.fraction} of the IAM limit, ${f.failed} failed |`,
      `| rotations per run, ${f.contextSeconds} s / 900 s | scheduled run | ${perRun(f)} / ${f.runEnd === 'exhausted' ? 'not measured' : `${fmt(f.rotationsPerRun.at900sExtrapolated)}${f.runEnd === 'deferred' ? ' (extrapolated)' : ''}`}; ${f.iamCallsPerRotation} IAM calls per rotation |`,
    );
  }
  if (cs)
    rows.push(
      `| cold start vs. the two SDK clients alone | first invocation | ${cs.ratio} (${cs.handler.medianMs} vs ${cs.baseline.medianMs} ms) |`,
    );
  return [
    '## Scale (draft for the README)',
    '',
    `Measured by \`npm run bench:record\` on the configuration the stack deploys (rotation schedules on every secret, reserved concurrency ${d.reservedConcurrency ?? 'none'}, ` +
      `verification \`${d.verification}\` against local service edges answering in 50–200 ms, the ${d.timeoutSeconds}-s timeout as the context's time); ` +
      'full report in bench/results.md.',
    '',
    '| figure | path | measured |',
    '|---|---|---|',
    ...rows,
    '',
  ];
}
