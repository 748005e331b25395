// The bench's world: a local AWS emulator served over HTTP on 127.0.0.1, the services' edges
// the credential probes talk to, the production SDK clients (createClients: adaptive
// retries) pointed at the emulator through AWS_ENDPOINT_URL, and the real Lambda handler
// (createHandler) invoked with a fake Lambda context. Every world runs the configuration the
// construct deploys by default (bench/deployed.ts reads it from a synthesized stack):
// - every target has a rotation schedule in Secrets Manager naming the function, so the
//   emulator's Secrets Manager invokes the handler for the four rotation steps;
// - the function's reserved concurrency: each invocation (the scheduled run, a manual command,
//   a rotation step) holds a slot, and a step invoked while the slots are taken is throttled
//   and never retried (the emulator's `throttledStepRetry: 'none'`, the unfavourable reading);
// - the deployed verification mode against the edges, each connection 50–200 ms to open;
// - the function's timeout as the Lambda context's time;
// - the function's declaration of its targets.
// Targets are seeded straight into the emulator's models (fast), as a deployment and a
// completed run leave them.
import { AwsEmulator, type AwsEmulatorOptions, type CallRecord } from '../emulator/index.ts';
import { type HandshakeLatency, type ServiceEdges, startServiceEdges } from '../emulator/edges/index.ts';
import type { RotationEvent } from '../emulator/rotations.ts';
import { createClients } from '../lambda/aws/clients.ts';
import { IamCredentials, toIssuedCredential } from '../lambda/aws/iam.ts';
import type { CredentialsPort, SecretRotationPort, SecretsPort } from '../lambda/aws/ports.ts';
import { SecretsStore } from '../lambda/aws/secrets.ts';
import type { Config } from '../lambda/config.ts';
import { type DeclaredTarget, type DeclaredTargets, pairKey } from '../lambda/declared-targets.ts';
import { createHandler } from '../lambda/handler.ts';
import { ServiceProbes } from '../lambda/probes/index.ts';
import { createVerifier } from '../lambda/probes/verifier.ts';
import type { Policy, RunReport } from '../lambda/rotation/model.ts';
import { recordFromIssued, serializeRecord } from '../lambda/rotation/record.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/contract.ts';
import { countdown, fakeLambdaContext } from '../invariants/index.ts';
import { type DeployedConfiguration, deployedConfiguration } from './deployed.ts';

export const KEYSPACES = 'cassandra.amazonaws.com';
export const BEDROCK = 'bedrock.amazonaws.com';
/** The probes of these two: a CQL sign-in over TLS, an HTTPS request with a bearer key. */
export const BENCH_SERVICES = [KEYSPACES, BEDROCK] as const;
/** A real endpoint's TLS (and CQL session) set-up; loopback has none. */
export const HANDSHAKE_LATENCY = { minMs: 50, maxMs: 200 } as const;
export const FUNCTION_NAME = 'credential-rotator-bench';

// The bench's own progress lines go to the real stderr, also while an invocation's output is
// captured (captureOutput below swaps process.stderr.write).
const stderrWrite = process.stderr.write.bind(process.stderr);
let progressEveryMs = 0;

/** Print a progress line every `everyMs` while an invocation runs (0: never, the default). */
export function showProgress(everyMs: number): void {
  progressEveryMs = everyMs;
}

/** A progress line on stderr, whatever the handler's output capture does. */
export function progress(line: string): void {
  if (progressEveryMs > 0) stderrWrite(`${line}\n`);
}
export const DAY_MS = 86_400_000;

let deployedOnce: DeployedConfiguration | undefined;
/** The construct's defaults, synthesized once per process (a synth takes seconds). */
export function deployed(): DeployedConfiguration {
  deployedOnce ??= deployedConfiguration();
  return deployedOnce;
}

