// Rides out IAM's eventual consistency: a credential IAM has just issued may be refused by
// the service for a while. Only `rejected` is retried, with capped exponential backoff inside
// a total budget; denied/unreachable/verified/skipped are final at once (retrying a missing
// permission or a blocked network only delays the clear answer).
import type { CredentialProbe, ProbeInput, ProbeResult } from './probe.ts';

export interface RetryPolicy {
  /** First wait after a rejection. @default 2000 */
  readonly initialDelayMs: number;
  /** Largest single wait. @default 16000 */
  readonly maxDelayMs: number;
  /** No wait starts that would end past this much time since the first attempt. @default 80000 */
  readonly budgetMs: number;
}

/** About 80 s in all (2+4+8+16+16+16+16 s of waiting, plus the attempts themselves). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 2_000,
  maxDelayMs: 16_000,
  budgetMs: 80_000,
};

export interface RetryTiming {
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds, monotonic enough to measure the budget. */
  readonly now: () => number;
}

const realTiming: RetryTiming = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

export class RetryingProbe implements CredentialProbe {
  constructor(
    private readonly probe: CredentialProbe,
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly timing: RetryTiming = realTiming,
  ) {
    const { initialDelayMs, maxDelayMs, budgetMs } = policy;
    if (!(initialDelayMs > 0 && maxDelayMs >= initialDelayMs && budgetMs >= 0)) {
      throw new RangeError(
        `RetryPolicy: expected 0 < initialDelayMs <= maxDelayMs and budgetMs >= 0, got ${JSON.stringify(policy)}`,
      );
    }
  }

  /**
   * `budgetMs`, when given, lowers the policy's budget for this call (never raises it): the
   * run's time left before its deadline.
   */
  async verify(input: ProbeInput, budgetMs?: number): Promise<ProbeResult> {
    const budget = Math.min(this.policy.budgetMs, Math.max(0, budgetMs ?? this.policy.budgetMs));
    const started = this.timing.now();
    let delay = this.policy.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const last = await this.probe.verify(input);
      const elapsed = this.timing.now() - started;
      if (last.outcome !== 'rejected' || elapsed + delay > budget) {
        const waited = attempt > 1 ? ` after ${attempt} attempts over ${Math.round(elapsed / 1000)} s` : '';
        return { outcome: last.outcome, reason: `${last.reason}${waited}`, attempts: attempt };
      }
      await this.timing.sleep(delay);
      delay = Math.min(delay * 2, this.policy.maxDelayMs);
    }
  }
}
