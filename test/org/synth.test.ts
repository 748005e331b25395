// The organization rollout synthesised offline: the StackSet (service-managed, automatic
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// deployment, its OUs and regions, delegated admin), the org bus and sink open to the
// organization only, the Metrics Insights alarm, and the member template every account gets:
// no literal account id, no Fn::ImportValue, no transform, assets read from the instance's
// own region, events forwarded to the central bus, and all three validation packs passing.
import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { createOrgApp, type OrgConfig, parseOrgConfig } from '../../infra/org/app.ts';
import { checkedRolloutProps, ORG_FAILED_TARGETS_QUERY } from '../../infra/org/central.ts';
import {
  ASSET_KEY_PREFIX,
  MEMBER_PARAMETER,
  MemberStack,
  synthesizeMemberTemplate,
} from '../../infra/org/member.ts';
import { publishSteps } from '../../scripts/org-rollout.ts';
import { SKIP_BUNDLING, tempOutdir } from '../infra/helpers.ts';

const ADMIN = '999999999999';
const PREFIX = 'credential-rotator-assets-o-a1b2c3d4e5';
const CONFIG: OrgConfig = {
  organizationId: 'o-a1b2c3d4e5',
  organizationalUnitIds: ['ou-ab12-34567890', 'ou-ab12-0987654321'],
  regions: ['eu-west-1', 'us-east-1'],
  assetBucketPrefix: PREFIX,
  account: ADMIN,
  rotator: { targets: [{ userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' }] },
};

function synth(config: Partial<OrgConfig> = {}) {
  const { app, plan } = createOrgApp({
    validationPacks: false,
    outdir: tempOutdir(),
    context: { ...SKIP_BUNDLING, credentialRotatorOrg: { ...CONFIG, ...config } },
  });
  const central = app.node.findChild('CredentialRotatorOrg') as Stack;
  const member = JSON.parse(readFileSync(plan.template.path, 'utf8')) as Record<string, unknown>;
  return { app, plan, central: Template.fromStack(central), member };
}

/** Every string in a template, with where it is. */
function strings(value: unknown, path = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [
      ...strings(k, `${path}.${k}#key`),
      ...strings(v, `${path}.${k}`),
    ]);
  return [];
}

/** An account id as templates carry one: alone, or inside an ARN or a role name. */
const ACCOUNT_ID = /^\d{12}$|:\d{12}:|-\d{12}-/;

describe('organization rollout: the StackSet and the central stack', () => {
  const { central, plan } = synth();

  it('one StackSet, service-managed, deploying automatically to the OUs and regions, stacks removed with the account by default', () => {
    central.resourceCountIs('AWS::CloudFormation::StackSet', 1);
    central.hasResourceProperties('AWS::CloudFormation::StackSet', {
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'SELF',
      Capabilities: ['CAPABILITY_IAM'],
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: CONFIG.organizationalUnitIds },
          Regions: CONFIG.regions,
        },
      ],
      Parameters: [
        {
          ParameterKey: MEMBER_PARAMETER.centralEventBusArn,
          ParameterValue: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrgEventBus'), 'Arn'] },
        },
        {
          ParameterKey: MEMBER_PARAMETER.observabilitySinkArn,
          ParameterValue: { 'Fn::GetAtt': ['ObservabilitySink', 'Arn'] },
        },
        { ParameterKey: MEMBER_PARAMETER.centralRegion, ParameterValue: { Ref: 'AWS::Region' } },
      ],
    });
  });

  it('reads the member template from the asset bucket of its own region, under the key of its content', () => {
    const [stackSet] = Object.values(central.findResources('AWS::CloudFormation::StackSet'));
    const url = JSON.stringify(stackSet?.Properties.TemplateURL);
    expect(url).toContain(JSON.stringify({ 'Fn::Join': ['-', [PREFIX, { Ref: 'AWS::Region' }]] }));
    expect(url).toContain(`/${plan.template.objectKey}`);
    expect(plan.template.objectKey).toMatch(
      new RegExp(`^${ASSET_KEY_PREFIX}member-[0-9a-f]{32}\\.template\\.json$`),
    );
    expect(plan.regions).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('supports a delegated administrator and retaining stacks of accounts that leave', () => {
    const { central: delegated } = synth({ callAs: 'DELEGATED_ADMIN', retainStacksOnAccountRemoval: true });
    delegated.hasResourceProperties('AWS::CloudFormation::StackSet', {
      CallAs: 'DELEGATED_ADMIN',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: true },
    });
  });

  it('the bus and the sink admit the organization by its id, never a list of accounts', () => {
    central.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': CONFIG.organizationId } },
      },
    });
    central.hasResourceProperties('AWS::Oam::Sink', {
      Policy: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: ['oam:CreateLink', 'oam:UpdateLink'],
            Condition: {
              StringEquals: { 'aws:PrincipalOrgID': CONFIG.organizationId },
              'ForAllValues:StringEquals': { 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] },
            },
          },
        ],
      },
    });
  });

  it('one alarm over a Metrics Insights query (every linked account, later ones included), notifying a topic', () => {
    central.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    central.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [{ Expression: ORG_FAILED_TARGETS_QUERY, ReturnData: true }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^OrgAlarmTopic') }],
    });
    expect(ORG_FAILED_TARGETS_QUERY).toBe(
      'SELECT MAX(FailedTargets) FROM SCHEMA("ServiceCredentialRotator", service)',
    );
    central.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('reads the context from cdk.json or from -c as a JSON string, and says what is missing', () => {
    expect(parseOrgConfig(JSON.stringify(CONFIG)).organizationId).toBe(CONFIG.organizationId);
    expect(() => parseOrgConfig('{not json')).toThrow(/context "credentialRotatorOrg" is not JSON/);
    expect(() => parseOrgConfig(undefined)).toThrow(
      /missing cdk\.json context "credentialRotatorOrg": expected \{"organizationId"/,
    );
    expect(() => parseOrgConfig({ ...CONFIG, rotator: {} })).toThrow(
      /rotator\.targets must list the targets every account gets/,
    );
  });

  it('refuses bad rollout props with the expected form, before anything is defined', () => {
    const base = { ...CONFIG, memberTemplateKey: `${ASSET_KEY_PREFIX}member-x.template.json` };
    expect(() => checkedRolloutProps({ ...base, organizationId: '123456789012' })).toThrow(
      /organizationId must look like o-a1b2c3d4e5/,
    );
    expect(() => checkedRolloutProps({ ...base, organizationalUnitIds: [] })).toThrow(/at least one OU/);
    expect(() => checkedRolloutProps({ ...base, organizationalUnitIds: ['123456789012'] })).toThrow(
      /neither an OU id/,
    );
    expect(() => checkedRolloutProps({ ...base, regions: ['Europe'] })).toThrow(/not a region name/);
    expect(() => checkedRolloutProps({ ...base, assetBucketPrefix: 'assets-123456789012' })).toThrow(
      /without an account id/,
    );
    expect(() => checkedRolloutProps({ ...base, callAs: 'ADMIN' as never })).toThrow(
      /SELF or DELEGATED_ADMIN/,
    );
  });
});

