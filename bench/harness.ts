// The bench's world: a local AWS emulator served over HTTP on 127.0.0.1, the production SDK
// clients (createClients: adaptive retries) pointed at it through AWS_ENDPOINT_URL, and the
// real Lambda handler (createHandler) invoked with a fake Lambda context. Targets are seeded
// straight into the emulator's models (fast), exactly as a completed run would leave them.
import { AwsEmulator, type AwsEmulatorOptions, type CallRecord } from '../emulator/index.ts';
import { createClients } from '../lambda/aws/clients.ts';
import { IamCredentials, toIssuedCredential } from '../lambda/aws/iam.ts';
import type { CredentialsPort, SecretRotationPort, SecretsPort } from '../lambda/aws/ports.ts';
import { SecretsStore } from '../lambda/aws/secrets.ts';
import type { Config } from '../lambda/config.ts';
import { createHandler } from '../lambda/handler.ts';
import type { Policy, RunReport } from '../lambda/rotation/model.ts';
import { recordFromIssued, serializeRecord } from '../lambda/rotation/record.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/contract.ts';
import { countdown, fakeLambdaContext } from '../invariants/index.ts';

export const KEYSPACES = 'cassandra.amazonaws.com';

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
export const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

export interface SeedOptions {
  /** How many targets (user i, one service each). */
  readonly count: number;
  /** Age in days of each target's current credential (31 = due, 1 = quiet). */
  readonly ageDays: number;
  readonly serviceName?: string;
}

export interface BenchWorldOptions {
  readonly emulator?: AwsEmulatorOptions;
  /** The opt-in AllUsers IAM listing (BULK_CREDENTIAL_LISTING). @default false, as deployed */
  readonly bulkCredentialListing?: boolean;
  /** Replace the adapters (e.g. answer the bulk reads with nothing to measure the fallback). */
  readonly wrapPorts?: (ports: {
    credentials: CredentialsPort;
    secrets: SecretsPort & SecretRotationPort;
  }) => {
    credentials: CredentialsPort;
    secrets: SecretsPort & SecretRotationPort;
  };
}

export interface Invocation {
  readonly report: RunReport | undefined;
  readonly error: unknown;
  readonly wallMs: number;
  /** The calls the emulator answered during the invocation. */
  readonly calls: readonly CallRecord[];
  /** ms left on the fake Lambda clock when the handler returned (when a deadline was set). */
  readonly msBeforeTimeout?: number | undefined;
}

/** Everything the handler printed (logs, EMF metrics): scanned for leaked secrets (I5). */
export const captured: string[] = [];

export class BenchWorld {
  readonly emulator: AwsEmulator;
  private server: { url: string; close: () => Promise<void> } | undefined;
  private handler: ReturnType<typeof createHandler> | undefined;
  readonly reports: RunReport[] = [];
  readonly errors: unknown[] = [];

  constructor(private readonly options: BenchWorldOptions = {}) {
    this.emulator = new AwsEmulator({ iamPageSize: 1000, ...options.emulator });
  }

  async start(): Promise<this> {
    this.server = await this.emulator.listen({ host: '127.0.0.1', port: 0 });
    // The production client factory, pointed at this emulator the standard way.
    process.env.AWS_ENDPOINT_URL = this.server.url;
    const clients = createClients();
    const ports = {
      credentials: new IamCredentials(clients.iam) as CredentialsPort,
      secrets: new SecretsStore(clients.secrets) as SecretsPort & SecretRotationPort,
    };
    const { credentials, secrets } = this.options.wrapPorts?.(ports) ?? ports;
    const config: Config = {
      policy: POLICY,
      secretNamePrefix: 'service-credentials/',
      eventBusName: undefined,
      bulkCredentialListing: this.options.bulkCredentialListing ?? false,
    };
    this.handler = createHandler({ config, credentials, secrets, now: () => this.emulator.clock.now() });
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  /** Users user-<prefix><i> with one Active credential each, recorded in a tagged secret. */
  seed(options: SeedOptions & { prefix?: string }): string[] {
    const service = options.serviceName ?? KEYSPACES;
    const arns: string[] = [];
    this.emulator.clock.advance(-options.ageDays * DAY_MS);
    for (let i = 0; i < options.count; i++) {
      const user = `user-${options.prefix ?? ''}${String(i).padStart(5, '0')}`;
      if (!this.emulator.iam.hasUser(user)) this.emulator.iam.createUser(user);
      const view = this.emulator.iam.issueCredential(user, service);
      arns.push(
        this.emulator.secrets.createSecret(`service-credentials/${user}/${service}`, {
          tags: { [USER_NAME_TAG]: user, [SERVICE_NAME_TAG]: service },
          value: serializeRecord(recordFromIssued(toIssuedCredential('seed', view))),
        }),
      );
    }
    this.emulator.clock.advance(options.ageDays * DAY_MS);
    return arns;
  }

  /** Invokes the real handler once; `remainingMs` fakes the Lambda deadline. */
  async invoke(event: unknown, remainingMs = 900_000): Promise<Invocation> {
    if (!this.handler) throw new Error('start() the world first');
    const since = this.emulator.calls.length;
    const context = fakeLambdaContext({
      functionName: 'credential-rotator-bench',
      remainingMs: countdown(remainingMs),
    });
    const started = performance.now();
    let report: RunReport | undefined;
    let error: unknown;
    const restore = captureOutput();
    // A long run (2,000 throttled rotations take minutes) says how far it is.
    const heartbeat =
      progressEveryMs > 0
        ? setInterval(() => {
            const calls = this.emulator.calls.slice(since);
            const stored = calls.filter((c) => c.operation === 'PutSecretValue' && c.outcome === 'OK').length;
            const throttled = calls.filter((c) => c.outcome.startsWith('Throttling')).length;
            progress(
              `        … ${Math.round((performance.now() - started) / 1000)} s into the run: ` +
                `${stored} secrets stored, ${calls.length} AWS calls (${throttled} throttled)`,
            );
          }, progressEveryMs)
        : undefined;
    try {
      report = await this.handler(event, context);
    } catch (e) {
      error = e;
      // A RunFailedError still carries the run; the report itself is in the logs.
    } finally {
      clearInterval(heartbeat);
      restore();
    }
    const wallMs = performance.now() - started;
    if (report) this.reports.push(report);
    if (error) this.errors.push(error);
    return {
      report,
      error,
      wallMs,
      calls: this.emulator.calls.slice(since),
      msBeforeTimeout: context.getRemainingTimeInMillis(),
    };
  }
}

/** Keeps what the handler writes (logs go to stdout and stderr, metrics to stdout). */
function captureOutput(): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write.bind(s));
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof stream.write;
  }
  return () => {
    streams.forEach((s, i) => {
      s.write = originals[i] as typeof s.write;
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
