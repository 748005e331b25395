import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { createApp, PROJECT_TAG } from '../../infra/app.ts';
import { CONTEXT_KEY, parseRotatorConfig } from '../../infra/config.ts';
import { parseOrgConfig } from '../../infra/org/app.ts';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import { RotatorStack } from '../../infra/stack.ts';
import { outputOf } from '../support/child.ts';
import { ACCOUNT, REGION, SKIP_BUNDLING, TARGETS, tempOutdir } from './helpers.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

const environment = (name: string, account: string, region: string) => ({
  name,
  account,
  region,
  targets: [{ userName: 'app', serviceName: 'cassandra.amazonaws.com' }],
});

function appWith(config: unknown, defaultEnv = {}) {
  return createApp({
    context: { ...SKIP_BUNDLING, [CONTEXT_KEY]: config },
    outdir: tempOutdir(),
    defaultEnv,
    validationPacks: false,
  });
}

describe('createApp', () => {
  it('defines one tagged stack per environment, in its account and region', () => {
    const app = appWith({
      environments: [
        environment('prod-eu', '111111111111', 'eu-west-1'),
        environment('staging-us', '222222222222', 'us-east-1'),
      ],
    });
    const stacks = app.node.children.filter((c): c is RotatorStack => c instanceof RotatorStack);
    expect(stacks.map((s) => [s.stackName, s.account, s.region])).toEqual([
      ['CredentialRotator-prod-eu', '111111111111', 'eu-west-1'],
      ['CredentialRotator-staging-us', '222222222222', 'us-east-1'],
    ]);
    const template = Template.fromStack(stacks[0] as Stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: [
        { Key: 'credential-rotator:environment', Value: 'prod-eu' },
        { Key: PROJECT_TAG.key, Value: PROJECT_TAG.value },
      ],
    });
  });

  it("passes each environment's policy and options to its rotator", () => {
    const app = appWith({
      environments: [
        {
          ...environment('prod', ACCOUNT, REGION),
          policy: { rotateAfterDays: 14, gracePeriodDays: 3 },
          schedule: 'rate(12 hours)',
          expectedRunIntervalHours: 12,
          reservedConcurrency: false,
          logRetentionDays: 90,
          consoleTestEvents: true,
          alarmEmail: 'ops@example.com',
          timeoutSeconds: 600,
          dashboard: false,
        },
      ],
    });
    const template = Template.fromStack(app.node.findChild('CredentialRotator-prod') as Stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(template.findOutputs('DashboardName')).toEqual({});
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 600,
      ReservedConcurrentExecutions: Match.absent(),
      Environment: {
        Variables: Match.objectLike({ ROTATE_AFTER_DAYS: '14', OVERLAP_DAYS: '0', GRACE_PERIOD_DAYS: '3' }),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(12 hours)' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'ops@example.com' });
    template.resourceCountIs('AWS::EventSchemas::Schema', 1);
  });

  it('accepts the single-environment form and falls back to the CLI account and region', () => {
    const app = appWith(
      { targets: [{ userName: 'app', serviceName: 'codecommit.amazonaws.com' }] },
      { account: '333333333333', region: 'ap-southeast-2' },
    );
    const stack = app.node.findChild('CredentialRotator-default') as Stack;
    expect([stack.account, stack.region]).toEqual(['333333333333', 'ap-southeast-2']);
  });

  it('names the environment when its rotator rejects a prop', () => {
    expect(() =>
      appWith({
        environments: [{ ...environment('prod', ACCOUNT, REGION), policy: { rotateAfterDays: 5 } }],
      }),
    ).toThrow(/environment "prod": invalid rotation policy \(rotateAfterDays=5/);
  });

  it('synthesises the cdk.json example through the three validation packs, every finding acknowledged', () => {
    const app = createApp({ context: { ...cdkJson.context, ...SKIP_BUNDLING }, outdir: tempOutdir() });
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    // Every rule of the three packs passes or is acknowledged on its resource: synth succeeds,
    // and a failure shows the findings it would have had to acknowledge.
    const findings = [...report.matchAll(/Acknowledge with '([^']+)'/g)].map((m) => m[1]);
    expect(findings).toEqual([]);
    expect(report).toBe('');
    const stacks = app.node.children.filter((c): c is Stack => c instanceof Stack);
    expect(stacks.map((s) => s.stackName).sort()).toEqual([
      'CredentialRotator-prod-eu',
      'CredentialRotator-staging-us',
    ]);
    expect(cdkJson.app).toBe('node --import tsx scripts/build.ts && node --import tsx infra/app.ts');
    // The three packs over two stacks take a minute or two on a loaded machine.
  }, 300_000);
});

describe('parseRotatorConfig', () => {
  it.each([
    [undefined, /missing cdk\.json context "credentialRotator"/],
    [{ environments: [] }, /credentialRotator\.environments: must list at least one environment/],
    [
      { environments: [{ ...environment('prod', '1234', REGION) }] },
      /credentialRotator\.environments\[0\]\.account: must be a 12-digit AWS account id, got "1234"/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, 'Ireland') }] },
      /environments\[0\]\.region: must be an AWS region such as eu-west-1, got "Ireland"/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), policy: { rotateAfterDays: -1 } }] },
      /environments\[0\]\.policy\.rotateAfterDays: .*got -1/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), targets: [{ userName: 'a' }] }] },
      /environments\[0\]\.targets\[0\]\.serviceName/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), schedule: 'daily' }] },
      /environments\[0\]\.schedule: must be an EventBridge expression.*got "daily"/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), logRetentionDays: 42 }] },
      /environments\[0\]\.logRetentionDays: must be a CloudWatch Logs retention.*got 42/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), timeoutSeconds: 1800 }] },
      /environments\[0\]\.timeoutSeconds: must be 1-900 seconds.*got 1800/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), timeoutSeconds: 120 }] },
      /environments\[0\]\.timeoutSeconds: a timeout of 120 s cannot fit one verified rotation: at least 135 s is needed \(.*90 s to verify.*got 120/,
    ],
    [
      {
        environments: [
          {
            ...environment('prod', ACCOUNT, REGION),
            verification: 'off',
            targets: [
              { userName: 'app', serviceName: 'cassandra.amazonaws.com' },
              { userName: 'ci', serviceName: 'codecommit.amazonaws.com', verification: 'warn' },
            ],
            timeoutSeconds: 60,
          },
        ],
      },
      /environments\[0\]\.timeoutSeconds: a timeout of 60 s cannot fit one verified rotation: at least 135 s/,
    ],
    [
      {
        environments: [{ ...environment('prod', ACCOUNT, REGION), verification: 'off', timeoutSeconds: 30 }],
      },
      /environments\[0\]\.timeoutSeconds: a timeout of 30 s cannot fit one unverified rotation: at least 45 s/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), alarmEmial: 'ops@example.com' }] },
      /^invalid cdk\.json context: credentialRotator\.environments\[0\]\.alarmEmial: unknown key; did you mean "alarmEmail"\?$/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), policy: { rotateAfter: 30 } }] },
      /^invalid cdk\.json context: credentialRotator\.environments\[0\]\.policy\.rotateAfter: unknown key; did you mean "rotateAfterDays"\?$/,
    ],
    [
      { environments: [{ ...environment('prod', ACCOUNT, REGION), cadence: 'daily' }] },
      /^invalid cdk\.json context: credentialRotator\.environments\[0\]\.cadence: unknown key; expected one of "name", "account", .*"dashboard"$/,
    ],
    [
      { enviroments: [environment('prod', ACCOUNT, REGION)] },
      /credentialRotator\.enviroments: unknown key; did you mean "environments"\?/,
    ],
    [
      { environments: [environment('prod', ACCOUNT, REGION), environment('Prod', ACCOUNT, 'us-east-1')] },
      /environments\[1\]\.name: duplicates environments\[0\]\.name, got "Prod"/,
    ],
  ])('rejects %j with the path and the bad value', (raw, message) => {
    expect(() => parseRotatorConfig(raw)).toThrow(message);
  });

  it('accepts a timeout that fits one rotation: 135 s verified, 45 s with every target off', () => {
    const env = environment('prod', ACCOUNT, REGION);
    expect(() => parseRotatorConfig({ environments: [{ ...env, timeoutSeconds: 135 }] })).not.toThrow();
    expect(() =>
      parseRotatorConfig({ environments: [{ ...env, verification: 'off', timeoutSeconds: 45 }] }),
    ).not.toThrow();
    const targets = [{ userName: 'app', serviceName: 'cassandra.amazonaws.com', verification: 'off' }];
    expect(() =>
      parseRotatorConfig({ environments: [{ ...env, targets, timeoutSeconds: 60 }] }),
    ).not.toThrow();
  });
});

