// The infrastructure side of the security review: the customer managed key on everything
// that stores data, the secrets' resource policies, the declared targets shipped in a layer,
// synth-time checks (known services, maxCredentialAgeDays), the operator policy, outputs,
// VPC placement, and the three validation packs run by the app.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CliCredentialsStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import { parseDeclaration } from '../../lambda/declared-targets.ts';
import {
  ACCOUNT,
  newStack,
  PROD_STACK,
  prodApp,
  REGION,
  SKIP_BUNDLING,
  TARGETS,
  tempOutdir,
} from './helpers.ts';

const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const READER = `arn:aws:iam::${ACCOUNT}:role/orders-service`;

const appWith = prodApp;

const templateOf = (app: App) => Template.fromStack(app.node.findChild(PROD_STACK) as Stack);

/** The declaration file in the synthesised layer asset. */
function declaredTargets(app: App, stack: Stack) {
  const template = Template.fromStack(stack);
  const layers = Object.values(template.findResources('AWS::Lambda::LayerVersion'));
  expect(layers).toHaveLength(1);
  const key = (layers[0] as { Properties: { Content: { S3Key: string } } }).Properties.Content.S3Key;
  const assetDir = `asset.${key.replace(/\.zip$/, '')}`;
  const text = readFileSync(
    join(app.outdir, assetDir, 'credential-rotator', 'declared-targets.json'),
    'utf8',
  );
  return { json: JSON.parse(text) as { targets: unknown[] }, template };
}

describe('a customer managed key from cdk.json', () => {
  it('"kmsKey": true encrypts the secrets, the log group, both queues and the environment with a new key', () => {
    const template = templateOf(appWith({ kmsKey: true }));
    const keyIds = Object.keys(
      template.findResources('AWS::KMS::Key', {
        Properties: { Description: Match.stringLikeRegexp('secrets, logs') },
      }),
    );
    expect(keyIds).toHaveLength(1);
    const key = { 'Fn::GetAtt': [keyIds[0], 'Arn'] };
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: key });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: key });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: key }, 2);
    template.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: key });
    // The key policy: grants only for AWS resources (CT.KMS.PR.3), CloudWatch Logs and EventBridge may use it.
    const sids = (
      template.toJSON().Resources[keyIds[0] as string].Properties.KeyPolicy.Statement as { Sid?: string }[]
    ).map((s) => s.Sid);
    expect(sids).toEqual(
      expect.arrayContaining([
        'DenyGrantsExceptForAwsResources',
        'AllowCloudWatchLogs',
        'AllowEventBridgeDeadLetters',
      ]),
    );
  });

  it('an existing key ARN is used as is; the schedule DLQ keeps SQS encryption (its key policy is not ours)', () => {
    const template = templateOf(appWith({ kmsKey: KEY_ARN }));
    template.resourceCountIs('AWS::KMS::Key', 1); // the alarm topic's own
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: KEY_ARN });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: KEY_ARN });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: KEY_ARN });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('without a key nothing names one (AWS managed encryption)', () => {
    const template = templateOf(appWith({}));
    template.resourcePropertiesCountIs('AWS::SecretsManager::Secret', { KmsKeyId: Match.anyValue() }, 0);
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue() }, 0);
  });

  it('rejects a key that is neither true nor a key ARN', () => {
    expect(() => appWith({ kmsKey: 'alias/mine' })).toThrow(/kmsKey: must be true or a KMS key ARN/);
  });
});

