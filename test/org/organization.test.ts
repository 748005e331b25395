// The organization through the real handler: three member accounts behind one emulator
// endpoint (over HTTP), each account's function run with that account's key, all at once.
// One account's IAM throttles every call; one holds a credential issued by hand.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OrganizationEmulator } from '../../emulator/organization.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import { OPT_IN_TAG } from '../../lambda/opt-in.ts';
import { AUDIT_DETAIL_TYPE, EVENT_DETAIL_TYPE } from '../../lambda/telemetry.ts';
import {
  type AccountRun,
  alarmInput,
  type CentralEvent,
  createOrganization,
  DEMO_ORG,
  runEverywhere,
  unmanagedOf,
} from '../../scripts/org.ts';
import { renderOrgFleet } from '../../scripts/fleet.ts';
import { findLeakedSecrets, lockoutProblems, writeCalls } from '../../invariants/index.ts';

const [PAYMENTS, ANALYTICS, SANDBOX] = DEMO_ORG.map((a) => a.accountId) as [string, string, string];
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

describe('an organization of three accounts, through the real handler', () => {
  let org: OrganizationEmulator;
  let server: Awaited<ReturnType<OrganizationEmulator['listen']>>;
  let runs: AccountRun[];
  const bus: CentralEvent[] = [];
  const byAccount = (id: string) => runs.find((r) => r.accountId === id) as AccountRun;

  beforeAll(async () => {
    org = createOrganization();
    // In payments, someone who may tag secrets points one at a user nobody opted in, and a user
    // is tagged with a service the rotator does not know.
    const payments = org.account(PAYMENTS);
    payments.iam.createUser('admin-user');
    payments.secrets.createSecret('service-credentials/admin-user/cassandra.amazonaws.com', {
      tags: { [USER_NAME_TAG]: 'admin-user', [SERVICE_NAME_TAG]: 'cassandra.amazonaws.com' },
    });
    payments.iam.createUser('typo-user');
    payments.iam.tagUser('typo-user', { [OPT_IN_TAG]: 'casandra.amazonaws.com' });
    server = await org.listen();
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    // maxAttempts 2: the throttled account gives up after one backed-off retry per call.
    runs = await runEverywhere(org, DEMO_ORG, scheduled, {
      endpoint: server.url,
      maxAttempts: 2,
      centralBus: bus,
    });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server?.close();
  });

  it('each account rotates its own targets, with its own credentials, and no lockout', () => {
    const users = (id: string) => byAccount(id).report?.targets.map((t) => `${t.userName} ${t.outcome}`);
    expect(users(PAYMENTS)).toEqual([
      'app-keyspaces rotated',
      'app-codecommit rotated',
      'app-bedrock rotated',
    ]);
    // The sandbox's own opted-in user, on top of the baseline every account gets.
    expect(users(SANDBOX)).toEqual([
      'app-keyspaces rotated',
      'app-codecommit rotated',
      'app-bedrock rotated',
      'data-pipeline rotated',
    ]);
    for (const id of [PAYMENTS, SANDBOX]) {
      const run = byAccount(id);
      expect(run.error).toBeUndefined();
      // Every secret this account stores names a credential of this account's IAM.
      const emulator = org.account(id);
      // The targets (a rejected secret is not one, and holds no credential by design).
      expect(
        lockoutProblems(
          emulator,
          run.report?.targets.map((t) => t.secretId),
        ),
      ).toEqual([]);
      for (const t of run.report?.targets ?? []) {
        expect(t.secretId).toContain(`:${id}:secret:`);
        expect(emulator.iam.credential(t.currentCredentialId as string)).toBeDefined();
      }
    }
    // No account's credential appears in another's IAM.
    const ids = (id: string) =>
      new Set(
        org
          .account(id)
          .iam.credentials()
          .map((c) => c.ServiceSpecificCredentialId),
      );
    const payments = ids(PAYMENTS);
    for (const c of ids(SANDBOX)) expect(payments.has(c)).toBe(false);
  });

  it('a throttled account does not slow the others: they finish first, and none of their calls was throttled', () => {
    const analytics = byAccount(ANALYTICS);
    expect(analytics.report?.targets.map((t) => t.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(analytics.report?.targets[0]?.reason).toMatch(/throttl/i);
    expect(String(analytics.error)).toMatch(/failed/);
    // Runs are pushed in the order they finished.
    expect(runs.map((r) => r.accountId).at(-1)).toBe(ANALYTICS);
    for (const id of [PAYMENTS, SANDBOX]) {
      expect(org.account(id).calls.filter((c) => /Throttl/.test(c.outcome))).toEqual([]);
    }
    expect(org.account(ANALYTICS).calls.filter((c) => c.outcome === 'Throttling').length).toBeGreaterThan(0);
    // Nothing written in the throttled account's IAM.
    expect(org.account(ANALYTICS).iam.credentials()).toEqual([]);
  });

  it('the unmanaged credential is reported (field, event) and never touched', () => {
    const sandbox = byAccount(SANDBOX);
    const legacy = org.account(SANDBOX).iam.credentials({ userName: 'legacy-ci' });
    expect(legacy).toHaveLength(1);
    expect(sandbox.report?.unmanagedCredentials).toEqual([
      expect.objectContaining({
        userName: 'legacy-ci',
        serviceName: 'codecommit.amazonaws.com',
        credentialId: legacy[0]?.ServiceSpecificCredentialId,
        status: 'Active',
        ageDays: 0,
      }),
    ]);
    expect(byAccount(PAYMENTS).report?.unmanagedCredentials).toEqual([]);
    // Only listed: no write call in the sandbox names legacy-ci, and it is still Active.
    const writes = writeCalls(org.account(SANDBOX).calls).filter((w) => w.includes('legacy-ci'));
    expect(writes).toEqual([]);
    expect(org.account(SANDBOX).iam.credentials({ userName: 'legacy-ci' })[0]?.Status).toBe('Active');
    const found = bus.filter((e) => e.detailType === AUDIT_DETAIL_TYPE.unmanagedCredentials);
    expect(found.map((e) => e.account)).toEqual([SANDBOX]);
  });

  it("the central bus gets every account's transitions and the failures, with the account", () => {
    const count = (account: string, type: string) =>
      bus.filter((e) => e.account === account && e.detailType === type).length;
    expect(count(PAYMENTS, EVENT_DETAIL_TYPE.rotated)).toBe(3);
    expect(count(SANDBOX, EVENT_DETAIL_TYPE.rotated)).toBe(4);
    expect(count(ANALYTICS, EVENT_DETAIL_TYPE.failed)).toBe(3);
    const issued = DEMO_ORG.flatMap((a) => org.account(a.accountId).issuedSecrets());
    expect(issued.length).toBeGreaterThan(0);
    expect(findLeakedSecrets([JSON.stringify(bus), JSON.stringify(runs)], issued)).toEqual([]);
  });

  it("the central view shows all three accounts' targets, the failure and the unmanaged credential; the alarm input is in alarm", () => {
    const table = renderOrgFleet(runs.map((r) => ({ account: r.name, report: r.report })));
    const text = table.join('\n');
    for (const a of DEMO_ORG) {
      for (const user of ['app-keyspaces', 'app-codecommit', 'app-bedrock']) {
        expect(table.some((l) => l.startsWith(a.name) && l.includes(user))).toBe(true);
      }
    }
    // Three rows whose next action is `failed`, and the reason of each below the table.
    expect(table.filter((l) => l.startsWith('analytics') && / failed$/.test(l))).toHaveLength(3);
    expect(table.filter((l) => l.startsWith('analytics · ') && /: failed: .*throttl/i.test(l))).toHaveLength(
      3,
    );
    expect(text).toMatch(/unmanaged credentials/);
    expect(table.some((l) => l.startsWith('sandbox') && l.includes('legacy-ci'))).toBe(true);

    const input = alarmInput(runs);
    expect(input.orgFailedTargets).toBe(3);
    expect(input.inAlarm).toBe(true);
    expect(input.orgUnmanagedCredentials).toBe(1);
    expect(unmanagedOf(runs).map((u) => u.account)).toEqual(['sandbox']);
  });

  it('a user opts in by tag, in its own account only: its secret is created and rotated, no config entry', () => {
    const sandbox = org.account(SANDBOX);
    const secret = sandbox.secrets
      .all()
      .find((x) => x.name === 'service-credentials/data-pipeline/cassandra.amazonaws.com');
    expect(secret?.tags).toEqual(
      expect.arrayContaining([
        { Key: USER_NAME_TAG, Value: 'data-pipeline' },
        { Key: SERVICE_NAME_TAG, Value: 'cassandra.amazonaws.com' },
      ]),
    );
    expect(lockoutProblems(sandbox)).toEqual([]);
    expect(sandbox.iam.credentials({ userName: 'data-pipeline' }).map((c) => c.ServiceName)).toEqual([
      'cassandra.amazonaws.com',
    ]);
    // Not in any other account.
    for (const id of [PAYMENTS, ANALYTICS])
      expect(
        org
          .account(id)
          .secrets.all()
          .some((x) => x.name.includes('data-pipeline')),
      ).toBe(false);
  });

  it('the trust boundary holds per account: a tagged secret for a user nobody opted in is rejected and nothing is issued; a bad tag is refused', () => {
    const payments = org.account(PAYMENTS);
    expect(byAccount(PAYMENTS).report?.rejected?.map((r) => r.userName)).toEqual(['admin-user']);
    expect(payments.iam.credentials({ userName: 'admin-user' })).toEqual([]);
    expect(payments.iam.credentials({ userName: 'typo-user' })).toEqual([]);
    expect(writeCalls(payments.calls).filter((w) => /admin-user|typo-user/.test(w))).toEqual([]);
    expect(payments.secrets.all().some((x) => x.name.includes('typo-user'))).toBe(false);
  });
});
