// The construct's CDK-style surface beyond its props: addTarget after construction,
// grantRead per target, the metric methods, the dashboard opt-out, and the environment
// written through the function's own contract.
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambda/config.ts';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import {
  actionsOf,
  allStatements,
  newStack,
  resourcesOf,
  rotatorTemplate,
  statement,
  TARGETS,
  userArn,
} from './helpers.ts';

const CASSANDRA = 'cassandra.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';
const STACK_ID =
  'arn:aws:cloudformation:us-east-1:111111111111:stack/Rotator/0d2f6a10-0000-4000-8000-000000000000';

function rotatorIn() {
  const { stack } = newStack();
  const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
  return { stack, rotator };
}

describe('ServiceCredentialRotator.addTarget', () => {
  it('creates the tagged secret and extends every permission that names targets', () => {
    const { stack, rotator } = rotatorIn();
    const added = rotator.addTarget({ userName: 'assistant', serviceName: BEDROCK });
    const template = Template.fromStack(stack);

    expect(added.secretName).toBe(`service-credentials/assistant/${BEDROCK}`);
    expect(rotator.targets.map((t) => t.userName)).toEqual([...TARGETS.map((t) => t.userName), 'assistant']);
    template.resourceCountIs('AWS::SecretsManager::Secret', TARGETS.length + 1);
    expect(resourcesOf(statement(template, 'ListCredentialsOfConfiguredUsers'))).toContainEqual(
      userArn('assistant'),
    );
    const bedrock = statement(template, 'ManageCredentialsBedrockAmazonawsCom');
    expect(resourcesOf(bedrock)).toEqual([userArn('assistant')]);
    expect(bedrock.Condition).toEqual({
      StringEquals: { 'iam:ServiceSpecificCredentialServiceName': BEDROCK },
    });
    expect(resourcesOf(statement(template, 'ReadAndWriteManagedSecrets'))).toHaveLength(TARGETS.length + 1);
  });

  it('adds a user to an existing service statement once, whatever its number of targets', () => {
    const { stack, rotator } = rotatorIn();
    rotator.addTarget({ userName: 'reporting', serviceName: CASSANDRA });
    const template = Template.fromStack(stack);
    expect(resourcesOf(statement(template, 'ManageCredentialsCassandraAmazonawsCom'))).toEqual([
      userArn('orders-keyspaces'),
      userArn('reporting'),
    ]);
    const listed = resourcesOf(statement(template, 'ListCredentialsOfConfiguredUsers'));
    expect(listed).toHaveLength(new Set(listed.map((r) => JSON.stringify(r))).size);
  });

  it('rejects a target the props already have, naming both', () => {
    const { rotator } = rotatorIn();
    expect(() => rotator.addTarget({ userName: 'ORDERS-keyspaces', serviceName: CASSANDRA })).toThrow(
      /targets\[3\] duplicates targets\[0\]/,
    );
  });
});

describe('ServiceCredentialRotator.grantRead', () => {
  it("lets a grantee read exactly one target's secret", () => {
    const { stack, rotator } = rotatorIn();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    rotator.grantRead(reader, { userName: 'ci-git', serviceName: 'codecommit.amazonaws.com' });
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }] },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    const secret = rotator.secretFor('ci-git', 'codecommit.amazonaws.com').node.defaultChild;
    expect(statements[0].Resource).toEqual({ Ref: stack.getLogicalId(secret as never) });
  });

  it('includes kms:Decrypt via Secrets Manager when the secrets use a customer-managed key', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key');
    const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS, encryptionKey: key });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    rotator.grantRead(reader, TARGETS[0]);
    const decrypt = allStatements(Template.fromStack(stack)).filter(
      (s) => actionsOf(s).includes('kms:Decrypt') && JSON.stringify(s).includes('secretsmanager.'),
    );
    expect(decrypt.length).toBeGreaterThan(0);
  });

  it('names the target it does not know', () => {
    const { stack, rotator } = rotatorIn();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => rotator.grantRead(reader, { userName: 'nobody', serviceName: CASSANDRA })).toThrow(
      /no target for user "nobody" and service "cassandra.amazonaws.com"/,
    );
  });
});

describe('ServiceCredentialRotator metrics', () => {
  it.each([
    ['metricRotations', 'Rotations', 'Sum'],
    ['metricRecoveries', 'Recoveries', 'Sum'],
    ['metricRetirements', 'Retirements', 'Sum'],
    ['metricDeletions', 'Deletions', 'Sum'],
    ['metricFailedTargets', 'FailedTargets', 'Maximum'],
    ['metricBlockedTargets', 'BlockedTargets', 'Maximum'],
    ['metricTargets', 'Targets', 'Maximum'],
    ['metricVerificationFailures', 'VerificationFailures', 'Sum'],
    ['metricDeferredTargets', 'DeferredTargets', 'Maximum'],
    ['metricOldestCredentialAgeDays', 'OldestCredentialAgeDays', 'Maximum'],
  ] as const)('%s is %s in the rotator namespace, %s by default', (method, name, statistic) => {
    const { rotator } = rotatorIn();
    const metric = rotator[method]();
    expect(metric).toMatchObject({
      namespace: 'ServiceCredentialRotator',
      metricName: name,
      dimensions: { service: 'credential-rotator' },
      statistic,
    });
    expect(rotator[method]({ period: Duration.hours(1), statistic: 'Average' })).toMatchObject({
      statistic: 'Average',
      period: Duration.hours(1),
    });
  });
});

describe('ServiceCredentialRotator options', () => {
  it('creates no dashboard when asked not to, and keeps the alarms', () => {
    const { template, rotator } = rotatorTemplate({ dashboard: false });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    expect(rotator.dashboard).toBeUndefined();
  });

  it("writes an environment from which the function's loadConfig reads the props", () => {
    const { template } = rotatorTemplate({
      rotateAfterDays: 20,
      overlapDays: 1,
      gracePeriodDays: 5,
      secretNamePrefix: 'creds/',
      targets: [{ userName: 'a', serviceName: CASSANDRA }],
      bulkCredentialListing: true,
    });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    const env = fn?.Properties.Environment.Variables;
    // The stack id is a CloudFormation reference until deployment: the stack's ARN then.
    expect(env.DEPLOYMENT_STACK_ID).toEqual({ Ref: 'AWS::StackId' });
    expect(loadConfig({ ...env, DEPLOYMENT_STACK_ID: STACK_ID })).toEqual({
      policy: { rotateAfterDays: 20, overlapDays: 1, gracePeriodDays: 5 },
      secretNamePrefix: 'creds/',
      eventBusName: 'default',
      bulkCredentialListing: true,
      // The declaration the construct ships in its layer (security.test.ts reads the file).
      declaredTargetsFile: '/opt/credential-rotator/declared-targets.json',
      deploymentStackId: STACK_ID,
    });
  });

  it('runs given code instead of the bundled handler', () => {
    const { template } = rotatorTemplate({ code: lambda.Code.fromInline('export const handler = () => {}') });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Code: { ZipFile: 'export const handler = () => {}' },
    });
  });
});
