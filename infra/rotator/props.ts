// The construct's props and the shapes it exposes, in the style of aws-cdk-lib: flat,
// readonly, each optional prop documented with its @default.
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { TargetVerificationSettings, VerificationMode } from '../../lambda/contract.ts';

/**
 * Per-target verification settings (docs/VERIFICATION.md), written into the declaration and
 * as the secret's tags (`credential-rotator:verification`, `:codecommit-repository`,
 * `:canary-log-group`, `:canary-log-stream`). Defined once, in the function's contract.
 */
export type TargetVerificationProps = TargetVerificationSettings;

/** One IAM user's credential for one service, kept in one secret. */
export interface RotationTarget extends TargetVerificationProps {
  /** The IAM user that owns the credential (IAM's user-name rules, no comma: tags reject it). */
  readonly userName: string;
  /** The service the credential is for, e.g. `cassandra.amazonaws.com`. */
  readonly serviceName: string;
  /**
   * Name of the secret that holds the credential. Must start with `secretNamePrefix`,
   * because the function only discovers secrets under that prefix.
   * @default `<secretNamePrefix><userName>/<serviceName>`
   */
  readonly secretName?: string;
  /**
   * The IAM path of the user, used to build the user's ARN in the function's policy.
   * @default '/'
   */
  readonly userPath?: string;
  /**
   * ARNs of the IAM roles (or users) that may read this secret. The secret's resource policy
   * denies GetSecretValue to everyone else but the rotator; `grantRead()` adds to this list.
   * Each reader still needs an identity policy allowing the read (grantRead gives both).
   * @default none: only the rotator reads the secret
   */
  readonly readers?: readonly string[];
  /**
   * Accept a `serviceName` this release does not know (a service AWS added later). Without
   * it, an unknown service fails synth with the list of known ones.
   * @default false
   */
  readonly allowUnknownService?: boolean;
}

/**
 * Days past `rotateAfterDays` before the oldest credential counts as stale (the alarm). With
 * daily runs a credential grows up to a day older than `rotateAfterDays` before the run that
 * rotates it; the second day leaves room for one failed run, which FailedTargets reports.
 */
export const DEFAULT_STALE_CREDENTIAL_MARGIN_DAYS = 2;

