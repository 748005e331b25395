// An AWS Organization on this machine: several accounts behind one emulator endpoint
// (emulator/organization.ts), the real handler (createHandler, the IAM and Secrets Manager
// adapters, real SDK clients) run once per account with that account's access key, the
// events each account publishes gathered on one "central bus", and the org-wide view built
// from what every account reports. Used by `npm run demo:org`, `npm run fleet -- --org` and
// the organization tests.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { BusEvent } from '../lambda/aws/eventbridge.ts';
import { IamCredentials } from '../lambda/aws/iam.ts';
import { IamUserOptIn } from '../lambda/aws/opt-in.ts';
import { parseDeclaration } from '../lambda/declared-targets.ts';
import { OPT_IN_TAG } from '../lambda/opt-in.ts';
import { SecretsStore } from '../lambda/aws/secrets.ts';
import { type Config, DEFAULT_POLICY } from '../lambda/config.ts';
import { createHandler } from '../lambda/handler.ts';
import type { UnmanagedCredential } from '../lambda/inventory.ts';
import type { RunReport } from '../lambda/rotation/model.ts';
import { runCommand } from '../lambda/dispatch.ts';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/telemetry.ts';
import type { InventoriedReport } from '../lambda/unmanaged.ts';
import { type AwsEmulator, OPERATIONS } from '../emulator/index.ts';
import { type MemberAccount, OrganizationEmulator } from '../emulator/organization.ts';
import { countdown, fakeLambdaContext } from '../invariants/index.ts';
import { createDemoAccount, DEMO_TARGETS, SECRET_NAME_PREFIX, secretNameOf } from './local.ts';

/** One account of the local organization, and what makes it interesting in the demo. */
export interface OrgAccount extends MemberAccount {
  readonly name: string;
  /** Every IAM call this account answers is throttled (an account under load). */
  readonly throttled?: boolean | undefined;
  /** Credentials issued by hand, outside any target: what the inventory must find. */
  readonly unmanaged?: readonly { readonly userName: string; readonly serviceName: string }[] | undefined;
  /** Users created with the opt-in tag (`credential-rotator:services`): targets of this account only. */
  readonly optedIn?: readonly { readonly userName: string; readonly services: string }[] | undefined;
}

/** The demo organization: three member accounts, one throttled, one with an unmanaged credential. */
export const DEMO_ORG: readonly OrgAccount[] = [
  { accountId: '111111111111', accessKeyId: 'AKIAPAYMENTS00000001', name: 'payments' },
  { accountId: '222222222222', accessKeyId: 'AKIAANALYTICS0000002', name: 'analytics', throttled: true },
  {
    accountId: '333333333333',
    accessKeyId: 'AKIASANDBOX000000003',
    name: 'sandbox',
    unmanaged: [{ userName: 'legacy-ci', serviceName: 'codecommit.amazonaws.com' }],
    optedIn: [{ userName: 'data-pipeline', services: 'cassandra.amazonaws.com' }],
  },
];

/**
 * What the member template ships in every account (the declaration layer): the same baseline
 * targets everywhere. Anything else an account rotates, it rotates because a user opted in.
 */
export const BASELINE_DECLARATION = parseDeclaration(
  {
    version: 1,
    targets: DEMO_TARGETS.map((t) => ({ ...t, secretName: secretNameOf(t.userName, t.serviceName) })),
  },
  'the baseline targets',
);

export const DEFAULT_ORG_STATE_FILE = '.local/org-state.json';

/** The organization with every account seeded: the demo targets (placeholder secrets) and the extras. */
export function createOrganization(accounts: readonly OrgAccount[] = DEMO_ORG): OrganizationEmulator {
  const org = new OrganizationEmulator(
    accounts.map(({ accountId, accessKeyId, name }) => ({ accountId, accessKeyId, name })),
  );
  for (const a of accounts) {
    const emulator = org.account(a.accountId);
    createDemoAccount(emulator);
    for (const u of a.optedIn ?? []) {
      if (!emulator.iam.hasUser(u.userName)) emulator.iam.createUser(u.userName);
      emulator.iam.tagUser(u.userName, { [OPT_IN_TAG]: u.services });
    }
    for (const u of a.unmanaged ?? []) {
      if (!emulator.iam.hasUser(u.userName)) emulator.iam.createUser(u.userName);
      emulator.iam.issueCredential(u.userName, u.serviceName);
    }
    applyConditions(emulator, a);
  }
  return org;
}