describe('secret resource policies', () => {
  function policyOf(template: Template, secretLogicalIdPart: string) {
    const found = Object.entries(template.findResources('AWS::SecretsManager::ResourcePolicy')).filter(
      ([id]) => id.includes(secretLogicalIdPart),
    );
    expect(found).toHaveLength(1);
    const [, policy] = found[0] as [
      string,
      { Properties: { ResourcePolicy: { Statement: Record<string, unknown>[] } } },
    ];
    return policy.Properties.ResourcePolicy.Statement;
  }

  it('deny reading to all but the rotator and readers; writes, settings, policy and rotator tags to all but the rotator and the deployment', () => {
    const template = templateOf(
      appWith({ targets: [{ userName: 'app', serviceName: 'cassandra.amazonaws.com', readers: [READER] }] }),
    );
    const statements = policyOf(template, 'Secretappcassandra');
    const rotator = { 'Fn::GetAtt': [expect.stringMatching(/^RotatorFunctionRole/), 'Arn'] };
    // The deployment, exactly: the bootstrap's CloudFormation execution role of this stack.
    const deployment = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`,
        ],
      ],
    };
    const root = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:root`]],
    };
    const deny = (Sid: string, Action: unknown, principals: unknown[], extra = {}) => ({
      Sid,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action,
      Resource: '*',
      Condition: { ...extra, StringNotEquals: { 'aws:PrincipalArn': principals } },
    });
    expect(statements).toEqual([
      deny('ReadOnlyByRotatorAndDeclaredReaders', 'secretsmanager:GetSecretValue', [rotator, READER]),
      deny(
        'RotatorTagsOnlyByDeployment',
        ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
        [deployment],
        {
          'ForAnyValue:StringLike': { 'aws:TagKeys': ['credential-rotator:*'] },
        },
      ),
      deny(
        'ValueWrittenOnlyByRotatorAndDeployment',
        ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        [rotator, deployment],
      ),
      deny(
        'SecretChangedOnlyByDeployment',
        [
          'secretsmanager:UpdateSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:RestoreSecret',
          'secretsmanager:CancelRotateSecret',
          'secretsmanager:ReplicateSecretToRegions',
          'secretsmanager:RemoveRegionsFromReplication',
          'secretsmanager:StopReplicationToReplica',
        ],
        [deployment],
      ),
      deny(
        'PolicyChangedOnlyByDeploymentOrRoot',
        ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'],
        [deployment, root],
      ),
    ]);
    // No name pattern and no CloudFormation-called-via exception (anyone may create a stack).
    expect(JSON.stringify(statements)).not.toMatch(/cdk-\*|StringNotLike|CalledVia/);
  });

  it('takes exact deployment principals and refuses patterns; other synthesizers must name them', () => {
    const deployer = `arn:aws:iam::${ACCOUNT}:role/deployer`;
    const { stack } = newStack();
    new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS, deploymentPrincipalArns: [deployer] });
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).toContain(`"${deployer}"`);
    const other = newStack();
    expect(
      () =>
        new ServiceCredentialRotator(other.stack, 'Rotator', {
          targets: TARGETS,
          deploymentPrincipalArns: [`arn:aws:iam::${ACCOUNT}:role/cdk-*-cfn-exec-role-${ACCOUNT}-${REGION}`],
        }),
    ).toThrow(/deploymentPrincipalArns\[0\] must be the exact ARN of an IAM role or user \(no wildcards/);
    const app = new App({ context: SKIP_BUNDLING, outdir: tempOutdir() });
    const legacy = new Stack(app, 'Legacy', {
      env: { account: ACCOUNT, region: REGION },
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
    expect(() => new ServiceCredentialRotator(legacy, 'Rotator', { targets: TARGETS })).toThrow(
      /deploymentPrincipalArns is required with the stack's synthesizer \(CliCredentialsStackSynthesizer\)/,
    );
  });

  it('grantRead after construction, also for a target added later, adds the reader to that secret only', () => {
    const { stack } = newStack();
    const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
    rotator.addTarget({ userName: 'late', serviceName: 'bedrock.amazonaws.com' });
    const role = new iam.Role(stack, 'Reader', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    rotator.grantRead(role, { userName: 'late', serviceName: 'bedrock.amazonaws.com' });
    const template = Template.fromStack(stack);
    const late = JSON.stringify(policyOf(template, 'Secretlatebedrock'));
    expect(late).toContain('"Reader');
    const other = JSON.stringify(policyOf(template, 'Secretcigitcodecommit'));
    expect(other).not.toContain('"Reader');
    expect(rotator.secretReaders.get('service-credentials/late/bedrock.amazonaws.com')).toHaveLength(1);
  });

  it('refuses a reader that is not an IAM role or user ARN', () => {
    expect(() =>
      appWith({
        targets: [{ userName: 'app', serviceName: 'cassandra.amazonaws.com', readers: ['orders'] }],
      }),
    ).toThrow(/targets\[0\]\.readers\[0\] must be an IAM role or user ARN.*got "orders"/);
  });
});

describe('declared targets shipped with the function', () => {
  it('the layer holds exactly the declared targets, one added by addTarget() included, at DECLARED_TARGETS_FILE', () => {
    const { app, stack } = newStack();
    const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
    rotator.addTarget({ userName: 'late', serviceName: 'sts.amazonaws.com', allowUnknownService: true });
    const { json, template } = declaredTargets(app, stack);
    const declared = parseDeclaration(json);
    // Each entry names its secret's logical id in the stack (the secret the stack created).
    const logicalIdOf = (name: string) =>
      Object.entries(template.findResources('AWS::SecretsManager::Secret')).find(
        ([, r]) => (r as { Properties: { Name: string } }).Properties.Name === name,
      )?.[0];
    expect([...declared.bySecretName.values()]).toEqual([
      ...TARGETS.map((t) => {
        const secretName = `service-credentials/${t.userName}/${t.serviceName}`;
        return { ...t, secretName, logicalId: logicalIdOf(secretName) };
      }),
      {
        userName: 'late',
        serviceName: 'sts.amazonaws.com',
        secretName: 'service-credentials/late/sts.amazonaws.com',
        allowUnknownService: true,
        logicalId: logicalIdOf('service-credentials/late/sts.amazonaws.com'),
      },
    ]);
    expect([...declared.bySecretName.values()].every((t) => /^RotatorSecret/.test(t.logicalId ?? ''))).toBe(
      true,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: [{ Ref: Match.stringLikeRegexp('^RotatorDeclaredTargets') }],
      Environment: {
        Variables: Match.objectLike({
          DECLARED_TARGETS_FILE: '/opt/credential-rotator/declared-targets.json',
          DEPLOYMENT_STACK_ID: { Ref: 'AWS::StackId' },
        }),
      },
    });
  });

  // 150 targets: about the most one stack holds (CloudFormation's 500 resources; three per
  // target: the secret, its resource policy and its rotation schedule).
  it('does not grow the environment: 150 targets live in the file, the environment stays small', () => {
    const { app, stack } = newStack();
    const targets = Array.from({ length: 150 }, (_, i) => ({
      userName: `user-${i}`,
      serviceName: 'codecommit.amazonaws.com',
    }));
    new ServiceCredentialRotator(stack, 'Rotator', { targets });
    const { json, template } = declaredTargets(app, stack);
    expect(json.targets).toHaveLength(150);
    const env = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    expect(JSON.stringify(env.Properties.Environment.Variables).length).toBeLessThan(1024);
  }, 120_000);
});

