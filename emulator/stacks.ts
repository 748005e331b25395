// The CloudFormation model: just enough of a deployed stack for the function to resolve a
// declared secret's logical id to the ARN the stack created (DescribeStackResources and
// DescribeStackResource, read-only). Tests "deploy" a stack by naming its resources; the
// emulator never creates or deletes the resources themselves, exactly as a secret deleted
// behind CloudFormation's back keeps its stack resource (with the old physical id) in AWS.
import type { VirtualClock } from './clock.ts';
import { AwsApiError } from './errors.ts';
import { uuid } from './random.ts';

/** AWS returns at most this many resources from DescribeStackResources (ListStackResources pages). */
export const DESCRIBE_STACK_RESOURCES_LIMIT = 100;

export const SECRET_RESOURCE_TYPE = 'AWS::SecretsManager::Secret';

export interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  /** For a secret, its ARN (Ref of AWS::SecretsManager::Secret). */
  readonly physicalId: string;
  readonly at: Date;
}

interface Stack {
  readonly id: string;
  readonly name: string;
  readonly resources: Map<string, StackResource>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** CloudFormation answers both an unknown stack and a missing parameter with ValidationError. */
const validation = (message: string) => new AwsApiError('ValidationError', 400, message);

export class StacksModel {
  private readonly stacks = new Map<string, Stack>();

  constructor(private readonly opts: { clock: VirtualClock; region: string; accountId: string }) {}

  /** "Deploys" an empty stack and returns its id (the stack's ARN, unique id included). */
  createStack(name: string): string {
    const id = `arn:aws:cloudformation:${this.opts.region}:${this.opts.accountId}:stack/${name}/${uuid()}`;
    this.stacks.set(id, { id, name, resources: new Map() });
    return id;
  }

  /** Adds (or replaces) a resource of a stack, named by the stack's name or id. */
  addResource(stack: string, resource: { logicalId: string; type: string; physicalId: string }): void {
    this.find(stack).resources.set(resource.logicalId, { ...resource, at: this.opts.clock.now() });
  }

  // ---- API (PascalCase shapes, like the other models) ---------------------------------

  DescribeStackResources(p: Record<string, unknown>): Record<string, unknown> {
    const name = str(p.StackName);
    // AWS accepts PhysicalResourceId instead of StackName; the function never sends it.
    if (!name) throw validation('StackName must be specified');
    const stack = this.find(name);
    const logicalId = str(p.LogicalResourceId);
    const resources = [...stack.resources.values()].filter((r) => !logicalId || r.logicalId === logicalId);
    return {
      StackResources: resources.slice(0, DESCRIBE_STACK_RESOURCES_LIMIT).map((r) => ({
        StackName: stack.name,
        StackId: stack.id,
        LogicalResourceId: r.logicalId,
        PhysicalResourceId: r.physicalId,
        ResourceType: r.type,
        Timestamp: r.at,
        ResourceStatus: 'CREATE_COMPLETE',
      })),
    };
  }

  DescribeStackResource(p: Record<string, unknown>): Record<string, unknown> {
    const name = str(p.StackName);
    const logicalId = str(p.LogicalResourceId);
    if (!name) throw validation('StackName must be specified');
    if (!logicalId) throw validation('LogicalResourceId must be specified');
    const stack = this.find(name);
    const r = stack.resources.get(logicalId);
    if (!r) throw validation(`Resource ${logicalId} does not exist for stack ${stack.name}`);
    return {
      StackResourceDetail: {
        StackName: stack.name,
        StackId: stack.id,
        LogicalResourceId: r.logicalId,
        PhysicalResourceId: r.physicalId,
        ResourceType: r.type,
        LastUpdatedTimestamp: r.at,
        ResourceStatus: 'CREATE_COMPLETE',
      },
    };
  }

  toJSON(): unknown {
    return [...this.stacks.values()].map((s) => ({
      id: s.id,
      name: s.name,
      resources: [...s.resources.values()],
    }));
  }

  load(state: unknown): void {
    this.stacks.clear();
    for (const s of (state ?? []) as { id: string; name: string; resources: StackResource[] }[]) {
      const resources = new Map(s.resources.map((r) => [r.logicalId, { ...r, at: new Date(r.at) }]));
      this.stacks.set(s.id, { id: s.id, name: s.name, resources });
    }
  }

  /** By id (the ARN) or by name, as CloudFormation accepts either. */
  private find(stack: string): Stack {
    const found = this.stacks.get(stack) ?? [...this.stacks.values()].find((s) => s.name === stack);
    if (!found) throw validation(`Stack with id ${stack} does not exist`);
    return found;
  }
}
