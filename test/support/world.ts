// A test world: the local emulator (in-process, or over HTTP), the real SDK clients and
// adapters, the executor, captured logs, and live invariant guards. Scenario, property and
// fault tests are written against it so every one of them checks I1–I6 the same way.
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterEach, expect } from 'vitest';
import { AwsEmulator, type AwsEmulatorOptions } from '../../emulator/index.ts';
import { IamCredentials } from '../../lambda/aws/iam.ts';
import type { CredentialsPort } from '../../lambda/aws/ports.ts';
import { SecretsStore } from '../../lambda/aws/secrets.ts';
import type { Command } from '../../lambda/rotation/commands.ts';
import type { Policy, RunReport } from '../../lambda/rotation/model.ts';
import { DAY_MS } from '../../lambda/rotation/retirement.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import type { Log, RunDeps } from '../../lambda/rotation/deps.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import type { Verification, VerifyCredential } from '../../lambda/rotation/verification.ts';
import {
  describeForScan,
  findLeakedSecrets,
  lockoutProblems,
  recordedId,
  retireProblems,
  type StrayOptions,
  strayProblems,
  writeCalls,
} from '../../invariants/index.ts';

export const DEFAULT_TEST_POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

export interface WorldOptions {
  readonly policy?: Policy;
  readonly emulator?: AwsEmulatorOptions;
  /** Share this emulator (overlapping runs from two worlds); `emulator` options are then ignored. */
  readonly sharedEmulator?: AwsEmulator;
  /**
   * Talk to the emulator over HTTP at this url (from `emulator.listen()`) instead of the
   * in-process request handler: a lost response is then a destroyed socket.
   */
  readonly endpoint?: string;
  /** Attempts per SDK call (the SDK's default is 3). */
  readonly maxAttempts?: number;
  /**
   * A fixed delay between the SDK's retries, in ms (0: retry at once). Default: the SDK's own
   * exponential backoff. Only the timing differs; which errors are retried stays the SDK's call.
   */
  readonly retryDelayMs?: number;
  readonly concurrency?: number;
  /** Observe with IAM's AllUsers listing (the executor's opt-in bulk mode). */
  readonly bulkCredentialListing?: boolean;
  /** Checks each issued credential with the service (a verifier over the edges, or a scripted one). */
  readonly verifyCredential?: VerifyCredential;
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly data?: Record<string, unknown> | undefined;
}

