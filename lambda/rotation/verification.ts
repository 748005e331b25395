// The seam between the lifecycle and the service probes (../probes/): after a credential is
// issued (Create, or Reset when adopting) and before anything is retired, the run asks whether
// the new credential works with the service itself. Both the scheduled run's direct rotation
// and Secrets Manager's testSecret step call the same function, so there is one rule.
import type { ProbeResult } from '../probes/index.ts';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../probes/https.ts';
import { DEFAULT_RETRY_POLICY } from '../probes/retry.ts';
import type { IssuedCredential, Target, TargetVerification, VerificationMode } from './model.ts';

export { VERIFICATION_MODES } from '../contract.ts';
export type { TargetVerification, VerificationMode };

/** Whether a probe's outcome lets the credential be used: the service accepted it, or nothing could be asked. */
export function passed(outcome: ProbeResult['outcome']): boolean {
  return outcome === 'verified' || outcome === 'skipped';
}

export interface Verification extends ProbeResult {
  /** The mode the target was verified under (its own setting, else the deployment's). */
  readonly mode: VerificationMode;
}

/**
 * Verifies `issued`, a credential of `target` that IAM just returned with its secret, with the
 * service (retries for propagation included). Never throws for a service's answer: every
 * verdict is a result whose reason carries no secret.
 */
export type VerifyCredential = (target: Target, issued: IssuedCredential) => Promise<Verification>;

/**
 * What one verification can take at worst: the retry budget plus one last attempt. A run
 * starts no target with less time left than this on top of its usual reserve, so a probe is
 * not cut off by the function's timeout (which would be safe, only late: the next run adopts).
 */
export const VERIFICATION_RESERVE_MS = DEFAULT_RETRY_POLICY.budgetMs + DEFAULT_PROBE_TIMEOUT_MS;
