// Fault injection, latency and rate limits. The wire dispatcher asks `before()` whether to
// answer at once (crashed, throttled, failing), and `after()` what to do with a response
// whose effect was applied (lose it, or crash after it). Rate limits are token buckets over
// real time, as AWS's are.
import { AwsApiError } from './errors.ts';

export type Service = 'iam' | 'secretsmanager' | 'cloudformation';

export type FaultKind = 'fail' | 'lose-response' | 'crash-after' | 'throttle';

export interface FaultSpec {
  /** Operation name (e.g. 'CreateServiceSpecificCredential', 'PutSecretValue') or '*' for any. */
  readonly operation: string;
  readonly kind: FaultKind;
  /** How many matching calls it hits (default 1; Infinity for all). */
  readonly times?: number | undefined;
  /** Only calls whose (request) params satisfy this; default all. */
  readonly match?: ((params: Record<string, unknown>) => boolean) | undefined;
  /** For `fail`: the error to answer (default InternalFailure 500 / InternalServiceError 500). */
  readonly error?: { readonly code: string; readonly status: number; readonly message?: string } | undefined;
}

export interface RateLimits {
  readonly iamCallsPerSecond?: number | undefined;
  /** Create/Put/Update/UpdateSecretVersionStage/Delete/Restore/Tag/Untag. */
  readonly secretsWritesPerSecond?: number | undefined;
  /** Get/Describe/List/BatchGet/ListSecretVersionIds. */
  readonly secretsReadsPerSecond?: number | undefined;
}

class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly ratePerSecond: number) {
    this.tokens = ratePerSecond;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

export const throttlingError = (service: Service): AwsApiError =>
  service !== 'secretsmanager'
    ? new AwsApiError('Throttling', 400, 'Rate exceeded')
    : new AwsApiError('ThrottlingException', 400, 'Rate exceeded');

export const crashError = (): AwsApiError =>
  new AwsApiError(
    'EmulatedProcessCrash',
    400,
    'The emulated AWS process crashed (faults.revive() to recover).',
  );

export class Faults {
  private list: ActiveFault[] = [];
  private buckets: { iam?: TokenBucket; writes?: TokenBucket; reads?: TokenBucket } = {};
  private crashedFlag = false;
  /** Fixed delay per call, real time. */
  latencyMs = 0;

  /** Adds a fault; the first added fault that matches a call wins. */
  add(spec: FaultSpec): void {
    this.list.push({ ...spec, remaining: spec.times ?? 1 });
  }

  /** Removes every fault, the crash state and the rate limits; keeps latency. */
  clear(): void {
    this.list = [];
    this.crashedFlag = false;
    this.buckets = {};
  }

  /** Faults not yet used up. */
  pending(): FaultSpec[] {
    return this.list.filter((f) => f.remaining > 0);
  }

  setRateLimits(limits: RateLimits): void {
    this.buckets = {
      iam: limits.iamCallsPerSecond ? new TokenBucket(limits.iamCallsPerSecond) : undefined,
      writes: limits.secretsWritesPerSecond ? new TokenBucket(limits.secretsWritesPerSecond) : undefined,
      reads: limits.secretsReadsPerSecond ? new TokenBucket(limits.secretsReadsPerSecond) : undefined,
    } as typeof this.buckets;
  }

  get crashed(): boolean {
    return this.crashedFlag;
  }

  crash(): void {
    this.crashedFlag = true;
  }

  /** Ends the emulated crash: requests are served again. */
  revive(): void {
    this.crashedFlag = false;
  }

  /** Picks (and uses up one hit of) the first fault matching this call. */
  take(operation: string, params: Record<string, unknown>): ActiveFault | undefined {
    const f = this.list.find(
      (x) =>
        x.remaining > 0 &&
        (x.operation === '*' || x.operation === operation) &&
        (!x.match || x.match(params)),
    );
    if (f) f.remaining -= 1;
    return f;
  }

  /** True when a rate limit refuses this call (`access`: the operation's, from the catalogue). */
  rateLimited(service: Service, access: 'read' | 'write'): boolean {
    // CloudFormation is not rate limited here: the function reads its stack once per container.
    if (service === 'cloudformation') return false;
    const bucket =
      service === 'iam' ? this.buckets.iam : access === 'write' ? this.buckets.writes : this.buckets.reads;
    return bucket ? !bucket.take() : false;
  }
}
