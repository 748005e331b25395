// Configuration, read from the environment once at cold start. This is the only module
// that reads process.env for the product's own settings; endpoints and region are the
// AWS SDK's standard variables and stay the SDK's business.
// zod/mini rather than 'zod': tree-shakable, so less of zod is loaded at cold start (see events.ts).
import * as z from 'zod/mini';
import { ConfigError } from './errors.ts';
import type { Policy } from './rotation/model.ts';
import { validateMaxCredentialAgeDays } from './rotation/services.ts';

export interface Config {
  readonly policy: Policy;
  /** Only secrets whose name starts with this are targets. */
  readonly secretNamePrefix: string | undefined;
  /** EventBridge bus for transition events; none sent when unset. */
  readonly eventBusName: string | undefined;
  /** List all users' credentials per service in one paged call (needs IAM List on user/*). */
  readonly bulkCredentialListing?: boolean | undefined;
  /**
   * Path of the declared-targets file (declaration.ts). When set, the declaration, not the
   * tags, decides which secret holds which (user, service) pair.
   */
  readonly declaredTargetsFile?: string | undefined;
}

export const DEFAULT_POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

const trimmed = () => z.optional(z.string().check(z.trim()));

const days = (name: string, fallback: number) =>
  z.pipe(
    trimmed(),
    z.transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) {
        ctx.issues.push({
          code: 'custom',
          input: raw,
          message: `${name} must be a finite number of days >= 0, got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      return value;
    }),
  );

const optionalName = z.pipe(
  trimmed(),
  z.transform((v) => (v ? v : undefined)),
);

const envSchema = z.object({
  ROTATE_AFTER_DAYS: days('ROTATE_AFTER_DAYS', DEFAULT_POLICY.rotateAfterDays),
  OVERLAP_DAYS: days('OVERLAP_DAYS', DEFAULT_POLICY.overlapDays),
  GRACE_PERIOD_DAYS: days('GRACE_PERIOD_DAYS', DEFAULT_POLICY.gracePeriodDays),
  SECRET_NAME_PREFIX: optionalName,
  EVENT_BUS_NAME: optionalName,
  // Range and the rule against the policy are checked by validatePolicy, with the other fields.
  MAX_CREDENTIAL_AGE_DAYS: z.pipe(
    trimmed(),
    z.transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      const value = Number(raw);
      if (!Number.isInteger(value)) {
        ctx.issues.push({
          code: 'custom',
          input: raw,
          message: `MAX_CREDENTIAL_AGE_DAYS must be a whole number of days, got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      return value;
    }),
  ),
  DECLARED_TARGETS_FILE: optionalName,
  BULK_CREDENTIAL_LISTING: z.pipe(
    z.optional(z.enum(['true', 'false', ''], { error: 'BULK_CREDENTIAL_LISTING must be "true" or "false"' })),
    z.transform((v) => v === 'true'),
  ),
});

/** How each policy field is called where it is set (the CDK props, or the Lambda environment). */
export type PolicyNames = Readonly<Record<keyof Policy, string>>;
const PROP_NAMES: PolicyNames = {
  rotateAfterDays: 'rotateAfterDays',
  overlapDays: 'overlapDays',
  gracePeriodDays: 'gracePeriodDays',
  maxCredentialAgeDays: 'maxCredentialAgeDays',
};
const ENV_NAMES: PolicyNames = {
  rotateAfterDays: 'ROTATE_AFTER_DAYS',
  overlapDays: 'OVERLAP_DAYS',
  gracePeriodDays: 'GRACE_PERIOD_DAYS',
  maxCredentialAgeDays: 'MAX_CREDENTIAL_AGE_DAYS',
};

/** Checks the rule of DESIGN.md: rotateAfterDays > overlapDays + gracePeriodDays, all >= 0. */
export function validatePolicy(policy: Policy, names: PolicyNames = PROP_NAMES): Policy {
  const { rotateAfterDays, overlapDays, gracePeriodDays } = policy;
  for (const key of ['rotateAfterDays', 'overlapDays', 'gracePeriodDays'] as const) {
    const value = policy[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`${names[key]} must be a finite number of days >= 0, got ${String(value)}`);
    }
  }
  if (!(rotateAfterDays > 0)) {
    throw new ConfigError(`${names.rotateAfterDays} must be > 0 days, got ${rotateAfterDays}`);
  }
  if (!(rotateAfterDays > overlapDays + gracePeriodDays)) {
    throw new ConfigError(
      `${names.rotateAfterDays} (${rotateAfterDays}) must be greater than ${names.overlapDays} + ` +
        `${names.gracePeriodDays} (${overlapDays} + ${gracePeriodDays} = ${overlapDays + gracePeriodDays}), so that a ` +
        'replaced credential is deleted before the next rotation needs its slot',
    );
  }
  validateMaxCredentialAgeDays(policy.maxCredentialAgeDays, policy, names);
  return policy;
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => i.message).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const policy = validatePolicy(
    {
      rotateAfterDays: e.ROTATE_AFTER_DAYS,
      overlapDays: e.OVERLAP_DAYS,
      gracePeriodDays: e.GRACE_PERIOD_DAYS,
      ...(e.MAX_CREDENTIAL_AGE_DAYS !== undefined ? { maxCredentialAgeDays: e.MAX_CREDENTIAL_AGE_DAYS } : {}),
    },
    ENV_NAMES,
  );
  return {
    policy,
    secretNamePrefix: e.SECRET_NAME_PREFIX,
    eventBusName: e.EVENT_BUS_NAME,
    bulkCredentialListing: e.BULK_CREDENTIAL_LISTING,
    ...(e.DECLARED_TARGETS_FILE ? { declaredTargetsFile: e.DECLARED_TARGETS_FILE } : {}),
  };
}
