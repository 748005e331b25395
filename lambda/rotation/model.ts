// The domain vocabulary shared by the planner, the executor and the adapters.
// Nothing here talks to AWS; adapters translate SDK shapes into these types.
// Dependency-free (probe.ts is): the construct library ships this file's declarations.
import type { ProbeOutcome, ProbeSettings } from '../probes/probe.ts';

/**
 * - `off`: no probe; the credential counts as working once IAM lists it Active.
 * - `warn`: probe; a failure is reported (log, metric, event) but the rotation completes.
 * - `enforce`: probe; a failure keeps the old credential current and removes the new one.
 */
export type VerificationMode = 'off' | 'warn' | 'enforce';

/**
 * A target's own verification settings (from its tags, or from the declaration when the
 * deployment declares its targets). Unset fields: the deployment's mode, nothing to probe.
 */
export interface TargetVerification extends ProbeSettings {
  readonly mode?: VerificationMode | undefined;
}

export type CredentialStatus = 'Active' | 'Inactive' | 'Expired';

/** A service-specific credential as IAM lists it. Never carries a password or API key. */
export interface Credential {
  readonly id: string;
  readonly userName: string;
  readonly serviceName: string;
  readonly status: CredentialStatus;
  /** IAM's CreateDate: every lifecycle time derives from it. */
  readonly createdAt: Date;
  readonly expiresAt?: Date | undefined;
  /** Keyspaces/CodeCommit: the user name to log in with (e.g. `alice-at-123456789012`). */
  readonly serviceUserName?: string | undefined;
  /** Bedrock: the API key's alias. */
  readonly alias?: string | undefined;
}

/** What Create and Reset return: the only moment IAM shows the secret part. */
export interface IssuedCredential extends Credential {
  readonly servicePassword?: string | undefined;
  readonly serviceCredentialSecret?: string | undefined;
}

/** One (IAM user, service) pair and the one secret that holds its credential. */
export interface Target {
  /** The secret's ARN (what every Secrets Manager call uses). */
  readonly secretId: string;
  readonly secretName: string;
  readonly userName: string;
  readonly serviceName: string;
  /**
   * The version carrying the rotator's intent label (INTENT_STAGE) when the secret was listed
   * or described: staging metadata that ListSecrets and DescribeSecret return anyway, so
   * knowing that an intent exists costs no call. Undefined when there is none.
   */
  readonly intentVersionId?: string | undefined;
  /** The secret's rotation in Secrets Manager, from the same listing; undefined: never configured. */
  readonly rotation?: SecretRotation | undefined;
  /** Its own verification settings (tags or declaration); unset: the deployment's mode. */
  readonly verification?: TargetVerification | undefined;
}

/**
 * A secret's rotation as ListSecrets and DescribeSecret show it (no extra call): whether it is on,
 * with which function, and the version a started rotation has not finished, if any.
 */
export interface SecretRotation {
  readonly enabled: boolean;
  readonly functionArn?: string | undefined;
  /** A version carrying AWSPENDING but not AWSCURRENT: a rotation in progress. */
  readonly pendingVersionId?: string | undefined;
}

/**
 * The secret value (JSON) of `AWSCURRENT`. Keyspaces/CodeCommit fill username/password;
 * services that return an alias/secret pair (Bedrock) fill apiKey/alias.
 */
export interface CredentialRecord {
  readonly credentialId: string;
  readonly userName: string;
  readonly serviceName: string;
  /** IAM's CreateDate, ISO 8601. */
  readonly issuedAt: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly alias?: string | undefined;
  readonly expiresAt?: string | undefined;
  /**
   * Set on the record a `rollback` wrote (ISO 8601): the credential was made current again at
   * that time. Its predecessor-to-be is retired from then on, and the schedule leaves the target
   * alone until gracePeriodDays after it (operator.ts).
   */
  readonly rolledBackAt?: string | undefined;
}

/** The `AWSCURRENT` version of a target's secret as read. */
export interface CurrentVersion {
  readonly versionId: string;
  /** When the version was written (Secrets Manager's CreatedDate). */
  readonly createdAt: Date;
  /** The raw SecretString; may be a placeholder or anything else. */
  readonly value: string | undefined;
}

/**
 * The rotator's write-ahead intent (the value of the INTENT_STAGE version; never a secret):
 * written before any IAM call that can leave a credential no secret version records.
 */
export interface Intent {
  /** The Lambda invocation that wrote it (Lambda's retry of an invocation keeps its id). */
  readonly requestId: string;
  /** ISO 8601: when it was written (just before Create or Reset). */
  readonly writtenAt: string;
  /** ISO 8601: until when that invocation can still be running. */
  readonly deadline: string;
  /**
   * The AWSCURRENT version when it was written (undefined: none yet). While AWSCURRENT is still
   * that version, nothing was stored since: the intent is open.
   */
  readonly currentVersionId?: string | undefined;
  /** Credentials IAM listed when it was written: none of them is the intent's own. */
  readonly known: readonly string[];
  /** Set for an adoption: the unrecorded credential about to be Reset. */
  readonly credentialId?: string | undefined;
  /** ISO 8601: set by the invocation on its way out after a failure; it no longer runs. */
  readonly endedAt?: string | undefined;
}

