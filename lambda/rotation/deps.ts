// What a run needs from outside (the two ports, the policy, the clock, the log) and its
// defaults: shared by the run (run.ts) and the rotation steps (protocol.ts).
import type { CredentialsPort, SecretRotationPort, SecretsPort } from '../aws/ports.ts';
import type { DeclaredTargets } from '../declared-targets.ts';
import type { Policy, Target } from './model.ts';
import { type VerificationMode, type VerifyCredential, verificationModeOf } from './verification.ts';

/** Structured logger (handler.ts adapts Powertools' Logger to it). Never pass a secret value. */
export interface Log {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface RunDeps {
  readonly credentials: CredentialsPort;
  /** Secrets Manager: the secrets, and their rotation (the four steps, a stale rotation taken back). */
  readonly secrets: SecretsPort & SecretRotationPort;
  readonly policy: Policy;
  readonly secretNamePrefix?: string | undefined;
  /** The deployment's declared targets (declaration.ts); absent: tags alone decide. */
  readonly declaredTargets?: DeclaredTargets | undefined;
  /** The clock: every lifecycle time is measured against it. */
  readonly now: () => Date;
  readonly log: Log;
  /** Milliseconds before the invocation times out; the run stops starting targets when low. */
  readonly remainingTimeMs?: (() => number) | undefined;
  /**
   * The invocation's id (Lambda's awsRequestId), written into every intent. @default a random
   * UUID (a run outside Lambda)
   */
  readonly requestId?: string | undefined;
  /**
   * Checks a newly issued credential with the service itself before anything is retired
   * (verification.ts). @default none: IAM listing it Active is the only check
   */
  readonly verifyCredential?: VerifyCredential | undefined;
  /**
   * The ARN this function was invoked as (Lambda's invokedFunctionArn): a rotation step for a
   * secret whose rotation in Secrets Manager names another function is rejected. @default
   * unknown (a run outside Lambda): any configured rotation function counts as this one
   */
  readonly functionArn?: string | undefined;
  /** Observe with IAM's AllUsers listing (one paged call per service). @default false */
  readonly bulkCredentialListing?: boolean | undefined;
  /** Targets processed at once. @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number | undefined;
  /**
   * The deployment's verification mode, for targets that set none of their own: whether a
   * target about to issue or adopt a credential needs the verification budget (budget.ts).
   * @default `enforce` when there is a verifier (the run reserves for it), `off` without one
   */
  readonly verificationMode?: VerificationMode | undefined;
}

/** Enough to overlap round trips without outrunning IAM's throttling (tuned by the benchmark). */
export const DEFAULT_CONCURRENCY = 4;
/** From this many targets on, observation lists in bulk where the ports allow it. */
export const BULK_OBSERVATION_THRESHOLD = 20;

/** apply changes things; dryRun and status only plan (status also lists the credentials). */
export type Mode = 'apply' | 'dryRun' | 'status';

/** Who is running, and until when: what an intent records. */
export interface Invocation {
  readonly requestId: string;
  readonly deadline: Date;
}

/**
 * Whether a credential issued or adopted for `target` is checked with its service: there is a
 * verifier and the target's mode (its own, else the deployment's) is not `off`.
 */
export function verifiesTarget(target: Target, deps: RunDeps): boolean {
  if (!deps.verifyCredential) return false;
  return verificationModeOf(target, deps.verificationMode ?? 'enforce') !== 'off';
}
