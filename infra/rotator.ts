// The reusable construct: one rotator function, its schedule, one tagged secret per target,
// a least-privilege role, failure queues, alarms, a dashboard and (optionally) the Lambda
// console's shareable test events. The stack (stack.ts) and the app (app.ts) only feed it
// configuration; everything a deployment of the product needs is decided here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { validatePolicy } from '../lambda/config.ts';
import { DEFAULT_SECRET_NAME_PREFIX, SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/rotation/services.ts';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/telemetry.ts';

/** One IAM user's credential for one service, kept in one secret. */
export interface RotationTarget {
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
}

export interface ServiceCredentialRotatorProps {
  /** The credentials to keep fresh. At least one; each (user, service) pair at most once. */
  readonly targets: readonly RotationTarget[];
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
   * @default 30
   */
  readonly rotateAfterDays?: number;
  /**
   * Days a replaced credential stays Active after its successor was issued.
   * @default 0 (deactivated in the same run)
   */
  readonly overlapDays?: number;
  /**
   * Days a retired credential stays Inactive (and can be switched back on) before deletion.
   * @default 7
   */
  readonly gracePeriodDays?: number;
  /**
   * Name prefix of the managed secrets; the function only discovers secrets under it.
   * @default 'service-credentials/'
   */
  readonly secretNamePrefix?: string;
  /**
   * Customer-managed key for the secrets, the function's environment and the failure
   * queue. The function may use it only through Secrets Manager and SQS (kms:ViaService).
   * @default AWS managed keys (aws/secretsmanager, aws/lambda) and SQS-managed encryption
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
   * @default 2
   */
  readonly staleCredentialMarginDays?: number;
  /**
   * Function timeout. One target costs a handful of API calls; an interrupted run is
   * finished by the next one, so a timeout is never harmful, only late.
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
   * The function's entry file (for wrappers and tests).
   * @default the product's handler, lambda/handler.ts
   */
  readonly entry?: string;
}

/** The default entry: the product's handler, resolved from this file (not the cwd). */
export const DEFAULT_ENTRY = fileURLToPath(new URL('../lambda/handler.ts', import.meta.url));

/** Registry in which the Lambda console keeps shareable test events. */
export const TEST_EVENT_REGISTRY = 'lambda-testevent-schemas';

/** The sample events published as console test events, by their console name. */
export const CONSOLE_TEST_EVENTS: Readonly<Record<string, string>> = {
  reconcile: 'reconcile.json',
  status: 'status.json',
  'dry-run': 'dry-run.json',
  'rotate-target': 'rotate-target.json',
};

const CREDENTIAL_WRITE_ACTIONS = [
  'iam:CreateServiceSpecificCredential',
  'iam:UpdateServiceSpecificCredential',
  'iam:DeleteServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
];

// IAM's user-name pattern, minus the comma: the name is also a tag value, and tag values
// accept letters, digits, spaces and `_.:/=+-@` only.
const USER_NAME = /^[A-Za-z0-9_+=.@-]{1,64}$/;
const SERVICE_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_PREFIX = /^[A-Za-z0-9/_+=.@-]*$/;
const USER_PATH = /^(\/|\/[\x21-\x7e]{1,510}\/)$/;
// Secrets Manager appends `-` + 6 characters to build the ARN; a name that already ends
// like that makes partial ARNs ambiguous, and AWS advises against it.
const ARN_SUFFIX_LIKE = /-[A-Za-z0-9]{6}$/;

/** A configured target with its defaults applied and its secret. */
export interface ManagedTarget {
  readonly userName: string;
  readonly serviceName: string;
  readonly userPath: string;
  readonly secretName: string;
  readonly secret: secretsmanager.ISecret;
}

export class ServiceCredentialRotator extends Construct {
  /** The rotator function. */
  public readonly function: lambda.IFunction;
  /** The rule that runs the function on `schedule`. */
  public readonly rule: events.Rule;
  /** Topic that receives every alarm. */
  public readonly alarmTopic: sns.ITopic;
  /** Async invocations that failed after Lambda's retries land here. */
  public readonly failureQueue: sqs.IQueue;
  /** Scheduled events EventBridge could not deliver to the function land here. */
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** One entry per target, in the order given. */
  public readonly targets: readonly ManagedTarget[];
  /** Every alarm, by purpose. */
  public readonly alarms: {
    readonly functionErrors: cloudwatch.Alarm;
    readonly failedTargets: cloudwatch.Alarm;
    readonly blockedTargets: cloudwatch.Alarm;
    readonly staleCredential: cloudwatch.Alarm;
    readonly failureQueueMessages: cloudwatch.Alarm;
    readonly scheduleDeadLetterMessages: cloudwatch.Alarm;
  };
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceCredentialRotatorProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const policy = checkedPolicy(props);
    const prefix = props.secretNamePrefix ?? DEFAULT_SECRET_NAME_PREFIX;
    if (!SECRET_PREFIX.test(prefix)) {
      throw new Error(
        `secretNamePrefix may only contain letters, digits and /_+=.@-, got ${JSON.stringify(prefix)}`,
      );
    }
    const targets = checkedTargets(props.targets, prefix);
    const margin = nonNegative('staleCredentialMarginDays', props.staleCredentialMarginDays ?? 2);
    const runInterval = checkedRunInterval(props.expectedRunInterval ?? Duration.days(1));
    const reservedConcurrency = checkedConcurrency(props.reservedConcurrency);
    if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
      throw new Error(`alarmEmail must be an e-mail address, got ${JSON.stringify(props.alarmEmail)}`);
    }
    const key = props.encryptionKey;

    // --- queues -----------------------------------------------------------------------
    // The failure destination is written by Lambda with the function's role, so the
    // role's (via-service) KMS permissions suffice for a customer-managed key.
    const failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // EventBridge writes its dead letters as the events service: with a customer-managed
    // key that needs a key-policy statement an imported key cannot be given, so this one
    // always uses SQS-managed encryption. It only ever holds the (secret-free) schedule event.
    const scheduleDlq = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const queue of [failureQueue, scheduleDlq]) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself a dead-letter/failure queue (Lambda on-failure destination or ' +
          'EventBridge target DLQ); a DLQ of a DLQ adds nothing. Its depth is alarmed.',
      });
    }

    // --- function -----------------------------------------------------------------------
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An explicit role with inline statements only (no AWS managed policies): every
    // permission below is scoped to this construct's own resources.
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'service-credential-rotator: rotates the configured service-specific credentials',
    });
    logGroup.grantWrite(role);

    const timeout = props.timeout ?? Duration.minutes(5);
    const bus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const fn = new NodejsFunction(this, 'Function', {
      entry: props.entry ?? DEFAULT_ENTRY,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      role,
      logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environmentEncryption: key,
      reservedConcurrentExecutions: reservedConcurrency,
      description: 'Rotates IAM service-specific credentials into Secrets Manager',
      // Async invocations (the schedule, console "invoke async") are retried twice; the
      // handler is idempotent, so retries are safe. What still fails lands in the queue.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new QueueFailureDestination(failureQueue),
      environment: {
        ROTATE_AFTER_DAYS: String(policy.rotateAfterDays),
        OVERLAP_DAYS: String(policy.overlapDays),
        GRACE_PERIOD_DAYS: String(policy.gracePeriodDays),
        SECRET_NAME_PREFIX: prefix,
        EVENT_BUS_NAME: bus.eventBusName,
        ...(props.bulkCredentialListing ? { BULK_CREDENTIAL_LISTING: 'true' } : {}),
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        // Bundle the SDK rather than use the runtime's copy (CDK's default for Node >= 18): it
        // initialises faster here and carries the fields this code relies on (AllUsers,
        // Bedrock's ServiceCredentialSecret) whatever SDK version the runtime ships.
        externalModules: [],
        mainFields: ['module', 'main'],
        // ESM bundles of CJS dependencies still call require(): give them one.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
    });

    // --- secrets --------------------------------------------------------------------------
    const managed: ManagedTarget[] = targets.map((t) => {
      const secret = new secretsmanager.Secret(this, `Secret-${t.userName}-${t.serviceName}`, {
        secretName: t.secretName,
        description: `Service-specific credential of IAM user ${t.userName} for ${t.serviceName} (rotated by service-credential-rotator)`,
        encryptionKey: key,
        // A placeholder: any value that is not a credential record means "bootstrap", so
        // the first run issues the first credential.
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy: props.secretRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
      Tags.of(secret).add(USER_NAME_TAG, t.userName);
      Tags.of(secret).add(SERVICE_NAME_TAG, t.serviceName);
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "Rotated by this construct's function on its own schedule (IAM service-specific " +
          'credentials cannot use the Secrets Manager rotation protocol without a third slot).',
      });
      return { ...t, secret };
    });

    // --- permissions ----------------------------------------------------------------------
    const userArn = (t: { userPath: string; userName: string }) =>
      stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'user',
        resourceName: `${t.userPath}${t.userName}`.slice(1),
      });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListCredentialsOfConfiguredUsers',
        actions: ['iam:ListServiceSpecificCredentials'],
        resources: unique(managed.map(userArn)),
      }),
    );
    if (props.bulkCredentialListing) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ListCredentialsOfAllUsers',
          actions: ['iam:ListServiceSpecificCredentials'],
          resources: [stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' })],
        }),
      );
      Validations.of(role).acknowledge({
        // cdk-nag names the resource as rendered: a concrete account, or the token's name.
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account}:user/*]`,
        reason:
          'Opt-in bulkCredentialListing: ListServiceSpecificCredentials with AllUsers has no ' +
          'narrower documented resource. It returns credential metadata, never a password; ' +
          'every write stays limited to the configured users.',
      });
    }
    // One statement per service: a user configured for Keyspaces cannot get a CodeCommit
    // credential. IAM documents iam:ServiceSpecificCredentialServiceName for Create,
    // Update, Delete and Reset (not for List).
    for (const serviceName of unique(managed.map((t) => t.serviceName))) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: `ManageCredentials${pascal(serviceName)}`,
          actions: CREDENTIAL_WRITE_ACTIONS,
          resources: unique(managed.filter((t) => t.serviceName === serviceName).map(userArn)),
          conditions: { StringEquals: { 'iam:ServiceSpecificCredentialServiceName': serviceName } },
        }),
      );
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndWriteManagedSecrets',
        actions: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:DescribeSecret',
        ],
        resources: managed.map((t) => t.secret.secretArn),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DiscoverTargets',
        // BatchGetSecretValue itself needs "*"; each value it returns is still authorised by
        // GetSecretValue on that secret, which only the managed secrets grant.
        actions: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions (Service ' +
        'Authorization Reference: no resource type), so it needs "*"; it returns names and tags, ' +
        'never values. BatchGetSecretValue likewise needs "*" but returns only the values ' +
        'GetSecretValue allows, which only the managed secrets grant.' +
        (props.tracing
          ? ' With tracing, Lambda adds xray:PutTraceSegments/PutTelemetryRecords, which also have no resource type.'
          : ''),
    });
    if (key) {
      const viaService = (service: string) =>
        new iam.PolicyStatement({
          sid: `UseKeyVia${pascal(service)}`,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com` } },
        });
      role.addToPolicy(viaService('secretsmanager'));
      role.addToPolicy(viaService('sqs'));
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SendToFailureQueue',
        actions: ['sqs:SendMessage'],
        resources: [failureQueue.queueArn],
      }),
    );
    bus.grantPutEventsTo(role);

    // --- schedule -------------------------------------------------------------------------
    // An EventBridge rule (not Scheduler): the handler accepts both, and a rule needs no
    // extra role; its target retries delivery and dead-letters what it cannot deliver.
    const rule = new events.Rule(this, 'Schedule', {
      description: 'Runs service-credential-rotator (reconcile all targets)',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '3' }),
    });
    rule.addTarget(
      new eventTargets.LambdaFunction(fn, {
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: scheduleDlq,
      }),
    );

    // --- alarms -----------------------------------------------------------------------------
    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic();
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));
    }
    const rotatorMetric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic,
        period,
      });
    const staleThreshold = policy.rotateAfterDays + margin;
    const alarm = (id: string, p: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, id, p);
      a.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      a.addOkAction(new cwActions.SnsAction(this.alarmTopic));
      return a;
    };
    const gtZero = {
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    };
    this.alarms = {
      functionErrors: alarm('FunctionErrorsAlarm', {
        ...gtZero,
        alarmDescription:
          'The rotator function failed (a target failed, bad configuration, timeout). See docs/OPERATIONS.md#functionerrors.',
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      // Failed/Blocked are reported once per run: missing data between runs says nothing,
      // so the alarm keeps its state until the next run reports (IGNORE).
      failedTargets: alarm('FailedTargetsAlarm', {
        ...gtZero,
        alarmDescription: 'At least one target failed in the last run. See docs/OPERATIONS.md#failedtargets.',
        metric: rotatorMetric(METRIC.failedTargets, 'Maximum', Duration.hours(1)),
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      blockedTargets: alarm('BlockedTargetsAlarm', {
        ...gtZero,
        alarmDescription:
          'At least one target is blocked (both credential slots taken by credentials the secret does not know). See docs/OPERATIONS.md#blockedtargets.',
        metric: rotatorMetric(METRIC.blockedTargets, 'Maximum', Duration.hours(1)),
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      // A rotator that stopped (rule disabled, function broken before it reports) emits
      // nothing: missing data is as bad as an old credential, hence BREACHING. Two periods
      // of one run interval each, both breaching, so one late run does not page anyone.
      staleCredential: alarm('StaleCredentialAlarm', {
        alarmDescription:
          `The oldest current credential is older than ${staleThreshold} days, or the rotator has not ` +
          'reported for two run intervals. See docs/OPERATIONS.md#stalecredential.',
        metric: rotatorMetric(METRIC.oldestCredentialAgeDays, 'Maximum', runInterval),
        threshold: staleThreshold,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      failureQueueMessages: alarm('FailureQueueAlarm', {
        ...gtZero,
        alarmDescription:
          'An invocation failed after all Lambda retries; its event is in the failure queue. See docs/OPERATIONS.md#failurequeue.',
        metric: failureQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      scheduleDeadLetterMessages: alarm('ScheduleDeadLetterAlarm', {
        ...gtZero,
        alarmDescription:
          'EventBridge could not deliver a scheduled run to the function. See docs/OPERATIONS.md#scheduledeadletter.',
        metric: scheduleDlq.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };

    // --- dashboard ----------------------------------------------------------------------------
    const day = Duration.days(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(35),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(this.alarms),
            width: 24,
            height: 3,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Credential transitions per day',
            left: [METRIC.rotations, METRIC.recoveries, METRIC.retirements, METRIC.deletions].map((m) =>
              rotatorMetric(m, 'Sum', day),
            ),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Failed and blocked targets',
            left: [
              rotatorMetric(METRIC.failedTargets, 'Maximum', day),
              rotatorMetric(METRIC.blockedTargets, 'Maximum', day),
              rotatorMetric(METRIC.targets, 'Maximum', day),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Oldest current credential (days)',
            left: [rotatorMetric(METRIC.oldestCredentialAgeDays, 'Maximum', day)],
            leftAnnotations: [
              { value: policy.rotateAfterDays, label: 'rotate after' },
              { value: staleThreshold, label: 'stale', color: cloudwatch.Color.RED },
            ],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Invocations and errors',
            left: [
              fn.metricInvocations({ period: Duration.hours(1), statistic: 'Sum' }),
              fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
              fn.metricThrottles({ period: Duration.hours(1), statistic: 'Sum' }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Duration (ms)',
            left: [
              fn.metricDuration({ period: Duration.hours(1), statistic: 'Average' }),
              fn.metricDuration({ period: Duration.hours(1), statistic: 'Maximum' }),
            ],
            leftAnnotations: [{ value: timeout.toMilliseconds(), label: 'timeout' }],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Failure queues (messages visible)',
            left: [
              failureQueue.metricApproximateNumberOfMessagesVisible({
                period: Duration.hours(1),
                statistic: 'Maximum',
              }),
              scheduleDlq.metricApproximateNumberOfMessagesVisible({
                period: Duration.hours(1),
                statistic: 'Maximum',
              }),
            ],
            width: 8,
          }),
        ],
      ],
    });

    // --- console test events ------------------------------------------------------------------
    if (props.consoleTestEvents) {
      const schema = new CfnSchema(this, 'ConsoleTestEvents', {
        registryName: TEST_EVENT_REGISTRY,
        schemaName: `_${fn.functionName}-schema`,
        type: 'OpenApi3',
        description: 'Shareable test events of the service-credential-rotator function',
        content: JSON.stringify(testEventsSchema()),
      });
      if (props.createTestEventRegistry) {
        const registry = new CfnRegistry(this, 'TestEventRegistry', {
          registryName: TEST_EVENT_REGISTRY,
          description: 'Lambda console shareable test events',
        });
        // Shared with every function's console events in this account/region: never
        // delete it with this stack.
        registry.applyRemovalPolicy(RemovalPolicy.RETAIN);
        schema.addDependency(registry);
      }
    } else if (props.createTestEventRegistry) {
      throw new Error('createTestEventRegistry is only meaningful with consoleTestEvents: true, got false');
    }

    this.function = fn;
    this.rule = rule;
    this.failureQueue = failureQueue;
    this.scheduleDeadLetterQueue = scheduleDlq;
    this.targets = managed;
  }

  /** The secret of one target, by user and service name. */
  public secretFor(userName: string, serviceName: string): secretsmanager.ISecret {
    const found = this.targets.find(
      (t) => t.userName.toLowerCase() === userName.toLowerCase() && t.serviceName === serviceName,
    );
    if (!found)
      throw new Error(
        `no target for user ${JSON.stringify(userName)} and service ${JSON.stringify(serviceName)}`,
      );
    return found.secret;
  }

  private createAlarmTopic(): sns.Topic {
    // CloudWatch publishes to an encrypted topic only if the key policy lets it use the
    // key; AWS managed aws/sns cannot be given that, so the topic gets its own key.
    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the service-credential-rotator alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: 'service-credential-rotator alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
  }
}

