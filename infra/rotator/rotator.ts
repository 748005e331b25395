// The ServiceCredentialRotator construct: one rotator function on a schedule, one tagged
// secret per target, a least-privilege role, failure queues, alarms, a dashboard and
// (optionally) the Lambda console's test events. Each concern lives in its own module;
// this class wires them and offers the CDK-style surface (addTarget, grantRead, metric...).
import { ArnFormat, type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { timeoutProblem } from '../../lambda/budget.ts';
import { DEFAULT_SECRET_NAME_PREFIX, DEFAULT_VERIFICATION_MODE } from '../../lambda/contract.ts';
import { METRIC } from '../../lambda/telemetry.ts';
import { DECLARED_TARGETS_PATH, shipDeclarationAtSynth } from './declaration.ts';
import { createFunction, createQueues, createSchedule, DEFAULT_SCHEDULE } from './function.ts';
import { createAlarms, createAlarmTopic, createDashboard, rotatorMetric } from './monitoring.ts';
import { RotatorPermissions } from './permissions.ts';
import {
  allowEventBridgeToUseKey,
  allowLogsToUseKey,
  checkedDeploymentPrincipalArns,
  defaultDeploymentPrincipalArns,
  fenceSecret,
  limitGrantsToAwsResources,
  readerArn,
} from './protection.ts';
import {
  DEFAULT_STALE_CREDENTIAL_MARGIN_DAYS,
  type ManagedTarget,
  type RotationTarget,
  type RotatorAlarms,
  type ServiceCredentialRotatorProps,
} from './props.ts';
import { createTargetSecret, scheduleRotation } from './targets.ts';
import { createConsoleTestEvents } from './test-events.ts';
import {
  checkedConcurrency,
  checkedEmail,
  checkedPolicy,
  checkedPrefix,
  checkedRunInterval,
  checkedTarget,
  checkedVerificationMode,
  nonNegative,
} from './validation.ts';

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
  /** Every alarm, by what it watches. */
  public readonly alarms: RotatorAlarms;
  /** The dashboard, unless `dashboard: false`. */
  public readonly dashboard: cloudwatch.Dashboard | undefined;
  /**
   * Invoke permission on the function, and nothing else: attach it to the named people
   * who may run manual commands (each is recorded, see docs/SECURITY.md).
   */
  public readonly operatorPolicy: iam.ManagedPolicy;

  private readonly managed: ManagedTarget[] = [];
  private readonly prefix: string;
  private readonly encryptionKey: kms.IKey | undefined;
  private readonly secretRemovalPolicy: RemovalPolicy;
  private readonly permissions: RotatorPermissions;
  /** Set once the function exists; the targets' rotation schedules name it. */
  private rotationFunction!: lambda.Function;
  private rotateAfterDays!: number;
  /** Per secret name: the role ARNs its resource policy lets read it besides the rotator. */
  private readonly readers = new Map<string, string[]>();
  private readonly deploymentPrincipalArns: readonly string[];
  private readonly allowUnknown = new Set<string>();
  private rotatorRole: iam.IRole | undefined;

  constructor(scope: Construct, id: string, props: ServiceCredentialRotatorProps) {
    super(scope, id);
    const policy = checkedPolicy(props);
    this.prefix = checkedPrefix(props.secretNamePrefix ?? DEFAULT_SECRET_NAME_PREFIX);
    if (props.targets.length === 0) throw new Error('targets must name at least one target, got []');
    const margin = nonNegative(
      'staleCredentialMarginDays',
      props.staleCredentialMarginDays ?? DEFAULT_STALE_CREDENTIAL_MARGIN_DAYS,
    );
    const runInterval = checkedRunInterval(props.expectedRunInterval ?? Duration.days(1));
    const reservedConcurrency = checkedConcurrency(props.reservedConcurrency);
    const alarmEmail = checkedEmail(props.alarmEmail);
    this.encryptionKey = props.encryptionKey;
    this.secretRemovalPolicy = props.secretRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.deploymentPrincipalArns = props.deploymentPrincipalArns
      ? checkedDeploymentPrincipalArns(props.deploymentPrincipalArns)
      : defaultDeploymentPrincipalArns(this);
    const initial = props.targets.map((t) => this.createTarget(t));
    // Best effort: an imported key's policy is its owner's (docs/OPERATIONS.md lists the statements).
    if (this.encryptionKey) {
      limitGrantsToAwsResources(this.encryptionKey);
      allowLogsToUseKey(this.encryptionKey);
    }
    const eventBridgeMayUseKey = this.encryptionKey ? allowEventBridgeToUseKey(this.encryptionKey) : false;

    const { failureQueue, scheduleDeadLetterQueue } = createQueues(
      this,
      this.encryptionKey,
      eventBridgeMayUseKey,
    );
    const bus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const timeout = props.timeout ?? Duration.minutes(5);
    // At synth, not here: addTarget() may still add a verified target to an all-`off` fleet.
    this.node.addValidation({
      validate: () => {
        const verified = this.managed.some(
          (t) => (t.verification ?? props.verification ?? DEFAULT_VERIFICATION_MODE) !== 'off',
        );
        const problem = timeoutProblem(timeout.toMilliseconds() / 1000, verified);
        return problem ? [`timeout: ${problem}`] : [];
      },
    });
    const tracing = props.tracing ?? false;
    const { fn, role } = createFunction(this, {
      config: {
        policy,
        secretNamePrefix: this.prefix,
        eventBusName: bus.eventBusName,
        bulkCredentialListing: props.bulkCredentialListing ?? false,
        ...(props.verification !== undefined
          ? { verification: checkedVerificationMode(props.verification, 'verification') }
          : {}),
        declaredTargetsFile: DECLARED_TARGETS_PATH,
      },
      code: props.code,
      encryptionKey: this.encryptionKey,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      timeout,
      memorySize: props.memorySize ?? 512,
      tracing,
      reservedConcurrency,
      failureQueue,
      network: props.vpc
        ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups }
        : undefined,
    });
    this.rotatorRole = role;
    shipDeclarationAtSynth(this, fn, () =>
      this.managed.map((t) => ({
        secretName: t.secretName,
        userName: t.userName,
        serviceName: t.serviceName,
        ...(this.allowUnknown.has(t.secretName) ? { allowUnknownService: true } : {}),
        // With a declaration the function reads these from it, not from the secret's tags.
        ...(t.verification ? { verification: t.verification } : {}),
        ...(t.codeCommitRepository ? { codeCommitRepository: t.codeCommitRepository } : {}),
        ...(t.canaryLogGroup ? { canaryLogGroup: t.canaryLogGroup } : {}),
        ...(t.canaryLogStream ? { canaryLogStream: t.canaryLogStream } : {}),
        // With DEPLOYMENT_STACK_ID: the secret this stack created, not one recreated by name.
        logicalId: Stack.of(this).resolve((t.secret.node.defaultChild as CfnResource).logicalId) as string,
      })),
    );
    this.permissions = new RotatorPermissions(
      {
        role,
        encryptionKey: this.encryptionKey,
        bulkCredentialListing: props.bulkCredentialListing ?? false,
        tracing,
        vpc: props.vpc !== undefined,
      },
      initial,
    );
    this.permissions.allowDescribingOwnStack();
    // Secrets Manager invokes the function for the rotation steps of this account's secrets
    // under the prefix: it sends the secret's ARN as aws:SourceArn (docs/AWS-BEHAVIOUR.md).
    // A pattern, not one permission per secret: Lambda's function policy holds 20 KB, too
    // little for one statement per target. A look-alike under the prefix may still name the
    // function; its role is denied every write to a secret the stack did not deploy.
    fn.addPermission('SecretsManagerRotation', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
      sourceArn: Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${this.prefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });
    this.rotationFunction = fn;
    this.rotateAfterDays = policy.rotateAfterDays;
    for (const t of initial) this.scheduleRotation(t);
    this.permissions.allowFailureQueue(failureQueue);
    this.permissions.allowEventBus(bus);
    this.rule = createSchedule(this, fn, props.schedule ?? DEFAULT_SCHEDULE, scheduleDeadLetterQueue);

    this.alarmTopic = props.alarmTopic ?? createAlarmTopic(this);
    if (alarmEmail) this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(alarmEmail));
    const monitored = {
      fn,
      topic: this.alarmTopic,
      failureQueue,
      scheduleDeadLetterQueue,
      staleThresholdDays: policy.rotateAfterDays + margin,
      runInterval,
    };
    this.alarms = createAlarms(this, monitored);
    this.dashboard =
      props.dashboard === false
        ? undefined
        : createDashboard(this, {
            ...monitored,
            alarms: this.alarms,
            rotateAfterDays: policy.rotateAfterDays,
            timeout,
          });

    if (props.consoleTestEvents) {
      createConsoleTestEvents(this, fn, props.createTestEventRegistry ?? false);
    } else if (props.createTestEventRegistry) {
      throw new Error('createTestEventRegistry is only meaningful with consoleTestEvents: true, got false');
    }

    // It allows invoking the function, so every command: reconcile, rotate (with force),
    // rollback, revoke, status. The description keeps its first wording all the same: a managed
    // policy's description is immutable, and a new one would replace the policy (CloudFormation
    // "Update requires: Replacement"), changing the ARN operators attached by hand.
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description:
        'service-credential-rotator: run manual commands (rotate, force, status); each is logged and published with its request id',
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeRotator',
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
        }),
      ],
    });

    this.function = fn;
    this.failureQueue = failureQueue;
    this.scheduleDeadLetterQueue = scheduleDeadLetterQueue;
  }

  /** One entry per target, in the order given (the props' targets, then addTarget's). */
  public get targets(): readonly ManagedTarget[] {
    return [...this.managed];
  }

  /**
   * Manages one more credential: creates its secret and lets the function rotate it.
   * Checked like the props' targets (a duplicate user and service is an error).
   */
  public addTarget(target: RotationTarget): ManagedTarget {
    const added = this.createTarget(target);
    this.permissions.addTarget(added);
    this.scheduleRotation(added);
    return added;
  }

  /** The secret of one target, by user and service name. */
  public secretFor(userName: string, serviceName: string): secretsmanager.ISecret {
    return this.managedTarget({ userName, serviceName }).secret;
  }

  private managedTarget({ userName, serviceName }: Pick<RotationTarget, 'userName' | 'serviceName'>) {
    const found = this.managed.find(
      (t) => t.userName.toLowerCase() === userName.toLowerCase() && t.serviceName === serviceName,
    );
    if (!found) {
      throw new Error(
        `no target for user ${JSON.stringify(userName)} and service ${JSON.stringify(serviceName)}`,
      );
    }
    return found;
  }

  /**
   * Lets `grantee` read the credential of one target (GetSecretValue, DescribeSecret, and
   * kms:Decrypt via Secrets Manager when the secrets use a customer-managed key).
   */
  public grantRead(
    grantee: iam.IGrantable,
    target: Pick<RotationTarget, 'userName' | 'serviceName'>,
  ): iam.Grant {
    const secret = this.secretFor(target.userName, target.serviceName);
    this.readers.get(this.managedTarget(target).secretName)?.push(readerArn(grantee));
    return secret.grantRead(grantee);
  }

  /** The role ARNs each secret's resource policy lets read it (besides the rotator's role), by secret name. */
  public get secretReaders(): ReadonlyMap<string, readonly string[]> {
    return new Map([...this.readers].map(([name, arns]) => [name, [...new Set(arns)]]));
  }

  /** Any metric the function emits (telemetry.ts names them), with its `service` dimension. */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rotatorMetric(metricName, props);
  }

  /** Credentials issued (rotations). @default Sum over 5 minutes */
  public metricRotations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.rotations, { statistic: 'Sum', ...props });
  }

  /** Interrupted rotations completed (an issued credential adopted or repaired). @default Sum over 5 minutes */
  public metricRecoveries(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.recoveries, { statistic: 'Sum', ...props });
  }

  /** Replaced credentials deactivated. @default Sum over 5 minutes */
  public metricRetirements(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.retirements, { statistic: 'Sum', ...props });
  }

  /** Retired credentials deleted after the grace period. @default Sum over 5 minutes */
  public metricDeletions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.deletions, { statistic: 'Sum', ...props });
  }

  /** Targets that failed in a run. @default Maximum over 5 minutes */
  public metricFailedTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.failedTargets, { statistic: 'Maximum', ...props });
  }

  /** Targets blocked by credentials the secret does not know. @default Maximum over 5 minutes */
  public metricBlockedTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.blockedTargets, { statistic: 'Maximum', ...props });
  }

  /** Targets found in a run. @default Maximum over 5 minutes */
  public metricTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.targets, { statistic: 'Maximum', ...props });
  }

  /** New credentials a service did not accept (any verification mode). @default Sum over 5 minutes */
  public metricVerificationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.verificationFailures, { statistic: 'Sum', ...props });
  }

  /** Targets a run deferred to the next for want of time. @default Maximum over 5 minutes */
  public metricDeferredTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.deferredTargets, { statistic: 'Maximum', ...props });
  }

  /** Age in days of the oldest current credential. @default Maximum over 5 minutes */
  public metricOldestCredentialAgeDays(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.oldestCredentialAgeDays, { statistic: 'Maximum', ...props });
  }

  private scheduleRotation(target: ManagedTarget): void {
    const permission = this.rotationFunction.permissionsNode.findChild(
      'SecretsManagerRotation',
    ) as lambda.CfnPermission;
    // createTargetSecret made it: a Secret, which the schedule is a child of.
    scheduleRotation(
      target.secret as secretsmanager.Secret,
      this.rotationFunction,
      this.rotateAfterDays,
      permission,
    );
  }

  private createTarget(target: RotationTarget): ManagedTarget {
    const checked = checkedTarget(target, this.managed.length, this.prefix, this.managed);
    const secret = createTargetSecret(this, checked, this.encryptionKey, this.secretRemovalPolicy);
    const readers = [...(target.readers ?? [])];
    this.readers.set(checked.secretName, readers);
    if (target.allowUnknownService) this.allowUnknown.add(checked.secretName);
    fenceSecret(
      secret,
      () => {
        if (!this.rotatorRole) throw new Error('the rotator role is created with the function');
        return this.rotatorRole.roleArn;
      },
      { readers },
      this.deploymentPrincipalArns,
    );
    if (!this.encryptionKey) {
      Validations.of(secret).acknowledge({
        id: 'NIST.800.53.R5-SecretsManagerUsingKMSKey',
        reason:
          'No customer managed key configured (encryptionKey / cdk.json kmsKey): the secret uses ' +
          'the AWS managed key aws/secretsmanager, and its resource policy limits reading to the ' +
          'rotator and the declared readers. Configure a key to use your own.',
      });
    }
    const managed = { ...checked, secret };
    this.managed.push(managed);
    return managed;
  }
}
