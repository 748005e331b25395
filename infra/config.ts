// The deployment configuration: cdk.json context key `credentialRotator`, validated once
// with zod so a typo fails `cdk synth` with the path and the bad value, before any stack
// is built. docs/OPERATIONS.md documents the format.
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { timeoutProblem } from '../lambda/budget.ts';
import { DEFAULT_VERIFICATION_MODE, VERIFICATION_MODES } from '../lambda/contract.ts';
import { INTERFACE_ENDPOINT_SERVICES } from './stack.ts';

export const CONTEXT_KEY = 'credentialRotator';

const days = z.number().finite().min(0);

const targetSchema = z.strictObject({
  userName: z.string().min(1),
  serviceName: z.string().min(1),
  secretName: z.string().min(1).optional(),
  userPath: z.string().min(1).optional(),
  verification: z.enum(VERIFICATION_MODES).optional(),
  codeCommitRepository: z.string().min(1).optional(),
  canaryLogGroup: z.string().min(1).optional(),
  canaryLogStream: z.string().min(1).optional(),
  /** Role (or user) ARNs allowed to read this target's secret, besides the rotator. */
  readers: z.array(z.string().min(1)).optional(),
  /** A service AWS added after this release. */
  allowUnknownService: z.boolean().optional(),
});

const retentionValues = new Set<number>(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);

const environmentSchema = z.strictObject({
  /** Becomes the stack id `CredentialRotator-<name>`. */
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must be a letter then letters, digits or "-"'),
  /** Falls back to CDK_DEFAULT_ACCOUNT (the CLI's current credentials). */
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  /** Falls back to CDK_DEFAULT_REGION. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  targets: z.array(targetSchema).min(1, 'must list at least one target'),
  policy: z
    .strictObject({
      rotateAfterDays: days.optional(),
      overlapDays: days.optional(),
      gracePeriodDays: days.optional(),
      maxCredentialAgeDays: z.number().int().min(1).optional(),
    })
    .optional(),
  /** true: a new customer managed key; or an existing key's ARN. */
  kmsKey: z
    .union([
      z.literal(true),
      z
        .string()
        .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'must be true or a KMS key ARN'),
    ])
    .optional(),
  /** Place the function in a VPC, by ids. */
  vpc: z
    .strictObject({
      vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id like vpc-0abc12345'),
      subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id')).min(1),
      securityGroupIds: z
        .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id'))
        .min(1),
      /** Interface endpoints to create in the subnets (no NAT path needed for these services). */
      interfaceEndpoints: z.array(z.enum(INTERFACE_ENDPOINT_SERVICES)).optional(),
    })
    .optional(),
  /** An EventBridge schedule expression: `rate(...)` or `cron(...)`. */
  schedule: z
    .string()
    .regex(
      /^(rate|cron)\(.+\)$/,
      'must be an EventBridge expression like "rate(1 day)" or "cron(0 3 * * ? *)"',
    )
    .optional(),
  expectedRunIntervalHours: z.number().int().min(1).max(84).optional(),
  secretNamePrefix: z.string().optional(),
  alarmEmail: z.email().optional(),
  logRetentionDays: z
    .number()
    .refine(
      (v) => retentionValues.has(v),
      'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)',
    )
    .optional(),
  reservedConcurrency: z.union([z.number().int().min(1), z.literal(false)]).optional(),
  consoleTestEvents: z.boolean().optional(),
  bulkCredentialListing: z.boolean().optional(),
  verification: z.enum(VERIFICATION_MODES).optional(),
  createTestEventRegistry: z.boolean().optional(),
  staleCredentialMarginDays: days.optional(),
  tracing: z.boolean().optional(),
  /** The function's timeout; Lambda allows up to 15 minutes. */
  timeoutSeconds: z
    .number()
    .int('must be whole seconds')
    .min(1, 'must be 1-900 seconds (Lambda allows at most 15 minutes)')
    .max(900, 'must be 1-900 seconds (Lambda allows at most 15 minutes)')
    .optional(),
  /** false: no CloudWatch dashboard (the alarms stay). */
  dashboard: z.boolean().optional(),
});

/**
 * Whether any target of the environment is verified: its own mode, else the environment's,
 * else the default (`enforce`), is not `off`. Decides which minimum timeout applies.
 */
export function anyTargetVerified(env: {
  readonly verification?: string | undefined;
  readonly targets: readonly { readonly verification?: string | undefined }[];
}): boolean {
  return env.targets.some((t) => (t.verification ?? env.verification ?? DEFAULT_VERIFICATION_MODE) !== 'off');
}

