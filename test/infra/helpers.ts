// Builders shared by the infra tests. esbuild is skipped (bundling-stacks: []), so a
// synth takes milliseconds and never needs Docker or the network.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/app.ts';
import { CONTEXT_KEY } from '../../infra/config.ts';
import { ServiceCredentialRotator, type ServiceCredentialRotatorProps } from '../../infra/rotator/index.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

export const TARGETS = [
  { userName: 'orders-keyspaces', serviceName: 'cassandra.amazonaws.com' },
  { userName: 'ci-git', serviceName: 'codecommit.amazonaws.com' },
  { userName: 'orders-keyspaces', serviceName: 'codecommit.amazonaws.com' },
] as const;

export function tempOutdir(): string {
  return mkdtempSync(join(tmpdir(), 'rotator-cdk-'));
}

/** The stack `prodApp` synthesises. */
export const PROD_STACK = 'CredentialRotator-prod';

/**
 * The app as `cdk.json` would configure it with one environment, `prod`, rotating one
 * Keyspaces user; `env` adds or overrides that environment's settings.
 */
export function prodApp(env: Record<string, unknown> = {}, validationPacks = false): App {
  return createApp({
    validationPacks,
    outdir: tempOutdir(),
    context: {
      ...SKIP_BUNDLING,
      [CONTEXT_KEY]: {
        environments: [
          {
            name: 'prod',
            account: ACCOUNT,
            region: REGION,
            targets: [{ userName: 'app', serviceName: 'cassandra.amazonaws.com' }],
            ...env,
          },
        ],
      },
    },
  });
}

export function newStack(): { app: App; stack: Stack } {
  const app = new App({ context: SKIP_BUNDLING, outdir: tempOutdir() });
  const stack = new Stack(app, 'TestStack', { env: { account: ACCOUNT, region: REGION } });
  return { app, stack };
}

export function rotatorTemplate(
  props: Partial<ServiceCredentialRotatorProps> = {},
  extend?: (stack: Stack) => Partial<ServiceCredentialRotatorProps>,
): { template: Template; rotator: ServiceCredentialRotator; stack: Stack } {
  const { stack } = newStack();
  const extra = extend ? extend(stack) : {};
  const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS, ...props, ...extra });
  return { template: Template.fromStack(stack), rotator, stack };
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of every identity policy in the template (managed, inline, role-inline). */
export function allStatements(template: Template): Statement[] {
  const out: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    out.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  for (const policy of Object.values(template.findResources('AWS::IAM::ManagedPolicy'))) {
    out.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
    for (const p of (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]) {
      out.push(...p.PolicyDocument.Statement);
    }
  }
  return out;
}

export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

export function resourcesOf(s: Statement): unknown[] {
  return Array.isArray(s.Resource) ? s.Resource : [s.Resource];
}

/** The single statement with this Sid. */
export function statement(template: Template, sid: string): Statement {
  const found = allStatements(template).filter((s) => s.Sid === sid);
  if (found.length !== 1) throw new Error(`expected one statement ${sid}, found ${found.length}`);
  return found[0] as Statement;
}

/** The logical id of the only resource of a type whose properties match. */
export function logicalId(template: Template, type: string, props?: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, props ? { Properties: props } : undefined));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
}

export function userArn(userName: string) {
  return {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:user/${userName}`]],
  };
}
