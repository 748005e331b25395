// The organization rollout's CDK app: `npx --no-install cdk synth --app "node --import tsx
// infra/org/app.ts"` (npm run org:synth). It reads the cdk.json context key
// `credentialRotatorOrg` and defines, in the account that owns the rollout (the management
// account or a delegated administrator):
// - `CredentialRotatorOrgAssets-<region>`: the asset bucket of each target region (assets.ts);
// - `CredentialRotatorOrg`: the StackSet, the org bus, the observability sink, the alarm and
//   the dashboard (central.ts), in `centralRegion`.
// The member template (member.ts) is synthesised into `<outdir>/org-member/`, with
// `publish.json`, what scripts/publish-org-assets.ts uploads to every region's bucket.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type AppProps, Stack, Tags } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { RotationTarget, ServiceCredentialRotatorProps } from 'service-credential-rotator';
import { OrgAssetBucketStack } from './assets.ts';
import { unknownKeyMessage } from '../config.ts';
import { type CallAs, checkedRolloutProps, OrganizationRolloutStack } from './central.ts';
import { ASSET_KEY_PREFIX, type MemberAsset, synthesizeMemberTemplate } from './member.ts';

export const ORG_CONTEXT_KEY = 'credentialRotatorOrg';
export const PROJECT_TAG = { key: 'project', value: 'service-credential-rotator' } as const;

/** The `credentialRotatorOrg` context. */
export interface OrgConfig {
  readonly organizationId: string;
  readonly organizationalUnitIds: readonly string[];
  readonly regions: readonly string[];
  readonly assetBucketPrefix: string;
  /** Region of the StackSet, the bus, the sink and the alarm. @default the first of `regions` */
  readonly centralRegion?: string | undefined;
  /** The account that owns the rollout. @default the CLI's (CDK_DEFAULT_ACCOUNT) */
  readonly account?: string | undefined;
  readonly callAs?: CallAs | undefined;
  readonly retainStacksOnAccountRemoval?: boolean | undefined;
  readonly alarmEmail?: string | undefined;
  /** The rotator every account gets: its targets (the same users in every account) and policy. */
  readonly rotator: {
    readonly targets: readonly RotationTarget[];
    readonly rotateAfterDays?: number | undefined;
    readonly overlapDays?: number | undefined;
    readonly gracePeriodDays?: number | undefined;
    readonly verification?: ServiceCredentialRotatorProps['verification'];
    readonly reservedConcurrency?: number | false | undefined;
  };
}

/** What publish-org-assets.ts uploads: every file, its key, and the regions whose buckets get it. */
export interface PublishPlan {
  readonly assetBucketPrefix: string;
  readonly regions: readonly string[];
  readonly centralRegion: string;
  readonly template: { readonly path: string; readonly objectKey: string };
  readonly assets: readonly MemberAsset[];
}

export interface CreateOrgAppOptions extends AppProps {
  /** @default true; tests of the templates' shape turn them off (the member packs have a test of their own) */
  readonly validationPacks?: boolean;
}

export function parseOrgConfig(raw: unknown): OrgConfig {
  if (raw === undefined) {
    throw new Error(
      `missing cdk.json context "${ORG_CONTEXT_KEY}": expected {"organizationId":"o-...","organizationalUnitIds":["ou-..."],` +
        '"regions":["eu-west-1"],"assetBucketPrefix":"...","rotator":{"targets":[...]}} (docs/OPERATIONS.md)',
    );
  }
  // `cdk synth -c credentialRotatorOrg='{...}'` passes the JSON as a string.
  let parsed = raw;
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw new Error(`context "${ORG_CONTEXT_KEY}" is not JSON: ${(error as Error).message}`);
    }
  }
  const c = parsed as OrgConfig;
  if (typeof c !== 'object' || c === null || !c.rotator || !Array.isArray(c.rotator.targets)) {
    throw new Error(`${ORG_CONTEXT_KEY}.rotator.targets must list the targets every account gets`);
  }
  if (!Array.isArray(c.organizationalUnitIds) || !Array.isArray(c.regions)) {
    throw new Error(`${ORG_CONTEXT_KEY}.organizationalUnitIds and .regions must be lists`);
  }
  // A misspelt optional key would otherwise be ignored and its default used in every account.
  const unknown = [
    ...unknownKeys(c, ORG_KEYS, ORG_CONTEXT_KEY),
    ...unknownKeys(c.rotator, ROTATOR_KEYS, `${ORG_CONTEXT_KEY}.rotator`),
  ];
  if (unknown.length > 0) throw new Error(unknown.join('; '));
  return c;
}

