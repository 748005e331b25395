import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/telemetry.ts';
import { ServiceCredentialRotator, TEST_EVENT_REGISTRY } from '../../infra/rotator/index.ts';
import {
  ACCOUNT,
  actionsOf,
  allStatements,
  logicalId,
  newStack,
  REGION,
  resourcesOf,
  rotatorTemplate,
  statement,
  TARGETS,
  userArn,
} from './helpers.ts';

const CREDENTIAL_ACTIONS = [
  'iam:CreateServiceSpecificCredential',
  'iam:UpdateServiceSpecificCredential',
  'iam:DeleteServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
];

describe('ServiceCredentialRotator function', () => {
  it('runs on Node.js 24 on arm64 with the policy and names in its environment', () => {
    const { template } = rotatorTemplate({ rotateAfterDays: 20, overlapDays: 1, gracePeriodDays: 5 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 300,
      Environment: {
        Variables: {
          ROTATE_AFTER_DAYS: '20',
          OVERLAP_DAYS: '1',
          GRACE_PERIOD_DAYS: '5',
          SECRET_NAME_PREFIX: 'service-credentials/',
          EVENT_BUS_NAME: 'default',
          POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        },
      },
    });
  });

  it('applies the default policy 30/0/7', () => {
    const { template } = rotatorTemplate();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ROTATE_AFTER_DAYS: '30', OVERLAP_DAYS: '0', GRACE_PERIOD_DAYS: '7' }),
      },
    });
  });

  it('reserves a concurrency of 1 by default, a given number, or none when disabled', () => {
    rotatorTemplate().template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
    });
    rotatorTemplate({ reservedConcurrency: 3 }).template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
    });
    rotatorTemplate({ reservedConcurrency: false }).template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('writes to an explicit log group with a one-year retention by default', () => {
    const { template } = rotatorTemplate();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    const logGroup = logicalId(template, 'AWS::Logs::LogGroup');
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logGroup } },
    });
  });

  it('traces with X-Ray only when asked', () => {
    rotatorTemplate().template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: Match.absent(),
    });
    rotatorTemplate({ tracing: true }).template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('sends failed async invocations, after two retries, to an encrypted failure queue', () => {
    const { template } = rotatorTemplate();
    const queues = template.findResources('AWS::SQS::Queue', { Properties: { SqsManagedSseEnabled: true } });
    expect(Object.keys(queues)).toHaveLength(2);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RotatorFailureQueue'), 'Arn'] } },
      },
    });
    expect(statement(template, 'SendToFailureQueue').Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^RotatorFailureQueue/), 'Arn'],
    });
  });
});

describe('ServiceCredentialRotator schedule', () => {
  it('runs daily at 03:00 UTC with a retry policy and a dead-letter queue on the target', () => {
    const { template } = rotatorTemplate();
    const fn = logicalId(template, 'AWS::Lambda::Function');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RotatorScheduleDeadLetterQueue'), 'Arn'] },
          },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
  });

  it('uses a given schedule', () => {
    const { template } = rotatorTemplate({ schedule: events.Schedule.rate(Duration.hours(12)) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(12 hours)' });
  });
});

describe('ServiceCredentialRotator secrets', () => {
  it('creates one tagged secret per target, named <prefix><user>/<service>, kept on deletion', () => {
    const { template } = rotatorTemplate();
    template.resourceCountIs('AWS::SecretsManager::Secret', TARGETS.length);
    for (const t of TARGETS) {
      template.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          Name: `service-credentials/${t.userName}/${t.serviceName}`,
          GenerateSecretString: Match.objectLike({ ExcludePunctuation: true }),
          // CDK sorts tags by key.
          Tags: Match.arrayWith([
            { Key: SERVICE_NAME_TAG, Value: t.serviceName },
            { Key: USER_NAME_TAG, Value: t.userName },
          ]),
        }),
      });
    }
  });

  it('uses a given secret name and prefix', () => {
    const { template } = rotatorTemplate({
      secretNamePrefix: 'team-a/',
      targets: [
        { userName: 'u1', serviceName: 'cassandra.amazonaws.com', secretName: 'team-a/keyspaces/u1' },
        { userName: 'u2', serviceName: 'cassandra.amazonaws.com' },
      ],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'team-a/keyspaces/u1' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'team-a/u2/cassandra.amazonaws.com',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SECRET_NAME_PREFIX: 'team-a/' }) },
    });
  });

  it('exposes each secret by target', () => {
    const { rotator } = rotatorTemplate();
    expect(rotator.targets.map((t) => t.secretName)).toEqual(
      TARGETS.map((t) => `service-credentials/${t.userName}/${t.serviceName}`),
    );
    expect(rotator.secretFor('ci-git', 'codecommit.amazonaws.com')).toBe(rotator.targets[1]?.secret);
    expect(() => rotator.secretFor('nobody', 'codecommit.amazonaws.com')).toThrow(/"nobody"/);
  });

  it('can let the secrets be destroyed with the stack', () => {
    const { template } = rotatorTemplate({ secretRemovalPolicy: RemovalPolicy.DESTROY });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  });
});

