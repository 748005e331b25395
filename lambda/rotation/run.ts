// The executor: discovers targets, observes each one, asks the planner what to do, and
// carries the plan out through the two ports. It keeps no state between runs: everything
// it needs is read from IAM and Secrets Manager, so an interrupted run is simply finished
// by the next one (the planner's rule 4).
import { createHash, randomUUID } from 'node:crypto';
import type { CredentialsPort, SecretsPort } from '../aws/ports.ts';
import type { DeclaredTargets } from '../declaration.ts';
import {
  CredentialNotFoundError,
  IntentClaimedError,
  RotationInProgressError,
  RotatorError,
  SecretDeletedError,
  VerificationFailedError,
} from '../errors.ts';
import type { Command, TargetRef } from './commands.ts';
import type {
  ActionTaken,
  Credential,
  CurrentVersion,
  Intent,
  IssuedCredential,
  ObservedTarget,
  Policy,
  RejectedSecret,
  RunReport,
  Target,
  TargetReport,
  VerificationReport,
} from './model.ts';
import { MAX_INVOCATION_MS, serializeIntent } from './intent.ts';
import { type OperatorRequest, planOperator } from './operator.ts';
import { mayNeedIntent, type Plan, type PlannedAction, type RotationRequest, planTarget } from './plan.ts';
import { parseRecord, recordFromIssued, serializeRecord } from './record.ts';
import { credentialAgeDays } from './services.ts';
import { passed, VERIFICATION_RESERVE_MS, type VerifyCredential } from './verification.ts';
import { discover, findTarget, guessTarget } from './targets.ts';
import { rotationInProgress, runRotationStep, rotatesThroughSecretsManager } from './protocol.ts';

