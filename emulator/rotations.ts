// Secrets Manager's side of rotation: after RotateSecret has answered, it invokes the secret's
// rotation function once per step (createSecret, setSecret, testSecret, finishSecret) and,
// after finishSecret, checks that AWSCURRENT moved to the new version. A failed step stops the
// rotation, which stays "in progress" (AWSPENDING on a version other than AWSCURRENT) until a
// retry. AWS runs all this in the background and documents that it "retries the entire
// rotation process multiple times" when rotation fails (DescribeSecret, NextRotationDate), not
// when or how often; here an injected invoker runs each step, tests await `settled()`, and
// retries and scheduled rotations happen only when asked (`retryPendingRotations()`,
// `runScheduledRotations()`): no timers.
//
// Lambda's side: with `reservedConcurrency` set, a step invoked while that many invocations of
// the function are in flight (`occupy()`, e.g. the scheduled run; or a step still running) is
// throttled (TooManyRequestsException) and never reaches the function. AWS does not say whether
// Secrets Manager retries a rotation whose step was throttled; `throttledStepRetry` chooses:
// `none` (the default, the unfavourable reading) leaves the rotation as it stands for good,
// AWSPENDING on an empty version (createSecret throttled) or on a filled one (a later step),
// and neither retryPendingRotations() nor the schedule takes it up again; `later` retries it
// like any failed rotation.
import type { Faults } from './faults.ts';
import type { RotationStart, SecretsModel } from './secrets.ts';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
export const ROTATION_STEPS: readonly RotationStep[] = [
  'createSecret',
  'setSecret',
  'testSecret',
  'finishSecret',
];

/** The event Secrets Manager sends the rotation function for one step. */
export interface RotationEvent {
  readonly Step: RotationStep;
  /** The secret's ARN. */
  readonly SecretId: string;
  /** The new version's id (the RotateSecret token). */
  readonly ClientRequestToken: string;
  /** Sent by AWS to functions that act on another account's secret; absent here. */
  readonly RotationToken?: string | undefined;
}

/** Runs one step: the function at `lambdaArn` with `event`. Throwing (or rejecting) fails the step. */
export type RotationInvoker = (lambdaArn: string, event: RotationEvent) => unknown;

/**
 * Fault injection for step invocations, with the usual kinds: `faults.add({ operation:
 * ROTATION_STEP_OPERATION, kind, match: (p) => p.Step === 'setSecret' })`. `fail` fails the step
 * without invoking the function (Lambda refused the invocation); `throttle` is Lambda's
 * throttling of it (TooManyRequestsException), retried only as `throttledStepRetry` says;
 * `lose-response` invokes it and then counts the step as failed (the answer never came: a
 * timeout); `crash-after` invokes it, then the emulated service crashes.
 */
export const ROTATION_STEP_OPERATION = 'RotationStep';

/** The outcome of a step Lambda throttled: its error code for a synchronous Invoke (HTTP 429). */
export const THROTTLED_STEP = 'TooManyRequestsException';

/**
 * What Secrets Manager does with a rotation whose step Lambda throttled: `none`, never take it
 * up again (AWS documents nothing either way: the unfavourable reading); `later`, retry it as
 * a failed rotation (same token, all four steps) when retries or the schedule come.
 */
export type ThrottledStepRetry = 'none' | 'later';

/**
 * An invoker that calls the function over HTTP the way Lambda's Invoke API is called
 * (POST `<endpoint>/2015-03-31/functions/<function>/invocations`, the event as the body), for
 * a standalone emulator and a locally served function. A non-2xx answer, or Lambda's
 * `X-Amz-Function-Error` header (the function threw), fails the step.
 */
export function httpInvoker(endpoint: string): RotationInvoker {
  return async (lambdaArn, event) => {
    const url = `${endpoint.replace(/\/$/, '')}/2015-03-31/functions/${encodeURIComponent(lambdaArn)}/invocations`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    await response.arrayBuffer();
    const functionError = response.headers.get('x-amz-function-error');
    if (!response.ok || functionError) {
      throw Object.assign(
        new Error(`${event.Step} failed: HTTP ${response.status} ${functionError ?? ''}`.trim()),
        {
          name: functionError ? 'FunctionError' : `Http${response.status}`,
        },
      );
    }
  };
}

