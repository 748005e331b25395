// The CDK app: reads the `credentialRotator` context (cdk.json), defines one stack per
// environment (account + region) and runs three validation packs on all of them: cdk-nag's
// AwsSolutions and NIST 800-53 R5, and the Control Tower proactive controls (cfn-guard).
// `cdk deploy --all` deploys every environment.
import { pathToFileURL } from 'node:url';
import { App, type AppProps, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import {
  CONTEXT_KEY,
  parseRotatorConfig,
  RotatorConfigError,
  type RotatorEnvironmentConfig,
} from './config.ts';
import type { ServiceCredentialRotatorProps } from 'service-credential-rotator';
import { RotatorStack } from './stack.ts';

export const PROJECT_TAG = { key: 'project', value: 'service-credential-rotator' } as const;
/** Tag key naming the cdk.json environment a stack belongs to. */
export const ENVIRONMENT_TAG = 'credential-rotator:environment';

export interface CreateAppOptions extends AppProps {
  /** Account/region for environments that name none (the CLI sets CDK_DEFAULT_*). */
  readonly defaultEnv?: { readonly account?: string | undefined; readonly region?: string | undefined };
  /**
   * Run the three validation packs at synth. Tests of the templates' shape turn them off
   * (the packs have tests of their own); `cdk synth` always runs them.
   * @default true
   */
  readonly validationPacks?: boolean;
}

export function createApp(options: CreateAppOptions = {}): App {
  const { defaultEnv, validationPacks = true, ...appProps } = options;
  const app = new App(appProps);
  const config = parseRotatorConfig(app.node.tryGetContext(CONTEXT_KEY));
  const fallback = defaultEnv ?? {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  };
  for (const env of config.environments) {
    let stack: RotatorStack;
    try {
      stack = new RotatorStack(app, `CredentialRotator-${env.name}`, {
        env: { account: env.account ?? fallback.account, region: env.region ?? fallback.region },
        description: `service-credential-rotator (${env.name}): rotates IAM service-specific credentials into Secrets Manager`,
        rotator: rotatorProps(env),
        kmsKey: env.kmsKey,
        network: env.vpc,
      });
    } catch (error) {
      // No `cause`: the message carries it whole, and the CLI would print a chained cause again.
      // The construct refused a cdk.json value: a configuration mistake like the schema's.
      throw new RotatorConfigError(`environment ${JSON.stringify(env.name)}: ${(error as Error).message}`);
    }
    Tags.of(stack).add(PROJECT_TAG.key, PROJECT_TAG.value);
    Tags.of(stack).add(ENVIRONMENT_TAG, env.name);
  }
  // Any finding fails synth; acknowledgements (with reasons) live next to the resources
  // they are about (infra/rotator/). The Control Tower proactive controls (cfn-guard rules)
  // run on the synthesised templates.
  if (validationPacks) {
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new NIST80053R5Checks(app),
      new CfnGuardValidator(),
    );
  }
  return app;
}

function rotatorProps(env: RotatorEnvironmentConfig): ServiceCredentialRotatorProps {
  return {
    targets: env.targets,
    rotateAfterDays: env.policy?.rotateAfterDays,
    overlapDays: env.policy?.overlapDays,
    gracePeriodDays: env.policy?.gracePeriodDays,
    maxCredentialAgeDays: env.policy?.maxCredentialAgeDays,
    schedule: env.schedule ? Schedule.expression(env.schedule) : undefined,
    expectedRunInterval:
      env.expectedRunIntervalHours !== undefined ? Duration.hours(env.expectedRunIntervalHours) : undefined,
    secretNamePrefix: env.secretNamePrefix,
    alarmEmail: env.alarmEmail,
    logRetention: env.logRetentionDays,
    reservedConcurrency: env.reservedConcurrency,
    consoleTestEvents: env.consoleTestEvents,
    bulkCredentialListing: env.bulkCredentialListing,
    verification: env.verification,
    createTestEventRegistry: env.createTestEventRegistry,
    staleCredentialMarginDays: env.staleCredentialMarginDays,
    tracing: env.tracing,
    timeout: env.timeoutSeconds !== undefined ? Duration.seconds(env.timeoutSeconds) : undefined,
    dashboard: env.dashboard,
  };
}

// Run by the CDK CLI (`node --import tsx infra/app.ts`); importing it (tests) only defines.
// Synth with the three validation packs takes from half a minute to minutes on a small
// machine, so it says what it is doing on stderr (the CLI shows it; stdout stays the CLI's).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const say = (line: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${line}\n`);
  let app: App;
  try {
    app = createApp();
  } catch (error) {
    // A cdk.json mistake is one line naming it and the expected form, not a Node stack trace.
    if (!(error instanceof RotatorConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const stacks = app.node.children.filter((c) => c instanceof Stack).map((c) => c.node.id);
  say(`synthesising ${stacks.join(', ')} with cdk-nag AwsSolutions, NIST 800-53 R5 and Control Tower rules`);
  app.synth();
  say('synthesised and validated');
}