/** Structured logger (handler.ts adapts Powertools' Logger to it). Never pass a secret value. */
export interface Log {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface RunDeps {
  readonly credentials: CredentialsPort;
  readonly secrets: SecretsPort;
  readonly policy: Policy;
  readonly secretNamePrefix?: string | undefined;
  /** The deployment's declared targets (declaration.ts); absent: tags alone decide. */
  readonly declaredTargets?: DeclaredTargets | undefined;
  /** The clock: every lifecycle time is measured against it. */
  readonly now: () => Date;
  readonly log: Log;
  /** Milliseconds before the invocation times out; the run stops starting targets when low. */
  readonly remainingTimeMs?: (() => number) | undefined;
  /**
   * The invocation's id (Lambda's awsRequestId), written into every intent. @default a random
   * UUID (a run outside Lambda)
   */
  readonly requestId?: string | undefined;
  /**
   * Checks a newly issued credential with the service itself before anything is retired
   * (verification.ts). @default none: IAM listing it Active is the only check
   */
  readonly verifyCredential?: VerifyCredential | undefined;
  /**
   * The ARN this function was invoked as (Lambda's invokedFunctionArn): a secret whose
   * rotation in Secrets Manager names this function is rotated through Secrets Manager, and a
   * rotation step for a secret whose rotation names another function is rejected. @default
   * unknown (a run outside Lambda): any configured rotation function counts as this one
   */
  readonly functionArn?: string | undefined;
  /** Observe with IAM's AllUsers listing (one paged call per service). @default false */
  readonly bulkCredentialListing?: boolean | undefined;
  /** Targets processed at once. @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number | undefined;
  /**
   * No new target starts with less time left than this. @default DEFAULT_DEADLINE_RESERVE_MS,
   * plus VERIFICATION_RESERVE_MS with a verifier
   */
  readonly deadlineReserveMs?: number | undefined;
}

/** Enough to overlap round trips without outrunning IAM's throttling (tuned by the benchmark). */
export const DEFAULT_CONCURRENCY = 4;
/** A target's worst case (a rotation with the SDK's retries under throttling) fits in this. */
export const DEFAULT_DEADLINE_RESERVE_MS = 30_000;
/** From this many targets on, observation lists in bulk where the ports allow it. */
export const BULK_OBSERVATION_THRESHOLD = 20;

type Mode = 'apply' | 'dryRun' | 'status';

export async function runRotation(command: Command, deps: RunDeps): Promise<RunReport> {
  if (command.action === 'rotation-step') return runRotationStep(command, deps);
  const startedAt = deps.now();
  const mode: Mode = command.action === 'status' ? 'status' : command.dryRun ? 'dryRun' : 'apply';
  const requestId = deps.requestId ?? randomUUID();
  // Rollback and revoke are manual changes too: an intent another run claimed blocks them.
  const request: RotationRequest =
    command.action === 'rotate'
      ? { rotate: true, force: command.force, requestId }
      : { rotate: command.action === 'rollback' || command.action === 'revoke', force: false, requestId };
  const operator = operatorRequestOf(command);
  // Until when this invocation can run: what every intent it writes promises.
  const deadline = new Date(startedAt.getTime() + (deps.remainingTimeMs?.() ?? MAX_INVOCATION_MS));
  const invocation: Invocation = { requestId, deadline };

  const reports: TargetReport[] = [];
  const rejected: RejectedSecret[] = [];
  let targets: Target[];
  let observations: Map<string, Prefetched> | undefined;
  if (command.action === 'reconcile' || (command.action === 'status' && !command.target)) {
    const found = discover(await deps.secrets.listTargetSecrets(deps.secretNamePrefix), deps.declaredTargets);
    targets = found.targets;
    for (const r of found.rejected ?? []) {
      deps.log.warn('secret rejected', { secretId: r.secretId, reason: r.reason });
      rejected.push(r);
    }
    for (const m of found.misconfigured) {
      deps.log.error('target misconfigured', { secretId: m.secretId, reason: m.reason });
      reports.push({ ...m, outcome: 'failed', actions: [] });
    }
    if (targets.length >= BULK_OBSERVATION_THRESHOLD) observations = await observeInBulk(targets, deps);
  } else {
    const ref = command.target as NonNullable<typeof command.target>;
    const { target, prefetched } = await findAndObserve(ref, deps);
    targets = [target];
    observations = new Map([[target.secretId, prefetched]]);
  }

  const deferred: string[] = [];
  const reserve =
    deps.deadlineReserveMs ??
    DEFAULT_DEADLINE_RESERVE_MS + (deps.verifyCredential ? VERIFICATION_RESERVE_MS : 0);
  const done = await mapBounded(targets, deps.concurrency ?? DEFAULT_CONCURRENCY, async (target) => {
    if (deps.remainingTimeMs && deps.remainingTimeMs() < reserve) {
      deferred.push(target.secretId);
      return undefined;
    }
    return processTarget(
      target,
      mode,
      request,
      invocation,
      deps,
      observations?.get(target.secretId),
      operator,
    );
  });
  for (const r of done) if (r) reports.push(r);
  if (deferred.length > 0) {
    deps.log.warn('deadline near: targets deferred to the next run', { deferred: deferred.length });
  }
  return {
    action: command.action,
    dryRun: mode !== 'apply',
    startedAt: startedAt.toISOString(),
    finishedAt: deps.now().toISOString(),
    targets: reports,
    ...(rejected.length > 0 ? { rejected } : {}),
    ...(deferred.length > 0 ? { deferred } : {}),
  };
}

function operatorRequestOf(command: Command): OperatorRequest | undefined {
  if (command.action === 'rollback') return { kind: 'rollback' };
  if (command.action === 'revoke') {
    return { kind: 'revoke', credentialId: command.credentialId, delete: command.delete };
  }
  return undefined;
}

/** Who is running, and until when: what an intent records. */
export interface Invocation {
  readonly requestId: string;
  readonly deadline: Date;
}

async function processTarget(
  target: Target,
  mode: Mode,
  request: RotationRequest,
  invocation: Invocation,
  deps: RunDeps,
  prefetched: Prefetched | undefined,
  operator?: OperatorRequest | undefined,
): Promise<TargetReport> {
  const base = { secretId: target.secretId, userName: target.userName, serviceName: target.serviceName };
  let taken: ActionTaken[] = [];
  try {
    const pending = rotationInProgress(target);
    if (pending && mode === 'apply') {
      // Secrets Manager is between two steps of this target's rotation: the new credential
      // may be in AWSPENDING only. Touching the target now could retire what finishSecret is
      // about to make current, or rotate it twice; Secrets Manager retries its rotation.
      const reason =
        `a rotation is in progress in Secrets Manager (version ${pending}): left to it, ` +
        'it retries the rotation until finishSecret completes';
      deps.log.info('target left to secrets manager', { ...base, reason });
      return {
        ...base,
        outcome: request.rotate ? 'blocked' : 'unchanged',
        actions: [],
        via: 'secrets-manager',
        reason,
      };
    }
    const observed = await observe(target, deps, prefetched, operator?.kind === 'rollback');
    const plan = operator
      ? planOperator(observed, deps.policy, deps.now(), operator)
      : planTarget(observed, deps.policy, deps.now(), request);
    if (mode !== 'apply') return reportPlan(base, plan, mode, observed);
    const issues = plan.actions.findIndex((a) => a.type === 'issue');
    if (
      issues >= 0 &&
      !request.rotate &&
      rotatesThroughSecretsManager(target, deps) &&
      hasUsableRecord(observed)
    ) {
      return await startInSecretsManager(base, observed, plan.actions.slice(0, issues), invocation, deps);
    }
    if (plan.outcome === 'failed' || plan.outcome === 'blocked') {
      deps.log.warn(`target ${plan.outcome}`, { ...base, reason: plan.reason });
    }
    const result = await execute(observed, plan.actions, invocation, deps);
    taken = result.taken;
    const report: TargetReport = {
      ...base,
      outcome: plan.outcome,
      actions: taken,
      currentCredentialId: plan.currentCredentialId ?? result.currentCredentialId,
      currentIssuedAt: plan.currentIssuedAt?.toISOString(),
      nextDueAt: plan.nextDueAt?.toISOString(),
      ...(plan.reason ? { reason: plan.reason } : {}),
      ...(plan.actions.some((a) => a.type === 'issue') ? { via: 'direct' as const } : {}),
      ...(result.verification ? { verification: result.verification } : {}),
    };
    if (taken.length > 0)
      deps.log.info('target changed', { ...base, outcome: report.outcome, actions: taken });
    return report;
  } catch (error) {
    const partial = error instanceof ExecutionError ? error.taken : taken;
    const cause = error instanceof ExecutionError ? error.cause : error;
    if (cause instanceof IntentClaimedError) {
      // Another run, started from the same state, does this step: nothing was written here.
      const reason = 'another run is doing the same step right now; it completes it';
      deps.log.warn('target left to another run', { ...base, reason, actions: partial });
      const outcome = request.rotate ? 'blocked' : partial.length > 0 ? 'retired' : 'unchanged';
      return { ...base, outcome, actions: partial, reason };
    }
    const reason = describeFailure(cause, partial);
    deps.log.error('target failed', { ...base, reason, actions: partial });
    if (cause instanceof VerificationFailedError) {
      // The run stopped before anything was retired: the recorded credential is still current.
      return {
        ...base,
        outcome: 'failed',
        actions: partial,
        reason,
        currentCredentialId: cause.currentCredentialId,
        verification: cause.verification,
      };
    }
    return { ...base, outcome: 'failed', actions: partial, reason };
  }
}

/**
 * Rule 2 for a target whose rotation in Secrets Manager names this function: the run does what
 * rule 1 asks first (the room the new credential needs), then starts RotateSecret, so that
 * Secrets Manager's dates and CloudTrail's rotation events are right; the four steps issue the
 * credential. Bootstrap and recovery never come here: they stay with the run.
 */
async function startInSecretsManager(
  base: Pick<TargetReport, 'secretId' | 'userName' | 'serviceName'>,
  observed: ObservedTarget,
  before: readonly PlannedAction[],
  invocation: Invocation,
  deps: RunDeps,
): Promise<TargetReport> {
  const { taken } = await execute(observed, before, invocation, deps);
  const currentId = recordedId(observed);
  const current = {
    currentCredentialId: currentId,
    currentIssuedAt: observed.credentials.find((c) => c.id === currentId)?.createdAt.toISOString(),
  };
  const outcome = taken.length > 0 ? 'retired' : 'unchanged';
  let reason: string;
  try {
    const versionId = await (deps.secrets.rotateSecret as NonNullable<typeof deps.secrets.rotateSecret>)(
      observed.target.secretId,
    );
    reason = `due for rotation: started in Secrets Manager (version ${versionId}); its four steps issue the new credential`;
  } catch (error) {
    if (!(error instanceof RotationInProgressError)) throw new ExecutionError(taken, error);
    // Someone (the console, the CLI, Secrets Manager's own schedule) started one first.
    reason = 'due for rotation: a rotation is already in progress in Secrets Manager; left to it';
  }
  deps.log.info('rotation started in secrets manager', { ...base, reason, actions: taken });
  return { ...base, outcome, actions: taken, ...current, via: 'secrets-manager', reason };
}

/** Whether AWSCURRENT records a credential IAM lists Active: rule 2, not a bootstrap. */
function hasUsableRecord(observed: ObservedTarget): boolean {
  const id = recordedId(observed);
  return observed.credentials.some((c) => c.id === id && c.status === 'Active');
}

/** What bulk observation already knows about a target; the rest is read per target. */
interface Prefetched {
  readonly current?: { readonly value: CurrentVersion | undefined } | undefined;
  readonly credentials?: Credential[] | undefined;
}

export async function observe(
  target: Target,
  deps: RunDeps,
  prefetched: Prefetched = {},
  withPrevious = false,
): Promise<ObservedTarget> {
  // Independent reads: one round trip, not two (three for a rollback, which needs AWSPREVIOUS).
  const [current, credentials, previous] = await Promise.all([
    prefetched.current ? prefetched.current.value : deps.secrets.readCurrent(target.secretId),
    prefetched.credentials ?? deps.credentials.listCredentials(target.userName, target.serviceName),
    withPrevious ? deps.secrets.readPrevious?.(target.secretId) : undefined,
  ]);
  const observed: ObservedTarget = { target, current, credentials, ...(previous ? { previous } : {}) };
  // The intent's value matters only for an Active credential the secret does not record (rare).
  return mayNeedIntent(observed)
    ? { ...observed, intent: await deps.secrets.readIntent(target.secretId) }
    : observed;
}

/**
 * One batched secret read per 20 targets instead of one per target, and — when
 * `bulkCredentialListing` is on (it needs IAM List on user/*) — one paged IAM listing per
 * service instead of one per target. What a bulk call cannot answer is read per target.
 */
async function observeInBulk(targets: Target[], deps: RunDeps): Promise<Map<string, Prefetched> | undefined> {
  const { credentials, secrets } = deps;
  const listAll = deps.bulkCredentialListing ? credentials.listAllCredentials?.bind(credentials) : undefined;
  const readMany = secrets.readCurrentMany?.bind(secrets);
  if (!listAll && !readMany) return undefined;
  const services = [...new Set(targets.map((t) => t.serviceName))];
  const [lists, values] = await Promise.all([
    listAll ? settle(Promise.all(services.map((s) => listAll(s))), deps) : undefined,
    readMany ? settle(readMany(targets.map((t) => t.secretId)), deps) : undefined,
  ]);
  const byTarget = new Map<string, Credential[]>();
  if (lists) {
    for (const t of targets) byTarget.set(`${t.userName}\u0000${t.serviceName}`, []);
    for (const c of lists.flat()) byTarget.get(`${c.userName}\u0000${c.serviceName}`)?.push(c);
  }
  const observed = new Map<string, Prefetched>();
  for (const t of targets) {
    const value = values?.get(t.secretId);
    observed.set(t.secretId, {
      // A per-secret error is left to the per-target read, which reports it for that target.
      current:
        values?.has(t.secretId) && !(value instanceof Error)
          ? { value: value as CurrentVersion | undefined }
          : undefined,
      credentials: byTarget.get(`${t.userName}\u0000${t.serviceName}`),
    });
  }
  return observed;
}

/**
 * A manual command names its target by secret or by user and service, and the stack names
 * secrets `<prefix><user>/<service>`: so the secret and the credentials can be read while
 * the target is still being looked up (one round trip instead of two). A guess is only used
 * once the secret's tags confirm it; a wrong guess costs a wasted read, nothing else.
 */
async function findAndObserve(
  ref: TargetRef,
  deps: RunDeps,
): Promise<{ target: Target; prefetched: Prefetched }> {
  const guess = guessTarget(ref, deps.secretNamePrefix);
  const [target, current, credentials] = await Promise.all([
    findTarget(ref, deps.secrets, deps.secretNamePrefix, deps.declaredTargets),
    guess.secretId ? speculate(deps.secrets.readCurrent(guess.secretId)) : undefined,
    guess.userName && guess.serviceName
      ? speculate(deps.credentials.listCredentials(guess.userName, guess.serviceName))
      : undefined,
  ]);
  const sameSecret = guess.secretId === target.secretId || guess.secretId === target.secretName;
  const sameUser = guess.userName === target.userName && guess.serviceName === target.serviceName;
  return {
    target,
    prefetched: {
      current: current?.ok && sameSecret ? { value: current.value } : undefined,
      credentials: credentials?.ok && sameUser ? credentials.value : undefined,
    },
  };
}

/** A read whose failure is not reported here: the per-target read repeats it and reports. */
async function speculate<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    return { ok: true, value: await p };
  } catch {
    return { ok: false };
  }
}

