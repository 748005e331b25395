// Services are data, not code. What a service's secret looks like is decided by what IAM
// returns (a user name + password, or an alias + secret), so a service AWS adds later works
// without a change here; this table only lists the services whose credentials can be
// issued with an expiry (IAM's CredentialAgeDays).

// The tags and the naming rule belong to the contract with the construct (../contract.ts).
export { DEFAULT_SECRET_NAME_PREFIX, SERVICE_NAME_TAG, USER_NAME_TAG } from '../contract.ts';

export interface ServiceInfo {
  /** A short human name for logs and dashboards. */
  readonly label: string;
  /** IAM accepts CredentialAgeDays on Create for this service. */
  readonly supportsExpiry: boolean;
}

export const KNOWN_SERVICES: Readonly<Record<string, ServiceInfo>> = {
  'cassandra.amazonaws.com': { label: 'Amazon Keyspaces', supportsExpiry: false },
  'codecommit.amazonaws.com': { label: 'AWS CodeCommit', supportsExpiry: false },
  'bedrock.amazonaws.com': { label: 'Amazon Bedrock', supportsExpiry: true },
  'logs.amazonaws.com': { label: 'Amazon CloudWatch Logs', supportsExpiry: true },
};

/** IAM accepts 1..36600 days. */
export const MAX_CREDENTIAL_AGE_DAYS = 36_600;

/**
 * For services that support expiry, keys are issued to expire by themselves once rotation
 * plus overlap plus grace has passed, so a key outlives a stopped rotator by at most one
 * cycle. Rounded up to whole days (IAM's unit), at least 1.
 */
export function credentialAgeDays(
  serviceName: string,
  policy: { rotateAfterDays: number; overlapDays: number; gracePeriodDays: number },
): number | undefined {
  if (!KNOWN_SERVICES[serviceName]?.supportsExpiry) return undefined;
  const days = Math.ceil(policy.rotateAfterDays + policy.overlapDays + policy.gracePeriodDays);
  return Math.min(Math.max(days, 1), MAX_CREDENTIAL_AGE_DAYS);
}
