// The fences around the credentials: each secret's resource policy (who may read it, who may
// write it, change its policy or tags, or delete it), and the key policy statements a customer
// managed key needs (grants only for AWS resources; CloudWatch Logs and EventBridge allowed
// to use it). docs/SECURITY.md explains each fence, the allow/deny table the policy
// simulation (test/infra/policy-simulation.test.ts) proves, and the break-glass path.
import { ArnFormat, Aws, DefaultStackSynthesizer, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** Tag keys the rotator reads; whoever may change them could move a credential. */
export const ROTATOR_TAG_KEYS = 'credential-rotator:*';

/**
 * Writes to a secret's value or staging labels: only the rotator and the deployment.
 * (RotateSecret stays open: an operator's "Rotate secret immediately" calls it, and what it
 * starts is done by the rotation function, which acts as the rotator's role.)
 */
export const VALUE_WRITE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

/**
 * Changes to the secret itself: its settings (description, key), deletion and restoration,
 * switching rotation off, and replication. Only the deployment (CloudFormation) makes them;
 * the account's root user may replace or delete the policy (break glass, docs/SECURITY.md).
 */
export const SECRET_MANAGEMENT_ACTIONS = [
  'secretsmanager:UpdateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:CancelRotateSecret',
  // Replication copies the secret to other regions (with a key the caller picks there).
  'secretsmanager:ReplicateSecretToRegions',
  'secretsmanager:RemoveRegionsFromReplication',
  'secretsmanager:StopReplicationToReplica',
];
export const POLICY_ACTIONS = ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'];

/** Placeholders the CDK bootstrap's role ARNs carry until a stack resolves them. */
const PLACEHOLDERS: Record<string, (stack: Stack) => string> = {
  '${AWS::Partition}': () => Aws.PARTITION,
  '${AWS::AccountId}': (stack) => stack.account,
  '${AWS::Region}': (stack) => stack.region,
};

/**
 * The principal through which CloudFormation deploys the stack, exactly: the CloudFormation
 * execution role of the stack's DefaultStackSynthesizer (its qualifier and any
 * `cloudFormationExecutionRole` override included). Other synthesizers name no execution
 * role (CloudFormation then acts with the deployer's own credentials), so the construct's
 * `deploymentPrincipalArns` must say who deploys.
 */
export function defaultDeploymentPrincipalArns(scope: Construct): string[] {
  const stack = Stack.of(scope);
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) {
    throw new Error(
      `deploymentPrincipalArns is required with the stack's synthesizer (${synthesizer.constructor.name}): ` +
        'only the DefaultStackSynthesizer names the CloudFormation execution role that deploys the secrets; ' +
        'expected the exact ARN(s) of the role(s) CloudFormation deploys with, e.g. ["arn:aws:iam::111111111111:role/deployer"]',
    );
  }
  let arn = synthesizer.cloudFormationExecutionRoleArn;
  for (const [placeholder, value] of Object.entries(PLACEHOLDERS))
    arn = arn.split(placeholder).join(value(stack));
  return [arn];
}

/**
 * Checks `deploymentPrincipalArns`: exact IAM role or user ARNs (they are compared with
 * StringEquals, never as patterns: whoever can create a role matching a pattern could
 * otherwise change the secrets).
 */
export function checkedDeploymentPrincipalArns(arns: readonly string[]): string[] {
  if (arns.length === 0) {
    throw new Error(
      'deploymentPrincipalArns must name at least one principal (the role CloudFormation deploys with), got []',
    );
  }
  for (const [i, arn] of arns.entries()) {
    if (Token.isUnresolved(arn)) continue;
    if (
      !/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/.test(arn) &&
      !/^arn:aws[a-z-]*:iam::\d{12}:root$/.test(arn)
    ) {
      throw new Error(
        `deploymentPrincipalArns[${i}] must be the exact ARN of an IAM role or user (no wildcards: ` +
          `it is compared exactly), e.g. "arn:aws:iam::111111111111:role/deployer", got ${JSON.stringify(arn)}`,
      );
    }
  }
  return [...arns];
}

