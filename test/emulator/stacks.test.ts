// The fake stack (emulator/stacks.ts) through the real CloudFormation client: what the
// function reads to pin a declared secret to the ARN its stack created, and the adapter
// (lambda/aws/cloudformation.ts) on a stack larger than DescribeStackResources answers.
import {
  CloudFormationClient,
  DescribeStackResourceCommand,
  DescribeStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { AwsEmulator, DESCRIBE_STACK_RESOURCES_LIMIT, SECRET_RESOURCE_TYPE } from '../../emulator/index.ts';
import { StackResources } from '../../lambda/aws/cloudformation.ts';
import { AwsCallError } from '../../lambda/errors.ts';

function setup(secrets: number, others = 0) {
  const emu = new AwsEmulator();
  const stackId = emu.stacks.createStack('CredentialRotator');
  const arns: string[] = [];
  for (let i = 0; i < others; i++) {
    emu.stacks.addResource(stackId, {
      logicalId: `Policy${i}`,
      type: 'AWS::SecretsManager::ResourcePolicy',
      physicalId: `p${i}`,
    });
  }
  for (let i = 0; i < secrets; i++) {
    const arn = emu.secrets.createSecret(`service-credentials/u${i}/cassandra.amazonaws.com`);
    arns.push(arn);
    emu.stacks.addResource(stackId, { logicalId: `Secret${i}`, type: SECRET_RESOURCE_TYPE, physicalId: arn });
  }
  const client = new CloudFormationClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: emu.requestHandler(),
  });
  return { emu, stackId, arns, client };
}

describe('the fake stack', () => {
  it('answers DescribeStackResources with the first 100 resources, by stack id or name', async () => {
    const { stackId, client, arns } = setup(3, 120);
    for (const StackName of [stackId, 'CredentialRotator']) {
      const answer = await client.send(new DescribeStackResourcesCommand({ StackName }));
      expect(answer.StackResources).toHaveLength(DESCRIBE_STACK_RESOURCES_LIMIT);
      expect(answer.StackResources?.[0]).toMatchObject({
        StackId: stackId,
        ResourceStatus: 'CREATE_COMPLETE',
      });
    }
    const one = await client.send(
      new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: 'Secret2' }),
    );
    expect(one.StackResourceDetail).toMatchObject({
      PhysicalResourceId: arns[2],
      ResourceType: SECRET_RESOURCE_TYPE,
    });
  });

  it('answers an unknown stack or logical id with ValidationError, as CloudFormation does', async () => {
    const { stackId, client } = setup(1);
    await expect(client.send(new DescribeStackResourcesCommand({ StackName: 'nope' }))).rejects.toMatchObject(
      {
        name: 'ValidationError',
        message: 'Stack with id nope does not exist',
      },
    );
    await expect(
      client.send(new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: 'Missing' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('StackResources (DeploymentPort)', () => {
  it('resolves every secret of a stack larger than one DescribeStackResources answer', async () => {
    const { emu, stackId, client, arns } = setup(5, 120);
    const port = new StackResources(client);
    const ids = ['Secret0', 'Secret4', 'Policy3', 'Unknown'];
    const found = await port.deployedSecretArns(stackId, ids);
    // Only secrets: a ResourcePolicy's physical id is not a secret's ARN; unknown ids left out.
    expect([...found]).toEqual([
      ['Secret0', arns[0]],
      ['Secret4', arns[4]],
    ]);
    expect(emu.callsOf('DescribeStackResources')).toHaveLength(1);
    expect(
      emu
        .callsOf('DescribeStackResource')
        .map((c) => c.params.LogicalResourceId)
        .sort(),
    ).toEqual(['Policy3', 'Secret0', 'Secret4', 'Unknown']);
  });

  it('one call when the stack is small', async () => {
    const { emu, stackId, client, arns } = setup(2);
    const found = await new StackResources(client).deployedSecretArns(stackId, ['Secret0', 'Secret1']);
    expect(found.get('Secret1')).toBe(arns[1]);
    expect(emu.calls.map((c) => c.operation)).toEqual(['DescribeStackResources']);
  });

  it('an unreadable stack is an error, not an empty answer', async () => {
    const { client } = setup(1);
    await expect(
      new StackResources(client).deployedSecretArns('arn:aws:cloudformation:gone', ['Secret0']),
    ).rejects.toBeInstanceOf(AwsCallError);
  });
});