describe('ServiceCredentialRotator permissions', () => {
  it('lists credentials of exactly the configured users', () => {
    const { template } = rotatorTemplate();
    const s = statement(template, 'ListCredentialsOfConfiguredUsers');
    expect(actionsOf(s)).toEqual(['iam:ListServiceSpecificCredentials']);
    expect(resourcesOf(s)).toEqual([userArn('orders-keyspaces'), userArn('ci-git')]);
  });

  it("manages credentials per service, for exactly that service's users, with the service-name condition", () => {
    const { template } = rotatorTemplate();
    const cassandra = statement(template, 'ManageCredentialsCassandraAmazonawsCom');
    expect(actionsOf(cassandra).sort()).toEqual([...CREDENTIAL_ACTIONS].sort());
    expect(resourcesOf(cassandra)).toEqual([userArn('orders-keyspaces')]);
    expect(cassandra.Condition).toEqual({
      StringEquals: { 'iam:ServiceSpecificCredentialServiceName': 'cassandra.amazonaws.com' },
    });
    const codecommit = statement(template, 'ManageCredentialsCodecommitAmazonawsCom');
    expect(resourcesOf(codecommit)).toEqual([userArn('ci-git'), userArn('orders-keyspaces')]);
    expect(codecommit.Condition).toEqual({
      StringEquals: { 'iam:ServiceSpecificCredentialServiceName': 'codecommit.amazonaws.com' },
    });
    const credentialStatements = allStatements(template).filter((st) =>
      actionsOf(st).some((a) => a.includes('ServiceSpecificCredential')),
    );
    expect(credentialStatements).toHaveLength(3);
  });

  it('builds user ARNs with the IAM path', () => {
    const { template } = rotatorTemplate({
      targets: [{ userName: 'svc', serviceName: 'cassandra.amazonaws.com', userPath: '/apps/keyspaces/' }],
    });
    expect(resourcesOf(statement(template, 'ListCredentialsOfConfiguredUsers'))).toEqual([
      userArn('apps/keyspaces/svc'),
    ]);
  });

  it('reads and writes exactly the managed secrets', () => {
    const { template } = rotatorTemplate();
    const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const s = statement(template, 'ReadAndWriteManagedSecrets');
    expect(actionsOf(s).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    expect(resourcesOf(s)).toEqual(expect.arrayContaining(secretIds.map((id) => ({ Ref: id }))));
    expect(resourcesOf(s)).toHaveLength(secretIds.length);
  });

  it('grants only ListSecrets and BatchGetSecretValue, which have no resource-level permissions, on "*"', () => {
    const { template } = rotatorTemplate();
    const s = statement(template, 'DiscoverTargets');
    expect(actionsOf(s)).toEqual(['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue']);
    expect(s.Resource).toBe('*');
  });

  it("lists all users' credentials only when bulkCredentialListing is on, and only List", () => {
    expect(allStatements(rotatorTemplate().template).map((s) => s.Sid)).not.toContain(
      'ListCredentialsOfAllUsers',
    );
    const { template } = rotatorTemplate({ bulkCredentialListing: true });
    const s = statement(template, 'ListCredentialsOfAllUsers');
    expect(actionsOf(s)).toEqual(['iam:ListServiceSpecificCredentials']);
    expect(JSON.stringify(s.Resource)).toContain(':user/*');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BULK_CREDENTIAL_LISTING: 'true' }) },
    });
    // Every other credential statement stays on the configured users.
    for (const other of allStatements(template).filter(
      (st) =>
        st.Sid !== 'ListCredentialsOfAllUsers' &&
        actionsOf(st).some((a) => /ServiceSpecificCredential/.test(a)),
    )) {
      expect(JSON.stringify(other.Resource)).not.toContain('*');
    }
  });

  it('never grants a credential action or a Secrets Manager write action on a wildcard resource', () => {
    const readOnlySecretsActions = new Set([
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
      'secretsmanager:ListSecrets',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:BatchGetSecretValue',
      'secretsmanager:GetResourcePolicy',
      'secretsmanager:GetRandomPassword',
    ]);
    const sensitive = (action: string) =>
      /^iam:.*ServiceSpecificCredential/i.test(action) ||
      action === '*' ||
      action === 'iam:*' ||
      (action.startsWith('secretsmanager:') && !readOnlySecretsActions.has(action));
    const key = (stack: import('aws-cdk-lib').Stack) => ({ encryptionKey: new kms.Key(stack, 'Key') });
    for (const { template } of [
      rotatorTemplate(),
      rotatorTemplate({ tracing: true, consoleTestEvents: true }, key),
    ]) {
      const statements = allStatements(template);
      expect(statements.some((s) => actionsOf(s).some(sensitive))).toBe(true);
      // Allows only: the explicit deny of secrets not deployed names them by NotResource.
      for (const s of statements.filter((st) => st.Effect === 'Allow' && actionsOf(st).some(sensitive))) {
        for (const r of resourcesOf(s)) {
          expect(JSON.stringify(r), `statement ${s.Sid ?? JSON.stringify(s.Action)}`).not.toContain('*');
        }
      }
    }
  });

  it('puts transition events on the default bus, or on a given bus', () => {
    const putEvents = (t: import('aws-cdk-lib/assertions').Template) =>
      allStatements(t).filter((s) => actionsOf(s).includes('events:PutEvents'));
    const onDefault = putEvents(rotatorTemplate().template);
    expect(onDefault).toHaveLength(1);
    expect(JSON.stringify(onDefault[0]?.Resource)).toContain(
      `:events:${REGION}:${ACCOUNT}:event-bus/default`,
    );

    const { template } = rotatorTemplate({}, (stack) => ({ eventBus: new events.EventBus(stack, 'Bus') }));
    const bus = logicalId(template, 'AWS::Events::EventBus');
    expect(putEvents(template).map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [bus, 'Arn'] }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: { Ref: bus } }) },
    });
  });
});

