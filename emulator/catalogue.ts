// The operation catalogue: every API operation the emulator answers, with its service,
// whether it changes state, and the model method that runs it. What is allowed, what counts
// as a write (I6, rate limits, persistence) and what is a read all derive from this one table.
import { AwsApiError } from './errors.ts';
import type { Service } from './faults.ts';
import type { IamModel } from './iam.ts';
import type { SecretsModel } from './secrets.ts';
import type { StacksModel } from './stacks.ts';

export type Access = 'read' | 'write';

export interface Models {
  readonly iam: IamModel;
  readonly secrets: SecretsModel;
  readonly stacks: StacksModel;
}

export interface Operation {
  readonly service: Service;
  readonly name: string;
  readonly access: Access;
  /** Runs the operation on the models: the request's members in, the result's members out. */
  readonly handler: (models: Models, params: Record<string, unknown>) => Record<string, unknown>;
}

// Both models name their API methods after the operation, so a table row is its handler.
const IAM = {
  ListServiceSpecificCredentials: 'read',
  CreateServiceSpecificCredential: 'write',
  UpdateServiceSpecificCredential: 'write',
  DeleteServiceSpecificCredential: 'write',
  ResetServiceSpecificCredential: 'write',
  CreateUser: 'write',
  GetUser: 'read',
  DeleteUser: 'write',
  ListUsers: 'read',
  TagUser: 'write',
  UntagUser: 'write',
  ListUserTags: 'read',
} as const satisfies Record<string, Access>;

const SECRETS_MANAGER = {
  CreateSecret: 'write',
  DescribeSecret: 'read',
  GetSecretValue: 'read',
  PutSecretValue: 'write',
  UpdateSecret: 'write',
  UpdateSecretVersionStage: 'write',
  ListSecrets: 'read',
  BatchGetSecretValue: 'read',
  DeleteSecret: 'write',
  RestoreSecret: 'write',
  TagResource: 'write',
  UntagResource: 'write',
  ListSecretVersionIds: 'read',
  RotateSecret: 'write',
  CancelRotateSecret: 'write',
} as const satisfies Record<string, Access>;

// Only what the function reads: a declared secret's ARN by its logical id in the stack.
const CLOUDFORMATION = {
  DescribeStackResources: 'read',
  DescribeStackResource: 'read',
} as const satisfies Record<string, Access>;

const rows = <T extends Record<string, Access>>(table: T) =>
  Object.entries(table) as [keyof T & string, Access][];

export const OPERATIONS: readonly Operation[] = [
  ...rows(IAM).map(([name, access]) => ({
    service: 'iam' as const,
    name,
    access,
    // Query parameters arrive as strings, which is what the IAM model's methods take.
    handler: (m: Models, p: Record<string, unknown>) => m.iam[name](p as Record<string, string>),
  })),
  ...rows(SECRETS_MANAGER).map(([name, access]) => ({
    service: 'secretsmanager' as const,
    name,
    access,
    handler: (m: Models, p: Record<string, unknown>) => m.secrets[name](p),
  })),
  ...rows(CLOUDFORMATION).map(([name, access]) => ({
    service: 'cloudformation' as const,
    name,
    access,
    handler: (m: Models, p: Record<string, unknown>) => m.stacks[name](p),
  })),
];

const BY_KEY = new Map(OPERATIONS.map((op) => [`${op.service}.${op.name}`, op]));

/** The catalogue entry of an operation, or undefined when the emulator does not answer it. */
export const findOperation = (service: Service | 'unknown', name: string): Operation | undefined =>
  BY_KEY.get(`${service}.${name}`);

/** Whether a call changes state (what "a second run writes nothing" counts). */
export const isWriteOperation = (service: Service | 'unknown', name: string): boolean =>
  findOperation(service, name)?.access === 'write';

/** What each service answers to an operation it does not know. */
export function unknownOperation(service: Service, name: string): AwsApiError {
  if (service === 'cloudformation')
    return new AwsApiError('InvalidAction', 400, `Could not find operation ${name} for version 2010-05-15`);
  return service === 'iam'
    ? new AwsApiError('InvalidAction', 400, `Could not find operation ${name} for version 2010-05-08`)
    : new AwsApiError('UnknownOperationException', 400, `Unknown operation ${name}`);
}
