// `npm start`: the product's life in a few seconds, with no AWS account. Starts the local
// emulator on a free loopback port, points the AWS SDK at it through the standard endpoint
// variables, creates a demo account as the CDK stack would, then drives the real handler
// (production clients and adapters, the emulator's virtual clock) through a timeline:
// bootstrap, a quiet day, rotation, deletion after the grace period, manual and forced
// rotates, an interrupted run and its recovery, then a new credential the service refuses
// and one it accepts after IAM's change has propagated: the emulator's service edges (CQL,
// Git, Bedrock) verify every new credential with the real probes. After every step it checks I1 (no lockout)
// and I4 (no stray credential) and prints a ✓ line; it exits non-zero if any check fails. `--verbose` shows the
// handler's Powertools logs and metrics. No password or API key is ever printed.
import './quiet-sdk.ts';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ServiceEdges, startServiceEdges } from '../emulator/edges/index.ts';
import { AwsEmulator, isWriteCall } from '../emulator/index.ts';
import { ServiceProbes } from '../lambda/probes/index.ts';
import { createVerifier } from '../lambda/probes/verifier.ts';
import { RunFailedError } from '../lambda/errors.ts';
import type { Outcome, RunReport } from '../lambda/rotation/model.ts';
import { DAY_MS } from '../lambda/rotation/retirement.ts';

/** Lambda retries a failed asynchronous invocation about a minute later. */
const RETRY_AFTER_MS = 60_000;
import {
  createDemoAccount,
  createLocalHandler,
  DEMO_REPOSITORY,
  DEMO_TARGETS,
  dayOf,
  emulatorEnv,
  powertoolsEnv,
  renderTarget,
  SECRET_NAME_PREFIX,
  setEnv,
  viewTargets,
  isMainModule,
} from './local.ts';
import { atRestProblems, fakeLambdaContext, findLeakedSecrets, targetSecrets } from '../invariants/index.ts';

const EVENTS_DIR = new URL('../events/', import.meta.url);

const POLICY = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

type UserName = (typeof DEMO_TARGETS)[number]['userName'];

interface Step {
  readonly title: string;
  /** When the step runs: a day of the timeline, or this long after the previous step. */
  readonly at: { readonly day: number } | { readonly afterMs: number };
  /** A file of events/ the handler is invoked with (or `rotateSecret`). */
  readonly event?: string;
  /**
   * Instead of an event: RotateSecret on this user's secret, as the console's "Rotate secret
   * immediately" or `aws secretsmanager rotate-secret` calls it; Secrets Manager then invokes
   * the handler once per step.
   */
  readonly rotateSecret?: UserName;
  /** Outcome per target the report must show (targets not listed must not appear). */
  readonly expect: Partial<Record<UserName, Outcome>>;
  /** The handler must throw RunFailedError (some target failed). */
  readonly throws?: boolean;
  /** The run must write nothing (I6). */
  readonly writesNothing?: boolean;
  /** Shown under the title: what to look at. */
  readonly note?: string;
  readonly before?: (emulator: AwsEmulator, edges: ServiceEdges) => void;
  readonly after?: (emulator: AwsEmulator, edges: ServiceEdges) => void;
}

const ALL = (outcome: Outcome): Record<UserName, Outcome> => ({
  'app-keyspaces': outcome,
  'app-codecommit': outcome,
  'app-bedrock': outcome,
});