export interface SeedOptions {
  /** How many targets (user i, one service each). */
  readonly count: number;
  /** Age in days of each target's current credential (31 = due, 1 = quiet). */
  readonly ageDays: number;
  /** Target i gets services[i % length]. @default BENCH_SERVICES */
  readonly services?: readonly string[];
  readonly prefix?: string;
}

export interface BenchWorldOptions {
  /** @default the construct's defaults (deployed()) */
  readonly deployed?: DeployedConfiguration;
  readonly emulator?: AwsEmulatorOptions;
  /** Overrides the deployed choice (false by default): the opt-in AllUsers IAM listing. */
  readonly bulkCredentialListing?: boolean;
  /** @default HANDSHAKE_LATENCY */
  readonly handshakeLatency?: HandshakeLatency;
}

export interface Invocation {
  readonly report: RunReport | undefined;
  readonly error: unknown;
  readonly wallMs: number;
  /** The calls the emulator answered during the invocation (rotation steps' calls included). */
  readonly calls: readonly CallRecord[];
  /** ms left on the fake Lambda clock when the handler returned. */
  readonly msBeforeTimeout?: number | undefined;
}

/** One rotation step Secrets Manager had Lambda run: the handler's invocation for it. */
export interface StepInvocation {
  readonly step: string;
  readonly secretId: string;
  readonly wallMs: number;
  readonly error?: string | undefined;
}

/** Everything the handler printed (logs, EMF metrics): scanned for leaked secrets (I5). */
export const captured: string[] = [];

export class BenchWorld {
  readonly emulator: AwsEmulator;
  readonly deployed: DeployedConfiguration;
  readonly policy: Policy;
  readonly functionArn: string;
  private server: { url: string; close: () => Promise<void> } | undefined;
  private edges: ServiceEdges | undefined;
  private handler: ReturnType<typeof createHandler> | undefined;
  readonly reports: RunReport[] = [];
  readonly errors: unknown[] = [];
  readonly steps: StepInvocation[] = [];
  private readonly bySecretName = new Map<string, DeclaredTarget>();
  private readonly byPair = new Map<string, DeclaredTarget>();

  constructor(private readonly options: BenchWorldOptions = {}) {
    this.deployed = options.deployed ?? deployed();
    this.policy = this.deployed.policy;
    this.functionArn = fakeLambdaContext({ functionName: FUNCTION_NAME }).invokedFunctionArn;
    this.emulator = new AwsEmulator({
      iamPageSize: 1000,
      reservedConcurrency: this.deployed.reservedConcurrency,
      // What AWS does not document, the unfavourable way: a throttled step is never retried.
      throttledStepRetry: 'none',
      ...options.emulator,
    });
  }

  async start(): Promise<this> {
    this.server = await this.emulator.listen({ host: '127.0.0.1', port: 0 });
    this.edges = await startServiceEdges(this.emulator, {
      handshakeLatency: this.options.handshakeLatency ?? HANDSHAKE_LATENCY,
    });
    // The production client factory, pointed at this emulator the standard way.
    process.env.AWS_ENDPOINT_URL = this.server.url;
    const clients = createClients();
    const credentials: CredentialsPort = new IamCredentials(clients.iam);
    const secrets: SecretsPort & SecretRotationPort = new SecretsStore(clients.secrets);
    const config: Config = {
      policy: this.policy,
      secretNamePrefix: 'service-credentials/',
      eventBusName: undefined,
      bulkCredentialListing: this.options.bulkCredentialListing ?? this.deployed.bulkCredentialListing,
      ...(this.deployed.verification ? { verification: this.deployed.verification } : {}),
    };
    const declaredTargets: DeclaredTargets | undefined = this.deployed.declaredTargets
      ? { bySecretName: this.bySecretName, byPair: this.byPair }
      : undefined;
    this.handler = createHandler({
      config,
      credentials,
      secrets,
      declaredTargets,
      now: () => this.emulator.clock.now(),
      // As the Lambda entry point builds it, aimed at the edges instead of AWS's endpoints.
      verifyCredential: createVerifier({
        probe: new ServiceProbes({
          ca: this.edges.ca,
          keyspacesEndpoint: this.edges.cqlEndpoint,
          bedrockBaseUrl: this.edges.httpsUrl,
          codeCommitBaseUrl: this.edges.httpsUrl,
          logsBaseUrl: this.edges.httpsUrl,
        }),
        region: this.emulator.region,
        defaultMode: this.deployed.verification,
      }),
    });
    // Secrets Manager's rotation steps: Lambda runs the handler (Rotations counts the slot).
    this.emulator.rotations.invoker = (_arn, event) => this.runStep(event);
    return this;
  }