/** A bulk read that failed is not fatal: the per-target reads take over. */
async function settle<T>(p: Promise<T>, deps: RunDeps): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    deps.log.warn('bulk observation failed; observing target by target', { error: describeError(error) });
    return undefined;
  }
}

export class ExecutionError extends Error {
  constructor(
    readonly taken: ActionTaken[],
    override readonly cause: unknown,
  ) {
    super('execution failed', { cause });
  }
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
  /**
   * Where an issued or adopted credential's record goes. @default a new AWSCURRENT version
   * (storeCurrent); a rotation's createSecret stores it under AWSPENDING instead. `reported`
   * says whether the store counts as a `store` action (AWSCURRENT moved).
   */
  store: { write: (value: string) => Promise<string>; reported: boolean } = {
    write: (value) => deps.secrets.storeCurrent(observed.target.secretId, value),
    reported: true,
  },
): Promise<{
  taken: ActionTaken[];
  currentCredentialId: string | undefined;
  verification: VerificationReport | undefined;
}> {
  const { credentials, secrets } = deps;
  const { userName, serviceName, secretId } = observed.target;
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
          // A rotation's createSecret stores under AWSPENDING: its testSecret step verifies.
          if (store.reported) verification = await verifyIssued(observed, issued, deps, did);
          await store.write(serializeRecord(recordFromIssued(issued)));
          if (store.reported) did('store', issued.id);
          currentCredentialId = issued.id;
          break;
        }
        case 'adopt': {
          await declare(`adopt ${action.credentialId}`, action.credentialId);
          const issued = await credentials.resetCredential(userName, action.credentialId);
          did('reset', issued.id);
          // A rotation's createSecret stores under AWSPENDING: its testSecret step verifies.
          if (store.reported) verification = await verifyIssued(observed, issued, deps, did);
          await store.write(serializeRecord(recordFromIssued(issued)));
          if (store.reported) did('store', issued.id);
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
          const restored = { ...previous.record, rolledBackAt: action.rolledBackAt.toISOString() };
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
  const v = await deps.verifyCredential(target, issued);
  const report: VerificationReport = {
    credentialId: issued.id,
    mode: v.mode,
    outcome: v.outcome,
    reason: v.reason,
    attempts: v.attempts,
  };
  const base = { secretId: target.secretId, userName: target.userName, serviceName: target.serviceName };
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
  const keeps = current
    ? `credential ${current} stays current`
    : 'the target keeps no working credential until then';
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

function reportPlan(
  base: Pick<TargetReport, 'secretId' | 'userName' | 'serviceName'>,
  plan: Plan,
  mode: Mode,
  observed: ObservedTarget,
): TargetReport {
  const planned: ActionTaken[] =
    mode === 'status'
      ? []
      : plan.actions.flatMap((a): ActionTaken[] => {
          const at = 'planned';
          switch (a.type) {
            case 'issue':
              return [
                { type: 'create', credentialId: 'new', at },
                { type: 'store', credentialId: 'new', at },
              ];
            case 'adopt':
              return [
                { type: 'reset', credentialId: a.credentialId, at },
                { type: 'store', credentialId: a.credentialId, at },
              ];
            case 'restore':
              return [{ type: 'store', credentialId: a.credentialId, at }];
            default:
              return [{ type: a.type, credentialId: a.credentialId, at }];
          }
        });
  const pending = plan.actions.length > 0 && plan.outcome !== 'blocked' && plan.outcome !== 'failed';
  const currentId = pending ? recordedId(observed) : plan.currentCredentialId;
  return {
    ...base,
    outcome: pending ? 'planned' : plan.outcome,
    actions: planned,
    currentCredentialId: currentId,
    currentIssuedAt: observed.credentials.find((c) => c.id === currentId)?.createdAt.toISOString(),
    nextDueAt: pending ? undefined : plan.nextDueAt?.toISOString(),
    ...(pending
      ? { reason: `would be ${plan.outcome}${plan.reason ? `: ${plan.reason}` : ''}` }
      : plan.reason
        ? { reason: plan.reason }
        : {}),
    ...(mode === 'status'
      ? {
          credentials: observed.credentials.map((c) => ({
            id: c.id,
            status: c.status,
            issuedAt: c.createdAt.toISOString(),
            current: c.id === currentId,
          })),
        }
      : {}),
  };
}

export function recordedId(observed: ObservedTarget): string | undefined {
  try {
    const id = JSON.parse(observed.current?.value ?? '')?.credentialId;
    return observed.credentials.some((c) => c.id === id) ? id : undefined;
  } catch {
    return undefined;
  }
}

function describeFailure(error: unknown, taken: readonly ActionTaken[]): string {
  const message = describeError(error);
  const created = taken.at(-1);
  if (created && (created.type === 'create' || created.type === 'reset')) {
    return `${message}; credential ${created.credentialId} was issued but not stored: the next run adopts it`;
  }
  if (error instanceof SecretDeletedError) return `${message}; restore the secret to resume rotation`;
  return message;
}

/** Error text for reports: the product's errors are built never to carry a secret. */
export function describeError(error: unknown): string {
  if (error instanceof RotatorError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