export interface StepRecord {
  readonly step: RotationStep;
  /** 'OK', the error's name, or the fault that hit the invocation. */
  readonly outcome: string;
}

export interface RotationRecord {
  readonly secretArn: string;
  readonly token: string;
  /** What started it. */
  cause: 'RotateSecret' | 'retry' | 'schedule';
  readonly steps: StepRecord[];
  /**
   * `succeeded`: finishSecret ran and AWSCURRENT is on the token's version; `tested`: the
   * testSecret-only check of RotateImmediately=false passed; `failed`: a step failed or
   * AWSCURRENT did not move (the rotation stays pending); `cancelled`: CancelRotateSecret, a
   * deletion or a label move ended it between steps.
   */
  status: 'running' | 'succeeded' | 'tested' | 'failed' | 'cancelled';
  /** Lambda throttled a step; under throttledStepRetry `none` nothing ever retries this rotation. */
  throttled?: boolean;
}

export class Rotations {
  /** Runs the steps; without one, a started rotation fails at its first step. */
  invoker: RotationInvoker | undefined;
  /**
   * `async` (AWS's way): RotateSecret answers first, the steps run afterwards. `sync`: the
   * RotateSecret answer waits until the steps have run (simple tests).
   */
  mode: 'async' | 'sync' = 'async';
  /**
   * The rotation function's reserved concurrency: a step invoked while this many invocations
   * are in flight is throttled. `undefined`: no limit (no step is ever throttled for it).
   */
  reservedConcurrency: number | undefined;
  /** Whether a rotation whose step was throttled is ever retried. @default 'none' */
  throttledStepRetry: ThrottledStepRetry = 'none';
  private inFlight = 0;
  /** `<arn> <token>` of rotations given up after a throttled step (throttledStepRetry `none`). */
  private readonly abandoned = new Set<string>();
  private readonly running = new Set<Promise<RotationRecord>>();
  /** The run of each token started, so the schedule can await the rotations it starts. */
  private readonly byToken = new Map<string, Promise<RotationRecord>>();
  private readonly records: RotationRecord[] = [];

  constructor(
    private readonly secrets: SecretsModel,
    private readonly faults: Faults,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Every rotation Secrets Manager ran or is running, oldest first. */
  get history(): readonly RotationRecord[] {
    return this.records;
  }

  /** Invocations of the rotation function in flight: held slots and steps running. */
  get invocationsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Holds one of the function's concurrency slots, as an invocation of it in flight (the
   * scheduled run, a manual invoke) does, until the returned release is called (once).
   */
  occupy(): () => void {
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  /** Runs `invocation` as one invocation of the rotation function: it holds a slot meanwhile. */
  async asInvocation<T>(invocation: () => Promise<T>): Promise<T> {
    const release = this.occupy();
    try {
      return await invocation();
    } finally {
      release();
    }
  }

  /** Whether Secrets Manager has given this rotation up (a throttled step, no retry). */
  isAbandoned(secretArn: string, token: string): boolean {
    return this.abandoned.has(`${secretArn} ${token}`);
  }

  /** Resolves when no rotation is running (also those started while waiting). */
  async settled(): Promise<readonly RotationRecord[]> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    return this.records;
  }