/** The keys OrgConfig and its `rotator` have (typed: a key added there must be added here). */
const ORG_KEYS = Object.keys({
  organizationId: true,
  organizationalUnitIds: true,
  regions: true,
  assetBucketPrefix: true,
  centralRegion: true,
  account: true,
  callAs: true,
  retainStacksOnAccountRemoval: true,
  alarmEmail: true,
  rotator: true,
} satisfies Record<keyof OrgConfig, true>);
const ROTATOR_KEYS = Object.keys({
  targets: true,
  rotateAfterDays: true,
  overlapDays: true,
  gracePeriodDays: true,
  verification: true,
  reservedConcurrency: true,
} satisfies Record<keyof OrgConfig['rotator'], true>);

function unknownKeys(value: object, allowed: readonly string[], path: string): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path}.${key}: ${unknownKeyMessage(key, allowed)}`);
}

function rotatorProps(c: OrgConfig): ServiceCredentialRotatorProps {
  const r = c.rotator;
  return {
    targets: r.targets,
    ...(r.rotateAfterDays !== undefined ? { rotateAfterDays: r.rotateAfterDays } : {}),
    ...(r.overlapDays !== undefined ? { overlapDays: r.overlapDays } : {}),
    ...(r.gracePeriodDays !== undefined ? { gracePeriodDays: r.gracePeriodDays } : {}),
    ...(r.verification !== undefined ? { verification: r.verification } : {}),
    ...(r.reservedConcurrency !== undefined ? { reservedConcurrency: r.reservedConcurrency } : {}),
  };
}

export function createOrgApp(options: CreateOrgAppOptions = {}): { app: App; plan: PublishPlan } {
  const { validationPacks = true, ...appProps } = options;
  const app = new App(appProps);
  const config = parseOrgConfig(app.node.tryGetContext(ORG_CONTEXT_KEY));
  const centralRegion = config.centralRegion ?? config.regions[0] ?? '';
  const account = config.account ?? process.env.CDK_DEFAULT_ACCOUNT;

  // The member template first: the StackSet names it by its content's hash.
  const memberDir = join(app.outdir, 'org-member');
  mkdirSync(memberDir, { recursive: true });
  const member = synthesizeMemberTemplate({
    rotator: rotatorProps(config),
    assetBucketPrefix: config.assetBucketPrefix,
    outdir: join(memberDir, 'assembly'),
    context: appProps.context,
    plugins: validationPacks
      ? (memberApp) => [
          new AwsSolutionsChecks(memberApp),
          new NIST80053R5Checks(memberApp),
          new CfnGuardValidator(),
        ]
      : undefined,
  });
  const body = JSON.stringify(member.template, null, 1);
  const templateKey = `${ASSET_KEY_PREFIX}member-${createHash('sha256').update(body).digest('hex').slice(0, 32)}.template.json`;
  const templatePath = join(memberDir, 'member.template.json');
  writeFileSync(templatePath, body);
  const plan: PublishPlan = {
    assetBucketPrefix: config.assetBucketPrefix,
    regions: [...new Set([...config.regions, centralRegion])],
    centralRegion,
    template: { path: templatePath, objectKey: templateKey },
    assets: member.assets,
  };
  writeFileSync(join(memberDir, 'publish.json'), JSON.stringify(plan, null, 1));

  const rollout = {
    organizationId: config.organizationId,
    organizationalUnitIds: config.organizationalUnitIds,
    regions: config.regions,
    assetBucketPrefix: config.assetBucketPrefix,
    memberTemplateKey: templateKey,
    callAs: config.callAs,
    retainStacksOnAccountRemoval: config.retainStacksOnAccountRemoval,
    alarmEmail: config.alarmEmail,
  };
  checkedRolloutProps(rollout);
  const assetStacks = plan.regions.map(
    (region) =>
      new OrgAssetBucketStack(
        app,
        `CredentialRotatorOrgAssets-${region}`,
        { organizationId: config.organizationId, assetBucketPrefix: config.assetBucketPrefix },
        {
          env: { account, region },
          description: `service-credential-rotator: organization asset bucket (${region})`,
        },
      ),
  );
  const central = new OrganizationRolloutStack(app, 'CredentialRotatorOrg', rollout, {
    env: { account, region: centralRegion },
    description:
      'service-credential-rotator: organization rollout (StackSet), bus, observability sink, alarm, dashboard',
  });
  for (const s of assetStacks) central.addStackDependency(s);
  for (const s of app.node.children)
    if (s instanceof Stack) Tags.of(s).add(PROJECT_TAG.key, PROJECT_TAG.value);
  return { app, plan };
}

// Run by the CDK CLI; importing it (tests) only defines.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  process.stderr.write(
    'synthesising the member template (three validation packs) and the organization stacks\n',
  );
  try {
    createOrgApp().app.synth();
  } catch (error) {
    // A configuration mistake is one line naming it, not a stack trace.
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stderr.write(`synthesised in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
