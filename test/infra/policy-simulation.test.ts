// Proof by policy simulation: the synthesised role, secret resource, key and function policies
// evaluated offline by @cloud-copilot/iam-simulate for every row of the allow/deny table
// (access-table.ts), including each attack of the security review (issue 18). The table in
// docs/SECURITY.md must be exactly the one simulated here: regenerate it with
// UPDATE_ACCESS_TABLE=1 npx vitest run test/infra/policy-simulation.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ACCESS_TABLE, renderAccessTable, tableIn, type World } from './access-table.ts';
import { prodApp } from './helpers.ts';
import {
  ACCOUNT,
  type CfnTemplate,
  decide,
  functionPolicy,
  keyPolicy,
  logicalIdOf,
  REGION,
  resolve,
  rolePolicies,
  secretPolicy,
  STACK_NAME,
} from './policy-simulation.ts';

const READER = `arn:aws:iam::${ACCOUNT}:role/orders-service`;
const SECURITY_MD = new URL('../../docs/SECURITY.md', import.meta.url);

/** The stack as cdk.json would configure it: a key of its own, a reader, VPC mode. */
function synthesise(): CfnTemplate {
  const app = prodApp({
    kmsKey: true,
    targets: [{ userName: 'app', serviceName: 'cassandra.amazonaws.com', readers: [READER] }],
    vpc: { vpcId: 'vpc-0abc12345', subnetIds: ['subnet-0aaa1111'], securityGroupIds: ['sg-0ccc3333'] },
  });
  return Template.fromStack(app.node.findChild(STACK_NAME) as Stack).toJSON() as CfnTemplate;
}

function worldOf(template: CfnTemplate): World {
  const role = logicalIdOf(template, 'AWS::IAM::Role', (r) =>
    JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
  );
  const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret');
  const key = logicalIdOf(template, 'AWS::KMS::Key', (r) =>
    String(r.Properties?.Description).includes('secrets, logs'),
  );
  const fn = logicalIdOf(template, 'AWS::Lambda::Function', (r) =>
    String(r.Properties?.Description).includes('Rotates IAM service-specific credentials'),
  );
  return {
    rotatorRoleArn: resolve(template, { 'Fn::GetAtt': [role, 'Arn'] }) as string,
    rotatorPolicies: rolePolicies(template, role),
    secretArn: resolve(template, { Ref: secret }) as string,
    secretPolicy: secretPolicy(template, secret),
    keyArn: resolve(template, { 'Fn::GetAtt': [key, 'Arn'] }) as string,
    keyPolicy: keyPolicy(template, key),
    functionArn: resolve(template, { 'Fn::GetAtt': [fn, 'Arn'] }) as string,
    functionPolicy: functionPolicy(template, fn),
    deploymentRoleArn: `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`,
    readerRoleArn: READER,
  };
}

describe('the allow/deny table, simulated on the synthesised policies', () => {
  const world = worldOf(synthesise());

  it.each(ACCESS_TABLE.map((row) => [`${row.who}: ${row.action} on ${row.on}`, row] as const))(
    '%s',
    async (_, row) => {
      expect(await decide(row.request(world))).toBe(row.expected);
    },
  );

  it('every attack is denied', () => {
    const attacks = ACCESS_TABLE.filter((r) => r.attack);
    expect(attacks.length).toBeGreaterThanOrEqual(10);
    expect(attacks.filter((r) => r.expected === 'Allowed')).toEqual([]);
  });

  it('docs/SECURITY.md shows exactly this table', () => {
    const document = readFileSync(SECURITY_MD, 'utf8');
    const shown = tableIn(document);
    const expected = renderAccessTable();
    if (process.env.UPDATE_ACCESS_TABLE === '1' && shown !== undefined && shown !== expected) {
      writeFileSync(SECURITY_MD, document.replace(shown, expected));
      return;
    }
    expect(
      shown,
      'regenerate with UPDATE_ACCESS_TABLE=1 npx vitest run test/infra/policy-simulation.test.ts',
    ).toBe(expected);
  });
});

describe('the simulation layer', () => {
  it('resolves the template to physical ids: no intrinsic is left in the policies it reads', () => {
    const world = worldOf(synthesise());
    expect(JSON.stringify(world)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
    expect(world.secretArn).toMatch(
      /^arn:aws:secretsmanager:eu-west-1:123456789012:secret:service-credentials\/app\/cassandra\.amazonaws\.com-AbCdEf$/,
    );
  });

  it('can tell a deny from an allow (a policy that allows everything is allowed)', async () => {
    const world = worldOf(synthesise());
    const everything = [
      {
        name: 'all',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      },
    ];
    expect(
      await decide({
        principal: `arn:aws:iam::${ACCOUNT}:role/anyone`,
        action: 'secretsmanager:DescribeSecret',
        resource: world.secretArn,
        identityPolicies: everything,
        resourcePolicy: world.secretPolicy,
      }),
    ).toBe('Allowed');
  });
});
