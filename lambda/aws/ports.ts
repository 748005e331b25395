// The ports the executor talks to: IAM's credentials, Secrets Manager's secrets, and Secrets
// Manager's rotation (the four steps, and a stale rotation taken back). Adapters (iam.ts, secrets.ts) implement
// them with the AWS SDK; tests may implement them directly. Every method is required: a run
// never checks what a port can do. Every method translates AWS errors into
// the typed errors of ../errors.ts and never puts a secret into an error message.
import type { Credential, CurrentVersion, IssuedCredential, SecretRotation } from '../rotation/model.ts';

export interface CredentialsPort {
  /** All credentials of (user, service), every status. Pages by Marker by hand (no SDK paginator). */
  listCredentials(userName: string, serviceName: string): Promise<Credential[]>;
  /**
   * Bulk observation at fleet scale: every credential of every user, every status, for one
   * service or, when omitted, all services (ListServiceSpecificCredentials with `AllUsers`,
   * paged by Marker; one call per 1000 credentials instead of one per target). Used only with
   * RunDeps.bulkCredentialListing (it needs IAM List on user/*).
   */
  listAllCredentials(serviceName?: string): Promise<Credential[]>;
  /**
   * Issue a new credential. `ageDays` sets CredentialAgeDays (only for services that
   * support expiry). Never retried by the caller: Create has no idempotency token.
   */
  createCredential(userName: string, serviceName: string, ageDays?: number): Promise<IssuedCredential>;
  /** New password (or API key) for an existing credential: same id, same status. */
  resetCredential(userName: string, credentialId: string): Promise<IssuedCredential>;
  setCredentialStatus(userName: string, credentialId: string, status: 'Active' | 'Inactive'): Promise<void>;
  deleteCredential(userName: string, credentialId: string): Promise<void>;
}

/** A secret as discovery sees it: name, ARN and tags. */
export interface SecretSummary {
  readonly arn: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Set when the secret is scheduled for deletion. */
  readonly deletedAt?: Date | undefined;
  /** The version carrying the rotator's intent label (from the staging metadata), if any. */
  readonly intentVersionId?: string | undefined;
  /** Rotation in Secrets Manager (from the same answer); undefined when never configured. */
  readonly rotation?: SecretRotation | undefined;
}

/** A secret's rotation as Secrets Manager sees it (DescribeSecret). */
export interface RotationState {
  /** RotationEnabled (false when rotation was never configured). */
  readonly enabled: boolean;
  /** The rotation function's ARN, when one was ever configured. */
  readonly functionArn?: string | undefined;
  readonly automaticallyAfterDays?: number | undefined;
  readonly scheduleExpression?: string | undefined;
  /** The rotation window, e.g. `4h`. */
  readonly duration?: string | undefined;
  /** When Secrets Manager last completed a rotation (unset until then). */
  readonly lastRotatedAt?: Date | undefined;
  readonly nextRotationAt?: Date | undefined;
  /** VersionId -> staging labels, label-less versions left out. */
  readonly versionStages: Readonly<Record<string, readonly string[]>>;
}

export interface SecretsPort {
  /**
   * Every secret carrying the tag key `credential-rotator:user-name` (ListSecrets with a
   * tag-key filter; secrets scheduled for deletion are not listed), optionally only names
   * starting with `namePrefix`.
   */
  listTargetSecrets(namePrefix?: string): Promise<SecretSummary[]>;
  /** One secret by name or ARN (DescribeSecret); throws SecretNotFoundError. */
  describeSecret(secretId: string): Promise<SecretSummary>;
  /** The AWSCURRENT version, or undefined when the secret has none yet. */
  readCurrent(secretId: string): Promise<CurrentVersion | undefined>;
  /** The AWSPREVIOUS version (what a rollback restores), or undefined when there is none. */
  readPrevious(secretId: string): Promise<CurrentVersion | undefined>;
  /** The rotator's intent version (staging label INTENT_STAGE), or undefined when there is none. */
  readIntent(secretId: string): Promise<CurrentVersion | undefined>;
  /**
   * Write a new intent version: the intent label moves to it, AWSCURRENT and AWSPREVIOUS stay.
   * `claim`, when given, is its ClientRequestToken: two runs claiming the same step from the same
   * observed state send the same token with different values, and the later one fails with
   * IntentClaimedError (an SDK retry of the same write sends the same value: a no-op). Returns
   * the VersionId.
   */
  writeIntent(secretId: string, value: string, claim?: string): Promise<string>;
  /** Store a new AWSCURRENT version (the old one becomes AWSPREVIOUS). Returns the VersionId. */
  storeCurrent(secretId: string, value: string): Promise<string>;
  /**
   * Bulk observation at fleet scale: the AWSCURRENT versions of many secrets
   * (BatchGetSecretValue, 20 a call). Keyed by the id asked for; each maps to its version,
   * to undefined when it has none yet, or to the typed error reported for that secret.
   * A failure of a whole batch call is thrown.
   */
  readCurrentMany(secretIds: readonly string[]): Promise<Map<string, CurrentVersion | undefined | Error>>;
}

/**
 * Secrets Manager's rotation: the four steps' calls, what the run needs to take back a rotation
 * Secrets Manager started and left, and RotateSecret (the console's button, for local tools and
 * tests: the function never calls it, and its role is not granted it).
 */
export interface SecretRotationPort {
  /** Rotation configuration, dates and labels of one secret (DescribeSecret). */
  describeRotation(secretId: string): Promise<RotationState>;
  /**
   * Starts a rotation in Secrets Manager (RotateSecret with the configured function) and
   * returns the new version's id; throws RotationInProgressError while one is unfinished.
   */
  rotateSecret(secretId: string): Promise<string>;
  /**
   * One version by id (and, if given, only while it carries `stage`); undefined when it has
   * no value (the empty version RotateSecret creates) or does not carry the stage.
   */
  readVersion(secretId: string, versionId: string, stage?: string): Promise<CurrentVersion | undefined>;
  /**
   * Stores `value` as the AWSPENDING version with id `token` (PutSecretValue with that
   * ClientRequestToken): fills the version RotateSecret made; the same call again is a no-op.
   */
  storePending(secretId: string, token: string, value: string): Promise<string>;
  /** Moves AWSCURRENT to `versionId` from `fromVersionId` (the old one becomes AWSPREVIOUS). */
  moveCurrent(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void>;
  /**
   * When `versionId` was created (ListSecretVersionIds' CreatedDate, which also lists the empty
   * version RotateSecret made); undefined when the version is not listed or comes without a date.
   */
  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined>;
  /** Removes AWSPENDING from `versionId` (a rotation abandoned: the next one starts clean). */
  removePending(secretId: string, versionId: string): Promise<void>;
}

/**
 * The deploying CloudFormation stack: which secret ARN each of its logical ids created. A
 * secret's ARN ends in six random characters that Secrets Manager picks at creation, so a
 * secret recreated under the same name has another ARN; the stack's record is the one an
 * attacker cannot recreate (docs/SECURITY.md "Writes only to the deployed secrets").
 */
export interface DeploymentPort {
  /**
   * The physical ids (ARNs) of the stack's `AWS::SecretsManager::Secret` resources among
   * `logicalIds`, keyed by logical id; a logical id the stack does not have is left out.
   * Throws (a typed error) when the stack cannot be read.
   */
  deployedSecretArns(stackId: string, logicalIds: readonly string[]): Promise<Map<string, string>>;
}