/**
 * Faults are not part of an account's saved state: they are the account's spec. A throttled
 * account's IAM answers every call with Throttling (Secrets Manager still answers, so its
 * targets are found and reported failed, as when IAM's unraisable limits are hit).
 */
function applyConditions(emulator: AwsEmulator, account: OrgAccount): void {
  if (!account.throttled) return;
  for (const op of OPERATIONS.filter((o) => o.service === 'iam')) {
    emulator.faults.add({ operation: op.name, kind: 'throttle', times: Number.POSITIVE_INFINITY });
  }
}

/** Saves every account's state (and spec) in one file. */
export function saveOrganization(
  path: string,
  org: OrganizationEmulator,
  accounts: readonly OrgAccount[],
): void {
  mkdirSync(dirname(path), { recursive: true });
  const state = accounts.map((a) => ({ ...a, state: org.account(a.accountId).snapshot() }));
  writeFileSync(`${path}.tmp`, JSON.stringify({ version: 1, accounts: state }));
  renameSync(`${path}.tmp`, path);
}

/** The organization a state file holds, with its accounts' specs; throws naming the file when it is not one. */
export function loadOrganization(path: string): { org: OrganizationEmulator; accounts: OrgAccount[] } {
  if (!existsSync(path))
    throw new Error(`${path} does not exist: run "npm run demo:org" first (it writes it)`);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as {
    version?: unknown;
    accounts?: (OrgAccount & { state: unknown })[];
  };
  if (parsed.version !== 1 || !Array.isArray(parsed.accounts) || parsed.accounts.length === 0) {
    throw new Error(`${path} is not an organization state file (expected {"version":1,"accounts":[...]})`);
  }
  const accounts = parsed.accounts.map(({ state: _state, ...spec }) => spec);
  const org = new OrganizationEmulator(
    accounts.map(({ accountId, accessKeyId, name }) => ({ accountId, accessKeyId, name })),
  );
  for (const a of parsed.accounts) {
    const emulator = org.account(a.accountId);
    emulator.restore(a.state);
    applyConditions(emulator, a);
  }
  return { org, accounts };
}

/** An event as the central bus receives it: EventBridge adds the sending account. */
export interface CentralEvent extends BusEvent {
  readonly account: string;
}

/** One account's invocation: its report (also when the handler threw after the run) and error. */
export interface AccountRun {
  readonly accountId: string;
  readonly name: string;
  readonly report: InventoriedReport | undefined;
  readonly error: unknown;
}

export interface MemberHandler {
  readonly accountId: string;
  invoke(event: unknown): Promise<AccountRun>;
  destroy(): void;
}

export interface MemberHandlerOptions {
  /** Where the SDK clients send: a URL (HTTP) or the organization in-process. */
  readonly endpoint: string | OrganizationEmulator;
  /** SDK attempts per call, the first included. @default 5 (as in Lambda) */
  readonly maxAttempts?: number | undefined;
  /** The central bus: every event the account publishes lands here with its account id. */
  readonly centralBus?: CentralEvent[] | undefined;
  readonly config?: Partial<Config> | undefined;
}

/**
 * The production handler for one member account, as the StackSet deploys it: the real
 * adapters over real SDK clients (adaptive retries, each account's clients their own rate
 * limiter), signed with that account's access key, the credential inventory on, and its
 * events sent to the central bus. The clock is the account's virtual one.
 */
