// `npm run -s fleet -- [--state FILE | --endpoint URL | --function NAME] [--region R] [--json]`:
// every target of a fleet as one table for people — user, service, the current credential
// and its age, the other credential and its state, and the next action with its date. The
// rows come from the handler's `{"action":"status"}` report, which changes nothing:
//   (default)        the local account `npm run invoke` keeps in .local/ (its virtual clock);
//   --endpoint URL   the handler run here against any endpoint (standalone emulator, LocalStack);
//   --function NAME  the deployed function, through Lambda Invoke with your AWS credentials
//                    and region (the SDK's standard chain: AWS_PROFILE, AWS_REGION, ...);
//   --org            every account of a local organization (`npm run demo:org` saves one), the
//                    account as a column and the unmanaged credentials listed.
// The table goes to stdout, notes to stderr; `--json` prints the report instead. Exit code 1
// when the status run fails, 2 on a usage error.
import './quiet-sdk.ts';
import './preflight.ts';
import { parseArgs } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { UnmanagedCredential } from '../lambda/inventory.ts';
import type { RunReport, TargetReport } from '../lambda/rotation/model.ts';
import { DAY_MS } from '../lambda/rotation/retirement.ts';
import { DEFAULT_STATE_FILE, type InvokeIo, main as invoke } from './invoke.ts';
import { isMainModule, nextSteps, setEnv } from './local.ts';
import type { OrganizationEmulator } from '../emulator/organization.ts';
import {
  type AccountRun,
  DEFAULT_ORG_STATE_FILE,
  DEMO_ORG,
  loadOrganization,
  type OrgAccount,
  runEverywhere,
} from './org.ts';

const STATUS_EVENT = { action: 'status' } as const;

const USAGE = `usage: npm run -s fleet -- [--state FILE | --endpoint URL | --function NAME] [--region R] [--json]
       npm run -s fleet -- --org [--state FILE | --endpoint URL] [--json]

  (no target)      the local account of \`npm run invoke\` (${DEFAULT_STATE_FILE})
  --state FILE     another local state file
  --endpoint URL   run the status here against an endpoint (standalone emulator, LocalStack)
  --function NAME  invoke the deployed function's status (name or ARN) with your AWS credentials
  --region R       with --endpoint or --function (default: AWS_REGION / AWS_DEFAULT_REGION / profile)
  --json           print the status report as JSON instead of the table
  --org            every account of a local organization (default ${DEFAULT_ORG_STATE_FILE}, written
                   by \`npm run demo:org\`; or --endpoint URL of \`npm run emulator:org\`): the account
                   as the first column, then the credentials no target covers in any account

The status changes nothing. Table columns: user, service, current credential and its age, the
other credential and its state, the next action and when it is due.`;

