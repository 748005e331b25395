// Services are data, not code. What a service's secret looks like is decided by what IAM
// returns (a user name + password, or an alias + secret), so a service AWS adds later works
// without a change here; this table only lists the services whose credentials can be
// issued with an expiry (IAM's CredentialAgeDays).
import { ConfigError } from '../errors.ts';

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
  policy: {
    rotateAfterDays: number;
    overlapDays: number;
    gracePeriodDays: number;
    maxCredentialAgeDays?: number | undefined;
  },
): number | undefined {
  if (!KNOWN_SERVICES[serviceName]?.supportsExpiry) return undefined;
  const days = Math.ceil(policy.rotateAfterDays + policy.overlapDays + policy.gracePeriodDays);
  // The organisation's limit (e.g. an SCP on iam:ServiceSpecificCredentialAgeDays) wins over
  // the formula: the key then expires during the grace period instead of after it.
  const capped =
    policy.maxCredentialAgeDays === undefined ? days : Math.min(days, policy.maxCredentialAgeDays);
  return Math.min(Math.max(capped, 1), MAX_CREDENTIAL_AGE_DAYS);
}

/**
 * Checks `maxCredentialAgeDays` against the policy, for the construct (at synth) and the
 * function (at cold start). A key capped this way must still outlive its replacement and the
 * overlap after it: it expires no earlier than rotateAfterDays + overlapDays after its issue,
 * else applications would hold an expired key before the next one is issued or handed over.
 */
export function validateMaxCredentialAgeDays(
  maxCredentialAgeDays: number | undefined,
  policy: { rotateAfterDays: number; overlapDays: number },
  names: { maxCredentialAgeDays: string; rotateAfterDays: string; overlapDays: string } = {
    maxCredentialAgeDays: 'maxCredentialAgeDays',
    rotateAfterDays: 'rotateAfterDays',
    overlapDays: 'overlapDays',
  },
): number | undefined {
  if (maxCredentialAgeDays === undefined) return undefined;
  const max = maxCredentialAgeDays;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_CREDENTIAL_AGE_DAYS) {
    throw new ConfigError(
      `${names.maxCredentialAgeDays} must be a whole number of days from 1 to ${MAX_CREDENTIAL_AGE_DAYS} (IAM's range for CredentialAgeDays), got ${String(max)}`,
    );
  }
  const needed = policy.rotateAfterDays + policy.overlapDays;
  if (!(max > needed)) {
    throw new ConfigError(
      `${names.maxCredentialAgeDays} (${max}) must be greater than ${names.rotateAfterDays} + ${names.overlapDays} ` +
        `(${policy.rotateAfterDays} + ${policy.overlapDays} = ${needed}): a key must outlive its replacement ` +
        `and the overlap after it: lower ${names.rotateAfterDays} or ${names.overlapDays}, or raise the limit`,
    );
  }
  return max;
}

/**
 * Checks a target's service name against the known services, for the construct (at synth)
 * and the declaration loader (at cold start). IAM refuses an unknown service only at run
 * time, so a typo would otherwise deploy; a service AWS added later is accepted when the
 * target says so (`allowUnknownService`).
 */
export function validateServiceName(
  serviceName: string,
  options: { allowUnknownService?: boolean | undefined; where?: string | undefined } = {},
): string {
  if (KNOWN_SERVICES[serviceName] || options.allowUnknownService) return serviceName;
  const where = options.where ? `${options.where}: ` : '';
  throw new ConfigError(
    `${where}unknown service ${JSON.stringify(serviceName)}; known services: ${Object.keys(KNOWN_SERVICES).join(', ')}. ` +
      'For a service AWS added later, set "allowUnknownService": true on the target',
  );
}
