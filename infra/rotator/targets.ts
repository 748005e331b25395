// One secret per target, tagged so the function finds it, holding a placeholder until the
// first run issues the first credential. Its construct id is a contract: a changed id
// replaces the secret, and with it the only copy of the credential.
import { type RemovalPolicy, Tags } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  CANARY_LOG_GROUP_TAG,
  CANARY_LOG_STREAM_TAG,
  CODECOMMIT_REPOSITORY_TAG,
  SERVICE_NAME_TAG,
  USER_NAME_TAG,
  VERIFICATION_TAG,
} from '../../lambda/contract.ts';
import type { ManagedTarget } from './props.ts';

export function createTargetSecret(
  scope: Construct,
  t: Omit<ManagedTarget, 'secret'>,
  encryptionKey: kms.IKey | undefined,
  removalPolicy: RemovalPolicy,
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, `Secret-${t.userName}-${t.serviceName}`, {
    secretName: t.secretName,
    description: `Service-specific credential of IAM user ${t.userName} for ${t.serviceName} (rotated by service-credential-rotator)`,
    encryptionKey,
    // A placeholder: any value that is not a credential record means "bootstrap", so
    // the first run issues the first credential.
    generateSecretString: { passwordLength: 32, excludePunctuation: true },
    removalPolicy,
  });
  Tags.of(secret).add(USER_NAME_TAG, t.userName);
  Tags.of(secret).add(SERVICE_NAME_TAG, t.serviceName);
  // The target's verification settings travel as tags, which the function reads with the others.
  const settings: [string, string | undefined][] = [
    [VERIFICATION_TAG, t.verification],
    [CODECOMMIT_REPOSITORY_TAG, t.codeCommitRepository],
    [CANARY_LOG_GROUP_TAG, t.canaryLogGroup],
    [CANARY_LOG_STREAM_TAG, t.canaryLogStream],
  ];
  for (const [key, value] of settings) if (value) Tags.of(secret).add(key, value);
  return secret;
}

/** Secrets Manager's schedule takes whole days from 1 to 1000. */
export const MAX_ROTATION_RULE_DAYS = 1000;

/**
 * Days Secrets Manager's schedule waits beyond the rotator's, so that the rotator's own
 * schedule rotates a due target first and Secrets Manager's steps run only when it did not.
 * The rotator writes the new value with PutSecretValue at its run (03:00 UTC by default) on
 * day D; Secrets Manager counts that as a rotation and picks a random hour of UTC day
 * D + AutomaticallyAfterDays. The rotator is due at D + rotateAfterDays + a few seconds, so its
 * first run that finds the target due is on day D + ceil(rotateAfterDays) + 1 (the run on day
 * D + rotateAfterDays comes seconds too early). Secrets Manager's day must come after that:
 * +2. A run that defers or fails the target on its due day may then be overtaken by Secrets
 * Manager's four steps, which is correct too, only not the usual path.
 */
export const ROTATION_RULE_MARGIN_DAYS = 2;

/**
 * `rotateAfterDays` as Secrets Manager's AutomaticallyAfterDays: rounded up plus
 * ROTATION_RULE_MARGIN_DAYS, so that the function's schedule normally rotates first and
 * Secrets Manager's schedule is the fallback (it still keeps rotation enabled for compliance
 * checks and for "Rotate secret immediately"); within 1..1000 (Secrets Manager's range: near
 * 1000 days the margin shrinks).
 */
export function rotationRuleDays(rotateAfterDays: number): number {
  return Math.min(
    MAX_ROTATION_RULE_DAYS,
    Math.max(1, Math.ceil(rotateAfterDays) + ROTATION_RULE_MARGIN_DAYS),
  );
}

/**
 * Makes the function the secret's rotation function in Secrets Manager, so that the console's
 * "Rotate secret immediately", `aws secretsmanager rotate-secret` and Secrets Manager's own
 * schedule rotate it through the four steps, and compliance checks see rotation enabled.
 *
 * The L1 resource rather than `secret.addRotationSchedule()`: the L2 also denies DeleteSecret
 * to the whole account in the secret's resource policy (which breaks the deletion of secrets
 * whose removal policy is DESTROY) and grants `secretsmanager:GetRandomPassword` on `*`, which
 * this function never calls. Its permissions are the construct's own (permissions.ts).
 *
 * `rotateImmediatelyOnUpdate: false`: a deployment must not rotate every secret at once; Secrets
 * Manager then only runs testSecret to check the configuration.
 */
export function scheduleRotation(
  secret: secretsmanager.Secret,
  fn: lambda.IFunction,
  rotateAfterDays: number,
  invokePermission: lambda.CfnPermission,
): secretsmanager.CfnRotationSchedule {
  const schedule = new secretsmanager.CfnRotationSchedule(secret, 'RotationSchedule', {
    secretId: secret.secretArn,
    rotationLambdaArn: fn.functionArn,
    rotationRules: { automaticallyAfterDays: rotationRuleDays(rotateAfterDays) },
    rotateImmediatelyOnUpdate: false,
  });
  // Secrets Manager checks, when rotation is configured, that it may invoke the function.
  schedule.addResourceDependency(invokePermission);
  return schedule;
}
