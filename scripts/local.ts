// Shared helpers for running the real handler locally (npm start, npm run invoke, the
// integration tests): a demo account, pointing the SDK at a local emulator the standard way
// (endpoint environment variables, no special code path), a handler built exactly as the
// production one is but with the emulator's virtual clock, and a read-only view of the
// emulator's state (the checks are invariants/'s). Nothing here prints a password or API key.
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AwsEmulator } from '../emulator/index.ts';
import { createClients } from '../lambda/aws/clients.ts';
import { IamCredentials } from '../lambda/aws/iam.ts';
import { SecretsStore } from '../lambda/aws/secrets.ts';
import { loadConfig } from '../lambda/config.ts';
import {
  CODECOMMIT_REPOSITORY_TAG,
  DEFAULT_SECRET_NAME_PREFIX,
  defaultSecretName,
} from '../lambda/contract.ts';
import { createHandler } from '../lambda/handler.ts';
import type { Policy, RunReport, TargetReport } from '../lambda/rotation/model.ts';
import { DAY_MS } from '../lambda/rotation/retirement.ts';
import { runCommand } from '../lambda/dispatch.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/contract.ts';
import type { VerifyCredential } from '../lambda/rotation/verification.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/telemetry.ts';
import { countdown, fakeLambdaContext, recordedId, tagOf, targetSecrets } from '../invariants/index.ts';

/**
 * Whether the module at `moduleUrl` is the script node was started with (not imported by a
 * test). Node gives a module its real path but argv[1] as typed, so a symlinked checkout
 * compares real paths.
 */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === pathToFileURL(realpathSync(script)).href;
}

/** The demo account's targets: one per kind of credential the product handles. */
export const DEMO_TARGETS = [
  { userName: 'app-keyspaces', serviceName: 'cassandra.amazonaws.com' },
  { userName: 'app-codecommit', serviceName: 'codecommit.amazonaws.com' },
  { userName: 'app-bedrock', serviceName: 'bedrock.amazonaws.com' },
] as const;

/** The CodeCommit repository of the demo account (the emulator's Git edge serves it). */
export const DEMO_REPOSITORY = 'app-repo';

/** The secret name the CDK construct gives a target (default prefix). */
export const SECRET_NAME_PREFIX = DEFAULT_SECRET_NAME_PREFIX;
export const secretNameOf = (userName: string, serviceName: string) =>
  defaultSecretName(userName, serviceName);

/**
 * Creates the IAM users and, for each, the tagged secret the CDK stack would create: a
 * random placeholder value (the stack's generateSecretString), which means "bootstrap".
 * Returns the secrets' ARNs.
 */
export function createDemoAccount(
  emulator: AwsEmulator,
  targets: readonly { userName: string; serviceName: string }[] = DEMO_TARGETS,
): string[] {
  return targets.map(({ userName, serviceName }) => {
    if (!emulator.iam.hasUser(userName)) emulator.iam.createUser(userName);
    return emulator.secrets.createSecret(secretNameOf(userName, serviceName), {
      tags: {
        [USER_NAME_TAG]: userName,
        [SERVICE_NAME_TAG]: serviceName,
        // The repository a CodeCommit credential is verified against (where there is a Git edge).
        ...(serviceName === 'codecommit.amazonaws.com'
          ? { [CODECOMMIT_REPOSITORY_TAG]: DEMO_REPOSITORY }
          : {}),
      },
      value: randomBytes(16).toString('hex'),
    });
  });
}

type Env = Record<string, string | undefined>;

/**
 * Sets environment variables (undefined = unset) and returns a function that puts the
 * previous values back. The SDK reads endpoints and credentials from the environment when a
 * client is created and first used, so set them before `createClients()`.
 */
