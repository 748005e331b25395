// The contract between the function and the construct that deploys it: the tags that make
// a secret a target, the secret naming rule, the policy defaults and rule, and the
// environment variables the function reads. Each is written here once; the function
// (config.ts, rotation/) and the construct (infra/rotator/) import them. No dependencies,
// so the published construct library carries it without the function's.
import { ConfigError } from './errors.ts';
import type { Policy, VerificationMode } from './rotation/model.ts';
import { validateMaxCredentialAgeDays } from './rotation/services.ts';

// The service table's check, for the construct: it imports the function's modules only through here.
export { KNOWN_SERVICES, validateServiceName } from './rotation/services.ts';

/** Tags that make a secret a target. */
export const USER_NAME_TAG = 'credential-rotator:user-name';
export const SERVICE_NAME_TAG = 'credential-rotator:service-name';

/**
 * Optional tags with a target's verification settings (targets found by their tags; a
 * declared target takes them from the declaration instead): its mode (`off`, `warn`,
 * `enforce`), the CodeCommit repository and the CloudWatch Logs canary group and stream
 * the probe uses.
 */
export const VERIFICATION_TAG = 'credential-rotator:verification';
export const CODECOMMIT_REPOSITORY_TAG = 'credential-rotator:codecommit-repository';
export const CANARY_LOG_GROUP_TAG = 'credential-rotator:canary-log-group';
export const CANARY_LOG_STREAM_TAG = 'credential-rotator:canary-log-stream';

/**
 * Verification mode of every target that does not set its own. `enforce`: an unverified
 * credential is never made current (docs/VERIFICATION.md says why).
 */
export const DEFAULT_VERIFICATION_MODE: VerificationMode = 'enforce';
export const VERIFICATION_MODES: readonly VerificationMode[] = ['off', 'warn', 'enforce'];
export type { VerificationMode };

/**
 * The IAM user tag that opts a user in (organization rollout, lambda/opt-in.ts): its value
 * lists the services whose credentials the rotator keeps for that user.
 */
export const OPT_IN_TAG = 'credential-rotator:services';

/** Default name prefix of the managed secrets. */
export const DEFAULT_SECRET_NAME_PREFIX = 'service-credentials/';

/** The default secret name of a target: `<prefix><user-name>/<service-name>`. */
export function defaultSecretName(
  userName: string,
  serviceName: string,
  prefix: string = DEFAULT_SECRET_NAME_PREFIX,
): string {
  return `${prefix}${userName}/${serviceName}`;
}

export const DEFAULT_POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

/** The function's configuration, as loadConfig reads it from the environment. */
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
  /**
   * Whether a new credential is checked with the service before the old one is retired,
   * for targets that do not set their own mode. @default DEFAULT_VERIFICATION_MODE
   */
  readonly verification?: VerificationMode | undefined;
  /**
   * After each full run (reconcile, status of all), list every credential in the account and
   * report those no target covers (lambda/inventory.ts). Needs IAM List on `user/*`.
   */
  readonly credentialInventory?: boolean | undefined;
  /**
   * IAM users carrying this tag are targets too, for the services its value lists
   * (lambda/opt-in.ts); their secrets are created on a reconcile. Needs IAM ListUsers and
   * ListUserTags, and writes on the users that carry the tag.
   */
  readonly userOptInTag?: string | undefined;
  /**
   * The deploying CloudFormation stack's id (ENV.deploymentStackId). Set: the function was
   * deployed by the construct, so it refuses to start without its declaration (unless
   * `tagDiscovery`), and pins every declared secret to the ARN the stack created.
   */
  readonly deploymentStackId?: string | undefined;
  /**
   * Lets tags alone decide the targets although the function was deployed by a stack
   * (ENV.tagDiscovery): an explicit opt-in, because whoever may tag the secrets then decides
   * whose credential goes where (docs/SECURITY.md). Without a deploying stack (local runs,
   * other tools) tags decide whenever no declaration is given. @default false
   */
  readonly tagDiscovery?: boolean | undefined;
}

/** The environment variables the function reads (config.ts), by the setting they carry. */
export const ENV = {
  rotateAfterDays: 'ROTATE_AFTER_DAYS',
  overlapDays: 'OVERLAP_DAYS',
  gracePeriodDays: 'GRACE_PERIOD_DAYS',
  secretNamePrefix: 'SECRET_NAME_PREFIX',
  eventBusName: 'EVENT_BUS_NAME',
  bulkCredentialListing: 'BULK_CREDENTIAL_LISTING',
  maxCredentialAgeDays: 'MAX_CREDENTIAL_AGE_DAYS',
  declaredTargetsFile: 'DECLARED_TARGETS_FILE',
  verification: 'VERIFICATION',
  /**
   * The deploying CloudFormation stack's id (its ARN, set by the construct). With a declared
   * target's `logicalId` it names the secret the stack created: CloudFormation tags what it
   * creates with `aws:cloudformation:stack-id` and `aws:cloudformation:logical-id`, and
   * DescribeStackResource resolves the pair to the secret's ARN (docs/SECURITY.md).
   */
  deploymentStackId: 'DEPLOYMENT_STACK_ID',
  /** `true`: a deployed function without DECLARED_TARGETS_FILE finds its targets by their tags. */
  tagDiscovery: 'TAG_DISCOVERY',
  credentialInventory: 'CREDENTIAL_INVENTORY',
  userOptInTag: 'USER_OPT_IN_TAG',
} as const;

