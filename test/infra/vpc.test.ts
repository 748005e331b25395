// VPC mode deploys: synth needs no AWS lookup (offline), passes the three validation packs
// (cdk-nag AwsSolutions, NIST 800-53 R5, Control Tower cfn-guard) with no new finding, and the
// function's explicit role may create the network interfaces Lambda attaches it with.
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { INTERFACE_ENDPOINT_SERVICES } from '../../infra/stack.ts';
import { ACCOUNT, PROD_STACK, prodApp, REGION, rotatorTemplate, statement } from './helpers.ts';
import { type CfnTemplate, decide, logicalIdOf, resolve, rolePolicies } from './policy-simulation.ts';

const VPC = {
  vpcId: 'vpc-0abc12345',
  subnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
  securityGroupIds: ['sg-0ccc3333'],
};

function vpcApp(vpc: Record<string, unknown>, validationPacks: boolean) {
  return prodApp({ vpc }, validationPacks);
}

const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

describe('VPC mode', () => {
  it('synthesises offline through all three validation packs, and the role can create ENIs', async () => {
    const app = vpcApp({ ...VPC, interfaceEndpoints: [...INTERFACE_ENDPOINT_SERVICES] }, true);
    // Any unacknowledged finding of any pack throws here.
    const assembly = app.synth();
    // No context lookup left for the CLI to make (the zones used to be looked up).
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const stack = app.node.findChild(PROD_STACK) as Stack;
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: VPC.subnetIds, SecurityGroupIds: VPC.securityGroupIds },
    });
    // The role Lambda attaches the function with: the ENI actions, no AWS managed policy.
    const json = template.toJSON() as CfnTemplate;
    const role = logicalIdOf(json, 'AWS::IAM::Role', (r) =>
      JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(json.Resources[role]?.Properties?.ManagedPolicyArns).toBeUndefined();
    const principal = resolve(json, { 'Fn::GetAtt': [role, 'Arn'] }) as string;
    for (const action of ENI_ACTIONS) {
      const decision = await decide({
        principal,
        action,
        resource: action.includes('Describe')
          ? '*'
          : `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-0123456789abcdef0`,
        identityPolicies: rolePolicies(json, role),
      }).catch((error: Error) =>
        /wildcard/.test(error.message) ? 'Allowed (wildcard action)' : error.message,
      );
      expect(decision, action).toMatch(/^Allowed/);
    }
    // The interface endpoints, in the function's subnets, with private DNS.
    for (const service of INTERFACE_ENDPOINT_SERVICES) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.${REGION}.${service}`,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: VPC.subnetIds,
        SecurityGroupIds: VPC.securityGroupIds,
        VpcId: VPC.vpcId,
      });
    }
  }, 180_000);

  it('creates no endpoint unless asked, and refuses an unknown endpoint name with the known ones', () => {
    const template = Template.fromStack(vpcApp(VPC, false).node.findChild('CredentialRotator-prod') as Stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(() => vpcApp({ ...VPC, interfaceEndpoints: ['s3'] }, false)).toThrow(
      /credentialRotator\.environments\[0\]\.vpc\.interfaceEndpoints\[0\]: .*"secretsmanager"/,
    );
  });

  it('grants the ENI actions to the construct given any IVpc, and none without a VPC', () => {
    const { template } = rotatorTemplate({}, (stack) => ({
      vpc: new ec2.Vpc(stack, 'Vpc', {
        maxAzs: 1,
        natGateways: 0,
        subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      }),
    }));
    expect(statement(template, 'AttachToVpc')).toMatchObject({
      Effect: 'Allow',
      Action: ENI_ACTIONS,
      Resource: '*',
    });
    expect(() => statement(rotatorTemplate().template, 'AttachToVpc')).toThrow(/found 0/);
  });
});
