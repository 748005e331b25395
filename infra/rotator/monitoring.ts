// Monitoring: the rotator's own metrics (as the function emits them, see telemetry.ts),
// the alarms on them and on the function and queues, and the dashboard.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/telemetry.ts';
import type { RotatorAlarms } from './props.ts';
import { limitGrantsToAwsResources } from './protection.ts';

/** One of the rotator's metrics, with the dimension the function sets on all of them. */
export function rotatorMetric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE },
    ...props,
  });
}

export interface AlarmSettings {
  readonly fn: lambda.IFunction;
  readonly topic: sns.ITopic;
  readonly failureQueue: sqs.IQueue;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Age in days beyond which the oldest credential is stale. */
  readonly staleThresholdDays: number;
  readonly runInterval: Duration;
}

export function createAlarms(scope: Construct, s: AlarmSettings): RotatorAlarms {
  const alarm = (id: string, p: cloudwatch.AlarmProps) => {
    const a = new cloudwatch.Alarm(scope, id, p);
    a.addAlarmAction(new cwActions.SnsAction(s.topic));
    a.addOkAction(new cwActions.SnsAction(s.topic));
    return a;
  };
  const gtZero = {
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  };
  const queueDepth = (queue: sqs.IQueue) =>
    queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' });
  return {
    functionErrors: alarm('FunctionErrorsAlarm', {
      ...gtZero,
      alarmDescription:
        'The rotator function failed (a target failed, bad configuration, timeout). See docs/OPERATIONS.md#functionerrors.',
      metric: s.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    // Failed/Blocked are reported once per run: missing data between runs says nothing,
    // so the alarm keeps its state until the next run reports (IGNORE).
    failedTargets: alarm('FailedTargetsAlarm', {
      ...gtZero,
      alarmDescription: 'At least one target failed in the last run. See docs/OPERATIONS.md#failedtargets.',
      metric: rotatorMetric(METRIC.failedTargets, { statistic: 'Maximum', period: Duration.hours(1) }),
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    }),
    blockedTargets: alarm('BlockedTargetsAlarm', {
      ...gtZero,
      alarmDescription:
        'At least one target is blocked (both credential slots taken by credentials the secret does not know). See docs/OPERATIONS.md#blockedtargets.',
      metric: rotatorMetric(METRIC.blockedTargets, { statistic: 'Maximum', period: Duration.hours(1) }),
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    }),
    // Any credential the service did not accept in a day, `warn` mode included: there the
    // target rotated anyway and no other alarm fires. A day's Sum, so the alarm stays on
    // for a day after a failure rather than flapping back at the next quiet run.
    verificationFailures: alarm('VerificationFailuresAlarm', {
      ...gtZero,
      alarmDescription:
        'A service did not accept a newly issued credential in the last day (any verification mode). See docs/OPERATIONS.md#verificationfailures.',
      metric: rotatorMetric(METRIC.verificationFailures, { statistic: 'Sum', period: Duration.days(1) }),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    // A rotator that stopped (rule disabled, function broken before it reports) emits
    // nothing: missing data is as bad as an old credential, hence BREACHING. Two periods
    // of one run interval each, both breaching, so one late run does not page anyone.
    staleCredential: alarm('StaleCredentialAlarm', {
      alarmDescription:
        `The oldest current credential is older than ${s.staleThresholdDays} days, or the rotator has not ` +
        'reported for two run intervals. See docs/OPERATIONS.md#stalecredential.',
      metric: rotatorMetric(METRIC.oldestCredentialAgeDays, { statistic: 'Maximum', period: s.runInterval }),
      threshold: s.staleThresholdDays,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }),
    // Deferred targets are taken by the next run; deferral in two consecutive run intervals
    // means the fleet does not fit the timeout. Periods of one run interval, both breaching,
    // so the operator hears of it at the second such run; missing data (no run) says nothing.
    deferredTargets: alarm('DeferredTargetsAlarm', {
      alarmDescription:
        'Runs deferred targets for want of time in two consecutive run intervals: the timeout does not fit the fleet. See docs/OPERATIONS.md#deferredtargets.',
      metric: rotatorMetric(METRIC.deferredTargets, { statistic: 'Maximum', period: s.runInterval }),
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    }),
    // A run that deferred every target it found (it started none: Targets 0) made no progress
    // at all, and the next one will not either: at once, not after two intervals.
    allTargetsDeferred: alarm('AllTargetsDeferredAlarm', {
      alarmDescription:
        'A run deferred every target: it made no progress and the next will not either. See docs/OPERATIONS.md#deferredtargets.',
      metric: new cloudwatch.MathExpression({
        label: 'Runs that deferred every target',
        expression: 'IF(deferred > 0 AND started == 0, 1, 0)',
        usingMetrics: {
          deferred: rotatorMetric(METRIC.deferredTargets, { statistic: 'Maximum' }),
          started: rotatorMetric(METRIC.targets, { statistic: 'Minimum' }),
        },
        period: Duration.hours(1),
      }),
      ...gtZero,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    }),
    // A value in a secret the rotator did not write means someone with Secrets Manager rights
    // bypassed the rotator: the run keeps the credential in use Active and reports it, but a
    // human must find the writer. A day's Sum, like verification failures, so it stays on.
    tamperedSecrets: alarm('TamperedSecretsAlarm', {
      ...gtZero,
      alarmDescription:
        'A secret held a value the rotator did not write in the last day (tampering). See docs/OPERATIONS.md#tamperedsecrets.',
      metric: rotatorMetric(METRIC.tamperedSecrets, { statistic: 'Sum', period: Duration.days(1) }),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    failureQueueMessages: alarm('FailureQueueAlarm', {
      ...gtZero,
      alarmDescription:
        'An invocation failed after all Lambda retries; its event is in the failure queue. See docs/OPERATIONS.md#failurequeue.',
      metric: queueDepth(s.failureQueue),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    scheduleDeadLetterMessages: alarm('ScheduleDeadLetterAlarm', {
      ...gtZero,
      alarmDescription:
        'EventBridge could not deliver a scheduled run to the function. See docs/OPERATIONS.md#scheduledeadletter.',
      metric: queueDepth(s.scheduleDeadLetterQueue),
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  };
}

export function createAlarmTopic(scope: Construct): sns.Topic {
  // CloudWatch publishes to an encrypted topic only if the key policy lets it use the
  // key; AWS managed aws/sns cannot be given that, so the topic gets its own key.
  const topicKey = new kms.Key(scope, 'AlarmTopicKey', {
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
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  limitGrantsToAwsResources(topicKey);
  return new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'service-credential-rotator alarms',
    masterKey: topicKey,
    enforceSSL: true,
  });
}

export interface DashboardSettings extends AlarmSettings {
  readonly alarms: RotatorAlarms;
  readonly rotateAfterDays: number;
  readonly timeout: Duration;
}

export function createDashboard(scope: Construct, s: DashboardSettings): cloudwatch.Dashboard {
  const daily = (metricName: string, statistic: string) =>
    rotatorMetric(metricName, { statistic, period: Duration.days(1) });
  const hourly = { period: Duration.hours(1) };
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.days(35),
    widgets: [
      [
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: Object.values(s.alarms),
          width: 24,
          height: 3,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Credential transitions per day',
          left: [METRIC.rotations, METRIC.recoveries, METRIC.retirements, METRIC.deletions].map((m) =>
            daily(m, 'Sum'),
          ),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Failed and blocked targets; verification failures (right)',
          left: [METRIC.failedTargets, METRIC.blockedTargets, METRIC.targets].map((m) => daily(m, 'Maximum')),
          right: [daily(METRIC.verificationFailures, 'Sum')],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Deferred targets (left) and targets run (right) per run',
          left: [daily(METRIC.deferredTargets, 'Maximum')],
          right: [daily(METRIC.targets, 'Minimum')],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Oldest current credential (days)',
          left: [daily(METRIC.oldestCredentialAgeDays, 'Maximum')],
          leftAnnotations: [
            { value: s.rotateAfterDays, label: 'rotate after' },
            { value: s.staleThresholdDays, label: 'stale', color: cloudwatch.Color.RED },
          ],
          width: 8,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Invocations and errors',
          left: [
            s.fn.metricInvocations({ ...hourly, statistic: 'Sum' }),
            s.fn.metricErrors({ ...hourly, statistic: 'Sum' }),
            s.fn.metricThrottles({ ...hourly, statistic: 'Sum' }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Duration (ms)',
          left: [
            s.fn.metricDuration({ ...hourly, statistic: 'Average' }),
            s.fn.metricDuration({ ...hourly, statistic: 'Maximum' }),
          ],
          leftAnnotations: [{ value: s.timeout.toMilliseconds(), label: 'timeout' }],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Failure queues (messages visible)',
          left: [s.failureQueue, s.scheduleDeadLetterQueue].map((q) =>
            q.metricApproximateNumberOfMessagesVisible({ ...hourly, statistic: 'Maximum' }),
          ),
          width: 8,
        }),
      ],
    ],
  });
}