describe('ServiceCredentialRotator encryption', () => {
  it('uses a given key for secrets, environment and failure queue, and lets the function use it only via Secrets Manager and SQS', () => {
    const { template } = rotatorTemplate({}, (stack) => ({ encryptionKey: new kms.Key(stack, 'Key') }));
    const key = logicalId(template, 'AWS::KMS::Key', { Description: Match.absent() });
    const keyArn = { 'Fn::GetAtt': [key, 'Arn'] };
    template.allResourcesProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArn });
    template.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: keyArn });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    const viaSecrets = statement(template, 'UseKeyViaSecretsmanager');
    expect(actionsOf(viaSecrets).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(viaSecrets.Resource).toEqual(keyArn);
    expect(viaSecrets.Condition).toEqual({
      StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` },
    });
    expect(statement(template, 'UseKeyViaSqs').Condition).toEqual({
      StringEquals: { 'kms:ViaService': `sqs.${REGION}.amazonaws.com` },
    });
    const kmsStatements = allStatements(template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('kms:')),
    );
    for (const s of kmsStatements) {
      if (s.Sid === 'AllowCloudWatchAlarmsToPublish' || JSON.stringify(s).includes(':root')) continue;
      expect(s.Condition?.StringEquals?.['kms:ViaService'], s.Sid).toBeDefined();
    }
  });

  it('grants no KMS permission without a key', () => {
    const { template } = rotatorTemplate();
    expect(allStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))).toEqual([]);
  });
});

describe('ServiceCredentialRotator alarms', () => {
  const rotatorMetric = (metricName: string) => ({
    Namespace: METRICS_NAMESPACE,
    MetricName: metricName,
    Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
  });

  it('alarms on function errors, failed and blocked targets, stale credentials and queued failures, all to the topic', () => {
    const { template } = rotatorTemplate({ rotateAfterDays: 30, staleCredentialMarginDays: 3 });
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic') };
    const wired = { AlarmActions: [topic], OKActions: [topic] };
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...wired,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    for (const metric of [METRIC.failedTargets, METRIC.blockedTargets]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...wired,
        ...rotatorMetric(metric),
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'ignore',
      });
    }
    // Tampering: any in a day, kept on for the day (a Sum over one day).
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...wired,
      ...rotatorMetric(METRIC.tamperedSecrets),
      Statistic: 'Sum',
      Period: 86400,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...wired,
      ...rotatorMetric(METRIC.oldestCredentialAgeDays),
      Statistic: 'Maximum',
      Threshold: 33,
      Period: 86400,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    for (const queue of ['RotatorFailureQueue', 'RotatorScheduleDeadLetterQueue']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...wired,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${queue}`), 'QueueName'] } },
        ],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on any verification failure in a day, so warn-mode failures are seen', () => {
    const { template, rotator } = rotatorTemplate({});
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic') };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topic],
      OKActions: [topic],
      ...rotatorMetric(METRIC.verificationFailures),
      Statistic: 'Sum',
      Period: 86400,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(rotator.alarms.verificationFailures.metric).toMatchObject({
      metricName: METRIC.verificationFailures,
    });
  });

  it('alarms when targets are deferred in two consecutive run intervals, or a run defers every target', () => {
    const { template, rotator } = rotatorTemplate({ expectedRunInterval: Duration.hours(12) });
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic') };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topic],
      OKActions: [topic],
      ...rotatorMetric(METRIC.deferredTargets),
      Statistic: 'Maximum',
      Period: 43200,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [topic],
      OKActions: [topic],
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'ignore',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(deferred > 0 AND started == 0, 1, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'deferred',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: METRIC.deferredTargets }) }),
        }),
        Match.objectLike({
          Id: 'started',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: METRIC.targets }),
            Stat: 'Minimum',
          }),
        }),
      ]),
    });
    expect(rotator.alarms.deferredTargets.alarmArn).toBeDefined();
    expect(rotator.alarms.allTargetsDeferred.alarmArn).toBeDefined();
  });

  it('sizes the stale-credential window from the expected run interval', () => {
    const { template } = rotatorTemplate({ expectedRunInterval: Duration.hours(12) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.oldestCredentialAgeDays,
      Period: 43200,
      Threshold: 32,
    });
  });

  it('creates an encrypted, SSL-only topic with an e-mail subscription', () => {
    const { template } = rotatorTemplate({ alarmEmail: 'oncall@example.com' });
    const key = logicalId(template, 'AWS::KMS::Key');
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('uses a given topic and creates none', () => {
    const { template, rotator } = rotatorTemplate({}, (stack) => ({
      alarmTopic: sns.Topic.fromTopicArn(stack, 'Ops', `arn:aws:sns:${REGION}:${ACCOUNT}:ops`),
    }));
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:ops`],
    });
    expect(rotator.alarmTopic.topicArn).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:ops`);
  });

  it('has a dashboard of rotations, failures, oldest age, errors and duration', () => {
    const { template } = rotatorTemplate();
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const join = Object.values(dashboards)[0]?.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = join.filter((part) => typeof part === 'string').join('');
    for (const name of [
      METRIC.rotations,
      METRIC.failedTargets,
      METRIC.blockedTargets,
      METRIC.oldestCredentialAgeDays,
      'Errors',
      'Duration',
    ]) {
      expect(body).toContain(`"${name}"`);
    }
  });
});

