// Renders the bench's results as bench/results.md: the five figures against their goals,
// the invariant checks, and a draft "Scale" section for the README.
import type { ColdStartFigure } from './coldstart.ts';
import type {
  CallCount,
  CriticalPathFigure,
  DeadlineFigure,
  FleetFigure,
  SteadyStateFigure,
} from './figures.ts';
import { DEFAULT_DEADLINE_RESERVE_MS } from '../lambda/rotation/deps.ts';
import type { InvariantResult } from './invariants.ts';

interface Results {
  machine: { node: string; cpus: number; quick: boolean };
  criticalPath?: CriticalPathFigure;
  steadyState?: SteadyStateFigure;
  fleet?: FleetFigure;
  deadline?: DeadlineFigure;
  coldStart?: ColdStartFigure;
  runtimeSeconds: number;
}

const verdict = (met: boolean) => (met ? '**met**' : '**missed**');
const ops = (c: CallCount) =>
  Object.entries(c.byOperation)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
const invariants = (r: InvariantResult) =>
  r.passed
    ? `all pass on ${r.targets} targets (${Object.keys(r.violations).join('; ')})`
    : `**FAILED** on ${r.targets} targets: ${Object.entries(r.violations)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k}: ${n}`)
        .join('; ')} — e.g. ${r.examples.join(' | ')}`;

export function renderMarkdown(raw: Record<string, unknown>): string {
  const r = raw as unknown as Results;
  const out: string[] = [];
  out.push('# Bench results (issue #6)', '');
  out.push(
    `\`npm run bench:record\` — the real handler (\`createHandler\`) through the real SDK clients ` +
      '(`createClients`: adaptive retries) over HTTP to the local emulator on 127.0.0.1. ' +
      `Node ${r.machine.node}, ${r.machine.cpus} cores (shared with other work while measured: ` +
      `timings carry that noise). Whole bench: ${r.runtimeSeconds} s.${r.machine.quick ? ' QUICK RUN: small fleets, not the reported figures.' : ''}`,
    '',
  );

  out.push('| # | figure | result | goal | |', '|---|---|---|---|---|');
  const cp = r.criticalPath;
  if (cp) {
    const rotation = Math.max(...cp.cases.map((c) => c.rotationL));
    out.push(
      `| 1 | critical path of one rotation, L = ${cp.latencyMs} ms | ${cp.cases.map((c) => `${c.command}: ${c.medianL} L (${c.roundTrips.length} round trips)`).join('; ')}; rotation proper (observe → retire) ≤ ${rotation} L | ≤ ${cp.goalL} L | ${cp.cases.map((c) => `${verdict(c.medianL <= cp.goalL)} ${c.command}`).join(', ')} |`,
    );
  }
  const ss = r.steadyState;
  if (ss) {
    out.push(
      `| 2 | AWS calls per target per run, ${ss.targets} targets, nothing due | ${ss.deployedDefault.perTarget} as deployed; ${ss.bulkListing.perTarget} with bulk IAM listing (was ${ss.perTargetFallback.perTarget} per target) | ≤ ${ss.goal} (stretch ≤ ${ss.stretch}) | ${verdict(ss.deployedDefault.perTarget <= ss.goal)}; stretch ${verdict(ss.bulkListing.perTarget <= ss.stretch)} with bulk listing |`,
    );
  }
  const fl = r.fleet;
  if (fl) {
    out.push(
      `| 3 | fleet rotation, ${fl.targets} due targets, ${fl.limits.iamCallsPerSecond} IAM calls/s, ${fl.limits.secretsWritesPerSecond} SM writes/s | ${fl.rotationsPerSecond} rotations/s of max ${fl.maxRotationsPerSecond} = **${fl.fraction}**, ${fl.failed} failed | ≥ ${fl.goal}, 0 failed | ${verdict(fl.fraction >= fl.goal && fl.failed === 0)} |`,
    );
  }
  const dl = r.deadline;
  if (dl) {
    out.push(
      `| 4 | deadline: ${dl.targets} due targets, ${dl.remainingMs / 1000} s left | stopped starting at the reserve, ended ${dl.first.msBeforeTimeout} ms before the fake timeout; ${dl.first.rotated} rotated, ${dl.first.deferred} deferred; next run rotated ${dl.second.rotated} | stop in time, nothing half-done, next run carries on | ${verdict(dl.first.msBeforeTimeout > 0 && dl.first.failed === 0 && dl.second.rotated === dl.first.deferred && dl.invariants.passed)} |`,
    );
  }
  const cs = r.coldStart;
  if (cs) {
    out.push(
      `| 5 | cold start: module init, deployed bundle / SDK-clients-only bundle | ${cs.handler.medianMs} / ${cs.baseline.medianMs} ms = **${cs.ratio}** (CPU ${cs.cpuRatio}); ${kb(cs.handler.bytes)} / ${kb(cs.baseline.bytes)} | ≤ ${cs.goal} | ${verdict(cs.ratio <= cs.goal)} |`,
    );
  }
  out.push('');

  if (cp) {
    out.push('## 1. Critical path', '');
    out.push(
      `Fixed latency L = ${cp.latencyMs} ms per call on the emulator, ${cp.cases[0]?.wallMs.length ?? 0} runs each (median), ` +
        'each on a fresh emulator with one target whose credential is 31 days old, the handler warmed by a `status` call first. ' +
        'Round trips are read from the emulator call log (calls whose latency windows overlap form one round trip).',
      '',
    );
    out.push('| command | wall (ms) | median | round trips | rotation proper |', '|---|---|---|---|---|');
    for (const c of cp.cases) {
      out.push(
        `| ${c.command} | ${c.wallMs.join(', ')} | ${c.medianL} L | ${c.roundTrips.length}: ${c.roundTrips.join(' → ')} | ${c.rotationL} L |`,
      );
    }
    out.push(
      '',
      'The rotation itself is at the floor: IAM and the secret are observed in parallel, then intent, create, store, ' +
        'retire (5 round trips). The intent (a PutSecretValue under the ROTATOR_INTENT staging label, before Create) is ' +
        'the one round trip added by issue #9: it is what lets the next invocation, a minute later, adopt a credential ' +
        'left by a failed run at once instead of after 15 minutes, and tell it from a credential made by hand, which is ' +
        'never reset; the 4-round-trip floor of the earlier design (4.5 L goal) is therefore 5 now. A manual rotate names its ' +
        'target by secret or by user and service, and the stack names secrets ' +
        '`<prefix><user>/<service>`, so the executor reads the secret and lists the credentials while it looks the ' +
        'target up, and uses those reads only once the tags confirm the guess (findAndObserve in lambda/rotation/run.ts): ' +
        '5 round trips. A scheduled run cannot: it learns its targets from ListSecrets, so its first observation waits ' +
        'for that page (6 round trips; at fleet scale the bulk reads amortise it). What remains above the round trips is ' +
        'per-call CPU (SDK serialisation and signing, the emulator in the same process) on a 2-core machine.',
      '',
    );
  }

  if (ss) {
    out.push('## 2. Steady state', '');
    out.push(
      `${ss.targets} targets, each with a 1-day-old credential (nothing due), emulator pages as AWS's: ListSecrets 100, ` +
        `ListServiceSpecificCredentials 1000, BatchGetSecretValue 20; L = ${ss.latencyMs} ms. Calls counted from the emulator's log.`,
      '',
      '| configuration | calls | per target | wall | calls by operation |',
      '|---|---|---|---|---|',
      `| as deployed (batched secret reads, IAM listed per target) | ${ss.deployedDefault.calls} | ${ss.deployedDefault.perTarget} | ${ss.deployedDefault.wallMs} ms | ${ops(ss.deployedDefault)} |`,
      `| bulkCredentialListing on (AllUsers listing per service) | ${ss.bulkListing.calls} | ${ss.bulkListing.perTarget} | ${ss.bulkListing.wallMs} ms | ${ops(ss.bulkListing)} |`,
      `| no bulk reads (ports without the optional methods) | ${ss.perTargetFallback.calls} | ${ss.perTargetFallback.perTarget} | ${ss.perTargetFallback.wallMs} ms | ${ops(ss.perTargetFallback)} |`,
      '',
      `Invariants after the run (as deployed): ${invariants(ss.invariants)}.`,
      '',
    );
  }

  if (fl) {
    out.push('## 3. Fleet rotation under throttling', '');
    out.push(
      `${fl.targets} targets, all due (31-day-old credential, nothing else), emulator rate limits ${fl.limits.iamCallsPerSecond} IAM calls/s ` +
        `and ${fl.limits.secretsWritesPerSecond} Secrets Manager writes/s (token buckets over real time; beyond them: Throttling 400), ` +
        `L = ${fl.latencyMs} ms, bulkCredentialListing ${fl.bulkCredentialListing ? 'on' : 'off'}. ` +
        'The executor runs DEFAULT_CONCURRENCY targets at once; the SDK clients use adaptive retries.',
      '',
      `- max the limits allow: a rotation needs ${fl.bulkCredentialListing ? 2 : 3} IAM calls (create + deactivate${fl.bulkCredentialListing ? '; the AllUsers listing is amortised' : ' + per-target List'}) and 2 SM writes (intent + store), ` +
        `so min(${fl.limits.iamCallsPerSecond}/${fl.bulkCredentialListing ? 2 : 3}, ${fl.limits.secretsWritesPerSecond}/2) = ${fl.maxRotationsPerSecond} rotations/s`,
      `- measured: ${fl.rotated} rotated, ${fl.failed} failed in ${(fl.wallMs / 1000).toFixed(1)} s (whole handler run, discovery and observation included) = ${fl.rotationsPerSecond}/s = **${fl.fraction}** of max`,
      `- IAM calls answered OK per rotation: ${fl.iamCallsPerRotation}; throttled calls (retried by the SDK): ${
        Object.entries(fl.throttled)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none'
      }`,
      `- all calls: ${Object.entries(fl.byOperation)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
      `- invariants: ${invariants(fl.invariants)}`,
      '',
    );
  }

  if (dl) {
    out.push('## 4. Deadline', '');
    out.push(
      `${dl.targets} due targets under the same limits; the fake Lambda context says ${dl.remainingMs / 1000} s remain, ` +
        'less than the fleet needs. The executor starts no target once less than its reserve (DEFAULT_DEADLINE_RESERVE_MS = 30 s) remains.',
      '',
      `- first run: ${dl.first.rotated} rotated, ${dl.first.deferred} deferred, ${dl.first.failed} failed; returned after ${(dl.first.wallMs / 1000).toFixed(1)} s, ` +
        `**${dl.first.msBeforeTimeout} ms before the fake timeout**`,
      `- next run: ${dl.second.rotated} rotated, ${dl.second.unchanged} unchanged, ${dl.second.deferred} deferred, ${dl.second.failed} failed`,
      `- no target left between Create and store; invariants: ${invariants(dl.invariants)}`,
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

function kb(bytes: number): string {
  return `${Math.round(bytes / 1024)} KB`;
}

/** The function timeout the stack deploys unless `timeoutSeconds` says otherwise (infra/). */
const DEFAULT_TIMEOUT_SECONDS = 300;

/** The README draft: how cost grows with targets, and where one account's IAM limits bind. */
function scaleSection(r: Results): string[] {
  const ss = r.steadyState;
  const fl = r.fleet;
  const iamRate = fl?.limits.iamCallsPerSecond ?? 20;
  const seconds = DEFAULT_TIMEOUT_SECONDS - DEFAULT_DEADLINE_RESERVE_MS / 1000;
  const perRunBulk = Math.floor((iamRate / 2) * seconds);
  const perRunDefault = Math.floor((iamRate / 3) * seconds);
  const fraction = fl?.fraction ?? 0.9;
  return [
    '## Scale (draft for the README)',
    '',
    `Measured with \`npm run bench:record\` against the local emulator${ss ? ` (${ss.targets} targets for the call counts` : ''}${fl ? `, ${fl.targets} for throughput` : ''}${ss || fl ? ')' : ''}.`,
    '',
    '**Calls per run.** With T targets, R of them due for rotation and D credentials due for deletion:',
    '',
    '- discovery: ⌈T/100⌉ ListSecrets',
    '- observation, as deployed: ⌈T/20⌉ BatchGetSecretValue + T ListServiceSpecificCredentials ' +
      `(≈ 1.06 T${ss ? `; measured ${ss.deployedDefault.perTarget} per target at T = ${ss.targets}` : ''})`,
    '- observation with `bulkCredentialListing`: ⌈T/20⌉ BatchGetSecretValue + ⌈C/1000⌉ ListServiceSpecificCredentials per service ' +
      `(C = that service's credentials in the account, ≈ T to 2T) — about 0.06 T${ss ? `; measured ${ss.bulkListing.perTarget} per target` : ''}`,
    '- changes: per rotation 1 PutSecretValue (intent) + 1 Create + 1 PutSecretValue (store) + 1 Update (deactivate); ' +
      'per deletion 1 Delete; per adoption 1 PutSecretValue (intent) + 1 Reset + 1 PutSecretValue (store), plus 1 ' +
      'GetSecretValue of the intent when an Active credential the secret does not record appeared after its last store',
    '',
    'So a quiet daily run costs ~1.06 calls per target as deployed (~0.06 with bulk listing), nearly all of them reads; ' +
      'writes happen only for what is due.',
    '',
    `**Where IAM binds.** IAM's throttling limits are unpublished and cannot be raised; at a sustained ${iamRate} IAM calls/s ` +
      `(the bench's figure), a rotation costs 3 IAM calls as deployed (List + Create + Update) or 2 with bulk listing, ` +
      `so one run rotates at most ${Math.floor(iamRate / 3)}–${iamRate / 2} targets/s. A run of the stack's default timeout ` +
      `(${DEFAULT_TIMEOUT_SECONDS} s; \`timeoutSeconds\` in cdk.json, up to 900), less the ${DEFAULT_DEADLINE_RESERVE_MS / 1000} s deadline reserve, ` +
      `has ${seconds} s: **${perRunDefault.toLocaleString('en')} rotations per run as deployed, ${perRunBulk.toLocaleString('en')} with bulk listing** ` +
      `(× ${fraction} measured efficiency ≈ ${Math.floor(perRunDefault * fraction).toLocaleString('en')} / ${Math.floor(perRunBulk * fraction).toLocaleString('en')}). ` +
      'Deletions (one more IAM call each, 7 days after a rotation) come on other days.',
    '',
    '**Steady fleet size.** With a daily schedule and rotateAfterDays = 30, about T/30 targets are due each day (when rotations ' +
      `are spread out), so one daily run keeps up with T ≈ 30 × ${perRunDefault.toLocaleString('en')} ≈ ${(30 * perRunDefault).toLocaleString('en')} ` +
      `targets as deployed (${(30 * perRunBulk).toLocaleString('en')} with bulk listing) — but only once the fleet is spread out: a fleet ` +
      'bootstrapped on one day all comes due on the same day 30 days later. The rotator does not spread them; what one run ' +
      'cannot finish is deferred to the next (figure 4), so a burst drains at the per-run rate above, a day at a time. ' +
      'The quiet-day reads cost IAM too as deployed: T List calls a day (1,000 targets = 50 s of IAM at 20/s), which bulk listing removes.',
    '',
    '**Other limits.** Secrets Manager writes (50/s for PutSecretValue + UpdateSecret + UpdateSecretVersionStage, per region) ' +
      'allow 25 rotations/s (intent + store), so IAM binds first. AWS allows 2 service-specific credentials per user per service, Inactive ' +
      'ones included: a target needs its second slot free at rotation time, so gracePeriodDays + overlapDays must stay below ' +
      'rotateAfterDays (enforced at start-up), and nobody else may hold a credential for that user and service. The same IAM ' +
      'throttling budget is shared with everything else in the account that calls IAM.',
    '',
  ];
}
