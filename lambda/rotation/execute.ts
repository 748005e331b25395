// Execution: carries a plan out through the two ports, writing an intent before IAM issues
// anything (claimed by a token so that of two overlapping runs only one takes the step) and
// verifying a new credential with the service before anything is retired.
import { createHash } from 'node:crypto';
import { cappedRetryBudgetMs } from '../budget.ts';
import { CredentialNotFoundError, VerificationDeferredError, VerificationFailedError } from '../errors.ts';
import { type Invocation, type RunDeps, verifiesTarget } from './deps.ts';
import { serializeIntent } from './intent.ts';
import type { ActionTaken, Intent, IssuedCredential, ObservedTarget, VerificationReport } from './model.ts';
import type { PlannedAction } from './plan.ts';
import { parseRecord, recordFromIssued, serializeRecord } from './record.ts';
import { describeError, recordedId } from './report.ts';
import { credentialAgeDays } from './services.ts';
import { passed, type VerifyOptions } from './verification.ts';

export class ExecutionError extends Error {
  constructor(
    readonly taken: ActionTaken[],
    cause: unknown,
  ) {
    super('execution failed', { cause });
  }
}

/** Where an issued or adopted credential's record goes, and whether the run verifies it. */
export interface ExecuteOptions {
  /**
   * Where the record goes. @default `current`: a new AWSCURRENT version (storeCurrent), counted
   * as a `store` action. `pending`: Secrets Manager's createSecret stores it under AWSPENDING
   * (AWSCURRENT does not move, so no `store` action is reported).
   */
  readonly recordTo?:
    | { readonly stage: 'current' }
    | { readonly stage: 'pending'; readonly write: (value: string) => Promise<string> }
    | undefined;
  /**
   * Whether a new credential is checked with the service before it is stored (deps.verifyCredential).
   * @default true; createSecret passes false: its testSecret step verifies
   */
  readonly verify?: boolean | undefined;
}

/**
 * Carries out a plan in order; stops at the first failure, keeping what was done. Before a
 * Create or a Reset it writes the intent; when the run fails after that, it says on its way
 * out that it has ended, so the next invocation adopts the credential at once.
 */