  /** Called by the model when RotateSecret starts a rotation. */
  start(start: RotationStart, cause: RotationRecord['cause'] = 'RotateSecret'): Promise<RotationRecord> {
    const record: RotationRecord = {
      secretArn: start.secretArn,
      token: start.token,
      cause,
      steps: [],
      status: 'running',
    };
    this.records.push(record);
    // After the current call has answered, as AWS's rotation runs after RotateSecret returns.
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run(start, record));
    this.running.add(run);
    this.byToken.set(start.token, run);
    void run.finally(() => {
      this.running.delete(run);
      if (this.byToken.get(start.token) === run) this.byToken.delete(start.token);
    });
    return run;
  }

  /**
   * Secrets Manager's retry of rotations left unfinished (a step failed, or the service
   * crashed between steps): the four steps again, with the same token. Resolves when done.
   */
  async retryPendingRotations(): Promise<RotationRecord[]> {
    await this.settled();
    const started = this.retriable().map((r) => this.start(r, 'retry'));
    return Promise.all(started);
  }

  /**
   * Secrets Manager's own schedule: starts a rotation (as RotateSecret without parameters
   * would) for every secret whose NextRotationDate's day has come on the virtual clock.
   * A secret whose last rotation is unfinished is retried instead. Resolves when done.
   */
  async runScheduledRotations(): Promise<RotationRecord[]> {
    await this.settled();
    const all = this.secrets.unfinishedRotations();
    const unfinished = new Map(this.retriable(all).map((r) => [r.secretArn, r]));
    // A rotation given up stays in progress: RotateSecret would refuse a new one, so the
    // schedule starts nothing for that secret either.
    const stuck = new Set(all.filter((r) => this.isAbandoned(r.secretArn, r.token)).map((r) => r.secretArn));
    const started: Promise<RotationRecord>[] = [];
    for (const arn of this.secrets.dueRotations()) {
      if (stuck.has(arn)) continue;
      const retry = unfinished.get(arn);
      if (retry) {
        started.push(this.start(retry, 'retry'));
        continue;
      }
      const token = this.secrets.RotateSecret({ SecretId: arn }).VersionId as string;
      // RotateSecret reported the start through the model's hook: relabel it as the schedule's.
      const record = this.records.findLast((r) => r.token === token);
      if (record) record.cause = 'schedule';
      const run = this.byToken.get(token);
      if (run) started.push(run);
    }
    return Promise.all(started);
  }

  /** Unfinished rotations Secrets Manager would take up again: all but those it gave up. */
  private retriable(all: RotationStart[] = this.secrets.unfinishedRotations()): RotationStart[] {
    return all.filter((r) => !this.isAbandoned(r.secretArn, r.token));
  }

  private async run(start: RotationStart, record: RotationRecord): Promise<RotationRecord> {
    const steps: readonly RotationStep[] = start.immediately ? ROTATION_STEPS : ['testSecret'];
    for (const step of steps) {
      if (!this.secrets.isPending(start.secretArn, start.token)) {
        record.status = 'cancelled';
        return record;
      }
      const outcome = await this.invoke(start, step);
      record.steps.push({ step, outcome });
      if (outcome !== 'OK') {
        record.status = 'failed';
        if (outcome === THROTTLED_STEP) {
          record.throttled = true;
          if (this.throttledStepRetry === 'none') this.abandoned.add(`${start.secretArn} ${start.token}`);
        }
        return record;
      }
    }
    if (!start.immediately) {
      this.secrets.endTestRotation(start.secretArn, start.token);
      record.status = 'tested';
    } else {
      record.status = this.secrets.completeRotation(start.secretArn, start.token) ? 'succeeded' : 'failed';
    }
    this.onChange();
    return record;
  }

  private async invoke(start: RotationStart, step: RotationStep): Promise<string> {
    const event: RotationEvent = { Step: step, SecretId: start.secretArn, ClientRequestToken: start.token };
    if (this.faults.crashed) return 'EmulatedProcessCrash';
    const fault = this.faults.take(ROTATION_STEP_OPERATION, { ...event });
    if (fault?.kind === 'fail') return fault.kind;
    // Lambda refuses the synchronous invocation when the reserved concurrency is taken.
    const full = this.reservedConcurrency !== undefined && this.inFlight >= this.reservedConcurrency;
    if (fault?.kind === 'throttle' || full) return THROTTLED_STEP;
    if (!this.invoker) return 'NoInvoker';
    this.inFlight++;
    try {
      await this.invoker(start.lambdaArn, event);
    } catch (e) {
      return e instanceof Error ? e.name : 'Error';
    } finally {
      this.inFlight--;
    }
    if (fault?.kind === 'crash-after') this.faults.crash();
    return fault ? fault.kind : 'OK';
  }
}