export interface SecretFence {
  /** Role ARNs that may read the secret besides the rotator's role; grows with grantRead. */
  readonly readers: string[];
}

/**
 * Adds the resource policy of one secret. Deny statements only: identity policies still
 * decide who may do anything at all; these make sure that nobody else reads the value, that
 * only the rotator and the deployment write it, and that only the deployment changes the
 * policy, the secret's settings, the tags that pair it with an IAM user, or deletes it. A
 * deny here beats any allow, AWS managed SecretsManagerReadWrite and `secretsmanager:*`
 * included. The reader list is read at synth (Lazy), so grantRead after construction counts.
 */
export function fenceSecret(
  secret: secretsmanager.Secret,
  rotatorRoleArn: () => string,
  fence: SecretFence,
  deploymentPrincipalArns: readonly string[],
): void {
  const rotator = Lazy.string({ produce: rotatorRoleArn });
  const deployment = [...deploymentPrincipalArns];
  const rootUser = Stack.of(secret).formatArn({
    service: 'iam',
    region: '',
    resource: 'root',
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });
  const denyUnless = (
    sid: string,
    actions: string[],
    principals: readonly string[],
    extra: Record<string, unknown> = {},
  ) =>
    new iam.PolicyStatement({
      sid,
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions,
      resources: ['*'],
      conditions: { ...extra, StringNotEquals: { 'aws:PrincipalArn': principals } },
    });
  secret.addToResourcePolicy(
    denyUnless(
      'ReadOnlyByRotatorAndDeclaredReaders',
      ['secretsmanager:GetSecretValue'],
      Lazy.list({ produce: () => [rotatorRoleArn(), ...new Set(fence.readers)] }),
    ),
  );
  // Tag changes are checked by key: other tags stay anyone's business.
  secret.addToResourcePolicy(
    denyUnless(
      'RotatorTagsOnlyByDeployment',
      ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
      deployment,
      {
        'ForAnyValue:StringLike': { 'aws:TagKeys': [ROTATOR_TAG_KEYS] },
      },
    ),
  );
  secret.addToResourcePolicy(
    denyUnless('ValueWrittenOnlyByRotatorAndDeployment', VALUE_WRITE_ACTIONS, [rotator, ...deployment]),
  );
  secret.addToResourcePolicy(
    denyUnless('SecretChangedOnlyByDeployment', SECRET_MANAGEMENT_ACTIONS, deployment),
  );
  secret.addToResourcePolicy(
    denyUnless('PolicyChangedOnlyByDeploymentOrRoot', POLICY_ACTIONS, [...deployment, rootUser]),
  );
}

/** The principal ARN a grantee reads with, for the resource policy's reader list. */
export function readerArn(grantee: iam.IGrantable): string {
  const principal = grantee.grantPrincipal;
  if (principal instanceof iam.Role || 'roleArn' in principal) return (principal as iam.IRole).roleArn;
  const aws = principal.policyFragment.principalJson.AWS;
  const arns = Array.isArray(aws) ? aws : aws ? [aws] : [];
  if (arns.length !== 1 || typeof arns[0] !== 'string') {
    throw new Error(
      "grantRead: the grantee must be an IAM role or user (an AWS principal with one ARN), because the secret's resource policy names its readers by ARN",
    );
  }
  return arns[0];
}

/**
 * CT.KMS.PR.3: grants on the key only for AWS resources (a service acting for the caller),
 * so nobody hands out lasting use of the key outside the key policy.
 */
export function limitGrantsToAwsResources(key: kms.IKey): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}

/**
 * Lets CloudWatch Logs encrypt this account's log groups in this region with the key. An
 * imported key's policy cannot be changed from here: returns false, and the key's owner must
 * add the statement (docs/OPERATIONS.md shows it).
 */
export function allowLogsToUseKey(key: kms.IKey): boolean {
  const stack = Stack.of(key);
  return key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  ).statementAdded;
}

/** Lets EventBridge write the schedule's dead letters into a queue encrypted with the key. */
export function allowEventBridgeToUseKey(key: kms.IKey): boolean {
  return key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowEventBridgeDeadLetters',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(key).account } },
    }),
  ).statementAdded;
}
