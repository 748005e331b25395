// The function's permissions: exactly the configured users' credentials (per service, with
// IAM's service-name condition), exactly the managed secrets (and an explicit deny of every
// other secret's value and writes), discovery, the key (only via the services that use it),
// the failure queue and the event bus. Statements that name targets grow with addTarget(),
// so a target added after construction is covered too.
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { ManagedTarget } from './props.ts';

/**
 * What the role may never do to a secret the stack did not deploy, whatever that secret's
 * resource policy grants: a look-alike (a deployed secret force-deleted and recreated under
 * its name, with its tags, and a policy granting this role) has another ARN, because Secrets
 * Manager appends a random suffix to every new secret's ARN. An explicit deny in the identity
 * policy beats an allow in a resource policy. GetSecretValue too: a value the rotator did not
 * write must not steer what it does to a user's credentials.
 */
export const DENIED_OUTSIDE_DEPLOYED_SECRETS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:UpdateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:ReplicateSecretToRegions',
  'secretsmanager:RemoveRegionsFromReplication',
  'secretsmanager:StopReplicationToReplica',
];

const CREDENTIAL_WRITE_ACTIONS = [
  'iam:CreateServiceSpecificCredential',
  'iam:UpdateServiceSpecificCredential',
  'iam:DeleteServiceSpecificCredential',
  'iam:ResetServiceSpecificCredential',
];

export interface PermissionSettings {
  readonly role: iam.Role;
  readonly encryptionKey?: kms.IKey | undefined;
  readonly bulkCredentialListing: boolean;
  readonly tracing: boolean;
  /** The function runs in a VPC: Lambda creates its network interfaces with this role. */
  readonly vpc?: boolean | undefined;
}

/**
 * What Lambda does with the function's role to attach it to a VPC: the actions of the AWS
 * managed AWSLambdaVPCAccessExecutionRole without its logs:* on every log group. Lambda's
 * guide says DescribeNetworkInterfaces (and so the set) works only on all resources.
 */
export const NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

export class RotatorPermissions {
  private readonly stack: Stack;
  private readonly listCredentials: iam.PolicyStatement;
  private readonly manageSecrets: iam.PolicyStatement;
  private readonly denyOtherSecrets: iam.PolicyStatement;
  /** Per service: its statement and the users (path + name) it names already. */
  private readonly manageCredentials = new Map<
    string,
    { statement: iam.PolicyStatement; users: Set<string> }
  >();
  private readonly listedUsers = new Set<string>();

