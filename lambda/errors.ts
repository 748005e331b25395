// The product's errors. Adapters translate AWS SDK errors into these, so the executor and
// the handler never look at SDK error names. Messages name the problem and what was
// expected, and never contain a password, API key or secret value.
import type { VerificationReport } from './rotation/model.ts';

export class RotatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The Lambda's environment is missing or invalid (thrown at cold start). */
export class ConfigError extends RotatorError {}

/** The invocation event is not one the handler accepts. Nothing was touched. */
export class InvalidEventError extends RotatorError {}

/** A `rotate`/`status` event names a target that no tagged secret manages. */
export class TargetNotFoundError extends RotatorError {}

/** A target cannot be processed as configured (missing/duplicated tags, foreign record...). */
export class TargetConfigError extends RotatorError {}

/**
 * A Secrets Manager rotation step this function does not take: the secret is not one of its
 * targets, its rotation names another function, or the version is not the rotation's. Nothing
 * was written.
 */
export class RotationStepRejectedError extends RotatorError {}

/** An AWS call failed. `code` is the AWS error code, `retryable` tells throttling apart. */
export class AwsCallError extends RotatorError {
  readonly code: string;
  readonly operation: string;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  constructor(
    operation: string,
    code: string,
    message: string,
    options: { cause?: unknown; httpStatus?: number | undefined; retryable?: boolean } = {},
  ) {
    super(`${operation} failed: ${code}: ${message}`, { cause: options.cause });
    this.operation = operation;
    this.code = code;
    this.httpStatus = options.httpStatus;
    this.retryable = options.retryable ?? false;
  }
}

/** IAM: the user does not exist. */
export class NoSuchUserError extends AwsCallError {}
/** IAM: the service does not support service-specific credentials. */
export class UnsupportedServiceError extends AwsCallError {}
/** IAM: the credential id does not exist (already deleted, or never did). */
export class CredentialNotFoundError extends AwsCallError {}
/** IAM: the two-credentials-per-user-and-service quota is full. */
export class CredentialQuotaError extends AwsCallError {}
/** Either service: the caller lacks permission. */
export class AccessDeniedError extends AwsCallError {}
/** Either service: throttled after the SDK's own retries. */
export class ThrottledError extends AwsCallError {}
/** Secrets Manager: no such secret. */
export class SecretNotFoundError extends AwsCallError {}
/** Secrets Manager: the secret is scheduled for deletion. */
export class SecretDeletedError extends AwsCallError {}
/**
 * Secrets Manager: another run already wrote the intent for the same step from the same
 * observed state (its claim, the ClientRequestToken, is taken): that run does the step.
 */
export class IntentClaimedError extends AwsCallError {}

/**
 * Secrets Manager: RotateSecret refused because an earlier rotation is unfinished (AWSPENDING
 * on a version other than AWSCURRENT); Secrets Manager retries that one itself.
 */
export class RotationInProgressError extends AwsCallError {}

/** Targets named in a RunFailedError's message; `failedTargets` holds them all. */
const NAMED_FAILURES = 20;

/** Thrown by the handler after a run in which some targets failed (the others completed). */
/**
 * A newly issued credential did not pass the service's check under `enforce`: it was removed
 * (or, if removing failed, left for the next run to adopt) and the old one stays current.
 */
export class VerificationFailedError extends RotatorError {
  /** The credential that stays current (the one AWSCURRENT records), if any. */
  readonly currentCredentialId: string | undefined;
  /** The probe's verdict (ids, outcome and a secret-free reason). */
  readonly verification: VerificationReport;

  constructor(
    message: string,
    options: { cause?: unknown } | undefined,
    detail: { currentCredentialId: string | undefined; verification: VerificationReport },
  ) {
    super(message, options);
    this.currentCredentialId = detail.currentCredentialId;
    this.verification = detail.verification;
  }
}

/**
 * A new credential's verification had no verdict because the invocation's deadline cut it (no
 * time for one attempt, or the retries capped before the service accepted it): not a failure.
 * The credential is left unstored, Active, for the next run to adopt and verify; the recorded
 * one stays current. The run reports the target deferred.
 */
export class VerificationDeferredError extends RotatorError {
  /** The probe's answer so far, when a verification started. */
  readonly verification: VerificationReport | undefined;

  constructor(message: string, verification?: VerificationReport) {
    super(message);
    this.verification = verification;
  }
}

export class RunFailedError extends RotatorError {
  readonly failedTargets: readonly string[];
  constructor(failedTargets: readonly string[], reasons: readonly string[]) {
    const named = failedTargets
      .slice(0, NAMED_FAILURES)
      .map((t, i) => `${t} (${reasons[i] ?? 'unknown error'})`);
    const more = failedTargets.length - named.length;
    // Bounded, because the message travels as Lambda's error payload to the failure queue.
    super(
      `${failedTargets.length} target(s) failed: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
    );
    this.failedTargets = failedTargets;
  }
}