  async stop(): Promise<void> {
    await this.emulator.rotations.settled();
    await this.edges?.close();
    await this.server?.close();
  }

  /**
   * Users user-<prefix><i> with one Active credential each, recorded in a tagged, declared
   * secret with the deployed rotation schedule: Secrets Manager's schedule names the
   * function, and its testSecret check at deployment (RotateImmediatelyOnUpdate false) has
   * run. Returns the secrets' ARNs.
   */
  async seed(options: SeedOptions): Promise<string[]> {
    const services = options.services ?? BENCH_SERVICES;
    const arns: string[] = [];
    const { rotations } = this.emulator;
    // The deployment's testSecret checks ran one after another, long before the bench: they
    // neither hold the bench's slots nor appear among its invocations.
    const invoker = rotations.invoker;
    const reserved = rotations.reservedConcurrency;
    rotations.invoker = async () => {};
    rotations.reservedConcurrency = undefined;
    this.emulator.clock.advance(-options.ageDays * DAY_MS);
    try {
      for (let i = 0; i < options.count; i++) {
        const user = `user-${options.prefix ?? ''}${String(i).padStart(5, '0')}`;
        const service = services[i % services.length] as string;
        const secretName = `service-credentials/${user}/${service}`;
        if (!this.emulator.iam.hasUser(user)) this.emulator.iam.createUser(user);
        const view = this.emulator.iam.issueCredential(user, service);
        const arn = this.emulator.secrets.createSecret(secretName, {
          tags: { [USER_NAME_TAG]: user, [SERVICE_NAME_TAG]: service },
          value: serializeRecord(recordFromIssued(toIssuedCredential('seed', view))),
        });
        arns.push(arn);
        const declared: DeclaredTarget = { secretName, userName: user, serviceName: service };
        this.bySecretName.set(secretName, declared);
        this.byPair.set(pairKey(user, service), declared);
        this.emulator.secrets.RotateSecret({
          SecretId: arn,
          RotationLambdaARN: this.functionArn,
          RotationRules: { AutomaticallyAfterDays: this.deployed.rotationRuleDays },
          RotateImmediately: this.deployed.rotateImmediatelyOnUpdate,
        });
      }
      await rotations.settled();
    } finally {
      this.emulator.clock.advance(options.ageDays * DAY_MS);
      rotations.invoker = invoker;
      rotations.reservedConcurrency = reserved;
    }
    return arns;
  }

  /** The credential id each target's AWSCURRENT record names. */
  currentCredentials(): Map<string, string | undefined> {
    const out = new Map<string, string | undefined>();
    for (const s of this.emulator.secrets.all()) {
      if (!this.bySecretName.has(s.name)) continue;
      const value = this.emulator.secrets.valueAt(s.arn);
      let id: string | undefined;
      try {
        id = (JSON.parse(value ?? '') as { credentialId?: string }).credentialId;
      } catch {
        id = undefined;
      }
      out.set(s.arn, id);
    }
    return out;
  }

  /**
   * Targets rotated since `before`: AWSCURRENT names another credential. Counted from state,
   * not from the report, so a rotation Secrets Manager's steps did counts as much as one
   * the run did itself.
   */
  rotatedSince(before: ReadonlyMap<string, string | undefined>): string[] {
    return [...this.currentCredentials()]
      .filter(([arn, id]) => id !== undefined && before.get(arn) !== id)
      .map(([arn]) => arn);
  }