const STEPS: readonly Step[] = [
  {
    title: 'first scheduled run: every target bootstraps',
    at: { day: 0 },
    event: 'scheduled-rule.json',
    expect: ALL('rotated'),
    note: 'the secrets hold placeholders, so each target gets its first credential',
  },
  {
    title: 'a quiet day',
    at: { day: 1 },
    event: 'scheduler.json',
    expect: ALL('unchanged'),
    writesNothing: true,
    note: 'nothing is due: the run only reads',
  },
  {
    title: 'rotation: the credentials are 31 days old (rotateAfterDays 30)',
    at: { day: 31 },
    event: 'scheduled-rule.json',
    expect: ALL('rotated'),
    note: 'new credential stored as AWSCURRENT; the old one is deactivated (overlapDays 0) and kept for the grace period',
  },
  {
    title: 'deletion: the grace period (7 days) is over',
    at: { day: 38 },
    event: 'scheduled-rule.json',
    expect: ALL('retired'),
  },
  {
    title: 'manual rotate from the Lambda console',
    at: { day: 40 },
    event: 'rotate-target.json',
    expect: { 'app-keyspaces': 'rotated' },
  },
  {
    title: 'a second manual rotate, right after: both slots are taken',
    at: { day: 40 },
    event: 'rotate-target.json',
    expect: { 'app-keyspaces': 'blocked' },
    writesNothing: true,
    note: 'the replaced credential is still in its grace period, so nothing is deleted early',
  },
  {
    title: 'forced rotate: "force": true frees a slot early',
    at: { day: 40 },
    event: 'rotate-secret-force.json',
    expect: { 'app-keyspaces': 'rotated' },
  },
  {
    title: 'an interrupted run: Secrets Manager fails for app-codecommit after IAM created its credential',
    at: { day: 61 },
    event: 'scheduler.json',
    expect: { 'app-keyspaces': 'retired', 'app-codecommit': 'failed', 'app-bedrock': 'rotated' },
    throws: true,
    note:
      'fault injected: storing the new credential in the app-codecommit secret answers InternalServiceError (HTTP 500); ' +
      'the run noted its intent before Create, and on its way out notes that it has ended',
    before: (emulator) =>
      emulator.faults.add({
        operation: 'PutSecretValue',
        kind: 'fail',
        times: Number.POSITIVE_INFINITY,
        // The store of the record; the intent (its own staging label) still gets through.
        match: (params) =>
          String(params.SecretId).includes('/app-codecommit/') && params.VersionStages === undefined,
      }),
    after: (emulator) => emulator.faults.clear(),
  },
  {
    title: "recovery: the next run, a minute later (Lambda's retry), adopts the unrecorded credential",
    at: { afterMs: RETRY_AFTER_MS },
    event: 'scheduled-rule.json',
    expect: { 'app-keyspaces': 'unchanged', 'app-codecommit': 'recovered', 'app-bedrock': 'unchanged' },
    note:
      "the secret's intent says the rotator issued it and that run has ended, so there is no waiting: " +
      'Reset gives it a new password (same id, no third slot), which is stored; the old one is deactivated',
  },
  {
    title: 'verification refuses: Keyspaces answers "Bad credentials" to the new password',
    at: { day: 62 },
    event: 'rotate-target.json',
    expect: { 'app-keyspaces': 'failed' },
    throws: true,
    note:
      'fault injected: the CQL edge refuses every password (CQL error 0x0100); after the retries the new credential is ' +
      'deleted and the old one stays current and Active (verification: enforce, the default)',
    before: (_emulator, edges) => edges.authority.setFault('cassandra.amazonaws.com', 'reject'),
    after: (_emulator, edges) => edges.authority.setFault('cassandra.amazonaws.com', undefined),
  },
  {
    title: 'verification after propagation: the new password works only 1 s after IAM issued it',
    at: { afterMs: RETRY_AFTER_MS },
    event: 'rotate-target.json',
    expect: { 'app-keyspaces': 'rotated' },
    note: 'the probe is refused at first, waits (backoff), asks again, and is accepted: only then is the old one retired',
    before: (_emulator, edges) => {
      edges.authority.propagationDelayMs = 1_000;
    },
    after: (_emulator, edges) => {
      edges.authority.propagationDelayMs = 0;
    },
  },
  {
    title: 'a rotation started from Secrets Manager: the console\'s "Rotate secret immediately"',
    at: { day: 70 },
    rotateSecret: 'app-keyspaces',
    expect: { 'app-keyspaces': 'rotated' },
    note:
      'Secrets Manager invokes the function once per step with the same token: createSecret issues the credential ' +
      'into AWSPENDING, setSecret has nothing to set, testSecret checks IAM lists it Active, finishSecret moves ' +
      "AWSCURRENT and deactivates the old one (the report shown is finishSecret's)",
  },
];

/**
 * The production backoff (2 s doubling to 16 s within 80 s) shortened for the demo: 250 ms
 * doubling to 1 s within 2 s.
 */
const DEMO_RETRY = { initialDelayMs: 250, maxDelayMs: 1_000, budgetMs: 2_000 };

/** The ARN the local handler runs as: the rotation function the demo's secrets name. */
const LOCAL_FUNCTION_ARN = fakeLambdaContext({ functionName: 'credential-rotator-local' }).invokedFunctionArn;

export interface DemoOptions {
  /** Where lines go. @default console.log */
  readonly print?: (line: string) => void;
  /** Show the handler's Powertools logs and metrics. @default false */
  readonly verbose?: boolean;
  /** The emulator to serve (tests pass one to inspect it afterwards). @default a new one */
  readonly emulator?: AwsEmulator;
}