describe('synth-time checks', () => {
  it('an unknown service fails synth with the known ones, unless the target allows it', () => {
    expect(() => appWith({ targets: [{ userName: 'app', serviceName: 's3.amazonaws.com' }] })).toThrow(
      /targets\[0\]: unknown service "s3\.amazonaws\.com"; known services: cassandra\.amazonaws\.com, codecommit\.amazonaws\.com, bedrock\.amazonaws\.com, logs\.amazonaws\.com/,
    );
    expect(() =>
      appWith({ targets: [{ userName: 'app', serviceName: 's3.amazonaws.com', allowUnknownService: true }] }),
    ).not.toThrow();
  });

  it('maxCredentialAgeDays reaches the function and is checked against the policy', () => {
    const template = templateOf(
      appWith({
        policy: { rotateAfterDays: 21, overlapDays: 2, gracePeriodDays: 7, maxCredentialAgeDays: 29 },
      }),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_CREDENTIAL_AGE_DAYS: '29' }) },
    });
    expect(() => appWith({ policy: { rotateAfterDays: 30, maxCredentialAgeDays: 29 } })).toThrow(
      /maxCredentialAgeDays/,
    );
  });

  it('a bad policy gives one message, said once (no chained causes repeating it)', () => {
    let error: Error | undefined;
    try {
      appWith({ policy: { rotateAfterDays: 5 } });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(
      /^environment "prod": invalid rotation policy \(rotateAfterDays=5, overlapDays=0, gracePeriodDays=7\): rotateAfterDays \(5\) must be greater than/,
    );
    expect(error?.message.match(/must be greater than/g)).toHaveLength(1);
    expect(error?.cause).toBeUndefined();
  });
});

describe('stack surface', () => {
  it('outputs every secret ARN and the operator policy, which may only invoke the function', () => {
    const template = templateOf(
      appWith({
        targets: [
          { userName: 'app', serviceName: 'cassandra.amazonaws.com' },
          { userName: 'ci', serviceName: 'codecommit.amazonaws.com' },
        ],
      }),
    );
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.SecretArnappcassandraamazonawscom?.Value).toEqual({
      Ref: expect.stringMatching(/^RotatorSecretappcassandra/),
    });
    expect(outputs.SecretArncicodecommitamazonawscom).toBeDefined();
    expect(outputs.OperatorPolicyArn?.Value).toEqual({
      Ref: expect.stringMatching(/^RotatorOperatorPolicy/),
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'InvokeRotator',
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RotatorFunction[0-9A-F]+$'), 'Arn'] },
          },
        ],
      },
    });
  });

  it('places the function in the configured VPC, subnets and security groups', () => {
    const template = templateOf(
      appWith({
        vpc: {
          vpcId: 'vpc-0abc12345',
          subnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
          securityGroupIds: ['sg-0ccc3333'],
        },
      }),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'], SecurityGroupIds: ['sg-0ccc3333'] },
    });
  });
});

describe('the three validation packs in the app', () => {
  it('report an unacknowledged finding from each pack (they do run)', () => {
    const app = appWith({}, true);
    const stack = app.node.findChild('CredentialRotator-prod') as Stack;
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    new kms.Key(stack, 'PlainKey');
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toContain('AwsSolutions-SQS3'); // cdk-nag AwsSolutions
    expect(report).toContain('NIST.800.53.R5::NIST.800.53.R5-KMSBackingKeyRotationEnabled'); // cdk-nag NIST 800-53 R5
    expect(report).toContain('cdk-validator-cfnguard::sqs_dlq_check'); // Control Tower (cfn-guard)
    expect(report).toContain('cdk-validator-cfnguard::kms_create_grant_aws_service_check');
    // The rotator's own resources: nothing (every finding there is fixed or acknowledged).
    const rotatorFindings = report
      .split(/\n\s*\n/)
      .filter((block) => block.includes('CredentialRotator-prod/Rotator/'))
      .map((block) => /Acknowledge with '([^']+)'/.exec(block)?.[1]);
    expect(rotatorFindings).toEqual([]);
  }, 120_000);
});
