// Production SDK clients. Region, credentials and endpoints come from the SDK's standard
// settings (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM,
// AWS_ENDPOINT_URL_SECRETS_MANAGER), so the same code runs against AWS, LocalStack or the
// local emulator. IAM is global: for any region of the `aws` partition the SDK's endpoint
// rules resolve https://iam.amazonaws.com signed for us-east-1 (China and GovCloud get
// their partition's endpoint), so the Lambda's own region is the right input.
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DeploymentPort } from './ports.ts';

export interface AwsClients {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
}

export interface ClientOptions {
  /**
   * Attempts per call, the first included.
   * @default 5
   */
  readonly maxAttempts?: number;
}

/**
 * Adaptive retries add client-side rate limiting on top of backoff: after throttling, a
 * client slows its own sending instead of burning attempts. That matters against IAM, whose
 * throttling limits are unpublished and cannot be raised, when one run walks a whole fleet.
 * Each client has its own limiter, so IAM throttling never slows Secrets Manager calls.
 */
export function createClients(options: ClientOptions = {}): AwsClients {
  const config = { retryMode: 'adaptive', maxAttempts: options.maxAttempts ?? 5 } as const;
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config) };
}

/**
 * The deploying stack's reader (lambda/aws/cloudformation.ts), loaded on its first use: the
 * CloudFormation client is a chunk of its own, so functions that never resolve a stack (local
 * runs, tag discovery) do not parse it at cold start. The client is built once, then kept.
 */
export function lazyDeployment(options: ClientOptions = {}): DeploymentPort {
  let port: Promise<DeploymentPort> | undefined;
  const load = async (): Promise<DeploymentPort> => {
    const [{ CloudFormationClient }, { StackResources }] = await Promise.all([
      import('@aws-sdk/client-cloudformation'),
      import('./cloudformation.ts'),
    ]);
    const config = { retryMode: 'adaptive', maxAttempts: options.maxAttempts ?? 5 } as const;
    return new StackResources(new CloudFormationClient(config));
  };
  return {
    async deployedSecretArns(stackId, logicalIds) {
      // A failed load is not kept: the next call tries again.
      port ??= load().catch((error: unknown) => {
        port = undefined;
        throw error;
      });
      return (await port).deployedSecretArns(stackId, logicalIds);
    },
  };
}