export async function execute(
  observed: ObservedTarget,
  actions: readonly PlannedAction[],
  invocation: Invocation,
  deps: RunDeps,
  options: ExecuteOptions = {},
): Promise<{
  taken: ActionTaken[];
  currentCredentialId: string | undefined;
  verification: VerificationReport | undefined;
}> {
  const { credentials, secrets } = deps;
  const { userName, serviceName, secretId } = observed.target;
  const recordTo = options.recordTo ?? { stage: 'current' };
  const verifies = options.verify ?? true;
  const toCurrent = recordTo.stage === 'current';
  const writeRecord = (value: string) =>
    recordTo.stage === 'pending' ? recordTo.write(value) : secrets.storeCurrent(secretId, value);
  const taken: ActionTaken[] = [];
  const did = (type: ActionTaken['type'], credentialId: string) =>
    taken.push({ type, credentialId, at: deps.now().toISOString() });
  let currentCredentialId: string | undefined;
  let verification: VerificationReport | undefined;
  let intent: Intent | undefined;
  const declare = async (step: string, credentialId?: string) => {
    const written: Intent = {
      requestId: invocation.requestId,
      writtenAt: deps.now().toISOString(),
      deadline: invocation.deadline.toISOString(),
      ...(observed.current ? { currentVersionId: observed.current.versionId } : {}),
      known: observed.credentials.map((c) => c.id),
      ...(credentialId ? { credentialId } : {}),
    };
    await secrets.writeIntent(secretId, serializeIntent(written), claimToken(observed, step));
    // Only a written intent is marked ended: a claimed one is another run's.
    intent = written;
  };
  try {
    for (const action of actions) {
      switch (action.type) {
        case 'issue': {
          await declare('issue');
          // Never retried here: Create has no idempotency token. If anything below fails,
          // the new credential is left for the next run to adopt (rule 4) — never deleted,
          // because a store whose response was lost may have succeeded.
          const issued = await credentials.createCredential(
            userName,
            serviceName,
            credentialAgeDays(serviceName, deps.policy),
          );
          did('create', issued.id);
          if (verifies) verification = await verifyIssued(observed, issued, deps, did);
          await writeRecord(serializeRecord(recordFromIssued(issued)));
          if (toCurrent) did('store', issued.id);
          currentCredentialId = issued.id;
          break;
        }
        case 'adopt': {
          await declare(`adopt ${action.credentialId}`, action.credentialId);
          const issued = await credentials.resetCredential(userName, action.credentialId);
          did('reset', issued.id);
          if (verifies) verification = await verifyIssued(observed, issued, deps, did);
          await writeRecord(serializeRecord(recordFromIssued(issued)));
          if (toCurrent) did('store', issued.id);
          currentCredentialId = issued.id;
          break;
        }
        case 'restore': {
          // The planner checked AWSPREVIOUS; its record keeps the password the credential was
          // issued with (never reset since: the rotator resets only unrecorded credentials).
          const previous = parseRecord(observed.previous?.value, observed.target);
          if (previous.kind !== 'valid' || previous.record.credentialId !== action.credentialId) {
            throw new Error(`AWSPREVIOUS no longer records ${action.credentialId}`);
          }
          const restored = action.rolledBackAt
            ? { ...previous.record, rolledBackAt: action.rolledBackAt.toISOString() }
            : previous.record;
          await secrets.storeCurrent(secretId, serializeRecord(restored));
          did('store', action.credentialId);
          currentCredentialId = action.credentialId;
          break;
        }
        case 'activate':
          await credentials.setCredentialStatus(userName, action.credentialId, 'Active');
          did('activate', action.credentialId);
          break;
        case 'deactivate':
          await ignoreMissing(credentials.setCredentialStatus(userName, action.credentialId, 'Inactive'));
          did('deactivate', action.credentialId);
          break;
        case 'delete':
          // Already gone is as good as deleted: retries and overlapping runs stay idempotent.
          await ignoreMissing(credentials.deleteCredential(userName, action.credentialId));
          did('delete', action.credentialId);
          break;
      }
    }
  } catch (error) {
    if (intent && currentCredentialId === undefined) await markEnded(secretId, intent, deps);
    throw new ExecutionError(taken, error);
  }
  return { taken, currentCredentialId, verification };
}

/**
 * Asks the service whether the credential IAM just issued (or re-issued) works, before it is
 * stored and before anything is retired. `warn` logs a failure and goes on; `enforce` deletes
 * the new credential (it was never stored: nobody can be using it, and it would hold the
 * second slot) and throws, which stops the plan before any retirement, so the recorded
 * credential stays current and Active and the next run tries again. If the delete fails the
 * credential is left as after any failure between Create and store: the next run adopts it
 * (Reset) and verifies it again.
 */
