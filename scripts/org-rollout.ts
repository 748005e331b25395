// `npm run org:rollout -- [--dry-run] [cdk deploy options...]`: the organization rollout in one
// command, from the account that owns it (management account, or a delegated administrator of
// CloudFormation StackSets), with that account's credentials:
//   1. synth the org app (infra/org/app.ts): the member template, through the three validation
//      packs, and the org stacks;
//   2. `cdk deploy CredentialRotatorOrgAssets-*`: one asset bucket per region, readable by the
//      organization;
//   3. upload the member template (to the StackSet region's bucket) and its assets (the handler
//      bundle and the declaration layer, zipped, to every region's bucket) with the AWS CLI;
//   4. `cdk deploy CredentialRotatorOrg`: the StackSet, which then deploys to every account
//      of the OUs, the org bus, the observability sink, the alarm and the dashboard.
// `--dry-run` prints the commands instead of running them. Never run by the tests.
import './quiet-sdk.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishPlan } from '../infra/org/app.ts';
import { isMainModule } from './local.ts';

export const ORG_APP = 'node --import tsx scripts/build.ts && node --import tsx infra/org/app.ts';
export const CDK_OUT = 'cdk.out';

/** A command line: the program and its arguments, and what it does. */
export interface Step {
  readonly why: string;
  readonly argv: readonly string[];
  /** Run in this directory (zip). */
  readonly cwd?: string | undefined;
}

/** The upload commands for a synthesised plan: zip each directory once, copy each file to each region. */
export function publishSteps(plan: PublishPlan, workDir: string): Step[] {
  const steps: Step[] = [];
  const files = plan.assets.map((asset) => {
    if (asset.packaging !== 'zip') return { asset, file: asset.path };
    const file = join(workDir, `${asset.sourceHash}.zip`);
    // -X: no extra attributes, so the same directory always gives the same archive.
    steps.push({ why: `zip ${asset.path}`, argv: ['zip', '-q', '-r', '-X', file, '.'], cwd: asset.path });
    return { asset, file };
  });
  for (const region of plan.regions) {
    const bucket = `${plan.assetBucketPrefix}-${region}`;
    for (const { asset, file } of files) {
      steps.push({
        why: `asset ${asset.objectKey} to ${region}`,
        argv: [
          'aws',
          's3',
          'cp',
          file,
          `s3://${bucket}/${asset.objectKey}`,
          '--region',
          region,
          '--only-show-errors',
        ],
      });
    }
  }
  const central = `${plan.assetBucketPrefix}-${plan.centralRegion}`;
  steps.push({
    why: `member template to ${plan.centralRegion}`,
    argv: [
      'aws',
      's3',
      'cp',
      plan.template.path,
      `s3://${central}/${plan.template.objectKey}`,
      '--region',
      plan.centralRegion,
      '--only-show-errors',
    ],
  });
  return steps;
}

function cdk(args: readonly string[], extra: readonly string[]): Step {
  return {
    why: `cdk ${args.join(' ')}`,
    argv: ['npx', '--no-install', 'cdk', ...args, '--app', ORG_APP, ...extra],
  };
}

function run(step: Step, dryRun: boolean): void {
  process.stderr.write(`${dryRun ? '(dry run) ' : ''}${step.why}: ${step.argv.join(' ')}\n`);
  if (dryRun) return;
  const result = spawnSync(step.argv[0] as string, step.argv.slice(1), { cwd: step.cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${step.why} failed (exit ${result.status ?? result.signal}): nothing after it was run`);
  }
}

export function main(argv: readonly string[]): number {
  const dryRun = argv.includes('--dry-run');
  const extra = argv.filter((a) => a !== '--dry-run');
  try {
    run(cdk(['synth', '--quiet', '--output', CDK_OUT], []), false);
    const plan = JSON.parse(readFileSync(join(CDK_OUT, 'org-member', 'publish.json'), 'utf8')) as PublishPlan;
    run(cdk(['deploy', 'CredentialRotatorOrgAssets-*', '--output', CDK_OUT], extra), dryRun);
    for (const step of publishSteps(plan, mkdtempSync(join(tmpdir(), 'org-assets-')))) run(step, dryRun);
    run(cdk(['deploy', 'CredentialRotatorOrg', '--output', CDK_OUT], extra), dryRun);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (isMainModule(import.meta.url)) process.exitCode = main(process.argv.slice(2));