describe('ServiceCredentialRotator console test events', () => {
  it('publishes the sample events as a shareable OpenApi3 schema of the function', () => {
    const { template } = rotatorTemplate({ consoleTestEvents: true });
    const fn = logicalId(template, 'AWS::Lambda::Function');
    template.hasResourceProperties('AWS::EventSchemas::Schema', {
      RegistryName: TEST_EVENT_REGISTRY,
      Type: 'OpenApi3',
      SchemaName: { 'Fn::Join': ['', ['_', { Ref: fn }, '-schema']] },
    });
    const schema = Object.values(template.findResources('AWS::EventSchemas::Schema'))[0];
    const content = JSON.parse(schema?.Properties.Content as string);
    expect(content.openapi).toMatch(/^3\./);
    expect(content.components.examples).toEqual({
      reconcile: { value: { action: 'reconcile' } },
      status: { value: { action: 'status' } },
      'dry-run': { value: { action: 'reconcile', dryRun: true } },
      'rotate-target': {
        value: { action: 'rotate', userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
      },
      'rollback-target': {
        value: { action: 'rollback', userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
      },
      'revoke-current': {
        value: { action: 'revoke', secretId: 'service-credentials/app-keyspaces/cassandra.amazonaws.com' },
      },
      'revoke-credential-delete': {
        value: {
          action: 'revoke',
          secretId: 'service-credentials/app-keyspaces/cassandra.amazonaws.com',
          credentialId: 'ACCAEXAMPLE0CREDENTIAL1',
          delete: true,
        },
      },
    });
    template.resourceCountIs('AWS::EventSchemas::Registry', 0);
  });

  it('publishes nothing by default', () => {
    const { template } = rotatorTemplate();
    template.resourceCountIs('AWS::EventSchemas::Schema', 0);
    template.resourceCountIs('AWS::EventSchemas::Registry', 0);
  });

  it('creates the registry, retained, only when asked', () => {
    const { template } = rotatorTemplate({ consoleTestEvents: true, createTestEventRegistry: true });
    const registry = logicalId(template, 'AWS::EventSchemas::Registry');
    template.hasResource('AWS::EventSchemas::Registry', {
      DeletionPolicy: 'Retain',
      Properties: { RegistryName: TEST_EVENT_REGISTRY, Description: Match.anyValue() },
    });
    template.hasResource('AWS::EventSchemas::Schema', { DependsOn: [registry] });
  });
});

describe('ServiceCredentialRotator props validation', () => {
  const build = (props: Record<string, unknown>) => () => {
    const { stack } = newStack();
    new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS, ...props } as never);
  };
  const cassandra = 'cassandra.amazonaws.com';

  it.each([
    ['no targets', { targets: [] }, /at least one target, got \[\]/],
    [
      'an empty user name',
      { targets: [{ userName: '', serviceName: cassandra }] },
      /targets\[0\]\.userName .*got ""/,
    ],
    ['a user name with a comma', { targets: [{ userName: 'a,b', serviceName: cassandra }] }, /got "a,b"/],
    ['a user name with a space', { targets: [{ userName: 'a b', serviceName: cassandra }] }, /got "a b"/],
    [
      'a service name not like <x>.amazonaws.com',
      { targets: [{ userName: 'u', serviceName: 'cassandra' }] },
      /serviceName must be a service name like "cassandra\.amazonaws\.com".*got "cassandra"/,
    ],
    [
      'an upper-case service name',
      { targets: [{ userName: 'u', serviceName: 'Cassandra.amazonaws.com' }] },
      /got "Cassandra\.amazonaws\.com"/,
    ],
    [
      'a duplicate target (IAM user names ignore case)',
      {
        targets: [
          { userName: 'App', serviceName: cassandra },
          { userName: 'app', serviceName: cassandra },
        ],
      },
      /targets\[1\] duplicates targets\[0\]: user "app"/,
    ],
    [
      'a secret name used twice',
      {
        targets: [
          { userName: 'a', serviceName: cassandra, secretName: 'service-credentials/x' },
          { userName: 'b', serviceName: cassandra, secretName: 'service-credentials/x' },
        ],
      },
      /"service-credentials\/x" is already used by targets\[0\]/,
    ],
    [
      'a secret name outside the prefix',
      { targets: [{ userName: 'a', serviceName: cassandra, secretName: 'other/a' }] },
      /must start with secretNamePrefix.*got "other\/a"/,
    ],
    [
      'a secret name with a bad character',
      { targets: [{ userName: 'a', serviceName: cassandra, secretName: 'service-credentials/a b' }] },
      /got "service-credentials\/a b"/,
    ],
    [
      'a secret name ending like an ARN suffix',
      { targets: [{ userName: 'a', serviceName: cassandra, secretName: 'service-credentials/a-abcdef' }] },
      /got "service-credentials\/a-abcdef"/,
    ],
    [
      'a bad user path',
      { targets: [{ userName: 'a', serviceName: cassandra, userPath: 'apps' }] },
      /userPath .*got "apps"/,
    ],
    ['a bad prefix', { secretNamePrefix: 'a b/' }, /secretNamePrefix .*got "a b\/"/],
    ['a negative overlap', { overlapDays: -1 }, /overlapDays=-1.*got -1/],
    ['a non-finite rotateAfterDays', { rotateAfterDays: Number.NaN }, /rotateAfterDays=NaN/],
    [
      'rotateAfterDays not above overlap + grace',
      { rotateAfterDays: 7, overlapDays: 0, gracePeriodDays: 7 },
      /rotateAfterDays \(7\) must be greater than overlapDays \+ gracePeriodDays/,
    ],
    ['a reserved concurrency of 0', { reservedConcurrency: 0 }, /reservedConcurrency .*got 0/],
    ['a fractional reserved concurrency', { reservedConcurrency: 1.5 }, /got 1\.5/],
    ['a negative stale margin', { staleCredentialMarginDays: -2 }, /staleCredentialMarginDays .*got -2/],
    [
      'a run interval over 3.5 days',
      { expectedRunInterval: Duration.days(7) },
      /expectedRunInterval .*got 7 days/,
    ],
    ['a malformed alarm e-mail', { alarmEmail: 'oncall' }, /alarmEmail .*got "oncall"/],
    [
      'a registry without test events',
      { createTestEventRegistry: true },
      /createTestEventRegistry .*consoleTestEvents/,
    ],
  ])('rejects %s, naming the bad value', (_name, props, message) => {
    expect(build(props)).toThrow(message);
  });
});