  constructor(
    private readonly s: PermissionSettings,
    initialTargets: readonly ManagedTarget[],
  ) {
    this.stack = Stack.of(s.role);
    const { role } = s;
    this.listCredentials = new iam.PolicyStatement({
      sid: 'ListCredentialsOfConfiguredUsers',
      actions: ['iam:ListServiceSpecificCredentials'],
    });
    role.addToPolicy(this.listCredentials);
    if (s.bulkCredentialListing) this.allowBulkListing();
    this.manageSecrets = new iam.PolicyStatement({
      sid: 'ReadAndWriteManagedSecrets',
      actions: [
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DescribeSecret',
        // The rotation protocol: finishSecret moves AWSCURRENT, a refused testSecret removes
        // AWSPENDING, and the run takes back a rotation Secrets Manager left unfinished (the
        // pending version's age from ListSecretVersionIds, then AWSPENDING removed).
        'secretsmanager:UpdateSecretVersionStage',
        'secretsmanager:ListSecretVersionIds',
        // No RotateSecret (nor lambda:InvokeFunction on the function, which RotateSecret also
        // needs): the scheduled run rotates due targets itself and never starts a rotation.
      ],
    });
    this.denyOtherSecrets = new iam.PolicyStatement({
      sid: 'NothingOnSecretsNotDeployed',
      effect: iam.Effect.DENY,
      actions: DENIED_OUTSIDE_DEPLOYED_SECRETS,
    });
    // The statements in the order they always had, so existing deployments see no change.
    for (const t of initialTargets) this.addTarget(t);
    role.addToPolicy(this.manageSecrets);
    role.addToPolicy(this.denyOtherSecrets);
    this.allowDiscovery();
    if (s.vpc) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AttachToVpc',
          actions: NETWORK_INTERFACE_ACTIONS,
          resources: ['*'],
        }),
      );
    }
    if (s.encryptionKey) this.allowKeyViaServices(s.encryptionKey);
  }

  /** Covers one more target: its user's credentials (for its service only) and its secret. */
  public addTarget(t: ManagedTarget): void {
    const user = `${t.userPath}${t.userName}`;
    if (!this.listedUsers.has(user)) {
      this.listedUsers.add(user);
      this.listCredentials.addResources(this.userArn(user));
    }
    // One statement per service: a user configured for Keyspaces cannot get a CodeCommit
    // credential. IAM documents iam:ServiceSpecificCredentialServiceName for Create,
    // Update, Delete and Reset (not for List).
    let manage = this.manageCredentials.get(t.serviceName);
    if (!manage) {
      manage = {
        statement: new iam.PolicyStatement({
          sid: `ManageCredentials${pascal(t.serviceName)}`,
          actions: CREDENTIAL_WRITE_ACTIONS,
          conditions: { StringEquals: { 'iam:ServiceSpecificCredentialServiceName': t.serviceName } },
        }),
        users: new Set(),
      };
      this.manageCredentials.set(t.serviceName, manage);
      this.s.role.addToPolicy(manage.statement);
    }
    if (!manage.users.has(user)) {
      manage.users.add(user);
      manage.statement.addResources(this.userArn(user));
    }
    // Ref of a secret is its full ARN, random suffix included (never a name pattern).
    this.manageSecrets.addResources(t.secret.secretArn);
    this.denyOtherSecrets.addNotResources(t.secret.secretArn);
  }

  /**
   * Lets the function resolve a declared target's logical id to its secret's ARN in this
   * stack (CloudFormation's DescribeStackResource), the identity an attacker cannot recreate.
   */
  public allowDescribingOwnStack(): void {
    this.s.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeOwnStack',
        actions: ['cloudformation:DescribeStackResource', 'cloudformation:DescribeStackResources'],
        resources: [this.stack.stackId],
      }),
    );
  }

  public allowFailureQueue(queue: sqs.IQueue): void {
    this.s.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SendToFailureQueue',
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
      }),
    );
  }

  public allowEventBus(bus: events.IEventBus): void {
    bus.grantPutEventsTo(this.s.role);
  }

  private userArn(pathAndName: string): string {
    return this.stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'user',
      resourceName: pathAndName.slice(1),
    });
  }

  private allowBulkListing(): void {
    const { role } = this.s;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListCredentialsOfAllUsers',
        actions: ['iam:ListServiceSpecificCredentials'],
        resources: [
          this.stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' }),
        ],
      }),
    );
    const account = Token.isUnresolved(this.stack.account) ? '<AWS::AccountId>' : this.stack.account;
    Validations.of(role).acknowledge({
      // cdk-nag names the resource as rendered: a concrete account, or the token's name.
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${account}:user/*]`,
      reason:
        'Opt-in bulkCredentialListing: ListServiceSpecificCredentials with AllUsers has no ' +
        'narrower documented resource. It returns credential metadata, never a password; ' +
        'every write stays limited to the configured users.',
    });
  }

  private allowDiscovery(): void {
    const { role } = this.s;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DiscoverTargets',
        // BatchGetSecretValue itself needs "*"; each value it returns is still authorised by
        // GetSecretValue on that secret, which only the managed secrets grant.
        actions: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets supports no resource-level permissions (Service ' +
        'Authorization Reference: no resource type), so it needs "*"; it returns names and tags, ' +
        'never values. BatchGetSecretValue likewise needs "*" but returns only the values ' +
        'GetSecretValue allows, which only the managed secrets grant.' +
        (this.s.tracing
          ? ' With tracing, Lambda adds xray:PutTraceSegments/PutTelemetryRecords, which also have no resource type.'
          : '') +
        (this.s.vpc
          ? " In a VPC, Lambda manages the function's network interfaces with this role: " +
            'ec2:DescribeNetworkInterfaces works only on "*" (Lambda developer guide, VPC execution ' +
            'role permissions), so the ENI actions (AttachToVpc) take "*"; they are the actions of ' +
            'AWSLambdaVPCAccessExecutionRole without its logs:* on every log group.'
          : ''),
    });
  }

  private allowKeyViaServices(key: kms.IKey): void {
    for (const service of ['secretsmanager', 'sqs']) {
      this.s.role.addToPolicy(
        new iam.PolicyStatement({
          sid: `UseKeyVia${pascal(service)}`,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `${service}.${this.stack.region}.amazonaws.com` } },
        }),
      );
    }
  }
}

/** `cassandra.amazonaws.com` -> `CassandraAmazonawsCom` (for statement ids). */
function pascal(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');
}
