// The deploying stack's secrets, by logical id (DeploymentPort): one DescribeStackResources
// for the whole stack, then DescribeStackResource for each logical id it did not return (AWS
// returns only a stack's first 100 resources from DescribeStackResources, and each target
// brings more than one resource). The role may call both on its own stack only.
import {
  type CloudFormationClient,
  DescribeStackResourceCommand,
  DescribeStackResourcesCommand,
  type StackResource,
} from '@aws-sdk/client-cloudformation';
import type { DeploymentPort } from './ports.ts';
import { translateAwsError } from './errors.ts';

const SECRET_TYPE = 'AWS::SecretsManager::Secret';
/** Single lookups in flight at once: CloudFormation's read limits are low and unpublished. */
const LOOKUP_CONCURRENCY = 4;

export class StackResources implements DeploymentPort {
  constructor(private readonly cloudFormation: CloudFormationClient) {}

  async deployedSecretArns(stackId: string, logicalIds: readonly string[]): Promise<Map<string, string>> {
    const wanted = new Set(logicalIds);
    const arns = new Map<string, string>();
    const keep = (r: Pick<StackResource, 'LogicalResourceId' | 'PhysicalResourceId' | 'ResourceType'>) => {
      if (r.ResourceType === SECRET_TYPE && r.LogicalResourceId && r.PhysicalResourceId) {
        if (wanted.has(r.LogicalResourceId)) arns.set(r.LogicalResourceId, r.PhysicalResourceId);
      }
    };
    const all = await this.#send('DescribeStackResources', stackId, () =>
      this.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: stackId })),
    );
    for (const r of all.StackResources ?? []) keep(r);
    const rest = [...wanted].filter((id) => !arns.has(id));
    for (let i = 0; i < rest.length; i += LOOKUP_CONCURRENCY) {
      await Promise.all(
        rest.slice(i, i + LOOKUP_CONCURRENCY).map(async (logicalId) => {
          const one = await this.#lookup(stackId, logicalId);
          if (one) keep(one);
        }),
      );
    }
    return arns;
  }

  /** One resource; undefined when the stack has no such logical id (CloudFormation's ValidationError). */
  async #lookup(stackId: string, logicalId: string) {
    try {
      const answer = await this.cloudFormation.send(
        new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId }),
      );
      return answer.StackResourceDetail;
    } catch (error) {
      const e = error as { name?: unknown; message?: unknown };
      if (
        e?.name === 'ValidationError' &&
        typeof e.message === 'string' &&
        /does not exist/.test(e.message)
      ) {
        // Only an unknown logical id; an unknown stack is a failure of the whole resolution.
        if (!/^Stack with id/.test(e.message)) return undefined;
      }
      throw translateAwsError('DescribeStackResource', error, { subject: `${stackId} ${logicalId}` });
    }
  }

  async #send<T>(operation: string, subject: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateAwsError(operation, error, { subject });
    }
  }
}
