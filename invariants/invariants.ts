// The product's promises (docs/DESIGN.md, I1–I6) as checks over the emulator's state, read
// straight from its models (never through the SDK, so the call log stays the product's).
// Each check returns the problems it finds, one line each and never a secret; tests turn
// them into failed expectations, the bench counts them, the demo prints them.
import type { AwsEmulator, CallRecord, StoredSecret } from '../emulator/index.ts';
import { isWriteCall } from '../emulator/index.ts';
import type { Policy, RunReport } from '../lambda/rotation/model.ts';
import { MAX_INVOCATION_MS } from '../lambda/rotation/intent.ts';
import { DAY_MS } from '../lambda/rotation/retirement.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/contract.ts';

/** The checks by name; a problem says which one it breaks. */
export const CHECKS = {
  lockout: 'I1 no lockout',
  currentTouched: 'I2 current credential never retired',
  earlyDelete: 'I3 nothing deleted before its grace period',
  tooMany: 'I4 at most two credentials',
  stray: 'I4 no stray Active credential',
  createWithoutStore: 'I4 no create without store',
  secondRunWrites: 'I6 second run writes nothing',
  leak: 'I5 no secret in logs/reports/errors',
} as const;

export type CheckName = (typeof CHECKS)[keyof typeof CHECKS];

export interface Problem {
  readonly check: CheckName;
  /** The secret (or credential) it concerns. */
  readonly subject: string;
  /** What is wrong, for a person; ids and names only. */
  readonly message: string;
}

/** Every target secret (tagged, not scheduled for deletion), optionally only the given ones. */
export function targetSecrets(emulator: AwsEmulator, secretIds?: readonly string[]): StoredSecret[] {
  return emulator.secrets
    .all()
    .filter((s) => !s.deletedDate && s.tags.some((t) => t.Key === USER_NAME_TAG))
    .filter((s) => !secretIds || secretIds.includes(s.arn) || secretIds.includes(s.name));
}

export const tagOf = (secret: Pick<StoredSecret, 'tags'>, key: string): string =>
  secret.tags.find((t) => t.Key === key)?.Value ?? '';

