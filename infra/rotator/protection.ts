// The fences around the credentials: each secret's resource policy (who may read it, who may
// change the tags that pair it with a user), and the key policy statements a customer
// managed key needs (grants only for AWS resources; CloudWatch Logs and EventBridge allowed
// to use it). docs/SECURITY.md explains each fence and the break-glass path.
import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** Tag keys the rotator reads; whoever may change them could move a credential. */
export const ROTATOR_TAG_KEYS = 'credential-rotator:*';

/**
 * The deployment's principals as CloudFormation acts through them: the execution role the
 * CDK bootstrap creates (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`).
 */
export function defaultDeploymentPrincipalArns(scope: Construct): string[] {
  const stack = Stack.of(scope);
  return [
    stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: `cdk-*-cfn-exec-role-${stack.account}-${stack.region}`,
    }),
  ];
}

export interface SecretFence {
  /** Role ARNs that may read the secret besides the rotator's role; grows with grantRead. */
  readonly readers: string[];
}

/**
 * Adds the resource policy of one secret. Deny statements only: identity policies still
 * decide who may do anything at all; these make sure nobody else reads the value, and that
 * only the deployment changes the tags that pair the secret with an IAM user.
 * The reader list is read at synth (Lazy), so grantRead after construction counts.
 */
export function fenceSecret(
  secret: secretsmanager.Secret,
  rotatorRoleArn: () => string,
  fence: SecretFence,
  deploymentPrincipalArns: readonly string[],
): void {
  secret.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'ReadOnlyByRotatorAndDeclaredReaders',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['*'],
      conditions: {
        StringNotEquals: {
          'aws:PrincipalArn': Lazy.list({ produce: () => [rotatorRoleArn(), ...new Set(fence.readers)] }),
        },
      },
    }),
  );
  secret.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'RotatorTagsOnlyByDeployment',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
      resources: ['*'],
      conditions: {
        'ForAnyValue:StringLike': { 'aws:TagKeys': [ROTATOR_TAG_KEYS] },
        // CloudFormation acting with the caller's own credentials (no execution role).
        'ForAllValues:StringNotEquals': { 'aws:CalledVia': ['cloudformation.amazonaws.com'] },
        // CloudFormation acting through the deployment's execution role.
        StringNotLike: { 'aws:PrincipalArn': [...deploymentPrincipalArns] },
      },
    }),
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
