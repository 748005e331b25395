// One secret per target, tagged so the function finds it, holding a placeholder until the
// first run issues the first credential. Its construct id is a contract: a changed id
// replaces the secret, and with it the only copy of the credential.
import { type RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
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
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      "Rotated by this construct's function on its own schedule (IAM service-specific " +
      'credentials cannot use the Secrets Manager rotation protocol without a third slot).',
  });
  return secret;
}
