// Names shared by the function (metrics, events) and the infrastructure (alarms, dashboard,
// rules). Changing one is an interface change: alarms and consumers' rules depend on them.

export const METRICS_NAMESPACE = 'ServiceCredentialRotator';
/** Powertools' `service` dimension, set on every metric. */
export const METRICS_SERVICE = 'credential-rotator';

export const METRIC = {
  rotations: 'Rotations',
  recoveries: 'Recoveries',
  retirements: 'Retirements',
  deletions: 'Deletions',
  failedTargets: 'FailedTargets',
  blockedTargets: 'BlockedTargets',
  targets: 'Targets',
  /** Tagged secrets that are not declared (declared targets only): ignored, never written. */
  rejectedSecrets: 'RejectedSecrets',
  /**
   * Targets whose AWSCURRENT held a value the rotator did not write (a placeholder, a foreign
   * or invalid record): reported, never obeyed (rotation/tampering.ts). Any is worth an alarm.
   */
  tamperedSecrets: 'TamperedSecrets',
  /**
   * New credentials the service did not accept (a probe's rejected, denied or unreachable),
   * whatever the mode: under `enforce` the target also failed; under `warn` it rotated anyway.
   */
  verificationFailures: 'VerificationFailures',
  /**
   * Targets the run did not start because too little time was left (the report's `deferred`):
   * the next run takes them. Deferral run after run means the timeout is too short for the fleet.
   */
  deferredTargets: 'DeferredTargets',
  /** Age in days of the oldest current credential; also emitted per ServiceName dimension. */
  oldestCredentialAgeDays: 'OldestCredentialAgeDays',
  /**
   * Service-specific credentials in the account that no target covers (credential inventory,
   * lambda/inventory.ts): reported, never touched. Emitted by every full run with the
   * inventory on, 0 included, so an alarm sees a clean account as clean.
   */
  unmanagedCredentials: 'UnmanagedCredentials',
} as const;

/** EventBridge `source` of every transition event. */
export const EVENT_SOURCE = 'credential-rotator';

/** EventBridge `detail-type` per transition. */
export const EVENT_DETAIL_TYPE = {
  rotated: 'Credential Rotated',
  recovered: 'Credential Recovered',
  retired: 'Credential Retired',
  deleted: 'Credential Deleted',
  failed: 'Credential Rotation Failed',
  /** A manual rollback made the previous credential current again. */
  rolledBack: 'Credential Rolled Back',
  /** A manual revoke switched a leaked credential off (or deleted it). */
  revoked: 'Credential Revoked',
  unverified: 'Credential Verification Failed',
} as const;

/** Powertools' settings in the function's environment: the metric service and namespace. */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
} as const;

/** EventBridge `detail-type` of the events that are not credential transitions. */
export const AUDIT_DETAIL_TYPE = {
  /** A tagged secret that is not declared was ignored (declared targets only). */
  secretRejected: 'Secret Rejected',
  /** A target's AWSCURRENT held a value the rotator did not write; what the run did instead. */
  secretTampering: 'Secret Tampering Detected',
  /** A rotate, force, rollback, revoke or status invocation, named by its request id. */
  manualCommand: 'Manual Command',
  /** The credential inventory found credentials no target covers (ids and ages, never secrets). */
  unmanagedCredentials: 'Unmanaged Credentials Found',
} as const;