export interface ServiceCredentialRotatorProps {
  /** The credentials to keep fresh. At least one; each (user, service) pair at most once. */
  readonly targets: readonly RotationTarget[];
  /**
   * Whether each new credential is checked with the service itself (a CQL login, a Git
   * `info/refs`, a Bedrock or Logs call with the key) before the old one is retired, for the
   * targets that do not set their own: `off`, `warn` or `enforce`. The function then needs
   * network access to the services' endpoints (docs/VERIFICATION.md).
   * @default 'enforce' (DEFAULT_VERIFICATION_MODE)
   */
  readonly verification?: VerificationMode;
  /**
   * When the rotator runs. Each run only does what is due, so running more often than
   * daily is harmless; running less often delays rotations by up to one interval.
   * @default daily at 03:00 UTC (`cron(0 3 * * ? *)`)
   */
  readonly schedule?: events.Schedule;
  /**
   * How often `schedule` fires. The stale-credential alarm goes off when no run has
   * reported for two such intervals; set it when the schedule is not daily.
   * Between 1 hour and 3.5 days (CloudWatch evaluates at most 7 days).
   * @default Duration.days(1)
   */
  readonly expectedRunInterval?: Duration;
  /**
   * Age in days of the current credential at which a new one is issued.
   * Must be greater than `overlapDays + gracePeriodDays`.
   * @default 30 (DEFAULT_POLICY)
   */
  readonly rotateAfterDays?: number;
  /**
   * Days a replaced credential stays Active after its successor was issued.
   * @default 0, deactivated in the same run (DEFAULT_POLICY)
   */
  readonly overlapDays?: number;
  /**
   * Days a retired credential stays Inactive (and can be switched back on) before deletion.
   * @default 7 (DEFAULT_POLICY)
   */
  readonly gracePeriodDays?: number;
  /**
   * Longest lifetime, in days, of keys for services that take IAM's CredentialAgeDays
   * (Bedrock, CloudWatch Logs), for organisations whose SCP limits it (e.g. 29 under
   * "deny Bedrock keys valid for 30 days or more"). Must exceed rotateAfterDays + overlapDays.
   * @default rotateAfterDays + overlapDays + gracePeriodDays
   */
  readonly maxCredentialAgeDays?: number;
  /**
   * The exact ARNs of the principals through which CloudFormation deploys this stack: the only
   * ones (besides the rotator's role for the value) allowed to write a secret's value or staging
   * labels, change its settings, policy or rotator tags (`credential-rotator:*`), or delete it
   * (the secret's resource policy, docs/SECURITY.md). Compared exactly (`aws:PrincipalArn`
   * StringEquals): a value with a wildcard is refused, because whoever may create a role
   * matching a pattern could then change the secrets. Since issue 18 these are exact ARNs, no
   * longer patterns, and CloudFormation acting with a caller's own credentials (aws:CalledVia)
   * is no longer excepted; a stack whose synthesizer is not the DefaultStackSynthesizer must set it.
   * @default the CloudFormation execution role of the stack's DefaultStackSynthesizer
   * (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`, or its `cloudFormationExecutionRole`)
   */
  readonly deploymentPrincipalArns?: readonly string[];
  /**
   * Run the function in this VPC. Its role then gets the network-interface actions Lambda
   * attaches it with (the actions of AWSLambdaVPCAccessExecutionRole, inline; the managed
   * policy is not attached). It needs a route to IAM (its interface endpoint exists only in
   * us-east-1: elsewhere a NAT gateway) and to Secrets Manager and EventBridge (VPC endpoints or NAT), and to the probes'
   * services when verification is on; see docs/SECURITY.md "VPC placement". An `ec2.IVpc`
   * from `Vpc.fromVpcAttributes` with explicit `vpcSubnets` keeps synth offline (no lookup).
   * @default not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the function.
   * @default private subnets of `vpc` (Lambda's default selection)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the function in `vpc`.
   * @default a new security group allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Name prefix of the managed secrets; the function only discovers secrets under it.
   * @default 'service-credentials/' (DEFAULT_SECRET_NAME_PREFIX)
   */
  readonly secretNamePrefix?: string;
  /**
   * Customer-managed key for the secrets, the function's environment, its log group and the
   * queues. The function may use it only through Secrets Manager and SQS (kms:ViaService).
   * A key created in the same app gets the key-policy statements CloudWatch Logs and
   * EventBridge need; an imported key's owner must add them (docs/OPERATIONS.md), and the
   * schedule's dead-letter queue then keeps SQS-managed encryption.
   * @default AWS managed keys (aws/secretsmanager, aws/lambda), CloudWatch Logs' own
   * encryption and SQS-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Topic that receives every alarm (and its return to OK).
   * @default a new topic, encrypted with a key of its own, SSL enforced
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An e-mail address subscribed to the alarm topic (AWS sends a confirmation mail first).
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Reserved concurrency of the function. 1 serialises runs (a manual rotate never races a
   * scheduled run). `false` reserves nothing: needed in accounts whose concurrency quota is
   * 10 (new accounts), because Lambda keeps 10 unreserved and refuses any reservation there.
   * @default 1
   */
  readonly reservedConcurrency?: number | false;
  /**
   * List every user's credentials for a service in one paged call (IAM's `AllUsers`) instead
   * of one call per target: at 1,000 targets a steady-state run drops from about 1.06 to 0.06
   * AWS calls per target. It needs `iam:ListServiceSpecificCredentials` on `user/*` (IAM
   * documents no narrower resource for `AllUsers`): metadata only, never a password, but
   * wider than "exactly the configured users", hence opt-in.
   * @default false
   */
  readonly bulkCredentialListing?: boolean;
  /**
   * Publish the sample events (reconcile, status, dry-run, rotate-target) as shareable test
   * events in the Lambda console.
   * @default false
   */
  readonly consoleTestEvents?: boolean;
  /**
   * Also create the `lambda-testevent-schemas` registry (retained on stack deletion). Only
   * for accounts/regions where nobody has shared a test event yet: creating it fails when it
   * exists. Without it, the registry must exist before deployment (see docs/OPERATIONS.md).
   * @default false
   */
  readonly createTestEventRegistry?: boolean;
  /**
   * Bus that receives the transition events (rotated, retired, ...).
   * @default the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Days past `rotateAfterDays` before the oldest credential counts as stale (alarm).
   * @default DEFAULT_STALE_CREDENTIAL_MARGIN_DAYS
   */
  readonly staleCredentialMarginDays?: number;
  /**
   * Function timeout. One target costs a handful of API calls; an interrupted run is
   * finished by the next one, so a timeout is never harmful, only late. It must fit one
   * rotation (lambda/budget.ts): at least 135 s when any target is verified, 45 s when every
   * target's verification is `off`; a shorter one fails synth with the minimum and why.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Function memory in MiB. CPU scales with memory; 512 MiB makes the cold start (SDK
   * parse, TLS) fast for a few cents a month at one run a day.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Active X-Ray tracing.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * What happens to the secrets when they leave the stack. They hold the only copy of each
   * credential, so they are kept by default.
   * @default RemovalPolicy.RETAIN
   */
  readonly secretRemovalPolicy?: RemovalPolicy;
  /**
   * The function's code, for wrappers that add to the handler. It must export `handler`
   * from `index.mjs` and read its configuration as the product's handler does.
   * @default the product's handler, bundled into this package at build time
   */
  readonly code?: lambda.Code;
  /**
   * Create the CloudWatch dashboard. Turn it off when the metrics go to a dashboard of
   * your own (see the `metric...()` methods).
   * @default true
   */
  readonly dashboard?: boolean;
}

