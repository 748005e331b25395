// The function and how it is invoked: its code (the handler bundled into this package at
// build time), role, log group and environment; the failure queues; the schedule.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type Config, toEnvironment } from '../../lambda/contract.ts';
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
}

export function createFunction(
  scope: Construct,
  s: FunctionSettings,
): { fn: lambda.Function; role: iam.Role } {
  const logGroup = new logs.LogGroup(scope, 'FunctionLogs', {
    retention: s.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // An explicit role with inline statements only (no AWS managed policies): every
  // permission (permissions.ts) is scoped to this construct's own resources.
  const role = new iam.Role(scope, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'service-credential-rotator: rotates the configured service-specific credentials',
  });
  logGroup.grantWrite(role);

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
    environment: { ...toEnvironment(s.config), ...POWERTOOLS_ENVIRONMENT },
  });
  return { fn, role };
}

/** The function's failure queue and the schedule's dead-letter queue. */
export function createQueues(scope: Construct, key: kms.IKey | undefined) {
  // The failure destination is written by Lambda with the function's role, so the
  // role's (via-service) KMS permissions suffice for a customer-managed key.
  const failureQueue = new sqs.Queue(scope, 'FailureQueue', {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // EventBridge writes its dead letters as the events service: with a customer-managed
  // key that needs a key-policy statement an imported key cannot be given, so this one
  // always uses SQS-managed encryption. It only ever holds the (secret-free) schedule event.
  const scheduleDeadLetterQueue = new sqs.Queue(scope, 'ScheduleDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  for (const queue of [failureQueue, scheduleDeadLetterQueue]) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter/failure queue (Lambda on-failure destination or ' +
        'EventBridge target DLQ); a DLQ of a DLQ adds nothing. Its depth is alarmed.',
    });
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