/**
 * The inverse of loadConfig: the environment under which the function reads `config`.
 * Unset options are left out, so the function applies its own defaults.
 */
export function toEnvironment(config: Config): Record<string, string> {
  return {
    [ENV.rotateAfterDays]: String(config.policy.rotateAfterDays),
    [ENV.overlapDays]: String(config.policy.overlapDays),
    [ENV.gracePeriodDays]: String(config.policy.gracePeriodDays),
    ...(config.secretNamePrefix !== undefined ? { [ENV.secretNamePrefix]: config.secretNamePrefix } : {}),
    ...(config.eventBusName !== undefined ? { [ENV.eventBusName]: config.eventBusName } : {}),
    ...(config.bulkCredentialListing ? { [ENV.bulkCredentialListing]: 'true' } : {}),
    ...(config.policy.maxCredentialAgeDays !== undefined
      ? { [ENV.maxCredentialAgeDays]: String(config.policy.maxCredentialAgeDays) }
      : {}),
    ...(config.declaredTargetsFile ? { [ENV.declaredTargetsFile]: config.declaredTargetsFile } : {}),
    ...(config.verification ? { [ENV.verification]: config.verification } : {}),
    ...(config.credentialInventory ? { [ENV.credentialInventory]: 'true' } : {}),
    ...(config.userOptInTag ? { [ENV.userOptInTag]: config.userOptInTag } : {}),
    ...(config.deploymentStackId ? { [ENV.deploymentStackId]: config.deploymentStackId } : {}),
    ...(config.tagDiscovery ? { [ENV.tagDiscovery]: 'true' } : {}),
  };
}

/** How each policy field is called where it is set (the CDK props, or the Lambda environment). */
export type PolicyNames = Readonly<Record<keyof Policy, string>>;
const PROP_NAMES: PolicyNames = {
  rotateAfterDays: 'rotateAfterDays',
  overlapDays: 'overlapDays',
  gracePeriodDays: 'gracePeriodDays',
  maxCredentialAgeDays: 'maxCredentialAgeDays',
};
export const ENV_POLICY_NAMES: PolicyNames = {
  rotateAfterDays: ENV.rotateAfterDays,
  overlapDays: ENV.overlapDays,
  gracePeriodDays: ENV.gracePeriodDays,
  maxCredentialAgeDays: ENV.maxCredentialAgeDays,
};

/**
 * The policy rule: every value >= 0, rotateAfterDays > 0 and
 * rotateAfterDays > overlapDays + gracePeriodDays, so that a replaced credential is
 * deleted before the next rotation needs its slot (IAM allows two per user and service).
 */
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

/** Version of the declared-targets file (lambda/declared-targets.ts validates and loads it). */
export const DECLARATION_VERSION = 1;

/**
 * A target's own verification settings (docs/VERIFICATION.md), as the construct's props, the
 * declaration file and (for tag-discovered targets) the secret's tags carry them.
 */
export interface TargetVerificationSettings {
  /**
   * Whether the new credential is checked with the service before the old one is retired:
   * `off`, `warn` (report and go on) or `enforce` (keep the old one, delete the new one).
   * @default the deployment's (VERIFICATION)
   */
  readonly verification?: VerificationMode | undefined;
  /** CodeCommit: the repository whose refs the probe reads. @default none: nothing is probed */
  readonly codeCommitRepository?: string | undefined;
  /** CloudWatch Logs: the canary log group the probe writes one event to. @default none: nothing is probed */
  readonly canaryLogGroup?: string | undefined;
  /** CloudWatch Logs: the stream in the canary group (it must exist). @default 'credential-rotator' */
  readonly canaryLogStream?: string | undefined;
}

export interface DeclaredTarget extends TargetVerificationSettings {
  /** The secret's name (not its ARN: the name is known before the secret exists). */
  readonly secretName: string;
  readonly userName: string;
  readonly serviceName: string;
  /** A service AWS added after this release: accepted although it is not a known one. */
  readonly allowUnknownService?: boolean | undefined;
  /**
   * The secret's logical id in the deploying stack (`DEPLOYMENT_STACK_ID`): with the stack id
   * it identifies the secret the deployment created, which a secret recreated under the same
   * name is not. @default none (declarations written before it existed)
   */
  readonly logicalId?: string | undefined;
}

export interface Declaration {
  readonly version: typeof DECLARATION_VERSION;
  readonly targets: readonly DeclaredTarget[];
}

/** The file's content for a list of targets (for the construct and for tests). */
export function serializeDeclaration(targets: readonly DeclaredTarget[]): string {
  const declaration: Declaration = { version: DECLARATION_VERSION, targets };
  return JSON.stringify(declaration);
}