/** Runs the whole timeline; resolves to the exit code (0 when every check passed). */
export async function main(options: DemoOptions = {}): Promise<number> {
  const started = Date.now();
  const emulator = options.emulator ?? new AwsEmulator();
  const printed: string[] = [];
  const print = (line = '') => {
    printed.push(line);
    (options.print ?? console.log)(line);
  };
  const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const restoreEnv = setEnv({
    ...emulatorEnv(server.url),
    ...powertoolsEnv(options.verbose ?? false),
    ROTATE_AFTER_DAYS: String(POLICY.rotateAfterDays),
    OVERLAP_DAYS: String(POLICY.overlapDays),
    GRACE_PERIOD_DAYS: String(POLICY.gracePeriodDays),
    SECRET_NAME_PREFIX,
    EVENT_BUS_NAME: undefined,
  });
  const edges = await startServiceEdges(emulator, { repositories: [DEMO_REPOSITORY] });
  const local = createLocalHandler(emulator, {
    verbose: options.verbose ?? false,
    verifyCredential: createVerifier({
      probe: new ServiceProbes({
        ca: edges.ca,
        keyspacesEndpoint: edges.cqlEndpoint,
        codeCommitBaseUrl: edges.httpsUrl,
        bedrockBaseUrl: edges.httpsUrl,
        logsBaseUrl: edges.httpsUrl,
      }),
      region: emulator.region,
      defaultMode: 'enforce',
      retryPolicy: DEMO_RETRY,
    }),
  });
  let failures = 0;
  try {
    createDemoAccount(emulator);
    // Day 0 starts on a whole minute: IAM dates credentials to the second, so a credential
    // issued in the first run must not look older than the timeline.
    const origin = new Date(Math.floor(emulator.clock.now().getTime() / 60_000) * 60_000);
    print('service-credential-rotator: local demo (no AWS account; nothing leaves 127.0.0.1)');
    print(`emulator   ${server.url}  (IAM + Secrets Manager, virtual clock)`);
    print(`sdk        AWS_ENDPOINT_URL_IAM = AWS_ENDPOINT_URL_SECRETS_MANAGER = ${server.url}`);
    print(
      `edges      CQL over TLS ${edges.cqlEndpoint} · HTTPS ${edges.httpsUrl} (Git info/refs, Bedrock): ` +
        'every new credential is verified with its service (verification: enforce)',
    );
    print(
      `policy     rotate after ${POLICY.rotateAfterDays} days, overlap ${POLICY.overlapDays}, ` +
        `grace ${POLICY.gracePeriodDays} (ROTATE_AFTER_DAYS, OVERLAP_DAYS, GRACE_PERIOD_DAYS)`,
    );
    print(
      `account    ${DEMO_TARGETS.length} IAM users, ${DEMO_TARGETS.length} tagged secrets ` +
        `${SECRET_NAME_PREFIX}<user>/<service> holding placeholders, as the CDK stack creates them`,
    );

    let n = 0;
    for (const step of STEPS) {
      n += 1;
      if ('day' in step.at) emulator.clock.set(new Date(origin.getTime() + step.at.day * DAY_MS));
      else emulator.clock.advance(step.at.afterMs);
      const when = dayOf(emulator.clock.now(), origin);
      print();
      print(
        `━━ ${n}. ${when} · ${step.title} ${'━'.repeat(Math.max(3, 96 - step.title.length - when.length))}`,
      );
      if (step.note) print(`   ${step.note}`);
      step.before?.(emulator, edges);
      const since = emulator.calls.length;
      let thrown: unknown;
      if (step.rotateSecret) {
        const target = DEMO_TARGETS.find(
          (t) => t.userName === step.rotateSecret,
        ) as (typeof DEMO_TARGETS)[number];
        const secretName = `${SECRET_NAME_PREFIX}${target.userName}/${target.serviceName}`;
        print(
          `   call    aws secretsmanager rotate-secret --secret-id ${secretName} ` +
            `--rotation-lambda-arn ${LOCAL_FUNCTION_ARN} --rotation-rules AutomaticallyAfterDays=${POLICY.rotateAfterDays}`,
        );
        emulator.rotations.invoker = async (_arn, event) => {
          await local.invoke(event);
        };
        emulator.secrets.RotateSecret({
          SecretId: secretName,
          RotationLambdaARN: LOCAL_FUNCTION_ARN,
          RotationRules: { AutomaticallyAfterDays: POLICY.rotateAfterDays },
        });
        const record = (await emulator.rotations.settled()).at(-1);
        const described = emulator.secrets.DescribeSecret({ SecretId: secretName });
        print(
          `   secrets manager  ${record?.steps.map((s) => `${s.step} ${s.outcome}`).join(' · ')} → ${record?.status}` +
            ` · LastRotatedDate ${described.LastRotatedDate ? dayOf(new Date(described.LastRotatedDate as Date), origin) : 'unset'}`,
        );
        if (record?.status !== 'succeeded')
          thrown = new Error(`the rotation ${record?.status ?? 'never ran'}`);
      } else {
        const event = JSON.parse(readFileSync(new URL(String(step.event), EVENTS_DIR), 'utf8')) as unknown;
        print(`   event   events/${step.event}  ${describeEvent(event)}`);
        try {
          await local.invoke(event);
        } catch (error) {
          thrown = error;
        }
      }
      step.after?.(emulator, edges);
      const report = local.lastReport();
      const calls = emulator.calls.slice(since);
      const writes = calls.filter(isWriteCall).length;
      print(
        `   result  ${report ? `${report.targets.length} target(s)` : 'no report'} · ${calls.length} AWS calls, ${writes} writes`,
      );
      if (thrown) print(`   handler threw ${errorLine(thrown)}`);

      const views = viewTargets(emulator);
      for (const t of report?.targets ?? []) {
        const view = views.find((v) => v.secretArn === t.secretId);
        for (const line of renderTarget(t, view, (d) => dayOf(d, origin), POLICY)) print(line);
        const v = t.verification;
        if (v) {
          const tries = v.attempts === 1 ? '1 attempt' : `${v.attempts} attempts`;
          print(`     verify  ${v.credentialId} ${v.outcome} (${v.mode}, ${tries}): ${v.reason}`);
        }
      }

      const problems = [
        ...outcomeProblems(step, report, thrown),
        ...(step.writesNothing && writes > 0 ? [`I6: expected no writes, saw ${writes}`] : []),
      ];
      // I1 and I4 at rest; a credential an interrupted run just issued is the next run's to settle.
      problems.push(...atRestProblems(emulator, POLICY, { allowInFlight: true }).map((p) => p.message));
      const checked = targetSecrets(emulator).length;
      if (checked !== DEMO_TARGETS.length)
        problems.push(`expected ${DEMO_TARGETS.length} targets, found ${checked}`);
      if (problems.length === 0) {
        print(
          `   ✓ outcomes as expected · I1 no lockout: ${checked}/${checked} secrets name an Active ` +
            `credential holding IAM's current password · I4 ≤ 2 credentials each, none stray${step.writesNothing ? ' · no writes' : ''}`,
        );
      } else {
        failures += problems.length;
        for (const p of problems) print(`   ✗ ${p}`);
      }
    }

    // I5, on everything this demo printed (the RunFailedError message included).
    const leaks = findLeakedSecrets(printed, emulator.issuedSecrets());
    failures += leaks.length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    print();
    print(
      leaks.length > 0
        ? `✗ I5: this output contains ${leaks.length} issued secret(s)`
        : `✓ I5: none of the ${emulator.issuedSecrets().length} passwords and API keys IAM issued appears in this output`,
    );
    print(
      failures === 0
        ? `✓ ${STEPS.length} steps, every check passed, in ${seconds} s`
        : `✗ ${failures} check(s) failed (${STEPS.length} steps, ${seconds} s)`,
    );
    return failures === 0 ? 0 : 1;
  } finally {
    local.destroy();
    restoreEnv();
    await edges.close();
    await server.close();
  }
}

