// The time budget of one invocation, in one place: what a target's writes can take at worst,
// what a verification can take at worst, and from these the shortest function timeout that
// fits one rotation. The construct checks `timeoutSeconds` against it at synth and the
// function checks its context against it on its first invocation, so the two cannot drift.
// No SDK or npm import here: the construct library imports this module.
import { DEFAULT_PROBE_TIMEOUT_MS } from './probes/https.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './probes/retry.ts';

/** Attempts per AWS call, the first included: lambda/aws/clients.ts `createClients`' default. */
export const SDK_MAX_ATTEMPTS = 5;

/**
 * The SDK's (v3, @smithy/core retry 2026 settings) backoff after a throttling error: full
 * jitter over min(1 s × 2^retry, 20 s). The worst case is the cap of every wait.
 */
export const SDK_THROTTLING_BACKOFF_BASE_MS = 1_000;
export const SDK_MAX_BACKOFF_MS = 20_000;

/** The longest the SDK waits between the attempts of one throttled call: 1 + 2 + 4 + 8 s. */
export function throttledCallBackoffMs(maxAttempts: number = SDK_MAX_ATTEMPTS): number {
  let total = 0;
  for (let retry = 0; retry < maxAttempts - 1; retry++) {
    total += Math.min(SDK_THROTTLING_BACKOFF_BASE_MS * 2 ** retry, SDK_MAX_BACKOFF_MS);
  }
  return total;
}

/**
 * IAM writes of one rotation that IAM may throttle (its limits are unpublished and cannot be
 * raised): the Create (or Reset when adopting) and the retirement's Update or Delete. Secrets
 * Manager's writes (50/s per region) are not counted as throttled.
 */
export const IAM_WRITES_PER_ROTATION = 2;

/**
 * What a target's writes need at worst once started: each IAM write through all its
 * attempts at the longest backoff (2 × 15 s = 30 s). The attempts themselves (tens of ms each)
 * fit in the jitter: the full-jitter waits average half their cap. Running out of it is safe,
 * only late (the intent lets the next run finish the target); the reserve makes it rare.
 */
export const TARGET_WRITES_RESERVE_MS = IAM_WRITES_PER_ROTATION * throttledCallBackoffMs();

/**
 * The longest single probe attempt: the per-request (and Keyspaces connect) timeout of every
 * probe (probes/https.ts).
 */
export const PROBE_ATTEMPT_MAX_MS = DEFAULT_PROBE_TIMEOUT_MS;

/**
 * What one verification can take at worst with `policy`: RetryingProbe starts no wait that
 * would end past the budget, so the last attempt starts within it and runs at most one
 * attempt's timeout. With the default policy: 80 s + 10 s = 90 s.
 */
export function verificationBudgetMs(policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return policy.budgetMs + PROBE_ATTEMPT_MAX_MS;
}

/** The verification budget of the deployed function (its default retry policy). */
export const VERIFICATION_BUDGET_MS = verificationBudgetMs();

/**
 * The shortest verification worth starting: one attempt. A verification capped below the
 * propagation time IAM needs answers `rejected` (under `enforce` the target fails safely and
 * the next run retries), so capping is a last resort for the final target of a run.
 */
export const MIN_VERIFICATION_MS = PROBE_ATTEMPT_MAX_MS;

/**
 * The retry budget a verification may use when `remainingMs` are left and the target's writes
 * still need their reserve: the full policy budget if it fits, less otherwise, `undefined`
 * when not even one attempt fits (defer the target instead).
 */
export function cappedRetryBudgetMs(
  remainingMs: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number | undefined {
  const forVerification = remainingMs - TARGET_WRITES_RESERVE_MS;
  if (forVerification < MIN_VERIFICATION_MS) return undefined;
  return Math.min(policy.budgetMs, forVerification - PROBE_ATTEMPT_MAX_MS);
}

/**
 * What reading one target and still reporting the run needs, at worst: its reads through the
 * SDK's longest backoff (15 s). No target is observed with less left: the run would time out
 * before its summary, metrics and events, and the DeferredTargets alarm would not see it. A
 * quiet target needs nothing beyond this; only a plan with writes or a verification asks for more.
 */
export const OBSERVE_RESERVE_MS = throttledCallBackoffMs();

/**
 * The time a target must have left before its plan is carried out, by what the plan does:
 * nothing for a plan without actions; the writes' reserve for one with writes; that plus the
 * whole verification budget for one that issues or adopts a credential whose verification is
 * on (so no verification starts that cannot run its full retries; see cappedRetryBudgetMs for
 * the time lost between this check and the probe).
 */
export function targetNeedMs(
  work: { readonly writes: boolean; readonly verifies: boolean },
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number {
  if (!work.writes) return 0;
  return TARGET_WRITES_RESERVE_MS + (work.verifies ? verificationBudgetMs(policy) : 0);
}

/**
 * What a run spends besides its targets' writes and verifications, at worst: discovering
 * the targets (ListSecrets, one page for a small fleet) and observing one (its secret and IAM
 * listing), each call possibly throttled once through (15 s), plus publishing the run's
 * metrics and events. A large fleet takes longer to discover; this is the floor for one target.
 */
export const RUN_OVERHEAD_MS = 15_000;

/** What one rotation needs from a run's start: overhead, writes, and (if verified) the probe. */
export function minimumRunMs(verified: boolean, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return RUN_OVERHEAD_MS + TARGET_WRITES_RESERVE_MS + (verified ? verificationBudgetMs(policy) : 0);
}

/** The shortest function timeout, in whole seconds, that fits one (verified or unverified) rotation. */
export function minimumTimeoutSeconds(verified: boolean, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return Math.ceil(minimumRunMs(verified, policy) / 1000);
}

/** 135 s: one verified rotation (15 s overhead + 30 s writes + 90 s verification). */
export const MIN_TIMEOUT_SECONDS_VERIFIED = minimumTimeoutSeconds(true);
/** 45 s: one rotation with verification off (15 s overhead + 30 s writes). */
export const MIN_TIMEOUT_SECONDS_UNVERIFIED = minimumTimeoutSeconds(false);

/** Why the minimum is what it is, for error messages (synth and the function's first invocation). */
export function minimumTimeoutReason(verified: boolean): string {
  const parts = [
    `${RUN_OVERHEAD_MS / 1000} s to discover and observe a target`,
    `${TARGET_WRITES_RESERVE_MS / 1000} s for its writes under IAM throttling (${IAM_WRITES_PER_ROTATION} IAM writes × ${throttledCallBackoffMs() / 1000} s of SDK backoff)`,
  ];
  if (verified) {
    parts.push(
      `${VERIFICATION_BUDGET_MS / 1000} s to verify the new credential (${DEFAULT_RETRY_POLICY.budgetMs / 1000} s of probe retries while IAM propagates + one ${PROBE_ATTEMPT_MAX_MS / 1000} s attempt)`,
    );
  }
  return parts.join(' + ');
}

/**
 * The problem with a timeout (or a first invocation's remaining time) of `seconds`, or
 * `undefined` when one rotation fits. `verified`: whether any target is verified (mode other
 * than `off`); when every target's verification is off the unverified minimum applies.
 */
export function timeoutProblem(seconds: number, verified: boolean): string | undefined {
  const minimum = minimumTimeoutSeconds(verified);
  if (seconds >= minimum) return undefined;
  return (
    `a timeout of ${seconds} s cannot fit one ${verified ? 'verified' : 'unverified'} rotation: ` +
    `at least ${minimum} s is needed (${minimumTimeoutReason(verified)}); ` +
    'a shorter run defers every target that has work to do, run after run'
  );
}