export function setEnv(vars: Env): () => void {
  const saved: Env = {};
  for (const [name, value] of Object.entries(vars)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * The SDK's standard settings for a local emulator at `url`: both service endpoints, and
 * AWS_ENDPOINT_URL too, so that any other client (EventBridge) can never reach real AWS.
 * Dummy credentials; the caller's profile and session token are unset.
 */
export function emulatorEnv(url: string): Env {
  return {
    AWS_ENDPOINT_URL_IAM: url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * Powertools settings for a readable local run: silent unless verbose (then INFO logs and the
 * EMF metric lines Lambda would print). An explicit POWERTOOLS_LOG_LEVEL wins when not verbose.
 */
export function powertoolsEnv(verbose: boolean): Env {
  return verbose
    ? { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' }
    : {
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      };
}

const ignore = () => undefined;
const SILENT = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

export interface LocalHandler {
  /** The middy handler, as Lambda would call it. */
  readonly invoke: (event: unknown) => Promise<RunReport>;
  /** The report of the last run, also when the handler threw RunFailedError after it. */
  readonly lastReport: () => RunReport | undefined;
  readonly destroy: () => void;
}

/**
 * The production handler's wiring (`loadConfig(process.env)`, `createClients()`, the two
 * adapters) with one difference: the clock is the emulator's virtual one, so credentials age
 * as the emulator says (any endpoint that is not the in-process emulator passes the real
 * clock). Reads the environment now: call it after `setEnv(emulatorEnv(url))`.
 */
export function createLocalHandler(
  emulator: { readonly clock: { now(): Date } },
  options: { timeoutMs?: number; verbose?: boolean; verifyCredential?: VerifyCredential } = {},
): LocalHandler {
  const config = loadConfig(process.env);
  const clients = createClients();
  let last: RunReport | undefined;
  const handler = createHandler({
    config,
    credentials: new IamCredentials(clients.iam),
    secrets: new SecretsStore(clients.secrets),
    now: () => emulator.clock.now(),
    // Without a verifier (no service edges to ask), nothing is probed.
    verifyCredential: options.verifyCredential,
    // The production Metrics, minus its "no application metrics to publish" warning after a
    // rejected event, unless verbose.
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: METRICS_SERVICE,
      ...(options.verbose ? {} : { logger: SILENT }),
    }),
    // The executor unchanged; only its report is kept, which a throwing handler loses.
    run: async (command, deps) => {
      last = undefined;
      last = await runCommand(command, deps);
      return last;
    },
  });
  return {
    invoke: (event) => {
      last = undefined;
      return handler(
        event,
        fakeLambdaContext({
          functionName: 'credential-rotator-local',
          remainingMs: countdown(options.timeoutMs ?? 5 * 60_000),
        }),
      );
    },
    lastReport: () => last,
    destroy: () => {
      clients.iam.destroy();
      clients.secrets.destroy();
    },
  };
}

/**
 * Runs `fn` with process.stdout sent to stderr: Powertools prints logs and EMF metrics on
 * stdout (as Lambda expects), which a local script keeps for its JSON result.
 */
export async function stdoutToStderr<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

// ---- reading the emulator's state (never through the SDK, so call logs stay the product's) ----

export interface TargetView {
  readonly secretName: string;
  readonly secretArn: string;
  readonly userName: string;
  readonly serviceName: string;
  readonly credentials: readonly {
    readonly id: string;
    readonly status: string;
    readonly createdAt: Date;
    /** Which staging labels of the secret record this credential. */
    readonly labels: readonly ('AWSCURRENT' | 'AWSPREVIOUS')[];
  }[];
  /** The credential AWSCURRENT records, if its value is a record. */
  readonly currentId: string | undefined;
}

/** Every target secret (tagged, not scheduled for deletion) with its IAM credentials. */
export function viewTargets(emulator: AwsEmulator): TargetView[] {
  return targetSecrets(emulator).map((s) => {
    const userName = tagOf(s, USER_NAME_TAG);
    const serviceName = tagOf(s, SERVICE_NAME_TAG);
    const currentId = recordedId(emulator, s.arn, 'AWSCURRENT');
    const previousId = recordedId(emulator, s.arn, 'AWSPREVIOUS');
    return {
      secretName: s.name,
      secretArn: s.arn,
      userName,
      serviceName,
      currentId,
      credentials: emulator.iam.credentials({ userName, serviceName }).map((c) => ({
        id: c.ServiceSpecificCredentialId,
        status: c.Status,
        createdAt: c.CreateDate,
        labels: [
          ...(c.ServiceSpecificCredentialId === currentId ? (['AWSCURRENT'] as const) : []),
          ...(c.ServiceSpecificCredentialId === previousId ? (['AWSPREVIOUS'] as const) : []),
        ],
      })),
    };
  });
}

/** What a target needs next, read from its report: the next rotation and the next retirement step. */
export interface NextSteps {
  /** Due now: what a status or dry run would do (`rotate`, `deactivate`, `delete`, `recover`). */
  readonly now?: string | undefined;
  readonly rotateAt?: Date | undefined;
  readonly retire?: {
    readonly type: 'deactivate' | 'delete';
    /** Absent when the other credential is not known (a report without a credential list). */
    readonly credentialId?: string | undefined;
    readonly at: Date;
  };
}

const VERB: Record<string, string> = { rotated: 'rotate', recovered: 'recover' };

/**
 * `nextDueAt` is the earliest of the next rotation and the next retirement step of the other
 * credential (the planner's one date). A retirement step always comes first (rotateAfterDays >
 * overlapDays + gracePeriodDays), so with another credential listed `nextDueAt` is its step,
 * and the rotation date needs the policy; without one it is the rotation. After a rollback the
 * planner holds the rotation until the rolled-back credential's deletion (gracePeriodDays after
 * the rollback) at the earliest, and that deletion is then `nextDueAt`: so the rotation is the
 * later of issue + rotateAfterDays and `nextDueAt` (the former alone, without a rollback).
 * Without another credential `nextDueAt` is the rotation itself, rollback or not.
 *
 * `others` undefined: the credentials are not known (a reconcile's report against an endpoint).
 * Then the policy tells the dates apart: a `nextDueAt` before issue + rotateAfterDays is the
 * other credential's step — its deactivation at issue + overlapDays, else its deletion.
 */
export function nextSteps(
  t: TargetReport,
  others: readonly { readonly id: string; readonly status: string }[] | undefined,
  policy?: Policy,
): NextSteps {
  const would = t.outcome === 'planned' ? /^would be ([\w-]+)/.exec(t.reason ?? '')?.[1] : undefined;
  const next = t.nextDueAt ? new Date(t.nextDueAt) : undefined;
  const issued = t.currentIssuedAt ? Date.parse(t.currentIssuedAt) : undefined;
  const active = others?.find((o) => o.status === 'Active');
  const other = active ?? others?.[0];
  // A due retirement is named by what it does to the other credential, as the later steps are.
  const retireNow = others === undefined ? 'deactivate or delete' : active ? 'deactivate' : 'delete';
  const now = would ? (would === 'retired' ? retireNow : (VERB[would] ?? would)) : undefined;
  if (others === undefined) {
    const rotation = policy && issued !== undefined ? issued + policy.rotateAfterDays * DAY_MS : undefined;
    if (!next || rotation === undefined || next.getTime() >= rotation) return { now, rotateAt: next };
    const deactivation = issued !== undefined && policy ? issued + policy.overlapDays * DAY_MS : undefined;
    return {
      now,
      rotateAt: new Date(rotation),
      retire: { type: next.getTime() === deactivation ? 'deactivate' : 'delete', at: next },
    };
  }
  const rotateAt =
    others.length === 0 && next
      ? next
      : policy && issued !== undefined
        ? new Date(Math.max(issued + policy.rotateAfterDays * DAY_MS, next?.getTime() ?? 0))
        : undefined;
  return {
    now,
    rotateAt,
    retire:
      other && next
        ? { type: active ? 'deactivate' : 'delete', credentialId: other.id, at: next }
        : undefined,
  };
}

/**
 * A target's outcome line, its actions, and a table of its credentials. Ids only. With the
 * policy, the outcome line shows the next rotation and, when another credential is still to
 * be retired, its next step separately (the report's `nextDueAt` is the earlier of the two).
 */
export function renderTarget(
  t: TargetReport,
  view: TargetView | undefined,
  time: (at: Date) => string,
  policy?: Policy,
): string[] {
  const lines: string[] = [];
  // The credentials: seen in the emulator, else listed by a status report, else not known.
  const listed = view?.credentials ?? t.credentials;
  const others = listed?.filter((c) => c.id !== t.currentCredentialId);
  const next = t.outcome === 'failed' || t.outcome === 'blocked' ? {} : nextSteps(t, others, policy);
  const when = [
    ...(next.rotateAt ? [`next rotation ${time(next.rotateAt)}`] : []),
    ...(next.retire
      ? [`${next.retire.type} ${next.retire.credentialId ?? 'the other credential'} ${time(next.retire.at)}`]
      : []),
  ].join(' · ');
  lines.push(
    `   ${`${t.userName} · ${t.serviceName}`.padEnd(44)} ${t.outcome.padEnd(10)}   ${when}`.trimEnd(),
  );
  if (t.actions.length > 0)
    lines.push(`       actions  ${t.actions.map((a) => `${a.type} ${a.credentialId}`).join(', ')}`);
  // `reason` explains a blocked or failed target; for any other outcome it only says why.
  const problem = t.outcome === 'failed' || t.outcome === 'blocked';
  if (t.reason) lines.push(`       ${problem ? 'reason' : 'why   '}   ${t.reason}`);
  for (const c of view?.credentials ?? []) {
    const labels = c.labels.length > 0 ? `◀ ${c.labels.join(', ')}` : '';
    lines.push(
      `       ${c.id.padEnd(24)} ${c.status.padEnd(9)} created ${time(c.createdAt).padEnd(14)} ${labels}`.trimEnd(),
    );
  }
  if (view && view.credentials.length === 0) lines.push('       (no credentials in IAM)');
  return lines;
}

// ---- time ----------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { d: DAY_MS, h: 3_600_000, m: 60_000, s: 1000 };

/** `30d`, `12h`, `15m`, `90s`, or a combination such as `1d12h`, in milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?[dhms])+$/.test(trimmed)) {
    throw new Error(`invalid duration ${JSON.stringify(text)}: expected e.g. 30d, 12h, 15m, 90s or 1d12h`);
  }
  let ms = 0;
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return ms;
}

/** `day 31`, `day 61 +00:15`: a virtual time relative to `origin`, to the minute. */
export function dayOf(at: Date, origin: Date): string {
  const minutes = Math.floor((at.getTime() - origin.getTime()) / 60_000);
  const day = Math.floor(minutes / 1440);
  const rest = minutes - day * 1440;
  if (rest === 0) return `day ${day}`;
  const hh = String(Math.floor(rest / 60)).padStart(2, '0');
  const mm = String(rest % 60).padStart(2, '0');
  return `day ${day} +${hh}:${mm}`;
}