describe('organization rollout: the member template', () => {
  const { member, plan } = synth();
  const resources = member.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

  it('carries no literal account id, no Fn::ImportValue and no transform', () => {
    expect(strings(member).filter((s) => ACCOUNT_ID.test(s.value))).toEqual([]);
    expect(JSON.stringify(member)).not.toContain('Fn::ImportValue');
    expect(member).not.toHaveProperty('Transform');
    // Nor anything of the CDK bootstrap, which member accounts do not have.
    expect(member.Parameters).not.toHaveProperty('BootstrapVersion');
    expect(member).not.toHaveProperty('Rules');
  });

  it('reads the handler and the declaration layer from the bucket of the region it is deployed in', () => {
    const bucket = { 'Fn::Join': ['-', [PREFIX, { Ref: 'AWS::Region' }]] };
    const [fn] = ofType('AWS::Lambda::Function');
    const [layer] = ofType('AWS::Lambda::LayerVersion');
    expect(fn?.Properties.Code).toEqual({
      S3Bucket: bucket,
      S3Key: expect.stringMatching(new RegExp(`^${ASSET_KEY_PREFIX}[0-9a-f]{64}\\.zip$`)),
    });
    expect(layer?.Properties.Content).toEqual({ S3Bucket: bucket, S3Key: expect.stringMatching(/\.zip$/) });
    // Both are in the plan the publishing script uploads to every region.
    const keys = plan.assets.map((a) => a.objectKey);
    expect(keys).toContain((fn?.Properties.Code as { S3Key?: string } | undefined)?.S3Key);
    expect(keys).toContain((layer?.Properties.Content as { S3Key?: string } | undefined)?.S3Key);
  });

  it('turns the inventory on and forwards every rotator event to the central bus with a role of its own', () => {
    const [fn] = ofType('AWS::Lambda::Function');
    expect(
      (fn?.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables,
    ).toMatchObject({
      CREDENTIAL_INVENTORY: 'true',
      BULK_CREDENTIAL_LISTING: 'true',
    });
    const forward = ofType('AWS::Events::Rule').find((r) =>
      JSON.stringify(r.Properties.EventPattern ?? '').includes('credential-rotator'),
    );
    expect(forward?.Properties.EventPattern).toEqual({ source: ['credential-rotator'] });
    expect(forward?.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { Ref: MEMBER_PARAMETER.centralEventBusArn },
        RoleArn: expect.anything(),
      }),
    ]);
    const [link] = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Oam::Link');
    expect(link?.[1]).toMatchObject({
      Condition: 'InCentralRegion',
      Properties: {
        SinkIdentifier: { Ref: MEMBER_PARAMETER.observabilitySinkArn },
        ResourceTypes: ['AWS::CloudWatch::Metric'],
      },
    });
  });

  it('lets users opt in by tag: writes only on users that carry it, never sets a tag on a user', () => {
    const [fn] = ofType('AWS::Lambda::Function');
    expect(
      (fn?.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables,
    ).toMatchObject({
      USER_OPT_IN_TAG: 'credential-rotator:services',
    });
    const statements = ofType('AWS::IAM::Policy').flatMap(
      (p) =>
        (
          p.Properties.PolicyDocument as {
            Statement: { Sid?: string; Action: unknown; Condition?: unknown }[];
          }
        ).Statement,
    );
    const manage = statements.find((x) => x.Sid === 'ManageCredentialsOfOptedInUsers');
    expect(manage?.Condition).toEqual({
      Null: { 'aws:ResourceTag/credential-rotator:services': 'false' },
      StringEquals: {
        'iam:ServiceSpecificCredentialServiceName': expect.arrayContaining(['cassandra.amazonaws.com']),
      },
    });
    const actions = statements.flatMap((x) => (Array.isArray(x.Action) ? x.Action : [x.Action]));
    for (const never of ['iam:TagUser', 'iam:UntagUser', 'iam:CreateUser', 'iam:*', '*'])
      expect(actions).not.toContain(never);
    // The function rotates directly: it never starts a rotation (RotateSecret, which would also
    // need lambda:InvokeFunction on itself).
    const allowed = statements
      .filter((x) => (x as { Effect?: string }).Effect === 'Allow')
      .flatMap((x) => (Array.isArray(x.Action) ? x.Action : [x.Action]));
    expect(allowed).toContain('secretsmanager:PutSecretValue');
    expect(allowed).not.toContain('secretsmanager:RotateSecret');
    expect(allowed).not.toContain('lambda:InvokeFunction');
  });

  /** The findings of the three packs on the member template: ids as `Acknowledge with` names them. */
  function packFindings(extend?: (stack: Stack) => void): string[] {
    const outdir = tempOutdir();
    let thrown = '';
    try {
      synthesizeMemberTemplate({
        rotator: CONFIG.rotator,
        assetBucketPrefix: PREFIX,
        outdir,
        context: { ...SKIP_BUNDLING },
        plugins: (app) => [new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new CfnGuardValidator()],
        extend,
      });
    } catch (error) {
      thrown = (error as Error).message;
    }
    // cdk-nag's findings fail the synth; the cfn-guard plugin's are in the report file.
    const fromError = [...thrown.matchAll(/Acknowledge with '([^']+)'/g)].map((m) => m[1] as string);
    const file = join(outdir, 'validation-report.json');
    const report = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as {
          pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
        })
      : { pluginReports: [] };
    const fromReport = report.pluginReports.flatMap((p) =>
      p.violations.map((v) => `${p.pluginName}::${v.ruleName}`),
    );
    return [...new Set([...fromError, ...fromReport])].sort();
  }

  it('passes all three validation packs (cdk-nag AwsSolutions, NIST 800-53 R5, Control Tower cfn-guard)', () => {
    const findings = packFindings().filter(
      (f) => f !== 'NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled',
    );
    expect(findings).toEqual([]);
  }, 300_000);

  it('the packs do run on it: a plain queue and a plain bucket are flagged by each pack', () => {
    const findings = packFindings((stack) => {
      new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
      new s3.Bucket(stack, 'PlainBucket');
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/AwsSolutions-SQS3$/),
        expect.stringMatching(/NIST\.800\.53\.R5-S3BucketLoggingEnabled$/),
        'cdk-validator-cfnguard::sqs_dlq_check',
      ]),
    );
  }, 300_000);
});