  /**
   * Invokes the real handler once, as Lambda does: holding one of the function's reserved
   * slots while it runs. `remainingMs` fakes the deadline (default: the deployed timeout).
   * Waits for the rotation steps Secrets Manager started meanwhile before returning.
   */
  async invoke(event: unknown, remainingMs = this.deployed.timeoutSeconds * 1000): Promise<Invocation> {
    const handler = this.handler;
    if (!handler) throw new Error('start() the world first');
    const since = this.emulator.calls.length;
    const context = fakeLambdaContext({ functionName: FUNCTION_NAME, remainingMs: countdown(remainingMs) });
    const started = performance.now();
    let report: RunReport | undefined;
    let error: unknown;
    const restore = captureOutput();
    // A long run (thousands of throttled rotations take minutes) says how far it is.
    const heartbeat =
      progressEveryMs > 0
        ? setInterval(() => {
            const calls = this.emulator.calls.slice(since);
            const stored = calls.filter((c) => c.operation === 'PutSecretValue' && c.outcome === 'OK').length;
            const throttled = calls.filter((c) => c.outcome.startsWith('Throttling')).length;
            progress(
              `        … ${Math.round((performance.now() - started) / 1000)} s into the run: ` +
                `${stored} secret values stored, ${calls.length} AWS calls (${throttled} throttled)`,
            );
          }, progressEveryMs)
        : undefined;
    let msBeforeTimeout: number | undefined;
    try {
      report = await this.emulator.rotations.asInvocation(() => handler(event, context));
    } catch (e) {
      error = e;
      // A RunFailedError still carries the run; the report itself is in the logs.
    } finally {
      msBeforeTimeout = context.getRemainingTimeInMillis();
      clearInterval(heartbeat);
      restore();
    }
    const wallMs = performance.now() - started;
    await this.emulator.rotations.settled();
    if (report) this.reports.push(report);
    if (error) this.errors.push(error);
    return { report, error, wallMs, calls: this.emulator.calls.slice(since), msBeforeTimeout };
  }

  /** One rotation step, as Lambda runs it for Secrets Manager: throws when the handler does. */
  private async runStep(event: RotationEvent): Promise<void> {
    const handler = this.handler;
    if (!handler) throw new Error('start() the world first');
    const context = fakeLambdaContext({
      functionName: FUNCTION_NAME,
      remainingMs: countdown(this.deployed.timeoutSeconds * 1000),
    });
    const started = performance.now();
    const restore = captureOutput();
    try {
      const report = await handler(event, context);
      if (report) this.reports.push(report);
      this.steps.push({ step: event.Step, secretId: event.SecretId, wallMs: performance.now() - started });
    } catch (e) {
      this.errors.push(e);
      this.steps.push({
        step: event.Step,
        secretId: event.SecretId,
        wallMs: performance.now() - started,
        error: e instanceof Error ? e.name : String(e),
      });
      throw e;
    } finally {
      restore();
    }
  }
}

let captures = 0;
let originals: ((...args: never[]) => boolean)[] = [];

/**
 * Keeps what the handler writes (logs go to stdout and stderr, metrics to stdout). Nested and
 * overlapping captures (a rotation step during a run) share one swap: the last to end restores.
 */
function captureOutput(): () => void {
  const streams = [process.stdout, process.stderr];
  if (captures++ === 0) {
    originals = streams.map((s) => s.write.bind(s) as (...args: never[]) => boolean);
    for (const stream of streams) {
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }) as typeof stream.write;
    }
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--captures > 0) return;
    streams.forEach((s, i) => {
      s.write = originals[i] as unknown as typeof s.write;
    });
  };
}

/** Calls per operation, most frequent first. */
export function countByOperation(calls: readonly CallRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
