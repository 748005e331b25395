// What a run needs from outside (the two ports, the policy, the clock, the log) and its
// defaults: shared by the run (run.ts) and the rotation steps (protocol.ts).
import type { CredentialsPort, SecretRotationPort, SecretsPort } from '../aws/ports.ts';
import type { DeclaredTargets } from '../declared-targets.ts';
import type { Policy } from './model.ts';
import type { VerifyCredential } from './verification.ts';

/** Structured logger (handler.ts adapts Powertools' Logger to it). Never pass a secret value. */
export interface Log {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface RunDeps {
  readonly credentials: CredentialsPort;
  /** Secrets Manager: the secrets, and their rotation (the hand-off and the four steps). */
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
   * The ARN this function was invoked as (Lambda's invokedFunctionArn): a secret whose
   * rotation in Secrets Manager names this function is rotated through Secrets Manager, and a
   * rotation step for a secret whose rotation names another function is rejected. @default
   * unknown (a run outside Lambda): any configured rotation function counts as this one
   */
  readonly functionArn?: string | undefined;
  /** Observe with IAM's AllUsers listing (one paged call per service). @default false */
  readonly bulkCredentialListing?: boolean | undefined;
  /** Targets processed at once. @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number | undefined;
  /**
   * No new target starts with less time left than this. @default DEFAULT_DEADLINE_RESERVE_MS,
   * plus VERIFICATION_RESERVE_MS with a verifier
   */
  readonly deadlineReserveMs?: number | undefined;
}

/** Enough to overlap round trips without outrunning IAM's throttling (tuned by the benchmark). */
export const DEFAULT_CONCURRENCY = 4;
/** A target's worst case (a rotation with the SDK's retries under throttling) fits in this. */
export const DEFAULT_DEADLINE_RESERVE_MS = 30_000;
/** From this many targets on, observation lists in bulk where the ports allow it. */
export const BULK_OBSERVATION_THRESHOLD = 20;

/** apply changes things; dryRun and status only plan (status also lists the credentials). */
export type Mode = 'apply' | 'dryRun' | 'status';

/** Who is running, and until when: what an intent records. */
export interface Invocation {
  readonly requestId: string;
  readonly deadline: Date;
}