describe('organization rollout: publishing the member template and its assets', () => {
  const { plan } = synth();

  it("zips each directory asset once, copies every asset to every region's bucket and the template to the StackSet region only", () => {
    const steps = publishSteps(plan, '/work');
    const zips = steps.filter((s) => s.argv[0] === 'zip');
    expect(zips).toHaveLength(plan.assets.filter((a) => a.packaging === 'zip').length);
    const copies = steps.filter((s) => s.argv[0] === 'aws').map((s) => s.argv[4]);
    for (const region of CONFIG.regions) {
      for (const asset of plan.assets)
        expect(copies).toContain(`s3://${PREFIX}-${region}/${asset.objectKey}`);
    }
    expect(copies.filter((c) => c?.endsWith('.template.json'))).toEqual([
      `s3://${PREFIX}-eu-west-1/${plan.template.objectKey}`,
    ]);
    // Uploads come after the zips they need.
    expect(steps.findIndex((s) => s.argv[0] === 'aws')).toBeGreaterThan(
      steps.findLastIndex((s) => s.argv[0] === 'zip'),
    );
  });
});

describe('organization rollout: from the construct library', () => {
  it('the package entry exports the member and central stacks and the synthesizer', async () => {
    const pkg = await import('service-credential-rotator');
    expect(pkg.MemberStack).toBe(MemberStack);
    expect(pkg.OrganizationRolloutStack).toBeTypeOf('function');
    expect(pkg.RegionalAssetSynthesizer).toBeTypeOf('function');
    expect(pkg.OrgAssetBucketStack).toBeTypeOf('function');
    expect(pkg.synthesizeMemberTemplate).toBe(synthesizeMemberTemplate);
  });
});