/** Everything one run observes about one target before planning. */
export interface ObservedTarget {
  readonly target: Target;
  /** undefined when the secret has no AWSCURRENT version yet. */
  readonly current: CurrentVersion | undefined;
  /**
   * The intent version, read only when the planner may need it (see `mayNeedIntent` in
   * orphans.ts: an Active credential the secret does not record); undefined otherwise.
   */
  readonly intent?: CurrentVersion | undefined;
  /** Every credential IAM lists for (user, service), Inactive and Expired included. */
  readonly credentials: readonly Credential[];
  /** The AWSPREVIOUS version: read for a `rollback` only, undefined otherwise. */
  readonly previous?: CurrentVersion | undefined;
}

/** Rotation policy, in days (fractions allowed). Validated by config.ts. */
export interface Policy {
  readonly rotateAfterDays: number;
  readonly overlapDays: number;
  readonly gracePeriodDays: number;
  /**
   * Upper bound on CredentialAgeDays for services that take it (the organisation's limit,
   * e.g. an SCP); validated by services.ts `validateMaxCredentialAgeDays`. Unset: no bound.
   */
  readonly maxCredentialAgeDays?: number | undefined;
}

export type Outcome =
  | 'unchanged'
  | 'rotated'
  | 'retired'
  | 'recovered'
  | 'blocked'
  | 'failed'
  | 'planned'
  /** A manual `rollback`: the previous credential is current again. */
  | 'rolled-back'
  /** A manual `revoke`: the named credential is switched off (or deleted), replaced first if current. */
  | 'revoked';

/** One AWS-visible step the executor took (or, in a dry run, would take). Ids only, never secrets. */
export interface ActionTaken {
  readonly type: 'create' | 'reset' | 'store' | 'activate' | 'deactivate' | 'delete';
  readonly credentialId: string;
  readonly at: string;
}

/** The per-target entry of the result report. */
export interface TargetReport {
  readonly secretId: string;
  readonly userName: string;
  readonly serviceName: string;
  readonly outcome: Outcome;
  readonly actions: readonly ActionTaken[];
  /** The credential AWSCURRENT names after this run, when there is one. */
  readonly currentCredentialId?: string | undefined;
  /** IAM CreateDate of that credential, ISO 8601 (feeds the stale-credential metric). */
  readonly currentIssuedAt?: string | undefined;
  /** Next time this target needs a run (rotation, deactivation or deletion), ISO 8601. */
  readonly nextDueAt?: string | undefined;
  /** Why the target is blocked, or what failed (never a secret). */
  readonly reason?: string | undefined;
  /**
   * Who rotates the target: `direct` (this run issues the credential) or `secrets-manager`
   * (the run finds a rotation Secrets Manager started still in progress and leaves it to the
   * four steps; a rotation step's own report says so too). The run never starts one itself.
   */
  readonly via?: 'direct' | 'secrets-manager' | undefined;
  /** What the service said of the credential this run issued (absent: no probe was asked). */
  readonly verification?: VerificationReport | undefined;
  /**
   * AWSCURRENT held a value the rotator did not write (rotation/tampering.ts): what was found.
   * Reported (a `Secret Tampering Detected` event, the TamperedSecrets metric), never obeyed.
   */
  readonly tampering?: string | undefined;
  /** `status` only: every credential IAM lists for the target (ids and dates, no secrets). */
  readonly credentials?:
    | readonly {
        readonly id: string;
        readonly status: string;
        readonly issuedAt: string;
        readonly current: boolean;
      }[]
    | undefined;
}

/** A probe's verdict on a newly issued credential, as reported (ids and reasons, never a secret). */
export interface VerificationReport {
  readonly credentialId: string;
  readonly mode: VerificationMode;
  readonly outcome: ProbeOutcome;
  readonly reason: string;
  readonly attempts: number;
}

export interface RunReport {
  readonly action: 'reconcile' | 'rotate' | 'status' | 'rollback' | 'revoke' | 'rotation-step';
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly targets: readonly TargetReport[];
  /**
   * Secrets that carry the rotator's tags but are not declared (declared targets only):
   * ignored, never written, and not failures, so that tagging a secret cannot stop rotation.
   */
  readonly rejected?: readonly RejectedSecret[] | undefined;
  /** Targets discovered but not started because the run's deadline was near. */
  readonly deferred?: readonly string[] | undefined;
}

/** A secret discovery refused to treat as a target, and why. Ids and tag values only. */
export interface RejectedSecret {
  readonly secretId: string;
  readonly secretName: string;
  /** The tag values the secret carries (what it claims to manage). */
  readonly userName: string;
  readonly serviceName: string;
  readonly reason: string;
  /**
   * A secret with a declared name but not the ARN the deploying stack created (deleted and
   * recreated under that name): never read for writing nor written. Absent: tagged, not declared.
   */
  readonly lookAlike?: boolean | undefined;
}