/** A logger that appends each record to `logs`, for tests to assert on. */
export function recordingLog(logs: LogLine[]): Log {
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => {
    logs.push({ level, message, data });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export class World {
  readonly emulator: AwsEmulator;
  readonly policy: Policy;
  readonly logs: LogLine[] = [];
  readonly reports: RunReport[] = [];
  readonly errors: unknown[] = [];
  /** I2/I3 violations seen at the moment of the offending call. */
  readonly violations: string[] = [];
  readonly iamClient: IAMClient;
  readonly secretsClient: SecretsManagerClient;
  readonly credentials: CredentialsPort;
  readonly secrets: SecretsStore;
  private readonly concurrency: number | undefined;
  private readonly bulkCredentialListing: boolean;
  /** Every verdict (or error) the verifier gave: scanned for secrets like everything else (I5). */
  readonly verifications: (Verification | unknown)[] = [];
  /** The verifier the runs use; replace it to change a probe's verdict between runs. */
  verifyCredential: VerifyCredential | undefined;
  /**
   * Other text this world's secrets must never appear in (I5): what the handler wrote to
   * stdout/stderr, the EventBridge events it would send, errors seen outside `run()`.
   */
  readonly scanned: string[] = [];
  /** Credentials the rotator created or reset through the guarded port (I3 knows them as its own). */
  private readonly issuedByRotator = new Set<string>();
  /** Set while a manual forced rotate runs: the only time an early delete is allowed. */
  private forced = false;

  /** Every world created in the current test: the global afterEach below scans them all (I5). */
  static readonly live = new Set<World>();

  constructor(options: WorldOptions = {}) {
    this.policy = options.policy ?? DEFAULT_TEST_POLICY;
    this.emulator = options.sharedEmulator ?? new AwsEmulator(options.emulator);
    this.concurrency = options.concurrency;
    this.bulkCredentialListing = options.bulkCredentialListing ?? false;
    this.verifyCredential = options.verifyCredential;
    const maxAttempts = options.maxAttempts ?? 3;
    const client = {
      region: 'us-east-1',
      endpoint: options.endpoint ?? 'http://aws.emulator.invalid',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...(options.endpoint ? {} : { requestHandler: this.emulator.requestHandler() }),
      maxAttempts,
      ...(options.retryDelayMs !== undefined
        ? { retryStrategy: new ConfiguredRetryStrategy(maxAttempts, options.retryDelayMs) }
        : {}),
    };
    World.live.add(this);
    this.iamClient = new IAMClient(client);
    this.secretsClient = new SecretsManagerClient(client);
    this.credentials = this.guard(new IamCredentials(this.iamClient));
    this.secrets = new SecretsStore(this.secretsClient);
  }

  now(): Date {
    return this.emulator.clock.now();
  }

  advanceDays(days: number): void {
    this.emulator.clock.advance(days * DAY_MS);
  }

  /** Creates the IAM user (if new) and its tagged secret with a placeholder, as the stack does. */
  addTarget(
    userName: string,
    serviceName: string,
    opts: { secretName?: string; value?: string } = {},
  ): string {
    if (!this.emulator.iam.hasUser(userName)) this.emulator.iam.createUser(userName);
    return this.emulator.secrets.createSecret(
      opts.secretName ?? `service-credentials/${userName}/${serviceName}`,
      {
        tags: { [USER_NAME_TAG]: userName, [SERVICE_NAME_TAG]: serviceName },
        value: opts.value ?? 'placeholder: the first run issues a credential',
      },
    );
  }

  readonly log: Log = recordingLog(this.logs);

  /** The dependencies a test run needs, on this world's ports and clock, plus `extra`. */
  deps(extra: Partial<RunDeps> = {}): RunDeps {
    return {
      credentials: this.credentials,
      secrets: this.secrets,
      policy: this.policy,
      now: () => this.now(),
      log: this.log,
      ...extra,
    };
  }

  /**
   * Runs the executor once; a thrown error is recorded and rethrown. Each run is a new
   * invocation (a random request id) unless `requestId` is given: Lambda's retry of an
   * invocation keeps its id.
   */
  async run(
    command: Command = { action: 'reconcile', dryRun: false },
    opts: { readonly requestId?: string } = {},
  ): Promise<RunReport> {
    // A forced rotate and a revoke are the only commands that may delete before the grace period.
    this.forced =
      ((command.action === 'rotate' && command.force) || command.action === 'revoke') && !command.dryRun;
    try {
      const report = await runCommand(command, {
        credentials: this.credentials,
        secrets: this.secrets,
        policy: this.policy,
        now: () => this.now(),
        log: this.log,
        concurrency: this.concurrency,
        bulkCredentialListing: this.bulkCredentialListing,
        requestId: opts.requestId,
        verifyCredential: this.verifier(),
      });
      this.reports.push(report);
      return report;
    } catch (error) {
      this.errors.push(error);
      throw error;
    } finally {
      this.forced = false;
    }
  }

  /** Write calls the emulator answered since `since` (an index into the call log). */
  writesSince(since: number): string[] {
    return writeCalls(this.emulator.calls.slice(since));
  }

  /** The credential id AWSCURRENT of `secretId` records, if it is a record. */
  recordedId(secretId: string): string | undefined {
    return recordedId(this.emulator, secretId);
  }

  /** I1 for every target (or the given secrets); see verify/invariants.ts. */
  expectNoLockout(secretIds?: readonly string[]): void {
    expect(lockoutProblems(this.emulator, secretIds).map((p) => p.message)).toEqual([]);
  }

  /** I4 at rest for every target (or the given secrets); see verify/invariants.ts. */
  expectNoStrayCredentials(secretIds?: readonly string[], opts: Omit<StrayOptions, 'secretIds'> = {}): void {
    const problems = strayProblems(this.emulator, this.policy, { ...opts, secretIds });
    expect(problems.map((p) => p.message)).toEqual([]);
  }

  /** I5: no issued password or API key appears in logs, reports or errors. */
  expectNoLeaks(extra: unknown[] = []): void {
    const issued = this.emulator.issuedSecrets();
    expect(issued.length).toBeGreaterThan(0);
    expect(this.leakedSecrets(extra), 'I5: an issued secret appears in logs, reports or errors').toEqual([]);
  }

  /**
   * The issued passwords and API keys found in what this world logged, reported, threw or was
   * given to scan (`scanned`, `extra`), named by position, never by value.
   */
  leakedSecrets(extra: unknown[] = []): string[] {
    const texts = [
      ...this.logs,
      ...this.reports,
      ...this.errors,
      ...this.verifications,
      ...this.scanned,
      ...extra,
    ].map(describeForScan);
    return findLeakedSecrets(texts, this.emulator.issuedSecrets());
  }

  /** I6: a run right after a completed one writes nothing. */
  async expectIdempotent(command: Command = { action: 'reconcile', dryRun: false }): Promise<void> {
    const since = this.emulator.calls.length;
    await this.run(command);
    expect(this.writesSince(since), 'I6: a second run writes nothing').toEqual([]);
  }

  expectNoViolations(): void {
    expect(this.violations, 'I2/I3 violations').toEqual([]);
  }

  /** Everything at once, after a completed fault-free run. */
  async expectInvariants(secretIds?: readonly string[]): Promise<void> {
    this.expectNoViolations();
    this.expectNoLockout(secretIds);
    this.expectNoStrayCredentials(secretIds);
    await this.expectIdempotent();
    this.expectNoLockout(secretIds);
    this.expectNoLeaks();
  }

  /** The world's verifier (if any), with every verdict and error kept for the leak scan. */
  verifier(): VerifyCredential | undefined {
    const verify = this.verifyCredential;
    if (!verify) return undefined;
    return async (target, issued, options) => {
      try {
        // The run's retry budget (its time left) goes through, as the deployed verifier gets it.
        const v = await verify(target, issued, options);
        this.verifications.push(v);
        return v;
      } catch (error) {
        this.verifications.push(error);
        throw error;
      }
    };
  }

  /**
   * Wraps the IAM port so that I2 and I3 are checked at the moment of each deactivate or
   * delete, against what Secrets Manager records right then.
   */
  private guard(port: CredentialsPort): CredentialsPort {
    const check = (op: 'deactivate' | 'delete', userName: string, id: string) => {
      const problems = retireProblems(
        this.emulator,
        this.policy,
        { op, userName, id },
        this.forced,
        this.issuedByRotator,
      );
      this.violations.push(...problems.map((p) => p.message));
    };
    return {
      listCredentials: (u, s) => port.listCredentials(u, s),
      listAllCredentials: (s) => port.listAllCredentials(s),
      createCredential: async (u, s, age) => {
        const issued = await port.createCredential(u, s, age);
        this.issuedByRotator.add(issued.id);
        return issued;
      },
      resetCredential: async (u, id) => {
        const issued = await port.resetCredential(u, id);
        this.issuedByRotator.add(issued.id);
        return issued;
      },
      setCredentialStatus: async (u, id, status) => {
        if (status === 'Inactive') check('deactivate', u, id);
        return port.setCredentialStatus(u, id, status);
      },
      deleteCredential: async (u, id) => {
        check('delete', u, id);
        return port.deleteCredential(u, id);
      },
    };
  }
}

// I5 everywhere: after every test of a file that uses World, everything each world logged,
// reported, threw or captured is scanned for every secret its emulator issued.
afterEach(() => {
  const worlds = [...World.live];
  World.live.clear();
  const leaks = worlds.flatMap((w) => w.leakedSecrets());
  expect(leaks, 'I5: an issued secret appears in logs, reports, errors or captured output').toEqual([]);
});
