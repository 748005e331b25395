// The seam between the lifecycle and the service probes (../probes/): after a credential is
// issued (Create, or Reset when adopting) and before anything is retired, the run asks whether
// the new credential works with the service itself. Both the scheduled run's direct rotation
// and Secrets Manager's testSecret step call the same function, so there is one rule.
import type { ProbeResult } from '../probes/index.ts';
import type { IssuedCredential, Target } from './model.ts';

/**
 * - `off`: no probe; the credential counts as working once IAM lists it Active.
 * - `warn`: probe; a failure is reported (log, metric, event) but the rotation completes.
 * - `enforce`: probe; a failure keeps the old credential current and removes the new one.
 */
export type VerificationMode = 'off' | 'warn' | 'enforce';

export const VERIFICATION_MODES: readonly VerificationMode[] = ['off', 'warn', 'enforce'];

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
