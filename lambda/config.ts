// Configuration, read from the environment once at cold start. This is the only module
// that reads process.env for the product's own settings; endpoints and region are the
// AWS SDK's standard variables and stay the SDK's business.
// zod/mini rather than 'zod': tree-shakable, so less of zod is loaded at cold start (see events.ts).
import * as z from 'zod/mini';
import {
  type Config,
  DEFAULT_POLICY,
  ENV,
  ENV_POLICY_NAMES,
  VERIFICATION_MODES,
  validatePolicy,
} from './contract.ts';
import { ConfigError } from './errors.ts';

// Read where they always were; the contract defines them next to their inverse.
export { type Config, DEFAULT_POLICY, validatePolicy };

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
  [ENV.rotateAfterDays]: days(ENV.rotateAfterDays, DEFAULT_POLICY.rotateAfterDays),
  [ENV.overlapDays]: days(ENV.overlapDays, DEFAULT_POLICY.overlapDays),
  [ENV.gracePeriodDays]: days(ENV.gracePeriodDays, DEFAULT_POLICY.gracePeriodDays),
  [ENV.secretNamePrefix]: optionalName,
  [ENV.eventBusName]: optionalName,
  // Range and the rule against the policy are checked by validatePolicy, with the other fields.
  [ENV.maxCredentialAgeDays]: z.pipe(
    trimmed(),
    z.transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      const value = Number(raw);
      if (!Number.isInteger(value)) {
        ctx.issues.push({
          code: 'custom',
          input: raw,
          message: `${ENV.maxCredentialAgeDays} must be a whole number of days, got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      return value;
    }),
  ),
  [ENV.declaredTargetsFile]: optionalName,
  [ENV.verification]: z.pipe(
    trimmed(),
    z.transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      const mode = VERIFICATION_MODES.find((m) => m === raw);
      if (!mode) {
        ctx.issues.push({
          code: 'custom',
          input: raw,
          message: `${ENV.verification} must be one of ${VERIFICATION_MODES.join(', ')}, got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      return mode;
    }),
  ),
  [ENV.bulkCredentialListing]: z.pipe(
    z.optional(
      z.enum(['true', 'false', ''], { error: `${ENV.bulkCredentialListing} must be "true" or "false"` }),
    ),
    z.transform((v) => v === 'true'),
  ),
  [ENV.userOptInTag]: optionalName,
  [ENV.deploymentStackId]: optionalName,
  [ENV.tagDiscovery]: z.pipe(
    z.optional(z.enum(['true', 'false', ''], { error: `${ENV.tagDiscovery} must be "true" or "false"` })),
    z.transform((v) => v === 'true'),
  ),
  [ENV.credentialInventory]: z.pipe(
    z.optional(
      z.enum(['true', 'false', ''], { error: `${ENV.credentialInventory} must be "true" or "false"` }),
    ),
    z.transform((v) => v === 'true'),
  ),
});

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => i.message).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const policy = validatePolicy(
    {
      rotateAfterDays: e[ENV.rotateAfterDays],
      overlapDays: e[ENV.overlapDays],
      gracePeriodDays: e[ENV.gracePeriodDays],
      ...(e[ENV.maxCredentialAgeDays] !== undefined
        ? { maxCredentialAgeDays: e[ENV.maxCredentialAgeDays] }
        : {}),
    },
    ENV_POLICY_NAMES,
  );
  const stackId = e[ENV.deploymentStackId];
  if (stackId && !e[ENV.declaredTargetsFile] && !e[ENV.tagDiscovery]) {
    // Deployed by the construct, which always ships the declaration: without it, whoever may
    // tag a secret would decide whose credential goes where. Tags only by explicit choice.
    throw new ConfigError(
      `invalid configuration: ${ENV.deploymentStackId} is set (deployed by a stack) but ${ENV.declaredTargetsFile} is not; ` +
        `expected ${ENV.declaredTargetsFile} to name the declared-targets file the deployment ships, ` +
        `or ${ENV.tagDiscovery}=true to let the secrets' tags alone decide the targets`,
    );
  }
  return {
    policy,
    secretNamePrefix: e[ENV.secretNamePrefix],
    eventBusName: e[ENV.eventBusName],
    bulkCredentialListing: e[ENV.bulkCredentialListing],
    ...(e[ENV.declaredTargetsFile] ? { declaredTargetsFile: e[ENV.declaredTargetsFile] } : {}),
    ...(e[ENV.verification] ? { verification: e[ENV.verification] } : {}),
    ...(e[ENV.credentialInventory] ? { credentialInventory: true } : {}),
    ...(e[ENV.userOptInTag] ? { userOptInTag: e[ENV.userOptInTag] } : {}),
    ...(stackId ? { deploymentStackId: stackId } : {}),
    ...(e[ENV.tagDiscovery] ? { tagDiscovery: true } : {}),
  };
}