const consoleIo: InvokeIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Resolves to the exit code. */
export async function main(argv: readonly string[], io: InvokeIo = consoleIo): Promise<number> {
  let values: ReturnType<typeof parseCli>;
  try {
    values = parseCli(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }

  if (values.org) {
    return orgFleet(
      values.endpoint !== undefined
        ? { endpoint: values.endpoint }
        : { state: values.state ?? DEFAULT_ORG_STATE_FILE },
      values.json,
      io,
    );
  }

  let report: RunReport | undefined;
  let code: number;
  if (values.function !== undefined) {
    ({ report, code } = await invokeFunction(values.function, values.region, io));
  } else {
    // The same path as `npm run invoke -- '{"action":"status"}'`, its JSON captured.
    const out: string[] = [];
    const args = [
      JSON.stringify(STATUS_EVENT),
      ...(values.endpoint !== undefined ? ['--endpoint', values.endpoint] : []),
      ...(values.region !== undefined ? ['--region', values.region] : []),
      ...(values.state !== undefined ? ['--state', values.state] : []),
    ];
    code = await invoke(args, { out: (t) => out.push(t), err: io.err }, { tables: false });
    report = out.length > 0 ? (JSON.parse(out.join('\n')) as RunReport) : undefined;
  }
  if (!report) return code === 0 ? 1 : code;
  io.out(values.json ? JSON.stringify(report, null, 2) : renderFleet(report).join('\n'));
  return code;
}

function parseCli(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      endpoint: { type: 'string' },
      function: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      org: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const targets = (['state', 'endpoint', 'function'] as const).filter((k) => values[k] !== undefined);
  if (targets.length > 1) throw new Error(`choose one of --${targets.join(', --')}`);
  if (values.region !== undefined && values.endpoint === undefined && values.function === undefined) {
    throw new Error('--region applies only with --endpoint or --function');
  }
  if (values.function === '') throw new Error('--function needs the function name or ARN');
  if (values.org && values.function !== undefined) {
    throw new Error(
      '--org reads a local organization (--state FILE of npm run demo:org, or --endpoint URL of npm run emulator:org), not --function',
    );
  }
  return values;
}

/**
 * `--org`: the status of every account of a local organization (npm run demo:org saves one),
 * each through its own account's handler, as one table with the account as the first column
 * and the unmanaged credentials below. Exit code 1 when any account's status run failed.
 */
async function orgFleet(
  source: { readonly state: string } | { readonly endpoint: string },
  json: boolean,
  io: InvokeIo,
): Promise<number> {
  let org: OrganizationEmulator | undefined;
  let accounts: OrgAccount[];
  if ('state' in source) {
    try {
      ({ org, accounts } = loadOrganization(source.state));
    } catch (error) {
      io.err((error as Error).message);
      return 2;
    }
  } else {
    // A running `npm run emulator:org`: the demo organization's accounts and keys, real clock.
    accounts = [...DEMO_ORG];
  }
  io.err(
    `organization ${'state' in source ? source.state : source.endpoint}: ${accounts.map((a) => `${a.name} (${a.accountId})`).join(', ')}`,
  );
  const restore = setEnv({
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  });
  let runs: AccountRun[];
  try {
    // In-process: each account's clients reach that account only (its access key selects it).
    // Two attempts: a throttled account shows as such in seconds rather than after the full backoff.
    runs = await runEverywhere(org, accounts, STATUS_EVENT, {
      endpoint: org ?? (source as { endpoint: string }).endpoint,
      maxAttempts: 2,
    });
  } finally {
    restore();
  }
  // The table in the organization's order, not the order the runs finished.
  const ordered = accounts.map((a) => runs.find((r) => r.accountId === a.accountId) as AccountRun);
  if (json) {
    io.out(
      JSON.stringify(
        ordered.map((r) => ({ account: r.accountId, name: r.name, report: r.report })),
        null,
        2,
      ),
    );
  } else {
    const rows = ordered.map((r) => ({
      account: r.name,
      report: r.report,
      error: r.error === undefined ? undefined : `${(r.error as Error).name}: ${(r.error as Error).message}`,
    }));
    io.out(renderOrgFleet(rows).join('\n'));
  }
  return ordered.some((r) => r.error !== undefined) ? 1 : 0;
}

/** Lambda Invoke of the status event: the report, or the function's error in one line. */
async function invokeFunction(
  functionName: string,
  region: string | undefined,
  io: InvokeIo,
): Promise<{ report: RunReport | undefined; code: number }> {
  const lambda = new LambdaClient(region ? { region } : {});
  try {
    io.err(`function ${functionName} (region ${await lambda.config.region()})`);
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(STATUS_EVENT) }),
    );
    const payload = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError) {
      const error = parseJson(payload) as { errorType?: string; errorMessage?: string } | undefined;
      io.err(
        `the function failed (${response.FunctionError}): ${error?.errorType ?? 'Error'}: ${error?.errorMessage ?? payload}`,
      );
      return { report: undefined, code: 1 };
    }
    const report = parseJson(payload) as RunReport | undefined;
    if (!report || !Array.isArray(report.targets)) {
      // Not echoed: a function other than the rotator could answer with anything, secrets included.
      io.err(`${functionName} answered something other than a status report: is it the rotator function?`);
      return { report: undefined, code: 1 };
    }
    return { report, code: 0 };
  } catch (error) {
    // Missing credentials or region, no such function, access denied: the SDK's message says which.
    io.err(`cannot invoke ${functionName}: ${(error as Error).name}: ${(error as Error).message}`);
    return { report: undefined, code: 1 };
  } finally {
    lambda.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const HEADER = ['user', 'service', 'current', 'age', 'other', 'state', 'next', 'when'] as const;

/**
 * One row per target. Ages and dates are relative to the report's start (the emulator's
 * virtual time locally). `next` is what the next run does for the target: `rotate`,
 * `deactivate`/`delete` the other credential, or what a run would do now; blocked and failed
 * targets show their outcome, and their reason below the table.
 */
export function renderFleet(report: RunReport): string[] {
  const now = Date.parse(report.startedAt);
  const rows = report.targets.map((t) => row(t, now));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const notes = report.targets
    .filter((t) => (t.outcome === 'blocked' || t.outcome === 'failed') && t.reason)
    .map((t) => `${t.userName} · ${t.serviceName}: ${t.outcome}: ${t.reason}`);
  return [
    line(HEADER),
    ...rows.map(line),
    ...(rows.length === 0 ? ['(no targets)'] : []),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ];
}

/** One account's status report, for the org-wide table; `report` undefined when the run failed before reporting. */
export interface AccountReport {
  /** The account's name or id: the first column. */
  readonly account: string;
  readonly report:
    | (RunReport & { readonly unmanagedCredentials?: readonly UnmanagedCredential[] | undefined })
    | undefined;
  /** Why there is no report (shown below the table). */
  readonly error?: string | undefined;
}

const UNMANAGED_HEADER = ['account', 'user', 'service', 'credential', 'status', 'age'] as const;

/**
 * The org-wide table (`--org`): the rows of renderFleet with the account as the first column,
 * every account's failed and blocked targets below, then the credentials no target covers in
 * any account (the inventory), with their account.
 */
export function renderOrgFleet(accounts: readonly AccountReport[]): string[] {
  const rows: string[][] = [];
  const notes: string[] = [];
  const unmanaged: string[][] = [];
  for (const { account, report, error } of accounts) {
    if (!report) {
      rows.push([account, '(no report)']);
      notes.push(`${account}: ${error ?? 'the status run failed before reporting'}`);
      continue;
    }
    const now = Date.parse(report.startedAt);
    for (const t of report.targets) rows.push([account, ...row(t, now)]);
    if (report.targets.length === 0) rows.push([account, '(no targets)']);
    for (const t of report.targets) {
      if ((t.outcome === 'blocked' || t.outcome === 'failed') && t.reason) {
        notes.push(`${account} · ${t.userName} · ${t.serviceName}: ${t.outcome}: ${t.reason}`);
      }
    }
    for (const c of report.unmanagedCredentials ?? []) {
      unmanaged.push([account, c.userName, c.serviceName, c.credentialId, c.status, `${c.ageDays}d`]);
    }
  }
  return [
    ...table(['account', ...HEADER], rows),
    ...(notes.length > 0 ? ['', ...notes] : []),
    '',
    unmanaged.length > 0
      ? `unmanaged credentials (no target covers them; reported, never touched): ${unmanaged.length}`
      : 'unmanaged credentials: none',
    ...(unmanaged.length > 0 ? table(UNMANAGED_HEADER, unmanaged) : []),
  ];
}

/** Rows under a header, columns padded to their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function row(t: TargetReport, now: number): string[] {
  const credentials = t.credentials ?? [];
  const others = credentials.filter((c) => !c.current);
  const other = others.find((o) => o.status === 'Active') ?? others[0];
  const next = nextSteps(t, others);
  let action = '';
  let when = '';
  if (t.outcome === 'blocked' || t.outcome === 'failed') {
    action = t.outcome;
  } else if (next.now) {
    action = next.now;
    when = 'now';
  } else if (next.retire) {
    action = next.retire.type;
    when = dated(next.retire.at, now);
  } else if (next.rotateAt) {
    action = 'rotate';
    when = dated(next.rotateAt, now);
  }
  const issued = t.currentIssuedAt ? Date.parse(t.currentIssuedAt) : undefined;
  return [
    t.userName,
    t.serviceName,
    t.currentCredentialId ?? '(none)',
    issued === undefined ? '' : age(now - issued),
    other?.id ?? '',
    other ? other.status : '',
    action,
    when,
  ];
}

/** `3d`, `5h`, `12m`: the largest whole unit, rounded down (an age) or to the nearest (a wait). */
function age(ms: number, round: (n: number) => number = Math.floor): string {
  if (ms >= DAY_MS) return `${round(ms / DAY_MS)}d`;
  if (ms >= 3_600_000) return `${round(ms / 3_600_000)}h`;
  return `${Math.max(0, round(ms / 60_000))}m`;
}

function dated(at: Date, now: number): string {
  const day = at.toISOString().slice(0, 16).replace('T', ' ');
  const ms = at.getTime() - now;
  return ms <= 0 ? `${day} (due)` : `${day} (in ${age(ms, Math.round)})`;
}

// Run only as a script (`npm run fleet`), not when a test imports main().
if (isMainModule(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
