// The seam between the lifecycle and the service probes (../probes/): after a credential is
// issued (Create, or Reset when adopting) and before anything is retired, the run asks whether
// the new credential works with the service itself. Both the scheduled run's direct rotation
// and Secrets Manager's testSecret step call the same function, so there is one rule.
import type { ProbeResult } from '../probes/index.ts';
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

/** How one verification may run: set by the run from the time it has left. */
export interface VerifyOptions {
  /**
   * The most the probe's retries may take (less than the policy's budget when the deadline is
   * near; 0 allows one attempt). @default the retry policy's budget
   */
  readonly retryBudgetMs?: number | undefined;
}

/**
 * Verifies `issued`, a credential of `target` that IAM just returned with its secret, with the
 * service (retries for propagation included). Never throws for a service's answer: every
 * verdict is a result whose reason carries no secret.
 */
export type VerifyCredential = (
  target: Target,
  issued: IssuedCredential,
  options?: VerifyOptions,
) => Promise<Verification>;

/** The mode a target is verified under: its own setting, else the deployment's. */
export function verificationModeOf(target: Target, deploymentMode: VerificationMode): VerificationMode {
  return target.verification?.mode ?? deploymentMode;
}
