// Each managed secret names the function as its rotation function in Secrets Manager, so the
// console's button and the CLI rotate it and compliance checks (cdk-nag AwsSolutions-SMG4,
// NIST 800-53's SecretsManagerRotationEnabled, Security Hub SecretsManager.1) see rotation on.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import { rotationRuleDays } from '../../infra/rotator/targets.ts';
import {
  ACCOUNT,
  actionsOf,
  REGION,
  rotatorTemplate,
  SKIP_BUNDLING,
  type Statement,
  TARGETS,
  tempOutdir,
} from './helpers.ts';

describe('ServiceCredentialRotator rotation schedules', () => {
  it('gives every managed secret a rotation schedule naming the function, without rotating on deploy', () => {
    const { template } = rotatorTemplate({ rotateAfterDays: 45 });
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedules).toHaveLength(TARGETS.length);
    expect(schedules.map((s) => s.Properties.SecretId)).toEqual(
      expect.arrayContaining(secrets.map((id) => ({ Ref: id }))),
    );
    for (const s of schedules) {
      expect(s.Properties).toEqual({
        SecretId: expect.anything(),
        RotationLambdaARN: { 'Fn::GetAtt': [functions[0], 'Arn'] },
        RotationRules: { AutomaticallyAfterDays: 47 },
        RotateImmediatelyOnUpdate: false,
      });
    }
  });

  it('lets Secrets Manager invoke the function, for this account only, before rotation is configured', () => {
    const { template } = rotatorTemplate();
    const permissions = template.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'secretsmanager.amazonaws.com', SourceAccount: ACCOUNT },
    });
    expect(Object.keys(permissions)).toHaveLength(1);
    const [permissionId] = Object.keys(permissions);
    template.allResources('AWS::SecretsManager::RotationSchedule', {
      DependsOn: Match.arrayWith([permissionId]),
    });
  });

  it('gives the function no way to start rotations: no RotateSecret, no lambda:InvokeFunction on itself', () => {
    // The scheduled run rotates due targets itself; only Secrets Manager invokes the function
    // for rotation steps (its resource-based permission, above).
    const { template } = rotatorTemplate();
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Role: { 'Fn::GetAtt': [string, string] } };
    }[];
    const [roleId] = (fn as NonNullable<typeof fn>).Properties.Role['Fn::GetAtt'];
    const rolePolicies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
    });
    const granted = Object.values(rolePolicies)
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => s.Effect === 'Allow')
      .flatMap(actionsOf);
    // The same role still writes secrets: the filter above found its policies.
    expect(granted).toContain('secretsmanager:PutSecretValue');
    expect(granted).not.toContain('secretsmanager:RotateSecret');
    expect(granted).not.toContain('lambda:InvokeFunction');
  });

  it('schedules a target added after construction too', () => {
    const { stack } = (() => {
      const app = new App({ context: SKIP_BUNDLING, outdir: tempOutdir() });
      return { stack: new Stack(app, 'Added', { env: { account: ACCOUNT, region: REGION } }) };
    })();
    const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: [TARGETS[0]] });
    rotator.addTarget({ userName: 'late', serviceName: 'codecommit.amazonaws.com' });
    const schedules = stack.node.findAll().filter((c) => c instanceof secretsmanager.CfnRotationSchedule);
    expect(schedules).toHaveLength(2);
  });

  it.each([
    [30, 32],
    [0.5, 3],
    [30.2, 33],
    [998, 1000],
    [1000, 1000],
    [2000, 1000],
  ])(
    'turns rotateAfterDays %s into AutomaticallyAfterDays %s (rounded up, 2 days later, 1-1000)',
    (days, rule) => {
      expect(rotationRuleDays(days)).toBe(rule);
    },
  );
});

describe('compliance checks on rotation', () => {
  function findings(checks: 'AwsSolutions' | 'NIST'): string {
    const app = new App({ context: SKIP_BUNDLING, outdir: tempOutdir() });
    Validations.of(app).addPlugins(
      checks === 'NIST' ? new NIST80053R5Checks(app) : new AwsSolutionsChecks(app),
    );
    const stack = new Stack(app, 'Checked', { env: { account: ACCOUNT, region: REGION } });
    new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
    // A control: a secret without rotation, which the same rule must report.
    new secretsmanager.Secret(stack, 'Unrotated');
    try {
      app.synth();
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  }
  /** The lines of a report that name a rule and a construct path. */
  const hits = (report: string, rule: string, path: string) =>
    report.split('\n').filter((l) => l.includes(rule) && l.includes(path));

  it('passes AwsSolutions-SMG4 on the managed secrets, with no acknowledgement', () => {
    const report = findings('AwsSolutions');
    expect(report).toContain('AwsSolutions-SMG4');
    expect(report).toContain('Checked/Unrotated');
    expect(hits(report, 'SMG4', 'Checked/Rotator/')).toEqual([]);
  });

  it("passes NIST 800-53 R5's SecretsManagerRotationEnabled on the managed secrets", () => {
    const report = findings('NIST');
    expect(report).toContain('SecretsManagerRotationEnabled');
    expect(hits(report, 'SecretsManagerRotationEnabled', 'Checked/Rotator/')).toEqual([]);
  });
});