/** A timeout that cannot fit one rotation is refused here, with the minimum and why. */
const environmentWithBudget = environmentSchema.superRefine((env, ctx) => {
  if (env.timeoutSeconds === undefined) return;
  const problem = timeoutProblem(env.timeoutSeconds, anyTargetVerified(env));
  if (problem)
    ctx.addIssue({ code: 'custom', path: ['timeoutSeconds'], message: problem, input: env.timeoutSeconds });
});

const configSchema = z
  .strictObject({ environments: z.array(environmentWithBudget).min(1, 'must list at least one environment') })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.environments.forEach((env, i) => {
      const first = seen.get(env.name.toLowerCase());
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', i, 'name'],
          message: `duplicates environments[${first}].name`,
          input: env.name,
        });
      }
      seen.set(env.name.toLowerCase(), i);
    });
  });

export type RotatorEnvironmentConfig = z.infer<typeof environmentSchema>;
/** The keys an environment accepts (docs/OPERATIONS.md lists each; test/docs-tables.test.ts checks). */
export const ENVIRONMENT_KEYS: readonly string[] = Object.keys(environmentSchema.shape);
export type RotatorAppConfig = z.infer<typeof configSchema>;

export class RotatorConfigError extends Error {}

/**
 * Parses the context value. The single-environment form (an environment object without
 * `environments`, `name` optional) is accepted too and named "default".
 */
export function parseRotatorConfig(raw: unknown): RotatorAppConfig {
  if (raw === undefined || raw === null) {
    throw new RotatorConfigError(
      `missing cdk.json context "${CONTEXT_KEY}": expected { "environments": [ { "name", "account", "region", "targets": [...] } ] }`,
    );
  }
  // A misspelt `environments` is the list form with a typo, not a single environment.
  const singleEnvironment =
    typeof raw === 'object' &&
    !Array.isArray(raw) &&
    !Object.keys(raw).some((k) => closest(k, ['environments']) !== undefined);
  const normalised = singleEnvironment ? { environments: [{ name: 'default', ...raw }] } : raw;
  const parsed = configSchema.safeParse(normalised, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        // One line per key, with the nearest known key: never the whole object it sits in.
        const allowed = keysAt(configSchema, issue.path);
        return issue.keys.map(
          (key) => `${pathText([...issue.path, key])}: ${unknownKeyMessage(key, allowed)}`,
        );
      }
      const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
      return [`${pathText(issue.path)}: ${issue.message}${got}`];
    });
    throw new RotatorConfigError(`invalid cdk.json context: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** `credentialRotator.environments[0].alarmEmail`, from zod's path. */
function pathText(path: readonly PropertyKey[]): string {
  return [CONTEXT_KEY, ...path]
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .slice(1);
}

/** What an unknown key should have been: the closest known key, or the list of them. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const near = closest(key, allowed);
  return near
    ? `unknown key; did you mean "${near}"?`
    : `unknown key; expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`;
}

/**
 * The known key nearest to `key` by edit distance (case ignored), if near enough to be a
 * typo: at most a third of its length, and at least 1, apart.
 */
export function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (best && best.distance <= Math.max(1, Math.floor(key.length / 3))) return best.name;
  // A key cut short (`rotateAfter` for `rotateAfterDays`) is as clear a typo.
  return candidates.find((name) => key.length >= 4 && name.toLowerCase().startsWith(key.toLowerCase()));
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** The keys the schema allows for the object at `path` (array indexes walk into elements). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.core.$ZodType | undefined = schema;
  const unwrap = (n: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    const def = n?._zod.def as { type?: string; innerType?: z.core.$ZodType; options?: z.core.$ZodType[] };
    if (def?.type === 'optional' || def?.type === 'nullable' || def?.type === 'default')
      return unwrap(def.innerType);
    if (def?.type === 'union')
      return unwrap(def.options?.find((o) => (o._zod.def as { type: string }).type === 'object'));
    return n;
  };
  for (const step of path) {
    node = unwrap(node);
    const def = node?._zod.def as {
      type?: string;
      shape?: Record<string, z.core.$ZodType>;
      element?: z.core.$ZodType;
    };
    node = typeof step === 'number' ? def?.element : def?.shape?.[String(step)];
  }
  const def = unwrap(node)?._zod.def as { shape?: Record<string, unknown> } | undefined;
  return Object.keys(def?.shape ?? {});
}