/** A secret version's value as a JSON object, or undefined (a placeholder, or no value). */
export function recordOf(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The credential id a secret's AWSCURRENT (or another stage) records, if it is a record. */
export function recordedId(
  emulator: AwsEmulator,
  secretId: string,
  stage = 'AWSCURRENT',
): string | undefined {
  const id = recordOf(emulator.secrets.valueAt(secretId, stage))?.credentialId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * I1 for every target (or the given secrets): AWSCURRENT names a credential that exists, is
 * Active, and holds the password (or API key) IAM last issued for it, with IAM's user name.
 */
export function lockoutProblems(emulator: AwsEmulator, secretIds?: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const s of targetSecrets(emulator, secretIds)) {
    const fail = (message: string) =>
      problems.push({ check: CHECKS.lockout, subject: s.name, message: `I1: ${s.name}: ${message}` });
    const record = recordOf(emulator.secrets.valueAt(s.arn, 'AWSCURRENT'));
    if (!record || typeof record.credentialId !== 'string') {
      fail('AWSCURRENT holds no credential record');
      continue;
    }
    const cred = emulator.iam.credential(record.credentialId);
    if (!cred) {
      fail(`AWSCURRENT names ${record.credentialId}, which IAM does not have`);
      continue;
    }
    if (cred.Status !== 'Active') fail(`AWSCURRENT names ${record.credentialId}, which is ${cred.Status}`);
    if ((record.password ?? record.apiKey) !== cred.secret)
      fail(`the stored secret is not the one IAM last issued for ${record.credentialId}`);
    if (record.password !== undefined && record.username !== cred.ServiceUserName)
      fail(`the stored user name is not IAM's ServiceUserName`);
  }
  return problems;
}

export interface StrayOptions {
  readonly secretIds?: readonly string[] | undefined;
  /**
   * Also accept an Active credential younger than MAX_INVOCATION_MS that nothing records:
   * another run may still be storing it, and I4 gives the next run to settle it.
   */
  readonly allowInFlight?: boolean | undefined;
}

/**
 * I4 at rest: at most two credentials per user and service, and every Active credential is
 * either the recorded one or still within its overlap (the recorded one's issue + overlap).
 */
export function strayProblems(emulator: AwsEmulator, policy: Policy, options: StrayOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const now = emulator.clock.now().getTime();
  for (const s of targetSecrets(emulator, options.secretIds)) {
    const creds = emulator.iam.credentials({
      userName: tagOf(s, USER_NAME_TAG),
      serviceName: tagOf(s, SERVICE_NAME_TAG),
    });
    if (creds.length > 2) {
      problems.push({
        check: CHECKS.tooMany,
        subject: s.name,
        message: `I4: ${s.name}: ${creds.length} credentials in IAM`,
      });
    }
    const id = recordedId(emulator, s.arn);
    const recorded = id === undefined ? undefined : emulator.iam.credential(id);
    const overlapEnds = (recorded?.CreateDate.getTime() ?? 0) + policy.overlapDays * DAY_MS;
    for (const c of creds) {
      if (c.ServiceSpecificCredentialId === recorded?.ServiceSpecificCredentialId || c.Status !== 'Active')
        continue;
      if (options.allowInFlight && now - c.CreateDate.getTime() < MAX_INVOCATION_MS) continue;
      if (now >= overlapEnds) {
        problems.push({
          check: CHECKS.stray,
          subject: s.name,
          message: `I4: ${s.name}: Active credential ${c.ServiceSpecificCredentialId} is neither current nor within its overlap`,
        });
      }
    }
  }
  return problems;
}

/** I1 and I4 at rest, after a completed run. */
export function atRestProblems(emulator: AwsEmulator, policy: Policy, options: StrayOptions = {}): Problem[] {
  return [...lockoutProblems(emulator, options.secretIds), ...strayProblems(emulator, policy, options)];
}

/**
 * I2 and I3 at the moment of a deactivate or delete of credential `id` of `userName`, against
 * what Secrets Manager records right then. `forced`: a manual forced rotate is running, the
 * only time an early delete is allowed.
 */
export function retireProblems(
  emulator: AwsEmulator,
  policy: Policy,
  call: { readonly op: 'deactivate' | 'delete'; readonly userName: string; readonly id: string },
  forced: boolean,
  /** Credentials the rotator itself created or reset (the caller watches its IAM port). */
  issuedByRotator: ReadonlySet<string> = new Set(),
): Problem[] {
  const problems: Problem[] = [];
  const cred = emulator.iam.credential(call.id);
  if (!cred) return problems;
  const now = emulator.clock.now();
  for (const s of targetSecrets(emulator)) {
    if (tagOf(s, USER_NAME_TAG) !== call.userName || tagOf(s, SERVICE_NAME_TAG) !== cred.ServiceName)
      continue;
    const recorded = recordedId(emulator, s.arn);
    if (recorded === call.id && cred.Status === 'Active') {
      problems.push({
        check: CHECKS.currentTouched,
        subject: call.id,
        message: `I2: ${call.op} of ${call.id}, the Active credential AWSCURRENT of ${s.name} names`,
      });
    }
    if (call.op !== 'delete' || forced) continue;
    // A rotation's new credential that failed its test (AWSPENDING, never current) has no grace
    // period yet: removing it is how a refused rotation ends.
    if (call.id !== recorded && call.id === pendingId(emulator, s.arn)) continue;
    // The rotator's own credential that no version of the secret ever recorded was never handed
    // to anyone (one that failed verification): it has no grace period to wait for. (An intent
    // names the credential it adopts, but is no record: it has a requestId.)
    const records = s.versions.map((v) => recordOf(v.secretString)).filter((r) => r && !('requestId' in r));
    if (issuedByRotator.has(call.id) && !records.some((r) => r?.credentialId === call.id)) continue;
    const current = recorded ? emulator.iam.credential(recorded) : undefined;
    if (!current) continue;
    const graceEnds = current.CreateDate.getTime() + (policy.overlapDays + policy.gracePeriodDays) * DAY_MS;
    if (now.getTime() < graceEnds) {
      problems.push({
        check: CHECKS.earlyDelete,
        subject: call.id,
        message: `I3: ${call.id} deleted at ${now.toISOString()}, before its grace period ended`,
      });
    }
  }
  return problems;
}

/** The credential id the AWSPENDING version of `secretArn` records, if any. */
function pendingId(emulator: AwsEmulator, secretArn: string): string | undefined {
  try {
    const id = JSON.parse(emulator.secrets.valueAt(secretArn, 'AWSPENDING') ?? '')?.credentialId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** I4 in a report: every credential a run created or reset, it also stored. */
export function createWithoutStoreProblems(report: RunReport): Problem[] {
  return report.targets.flatMap((t) =>
    t.actions
      .filter((a) => a.type === 'create' || a.type === 'reset')
      .filter((c) => !t.actions.some((a) => a.type === 'store' && a.credentialId === c.credentialId))
      .map((c) => ({
        check: CHECKS.createWithoutStore,
        subject: t.secretId,
        message: `I4: ${t.secretId}: ${c.credentialId} was issued but not stored`,
      })),
  );
}

/** The write calls among `calls` (I6: a second run right after a completed one has none). */
export function writeCalls(calls: readonly CallRecord[]): string[] {
  return calls.filter(isWriteCall).map((c) => `${c.operation} ${JSON.stringify(c.params)} -> ${c.outcome}`);
}