function describeEvent(event: unknown): string {
  const e = event as Record<string, unknown>;
  if ('detail-type' in e) {
    return JSON.stringify({ 'detail-type': e['detail-type'], source: e.source, detail: e.detail }).replace(
      /}$/,
      ', …}',
    );
  }
  return JSON.stringify(event);
}

function errorLine(error: unknown): string {
  if (error instanceof RunFailedError) return `RunFailedError: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function outcomeProblems(step: Step, report: RunReport | undefined, thrown: unknown): string[] {
  const problems: string[] = [];
  if (step.throws && !(thrown instanceof RunFailedError))
    problems.push('expected the handler to throw RunFailedError');
  if (!step.throws && thrown) problems.push(`the handler threw ${errorLine(thrown)}`);
  if (!report) return [...problems, 'the run produced no report'];
  const seen = new Map(report.targets.map((t) => [t.userName, t.outcome]));
  for (const [user, outcome] of Object.entries(step.expect)) {
    if (seen.get(user) !== outcome)
      problems.push(`expected ${user} ${outcome}, got ${seen.get(user) ?? 'nothing'}`);
  }
  for (const user of seen.keys()) {
    if (!(user in step.expect)) problems.push(`unexpected target ${user} in the report`);
  }
  return problems;
}

// Run only as a script (`npm start`), not when a test imports main().
if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({ options: { verbose: { type: 'boolean', short: 'v', default: false } } });
  process.exitCode = await main({ verbose: values.verbose });
}
