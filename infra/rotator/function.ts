// The function and how it is invoked: its code (the handler bundled into this package at
// build time), role, log group and environment; the failure queues; the schedule.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type Config, ENV, toEnvironment } from '../../lambda/contract.ts';
import { POWERTOOLS_ENVIRONMENT } from '../../lambda/telemetry.ts';

/**
 * Where the build (scripts/build.ts) puts the bundled handler: `lib/handler/` of the
 * package. This module runs from `lib/infra/rotator/` when installed and from
 * `infra/rotator/` in this repository, hence two places to look.
 */
export function handlerAssetDir(): string {
  const candidates = ['../../handler/', '../../lib/handler/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(`${dir}index.mjs`));
  if (!found) {
    throw new Error(
      `the bundled handler is missing (looked in ${candidates.join(' and ')}): run "npm run build" first`,
    );
  }
  return found;
}

export interface FunctionSettings {
  readonly config: Config;
  readonly code?: lambda.Code | undefined;
  readonly encryptionKey?: kms.IKey | undefined;
  readonly logRetention: logs.RetentionDays;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly tracing: boolean;
  readonly reservedConcurrency: number | undefined;
  readonly failureQueue: sqs.IQueue;
  readonly network?: FunctionNetwork | undefined;
}

/** Where the function runs when it is placed in a VPC. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection | undefined;
  readonly securityGroups?: ec2.ISecurityGroup[] | undefined;
}

export function createFunction(
  scope: Construct,
  s: FunctionSettings,
): { fn: lambda.Function; role: iam.Role } {
  const logGroup = new logs.LogGroup(scope, 'FunctionLogs', {
    retention: s.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: s.encryptionKey,
  });
  if (!s.encryptionKey) {
    const reason =
      'No customer managed key configured (encryptionKey / cdk.json kmsKey): CloudWatch Logs encrypts ' +
      'the log group with its own keys. The function never logs a credential or secret value ' +
      '(tested leak scan), so the logs hold metadata only. Configure a key to encrypt them with it.';
    Validations.of(logGroup).acknowledge(
      { id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason },
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason },
    );
  }
  // An explicit role with inline statements only (no AWS managed policies): every
  // permission (permissions.ts) is scoped to this construct's own resources, but for the
  // few actions AWS defines no resource for (listing secrets; in a VPC, managing ENIs).
  const role = new iam.Role(scope, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'service-credential-rotator: rotates the configured service-specific credentials',
  });
  logGroup.grantWrite(role);
  Validations.of(role).acknowledge({
    id: 'NIST.800.53.R5-IAMNoInlinePolicy',
    reason:
      "The role's policy (an AWS::IAM::Policy attached to this role alone) names only this " +
      "construct's resources and grows with addTarget(); as a managed policy it could be attached " +
      'to other principals, handing them credential writes. Its logical id is kept for existing deployments.',
  });

  // A plain Function on a prebuilt asset: the consumer's synth needs no esbuild, no
  // TypeScript loader and no Docker.
  const fn = new lambda.Function(scope, 'Function', {
    code: s.code ?? lambda.Code.fromAsset(handlerAssetDir()),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: s.memorySize,
    timeout: s.timeout,
    role,
    logGroup,
    tracing: s.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    environmentEncryption: s.encryptionKey,
    reservedConcurrentExecutions: s.reservedConcurrency,
    description: 'Rotates IAM service-specific credentials into Secrets Manager',
    // Async invocations (the schedule, console "invoke async") are retried twice; the
    // handler is idempotent, so retries are safe. What still fails lands in the queue.
    retryAttempts: 2,
    maxEventAge: Duration.hours(6),
    onFailure: new QueueFailureDestination(s.failureQueue),
    environment: {
      ...toEnvironment(s.config),
      ...POWERTOOLS_ENVIRONMENT,
      // The stack that created the declared secrets (with their logical ids in the declaration).
      [ENV.deploymentStackId]: Stack.of(scope).stackId,
    },
    vpc: s.network?.vpc,
    vpcSubnets: s.network?.vpcSubnets,
    securityGroups: s.network?.securityGroups,
  });
  Validations.of(fn).acknowledge({
    id: 'NIST.800.53.R5-LambdaDLQ',
    reason:
      'Failed asynchronous invocations go to an on-failure destination (the failure queue, ' +
      'alarmed), which records the error as well as the event; a dead-letter queue would add a ' +
      'second, poorer copy.',
  });
  // In a VPC: the explicit role gets no AWSLambdaVPCAccessExecutionRole from CDK (only roles
  // it creates do); the ENI permissions are granted in permissions.ts (AttachToVpc).
  if (!s.network) {
    const reason =
      'No VPC configured (vpc / cdk.json vpc): the function only calls AWS APIs (IAM, Secrets ' +
      'Manager, EventBridge, SQS) over TLS with SigV4 and serves no inbound traffic. IAM has an ' +
      'interface VPC endpoint only in us-east-1, so a VPC elsewhere needs a NAT path anyway. ' +
      'Optional placement is documented in docs/SECURITY.md (VPC placement).';
    Validations.of(fn).acknowledge(
      { id: 'NIST.800.53.R5-LambdaInsideVPC', reason },
      { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason },
    );
  }
  if (s.reservedConcurrency === undefined) {
    Validations.of(fn).acknowledge({
      id: 'NIST.800.53.R5-LambdaConcurrency',
      reason:
        'reservedConcurrency: false was chosen because the account keeps only the 10 unreserved ' +
        'executions Lambda requires (a reservation is refused there). Runs are idempotent; ' +
        'concurrent runs cannot double-rotate (write-ahead intent).',
    });
  }
  return { fn, role };
}

/** The function's failure queue and the schedule's dead-letter queue. */
export function createQueues(scope: Construct, key: kms.IKey | undefined, eventBridgeMayUseKey: boolean) {
  // The failure destination is written by Lambda with the function's role, so the
  // role's (via-service) KMS permissions suffice for a customer-managed key.
  const failureQueue = new sqs.Queue(scope, 'FailureQueue', {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // EventBridge writes its dead letters as the events service: with a customer-managed
  // key that needs a key-policy statement an imported key cannot be given, so then this one
  // uses SQS-managed encryption. It only ever holds the (secret-free) schedule event.
  const deadLetterKey = eventBridgeMayUseKey ? key : undefined;
  const scheduleDeadLetterQueue = new sqs.Queue(scope, 'ScheduleDeadLetterQueue', {
    encryption: deadLetterKey ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: deadLetterKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const reason =
    'This queue is itself a dead-letter/failure queue (Lambda on-failure destination or ' +
    'EventBridge target DLQ); a DLQ of a DLQ adds nothing. Its depth is alarmed.';
  for (const queue of [failureQueue, scheduleDeadLetterQueue]) {
    Validations.of(queue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason },
      { id: 'cdk-validator-cfnguard::sqs_dlq_check', reason },
    );
  }
  return { failureQueue, scheduleDeadLetterQueue };
}

/** Daily at 03:00 UTC. */
export const DEFAULT_SCHEDULE = events.Schedule.cron({ minute: '0', hour: '3' });

export function createSchedule(
  scope: Construct,
  fn: lambda.IFunction,
  schedule: events.Schedule,
  deadLetterQueue: sqs.IQueue,
): events.Rule {
  // An EventBridge rule (not Scheduler): the handler accepts both, and a rule needs no
  // extra role; its target retries delivery and dead-letters what it cannot deliver.
  const rule = new events.Rule(scope, 'Schedule', {
    description: 'Runs service-credential-rotator (reconcile all targets)',
    schedule,
  });
  rule.addTarget(
    new eventTargets.LambdaFunction(fn, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
      deadLetterQueue,
    }),
  );
  return rule;
}

/** Writes to the failure queue with the function's own role (see the SendToFailureQueue statement). */
class QueueFailureDestination implements lambda.IDestination {
  constructor(private readonly queue: sqs.IQueue) {}
  bind(): lambda.DestinationConfig {
    return { destination: this.queue.queueArn };
  }
}