/** Writes to the failure queue with the function's own role (see the SendToFailureQueue statement). */
class QueueFailureDestination implements lambda.IDestination {
  constructor(private readonly queue: sqs.IQueue) {}
  bind(): lambda.DestinationConfig {
    return { destination: this.queue.queueArn };
  }
}

function checkedPolicy(props: ServiceCredentialRotatorProps) {
  const policy = {
    rotateAfterDays: props.rotateAfterDays ?? 30,
    overlapDays: props.overlapDays ?? 0,
    gracePeriodDays: props.gracePeriodDays ?? 7,
  };
  try {
    return validatePolicy(policy);
  } catch (error) {
    throw new Error(
      `invalid rotation policy (rotateAfterDays=${policy.rotateAfterDays}, overlapDays=${policy.overlapDays}, ` +
        `gracePeriodDays=${policy.gracePeriodDays}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function checkedTargets(targets: readonly RotationTarget[], prefix: string) {
  if (targets.length === 0) throw new Error('targets must name at least one target, got []');
  const seenPairs = new Map<string, number>();
  const seenSecrets = new Map<string, number>();
  return targets.map((t, i) => {
    const where = `targets[${i}]`;
    if (Token.isUnresolved(t.userName) || Token.isUnresolved(t.serviceName)) {
      throw new Error(`${where}: userName and serviceName must be plain strings, not tokens`);
    }
    if (!USER_NAME.test(t.userName)) {
      throw new Error(
        `${where}.userName must be 1-64 letters, digits or _+=.@- (an IAM user name usable as a tag value), got ${JSON.stringify(t.userName)}`,
      );
    }
    if (!SERVICE_NAME.test(t.serviceName)) {
      throw new Error(
        `${where}.serviceName must look like <service>.amazonaws.com in lower case, got ${JSON.stringify(t.serviceName)}`,
      );
    }
    const userPath = t.userPath ?? '/';
    if (!USER_PATH.test(userPath)) {
      throw new Error(`${where}.userPath must be "/" or "/<path>/", got ${JSON.stringify(userPath)}`);
    }
    const secretName = t.secretName ?? `${prefix}${t.userName}/${t.serviceName}`;
    if (!SECRET_NAME.test(secretName) || ARN_SUFFIX_LIKE.test(secretName)) {
      throw new Error(
        `${where}.secretName must be 1-512 letters, digits or /_+=.@- and not end in "-" plus 6 characters, got ${JSON.stringify(secretName)}`,
      );
    }
    if (!secretName.startsWith(prefix)) {
      throw new Error(
        `${where}.secretName must start with secretNamePrefix ${JSON.stringify(prefix)} (the function only discovers secrets under it), got ${JSON.stringify(secretName)}`,
      );
    }
    // IAM user names are unique case-insensitively: "Bob" and "bob" are one user.
    const pair = `${t.userName.toLowerCase()} ${t.serviceName}`;
    const first = seenPairs.get(pair);
    if (first !== undefined) {
      throw new Error(
        `${where} duplicates targets[${first}]: user ${JSON.stringify(t.userName)} and service ${JSON.stringify(t.serviceName)} appear twice`,
      );
    }
    seenPairs.set(pair, i);
    const firstSecret = seenSecrets.get(secretName);
    if (firstSecret !== undefined) {
      throw new Error(
        `${where}.secretName ${JSON.stringify(secretName)} is already used by targets[${firstSecret}]`,
      );
    }
    seenSecrets.set(secretName, i);
    return { userName: t.userName, serviceName: t.serviceName, userPath, secretName };
  });
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function checkedRunInterval(interval: Duration): Duration {
  const seconds = interval.toSeconds();
  if (seconds < 3600 || seconds > 302_400 || seconds % 60 !== 0) {
    throw new Error(
      `expectedRunInterval must be whole minutes between 1 hour and 3.5 days, got ${interval.toHumanString()}`,
    );
  }
  return interval;
}

function checkedConcurrency(value: number | false | undefined): number | undefined {
  if (value === false) return undefined;
  const n = value ?? 1;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`reservedConcurrency must be an integer >= 1 or false, got ${String(value)}`);
  }
  return n;
}

function testEventsSchema() {
  const eventsDir = new URL('../events/', import.meta.url);
  const examples = Object.fromEntries(
    Object.entries(CONSOLE_TEST_EVENTS).map(([name, file]) => [
      name,
      { value: JSON.parse(readFileSync(new URL(file, eventsDir), 'utf8')) as unknown },
    ]),
  );
  return {
    openapi: '3.0.0',
    info: { version: '1.0.0', title: 'Event' },
    paths: {},
    components: { schemas: { Event: { type: 'object', required: [], properties: {} } }, examples },
  };
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** `cassandra.amazonaws.com` -> `CassandraAmazonawsCom` (for statement ids). */
function pascal(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');
}