export function memberHandler(
  /** The local organization (its accounts' virtual clocks), or undefined for a remote endpoint (real clock). */
  org: OrganizationEmulator | undefined,
  account: OrgAccount,
  options: MemberHandlerOptions,
): MemberHandler {
  const clock = org ? org.account(account.accountId).clock : { now: () => new Date() };
  const clientConfig = {
    region: 'us-east-1',
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: 'local' },
    retryMode: 'adaptive' as const,
    maxAttempts: options.maxAttempts ?? 5,
    ...(typeof options.endpoint === 'string'
      ? { endpoint: options.endpoint }
      : { requestHandler: options.endpoint.requestHandler() }),
  };
  const iam = new IAMClient(clientConfig);
  const secrets = new SecretsManagerClient(clientConfig);
  let last: RunReport | undefined;
  const bus = options.centralBus;
  const handler = createHandler({
    config: {
      policy: DEFAULT_POLICY,
      secretNamePrefix: SECRET_NAME_PREFIX,
      eventBusName: 'credential-rotator',
      credentialInventory: true,
      userOptInTag: OPT_IN_TAG,
      ...options.config,
    },
    credentials: new IamCredentials(iam),
    secrets: new SecretsStore(secrets),
    declaredTargets: BASELINE_DECLARATION,
    optIn: new IamUserOptIn(iam, secrets),
    now: () => clock.now(),
    run: async (command, deps) => {
      last = undefined;
      last = await runCommand(command, deps);
      return last;
    },
    // The report as the handler finished it (with the inventory), also when it then throws.
    onReport: (report) => {
      last = report;
    },
    publishEvents: async (events) => {
      bus?.push(...events.map((e) => ({ ...e, account: account.accountId })));
    },
    logger: new Logger({ serviceName: METRICS_SERVICE, logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
  });
  return {
    accountId: account.accountId,
    async invoke(event) {
      last = undefined;
      const context = fakeLambdaContext({
        functionName: 'credential-rotator',
        remainingMs: countdown(5 * 60_000),
      });
      try {
        const report = (await handler(event, context)) as InventoriedReport;
        return { accountId: account.accountId, name: account.name, report, error: undefined };
      } catch (error) {
        return { accountId: account.accountId, name: account.name, report: last, error };
      }
    },
    destroy() {
      iam.destroy();
      secrets.destroy();
    },
  };
}

/**
 * Runs `event` in every account at once, as the member functions' schedules do, and resolves
 * with each account's run in the order the runs finished.
 */
export async function runEverywhere(
  org: OrganizationEmulator | undefined,
  accounts: readonly OrgAccount[],
  event: unknown,
  options: MemberHandlerOptions,
): Promise<AccountRun[]> {
  const finished: AccountRun[] = [];
  const handlers = accounts.map((a) => memberHandler(org, a, options));
  try {
    await Promise.all(
      handlers.map(async (h) => {
        finished.push(await h.invoke(event));
      }),
    );
  } finally {
    for (const h of handlers) h.destroy();
  }
  return finished;
}

/**
 * What the central alarm evaluates: per account, the metrics its last run emitted (the same
 * counts recordMetrics and the inventory emit), and the org-wide value of the Metrics Insights
 * query `SELECT MAX(FailedTargets) FROM "ServiceCredentialRotator"` over every account's
 * series. An account whose run failed before reporting counts as one failure.
 */
export function alarmInput(runs: readonly AccountRun[]): {
  perAccount: { account: string; failedTargets: number; unmanagedCredentials: number | undefined }[];
  orgFailedTargets: number;
  orgUnmanagedCredentials: number;
  inAlarm: boolean;
} {
  const perAccount = runs.map((r) => ({
    account: r.accountId,
    failedTargets: r.report ? r.report.targets.filter((t) => t.outcome === 'failed').length : 1,
    unmanagedCredentials: r.report?.unmanagedCredentials?.length,
  }));
  const orgFailedTargets = Math.max(0, ...perAccount.map((p) => p.failedTargets));
  const orgUnmanagedCredentials = perAccount.reduce((n, p) => n + (p.unmanagedCredentials ?? 0), 0);
  return { perAccount, orgFailedTargets, orgUnmanagedCredentials, inAlarm: orgFailedTargets >= 1 };
}

/** The metric names the central view and alarm read (telemetry.ts). */
export const CENTRAL_METRICS = [METRIC.failedTargets, METRIC.unmanagedCredentials] as const;

/** Unmanaged credentials with their account, for the org table. */
export function unmanagedOf(runs: readonly AccountRun[]): (UnmanagedCredential & { account: string })[] {
  return runs.flatMap((r) => (r.report?.unmanagedCredentials ?? []).map((c) => ({ ...c, account: r.name })));
}

/**
 * The demo organization served over HTTP (`npm run emulator:org`): its URL, one line per
 * account naming its access key id, and how to stop it.
 */
export async function serveDemoOrganization(options: { port?: number; host?: string } = {}): Promise<{
  url: string;
  accounts: string[];
  close: () => Promise<void>;
}> {
  const org = createOrganization();
  const server = await org.listen(options);
  return {
    url: server.url,
    accounts: DEMO_ORG.map(
      (a) =>
        `${a.name.padEnd(9)} ${a.accountId}  AWS_ACCESS_KEY_ID=${a.accessKeyId}` +
        `${a.throttled ? '  (IAM throttles every call)' : ''}${a.unmanaged ? '  (holds an unmanaged credential)' : ''}`,
    ),
    close: server.close,
  };
}