/** The rotator's alarms, by what they watch. Each notifies the alarm topic, and again on OK. */
export interface RotatorAlarms {
  /** The function failed (a target failed, bad configuration, timeout). */
  readonly functionErrors: cloudwatch.Alarm;
  /** At least one target failed in the last run. */
  readonly failedTargets: cloudwatch.Alarm;
  /** At least one target is blocked: both credential slots hold credentials the secret does not know. */
  readonly blockedTargets: cloudwatch.Alarm;
  /** A service did not accept a newly issued credential in the last day, whatever the verification mode. */
  readonly verificationFailures: cloudwatch.Alarm;
  /** The oldest current credential is overdue, or no run has reported for two run intervals. */
  readonly staleCredential: cloudwatch.Alarm;
  /** Targets were deferred for want of time in two consecutive run intervals. */
  readonly deferredTargets: cloudwatch.Alarm;
  /** A run deferred every target it found: it made no progress at all. */
  readonly allTargetsDeferred: cloudwatch.Alarm;
  /** A secret held a value the rotator did not write (tampering) in the last day; the credential in use stayed Active. */
  readonly tamperedSecrets: cloudwatch.Alarm;
  /** An invocation failed after all Lambda retries; its event is in the failure queue. */
  readonly failureQueueMessages: cloudwatch.Alarm;
  /** EventBridge could not deliver a scheduled run to the function. */
  readonly scheduleDeadLetterMessages: cloudwatch.Alarm;
}

/** A target with its defaults applied, and its secret. */
export interface ManagedTarget extends TargetVerificationProps {
  readonly userName: string;
  readonly serviceName: string;
  readonly userPath: string;
  readonly secretName: string;
  readonly secret: secretsmanager.ISecret;
}
