// `npm run demo:org`: an AWS Organization of three member accounts on this machine, with no
// AWS account. It shows, in order:
//   1. the rollout as configured: the org app synthesised offline (the StackSet's OUs, regions,
//      automatic deployment and retain setting; the member template's parameters and assets);
//   2. the rotator of each account (the real handler, real SDK clients signed with that
//      account's key) run at once against one emulator endpoint serving all three accounts:
//      `payments`, `analytics` (whose IAM throttles every call) and `sandbox` (which holds a
//      CodeCommit credential issued by hand, outside any target, and a user opted in by tag);
//   3. the central view: every account's targets in one table, the failure, the unmanaged
//      credential, and the events that reached the central bus;
//   4. the org alarm's input: what the Metrics Insights query returns over the accounts' metrics.
// The organization is saved to .local/org-state.json for `npm run fleet -- --org`. Exit code 1
// when a check fails. No password or API key is ever printed.
import './quiet-sdk.ts';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createOrgApp, type OrgConfig } from '../infra/org/app.ts';
import { ORG_FAILED_TARGETS_QUERY } from '../infra/org/central.ts';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { findLeakedSecrets, lockoutProblems } from '../invariants/index.ts';
import { buildPackage, HANDLER_DIR } from './build.ts';
import { renderOrgFleet } from './fleet.ts';
import { isMainModule, setEnv } from './local.ts';
import {
  alarmInput,
  type CentralEvent,
  createOrganization,
  DEFAULT_ORG_STATE_FILE,
  DEMO_ORG,
  runEverywhere,
  saveOrganization,
} from './org.ts';

/** The rollout the demo organization is configured with (the cdk.json context `credentialRotatorOrg`). */
export const DEMO_ORG_CONFIG: OrgConfig = {
  organizationId: 'o-demo000001',
  organizationalUnitIds: ['ou-demo-workloads1'],
  regions: ['eu-west-1', 'us-east-1'],
  assetBucketPrefix: 'credential-rotator-assets-o-demo000001',
  account: '000000000000',
  rotator: {
    targets: [
      { userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
      { userName: 'app-codecommit', serviceName: 'codecommit.amazonaws.com' },
      { userName: 'app-bedrock', serviceName: 'bedrock.amazonaws.com' },
    ],
  },
};

const say = (line = '') => process.stdout.write(`${line}\n`);

/** Step 1: what `npm run org:rollout` would deploy, from the offline synth. */
export function describeRollout(outdir: string): string[] {
  const { app, plan } = createOrgApp({
    validationPacks: false,
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], credentialRotatorOrg: DEMO_ORG_CONFIG },
  });
  const central = Template.fromStack(app.node.findChild('CredentialRotatorOrg') as Stack).toJSON();
  const stackSet = Object.values(
    central.Resources as Record<string, { Type: string; Properties: Record<string, never> }>,
  ).find((r) => r.Type === 'AWS::CloudFormation::StackSet')?.Properties as unknown as {
    PermissionModel: string;
    AutoDeployment: { Enabled: boolean; RetainStacksOnAccountRemoval: boolean };
    CallAs: string;
    StackInstancesGroup: { DeploymentTargets: { OrganizationalUnitIds: string[] }; Regions: string[] }[];
    Parameters: { ParameterKey: string }[];
  };
  const group = stackSet.StackInstancesGroup[0];
  return [
    `StackSet       ${stackSet.PermissionModel}, called as ${stackSet.CallAs}`,
    `targets        OUs ${group?.DeploymentTargets.OrganizationalUnitIds.join(', ')} × regions ${group?.Regions.join(', ')}`,
    `auto-deploy    ${stackSet.AutoDeployment.Enabled ? 'on: an account that joins these OUs gets the rotator' : 'off'}; ` +
      `an account that leaves ${stackSet.AutoDeployment.RetainStacksOnAccountRemoval ? 'keeps its stack' : 'loses its stack (secrets retained)'}`,
    `member         parameters ${stackSet.Parameters.map((p) => p.ParameterKey).join(', ')}; ` +
      `${plan.assets.length} assets from ${plan.assetBucketPrefix}-<region>, template ${plan.template.objectKey}`,
    `each account   ${DEMO_ORG.map((a) => `${a.name} (${a.accountId})`).join(', ')}: one stack instance per region, ` +
      `${DEMO_ORG_CONFIG.rotator.targets.length} targets, inventory on, events to the org bus, metrics linked`,
  ];
}