async function verifyIssued(
  observed: ObservedTarget,
  issued: IssuedCredential,
  deps: RunDeps,
  did: (type: ActionTaken['type'], credentialId: string) => void,
): Promise<VerificationReport | undefined> {
  if (!deps.verifyCredential) return undefined;
  const { target } = observed;
  const v = await deps.verifyCredential(
    target,
    issued,
    verifiesTarget(target, deps) ? verifyOptions(deps) : {},
  );
  const report: VerificationReport = {
    credentialId: issued.id,
    mode: v.mode,
    outcome: v.outcome,
    reason: v.reason,
    attempts: v.attempts,
  };
  const base = { secretId: target.secretId, userName: target.userName, serviceName: target.serviceName };
  if (v.budgetCut) {
    // The deadline ended the retries while IAM may still be propagating: no verdict, so nothing
    // is deleted or stored (under warn either). The credential stays Active and unstored, the
    // intent is marked ended on the way out, and the next run adopts and verifies it.
    throw new VerificationDeferredError(
      `verification of new credential ${issued.id} was cut short by the invocation's deadline ` +
        `(${v.reason}): the next run adopts it and verifies it again; ${keepsOf(observed)}`,
      report,
    );
  }
  if (passed(v.outcome)) {
    if (v.mode !== 'off') deps.log.info('credential verified', { ...base, verification: report });
    return report;
  }
  if (v.mode !== 'enforce') {
    deps.log.warn('credential failed verification; stored anyway (verification: warn)', {
      ...base,
      verification: report,
    });
    return report;
  }
  const current = recordedId(observed);
  const keeps = keepsOf(observed);
  const what = `new credential ${issued.id} failed verification (${v.outcome}): ${v.reason}`;
  try {
    await ignoreMissing(deps.credentials.deleteCredential(target.userName, issued.id));
  } catch (error) {
    throw new VerificationFailedError(
      `${what}; deleting it failed too (${describeError(error)}): the next run adopts it and verifies it again; ${keeps}`,
      { cause: error },
      { currentCredentialId: current, verification: report },
    );
  }
  did('delete', issued.id);
  throw new VerificationFailedError(
    `${what}; it was deleted and the next run tries again; ${keeps}`,
    undefined,
    { currentCredentialId: current, verification: report },
  );
}

function keepsOf(observed: ObservedTarget): string {
  const current = recordedId(observed);
  return current
    ? `credential ${current} stays current`
    : 'the target keeps no working credential until then';
}

/**
 * A verification's retry budget from the time left: the retry policy's own when it fits, less
 * near the deadline (the run starts a verified target while the shortest verification fits,
 * budget.ts targetNeedMs, so the last rotations of a run verify with what is left). Throws
 * VerificationDeferredError when not even one attempt fits: the new credential is then left
 * unstored, the target is deferred, and the next run adopts and verifies it.
 */
export function verifyOptions(deps: RunDeps): VerifyOptions {
  const left = deps.remainingTimeMs?.();
  if (left === undefined) return {};
  const retryBudgetMs = cappedRetryBudgetMs(left);
  if (retryBudgetMs === undefined) {
    throw new VerificationDeferredError(
      `no time left to verify the new credential before the invocation's deadline (${Math.floor(left / 1000)} s left): ` +
        'the next run adopts it and verifies it',
    );
  }
  return { retryBudgetMs };
}

/**
 * The intent's ClientRequestToken: the same for every run that would take the same step from
 * the same observed versions, so of two overlapping runs only the first one's intent is
 * written (the other gets IntentClaimedError and leaves the step to it). Any store or intent
 * written since changes the versions, and with them the token.
 */
function claimToken(observed: ObservedTarget, step: string): string {
  const intentVersion = observed.intent?.versionId ?? observed.target.intentVersionId ?? '-';
  const seen = `${observed.target.secretId}\n${observed.current?.versionId ?? '-'}\n${intentVersion}\n${step}`;
  return createHash('sha256').update(seen).digest('hex').slice(0, 32);
}

/**
 * Best effort, on the way out after a failure: the intent, marked ended, so the next run need
 * not wait for this invocation's deadline. If this write fails too, the deadline still ends it.
 */
async function markEnded(secretId: string, intent: Intent, deps: RunDeps): Promise<void> {
  try {
    await deps.secrets.writeIntent(
      secretId,
      serializeIntent({ ...intent, endedAt: deps.now().toISOString() }),
    );
  } catch (error) {
    deps.log.warn('could not mark the intent ended; the next run waits for its deadline', {
      secretId,
      deadline: intent.deadline,
      error: describeError(error),
    });
  }
}

export async function ignoreMissing(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (error) {
    if (!(error instanceof CredentialNotFoundError)) throw error;
  }
}