describe('a cdk.json mistake under the CDK CLI', () => {
  it('is one line naming the key and the nearest known one, no stack trace, exit code 1', async () => {
    // As the CLI runs the app: the context arrives in CDK_CONTEXT_JSON.
    const context = {
      [CONTEXT_KEY]: { environments: [{ ...environment('prod', ACCOUNT, REGION), tracng: true }] },
    };
    const ran = await outputOf(
      spawn(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        cwd: new URL('../..', import.meta.url),
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context) },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      'invalid cdk.json context: credentialRotator.environments[0].tracng: unknown key; did you mean "tracing"?\n',
    );
  });

  it('of the organization context says the nearest known key too', () => {
    const config = {
      organizationId: 'o-a1b2c3d4e5',
      organizationalUnitIds: ['ou-ab12-34567890'],
      regions: ['eu-west-1'],
      assetBucketPrefix: 'assets',
      centralRegon: 'eu-west-1',
      rotator: { targets: [], rotateAfterDay: 30 },
    };
    expect(() => parseOrgConfig(config)).toThrow(
      /^credentialRotatorOrg\.centralRegon: unknown key; did you mean "centralRegion"\?; credentialRotatorOrg\.rotator\.rotateAfterDay: unknown key; did you mean "rotateAfterDays"\?$/,
    );
  });
});

describe('cdk-nag AwsSolutions checks', () => {
  function nagApp() {
    const app = new App({ context: SKIP_BUNDLING, outdir: tempOutdir() });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return app;
  }

  it('finds nothing unacknowledged in a rotator with every option on', () => {
    const app = nagApp();
    const stack = new Stack(app, 'Everything', { env: { account: ACCOUNT, region: REGION } });
    new ServiceCredentialRotator(stack, 'Rotator', {
      targets: TARGETS,
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      eventBus: new events.EventBus(stack, 'Bus'),
      tracing: true,
      consoleTestEvents: true,
      createTestEventRegistry: true,
      alarmEmail: 'ops@example.com',
      reservedConcurrency: false,
      bulkCredentialListing: true,
    });
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synth on an unacknowledged finding (the checks do run)', () => {
    const app = nagApp();
    const stack = new Stack(app, 'Leaky', { env: { account: ACCOUNT, region: REGION } });
    new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
    new sqs.Queue(stack, 'PlainQueue');
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toContain('Leaky/PlainQueue/Resource');
    expect(report).toContain('AwsSolutions-SQS3');
    expect(report).not.toContain('Leaky/Rotator/');
  });
});
