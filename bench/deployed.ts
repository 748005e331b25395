// What the construct deploys when nothing is set: read from a synthesized template rather than
// copied here, so a changed default (timeout, reserved concurrency, Secrets Manager's rotation
// rule, verification) changes what the bench runs without anyone editing the bench.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ServiceCredentialRotator } from '../infra/rotator/index.ts';
import type { Policy } from '../lambda/rotation/model.ts';
import {
  DEFAULT_VERIFICATION_MODE,
  ENV,
  VERIFICATION_MODES,
  type VerificationMode,
} from '../lambda/contract.ts';

export interface DeployedConfiguration {
  /** The function's timeout: the Lambda context's time of every bench invocation. */
  readonly timeoutSeconds: number;
  /** Reserved concurrency; undefined: none reserved. */
  readonly reservedConcurrency: number | undefined;
  /** Secrets Manager's AutomaticallyAfterDays on every target's rotation schedule. */
  readonly rotationRuleDays: number;
  /** Whether CloudFormation's RotationSchedule rotates at deployment (false: testSecret only). */
  readonly rotateImmediatelyOnUpdate: boolean;
  /** The function's verification mode: its VERIFICATION variable, else the function's default. */
  readonly verification: VerificationMode;
  readonly bulkCredentialListing: boolean;
  /** The function is given a declaration of its targets (DECLARED_TARGETS_FILE). */
  readonly declaredTargets: boolean;
  readonly policy: Policy;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Synthesizes the construct with one target and every prop at its default. */
export function deployedConfiguration(): DeployedConfiguration {
  const outdir = mkdtempSync(join(tmpdir(), 'rotator-bench-cdk-'));
  try {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
    const stack = new Stack(app, 'Bench', { env: { account: '123456789012', region: 'us-east-1' } });
    new ServiceCredentialRotator(stack, 'Rotator', {
      targets: [{ userName: 'bench', serviceName: 'cassandra.amazonaws.com' }],
      // Only the asset differs from a deployment: the bench runs the handler from source.
      code: lambda.Code.fromInline('export const handler = () => {}'),
    });
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, Resource>;
    };
    const resources = Object.values(template.Resources);
    const fn = resources.find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[
          ENV.rotateAfterDays
        ] !== undefined,
    );
    const schedule = resources.find((r) => r.Type === 'AWS::SecretsManager::RotationSchedule');
    if (!fn?.Properties || !schedule?.Properties) {
      throw new Error('the synthesized stack has no rotator function or no rotation schedule');
    }
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const mode = env[ENV.verification];
    const verification =
      mode === undefined ? DEFAULT_VERIFICATION_MODE : VERIFICATION_MODES.find((m) => m === mode);
    if (!verification) throw new Error(`unexpected ${ENV.verification} ${String(mode)}`);
    const rules = schedule.Properties.RotationRules as { AutomaticallyAfterDays?: number };
    if (typeof rules?.AutomaticallyAfterDays !== 'number') {
      throw new Error('the rotation schedule has no AutomaticallyAfterDays');
    }
    return {
      timeoutSeconds: Number(fn.Properties.Timeout ?? 3),
      reservedConcurrency:
        fn.Properties.ReservedConcurrentExecutions === undefined
          ? undefined
          : Number(fn.Properties.ReservedConcurrentExecutions),
      rotationRuleDays: rules.AutomaticallyAfterDays,
      rotateImmediatelyOnUpdate: schedule.Properties.RotateImmediatelyOnUpdate !== false,
      verification,
      bulkCredentialListing: env[ENV.bulkCredentialListing] === 'true',
      declaredTargets: env[ENV.declaredTargetsFile] !== undefined,
      policy: {
        rotateAfterDays: Number(env[ENV.rotateAfterDays]),
        overlapDays: Number(env[ENV.overlapDays]),
        gracePeriodDays: Number(env[ENV.gracePeriodDays]),
      },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