export async function main(): Promise<number> {
  // Step 1 synthesises the construct, which takes the bundled handler from lib/: a fresh clone
  // (npm ci, nothing built yet) builds it once here rather than failing on it.
  if (!existsSync(join(HANDLER_DIR, 'index.mjs'))) {
    say('building the package first (npm run build: the bundled handler the template needs)');
    await buildPackage();
  }
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    say(`${ok ? '✓' : '✗'} ${what}`);
    if (!ok) problems.push(what);
  };
  const restoreEnv = setEnv({ POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const outdir = join('.local', 'org-demo.out');
  try {
    say('1. Rollout as configured (offline synth of infra/org/app.ts)');
    rmSync(outdir, { recursive: true, force: true });
    for (const line of describeRollout(outdir)) say(`   ${line}`);

    say('');
    say('2. The scheduled run in every account at once (the real handler, one endpoint, three accounts)');
    const org = createOrganization();
    const server = await org.listen();
    const bus: CentralEvent[] = [];
    const started = Date.now();
    let runs: Awaited<ReturnType<typeof runEverywhere>>;
    try {
      runs = await runEverywhere(
        org,
        DEMO_ORG,
        { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} },
        // Two attempts: the throttled account gives up after one backed-off retry per call.
        { endpoint: server.url, maxAttempts: 2, centralBus: bus },
      );
    } finally {
      await server.close();
    }
    for (const [i, r] of runs.entries()) {
      const outcomes = (r.report?.targets ?? []).map((t) => t.outcome);
      say(
        `   ${i + 1}. finished: ${r.name.padEnd(9)} ${outcomes.join(', ') || '(no report)'}${r.error ? '  (the run failed: Lambda would retry it)' : ''}`,
      );
    }
    say(`   all three in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const byName = (name: string) => runs.find((r) => r.name === name);
    check(
      ['payments', 'sandbox'].every((n) => byName(n)?.report?.targets.every((t) => t.outcome === 'rotated')),
      'payments and sandbox rotated their own targets',
    );
    check(runs.at(-1)?.name === 'analytics', 'the throttled account finished last: it slowed nobody else');
    // The throttled account never got its first credentials: its placeholders wait for a run IAM answers.
    check(
      DEMO_ORG.filter((a) => !a.throttled).every(
        (a) => lockoutProblems(org.account(a.accountId)).length === 0,
      ),
      'no lockout in the accounts that rotated (I1)',
    );
    check(
      byName('sandbox')?.report?.targets.some(
        (t) => t.userName === 'data-pipeline' && t.outcome === 'rotated',
      ) === true && byName('payments')?.report?.targets.every((t) => t.userName !== 'data-pipeline') === true,
      'sandbox: data-pipeline, opted in by its user tag, got its secret and first credential there only',
    );
    const legacy = org.account('333333333333').iam.credentials({ userName: 'legacy-ci' });
    check(
      legacy.length === 1 &&
        legacy[0]?.Status === 'Active' &&
        byName('sandbox')?.report?.unmanagedCredentials?.length === 1,
      'sandbox: the credential of legacy-ci is reported unmanaged and left as it was',
    );
    const issued = DEMO_ORG.flatMap((a) => org.account(a.accountId).issuedSecrets());
    check(
      findLeakedSecrets([JSON.stringify(runs), JSON.stringify(bus)], issued).length === 0,
      'no password or API key in any report or event (I5)',
    );

    say('');
    say('3. The central view (npm run fleet -- --org)');
    for (const line of renderOrgFleet(runs.map((r) => ({ account: r.name, report: r.report }))))
      say(`   ${line}`);
    say('');
    const counts = new Map<string, number>();
    for (const e of bus)
      counts.set(`${e.account} ${e.detailType}`, (counts.get(`${e.account} ${e.detailType}`) ?? 0) + 1);
    say('   central bus (events by account and detail-type):');
    for (const [key, n] of [...counts].sort()) say(`     ${key}: ${n}`);

    say('');
    say('4. The org alarm');
    const input = alarmInput(runs);
    say(`   query    ${ORG_FAILED_TARGETS_QUERY}`);
    for (const a of input.perAccount) {
      say(
        `   ${a.account}  FailedTargets ${a.failedTargets}  UnmanagedCredentials ${a.unmanagedCredentials ?? '(not reported)'}`,
      );
    }
    say(
      `   value    ${input.orgFailedTargets} >= 1: ${input.inAlarm ? 'ALARM' : 'OK'} (one alarm for every linked account, new ones included)`,
    );
    check(input.inAlarm, 'the org alarm goes off for the throttled account');

    saveOrganization(DEFAULT_ORG_STATE_FILE, org, DEMO_ORG);
    say('');
    say(`saved to ${DEFAULT_ORG_STATE_FILE}: npm run -s fleet -- --org`);
  } finally {
    restoreEnv();
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} check(s) failed\n`);
    return 1;
  }
  return 0;
}

if (isMainModule(import.meta.url)) process.exitCode = await main();
