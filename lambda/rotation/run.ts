// The run: a scheduled reconcile or an operator's command (rotate, status, rollback, revoke).
// It discovers targets, observes each one, asks the planner what to do, and carries the plan
// out (execute.ts), itself: a due target is rotated directly, never handed to Secrets
// Manager, whose schedule counts the run's PutSecretValue as a rotation. A rotation Secrets
// Manager started is left to it while young and taken back once stale (pending.ts). The run
// keeps no state between runs: everything it needs is read from IAM and Secrets Manager, so an
// interrupted run is simply finished by the next one (the planner's rule 4). Secrets Manager's
// rotation steps are not run here: the handler sends them to protocol.ts.
//
// Time is reserved by need (budget.ts): a target is observed while OBSERVE_RESERVE_MS is left;
// its plan is carried out only if what that plan does fits the time left (nothing for a quiet
// target, the writes' reserve for writes, plus the shortest verification worth starting for a
// new credential that is verified). A target that does not fit is deferred to the next run,
// untouched; one whose verification the deadline cuts short is deferred too, its new
// credential left for the next run to adopt and verify.
import { randomUUID } from 'node:crypto';
import { OBSERVE_RESERVE_MS, targetNeedMs } from '../budget.ts';
import { IntentClaimedError, VerificationDeferredError, VerificationFailedError } from '../errors.ts';
import { type Command, isManual, type TargetRequest } from './commands.ts';
import { mapBounded } from './concurrency.ts';
import {
  BULK_OBSERVATION_THRESHOLD,
  DEFAULT_CONCURRENCY,
  type Invocation,
  type Mode,
  type RunDeps,
  verifiesTarget,
} from './deps.ts';
import { discover } from './discovery.ts';
import { ExecutionError, execute } from './execute.ts';
import { MAX_INVOCATION_MS } from './intent.ts';
import type {
  ActionTaken,
  ObservedTarget,
  RejectedSecret,
  RunReport,
  Target,
  TargetReport,
} from './model.ts';
import { findAndObserve, observe, observeInBulk, type Prefetched } from './observe.ts';
import { planOperator } from './operator.ts';
import { type PendingOutcome, rotationInProgress, settlePending } from './pending.ts';
import { type Plan, planTarget } from './plan.ts';
import { rejectedSummary } from './rejected.ts';
import { describeFailure, recordedId, reportPlan } from './report.ts';

/** Every command but Secrets Manager's rotation steps (protocol.ts takes those). */
export type RunCommand = Exclude<Command, { action: 'rotation-step' }>;

export async function runTargets(command: RunCommand, deps: RunDeps): Promise<RunReport> {
  const startedAt = deps.now();
  const mode: Mode = command.action === 'status' ? 'status' : command.dryRun ? 'dryRun' : 'apply';
  const requestId = deps.requestId ?? randomUUID();
  const request = requestOf(command, requestId);
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
    rejected.push(...(found.rejected ?? []));
    if (rejected.length > 0) deps.log.warn('secrets rejected', { ...rejectedSummary(rejected) });
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
  const done = await mapBounded(targets, deps.concurrency ?? DEFAULT_CONCURRENCY, (target) =>
    processTarget(target, mode, request, invocation, deps, observations?.get(target.secretId)),
  );
  for (const [i, r] of done.entries()) {
    if (r === DEFERRED) deferred.push((targets[i] as Target).secretId);
    else reports.push(r);
  }
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

/** The command as the planners take it: one request shape per command. */
function requestOf(command: RunCommand, requestId: string): TargetRequest {
  switch (command.action) {
    case 'reconcile':
    case 'status':
      return { command: 'reconcile', requestId };
    case 'rotate':
      return { command: 'rotate', force: command.force, requestId };
    case 'rollback':
      return { command: 'rollback', requestId };
    case 'revoke':
      return { command: 'revoke', credentialId: command.credentialId, delete: command.delete, requestId };
  }
}

/** A stale rotation the run took back before planning the target. */
type TakenBack = Extract<PendingOutcome, { kind: 'taken-back' }>;

/** A target the run did not start for lack of time: untouched, the next run takes it. */
const DEFERRED = Symbol('deferred');

async function processTarget(
  target: Target,
  mode: Mode,
  request: TargetRequest,
  invocation: Invocation,
  deps: RunDeps,
  prefetched: Prefetched | undefined,
): Promise<TargetReport | typeof DEFERRED> {
  const base = { secretId: target.secretId, userName: target.userName, serviceName: target.serviceName };
  const left = () => deps.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY;
  if (left() < OBSERVE_RESERVE_MS) return DEFERRED;
  let taken: ActionTaken[] = [];
  try {
    let observed = await observe(target, deps, prefetched, request.command === 'rollback');
    const pending = rotationInProgress(target);
    let takenBack: TakenBack | undefined;
    if (pending && mode === 'apply') {
      const settled = await settlePending(observed, pending, deps);
      if (settled.kind === 'deferred') return DEFERRED;
      if (settled.kind === 'left') {
        deps.log.info('target left to secrets manager', { ...base, reason: settled.reason });
        return {
          ...base,
          outcome: isManual(request) ? 'blocked' : 'unchanged',
          actions: [],
          via: 'secrets-manager',
          reason: settled.reason,
        };
      }
      takenBack = settled;
      taken = [...settled.taken];
      // AWSPENDING is gone and AWSCURRENT may have moved: plan from what is there now.
      observed = await observe(target, deps, {}, request.command === 'rollback');
    }
    const plan =
      request.command === 'rollback' || request.command === 'revoke'
        ? planOperator(observed, deps.policy, deps.now(), request)
        : planTarget(observed, deps.policy, deps.now(), request);
    if (mode !== 'apply') return reportPlan(base, plan, mode, observed);
    if (left() < needOf(plan, observed, deps)) {
      // Nothing of this plan is started: the next run plans it again. A take-back done above
      // is complete in itself (the stale rotation is gone); one that changed a credential is
      // reported with what it did, one that only removed a label is counted as deferred.
      if (!takenBack || takenBack.taken.length === 0) return DEFERRED;
      return takenBackReport(base, takenBack, observed, 'the rest of its plan is deferred to the next run');
    }
    if (plan.outcome === 'failed' || plan.outcome === 'blocked') {
      deps.log.warn(`target ${plan.outcome}`, { ...base, reason: plan.reason });
    }
    const result = await execute(observed, plan.actions, invocation, deps);
    taken = [...taken, ...result.taken];
    const finished = takenBack?.taken.some((a) => a.type === 'store') ?? false;
    // A refused pending credential deleted by the take-back is a retirement, as in takenBackReport.
    const refusedDeleted = takenBack?.taken.some((a) => a.type === 'delete') ?? false;
    const reason = reasonOf(takenBack?.note, plan.reason);
    // The run's own check of a credential it issued now, else that of the one it finished.
    const verification = result.verification ?? takenBack?.verification;
    const report: TargetReport = {
      ...base,
      outcome:
        finished && (plan.outcome === 'unchanged' || plan.outcome === 'retired')
          ? 'rotated'
          : refusedDeleted && plan.outcome === 'unchanged'
            ? 'retired'
            : plan.outcome,
      actions: taken,
      currentCredentialId: plan.currentCredentialId ?? result.currentCredentialId,
      currentIssuedAt: plan.currentIssuedAt?.toISOString(),
      nextDueAt: plan.nextDueAt?.toISOString(),
      ...(reason ? { reason } : {}),
      ...(plan.actions.some((a) => a.type === 'issue') || finished ? { via: 'direct' as const } : {}),
      ...(verification ? { verification } : {}),
      ...(plan.tampering ? { tampering: plan.tampering } : {}),
    };
    if (taken.length > 0)
      deps.log.info('target changed', { ...base, outcome: report.outcome, actions: taken });
    return report;
  } catch (error) {
    const partial = error instanceof ExecutionError ? [...taken, ...error.taken] : taken;
    const cause = error instanceof ExecutionError ? error.cause : error;
    if (cause instanceof IntentClaimedError) {
      // Another run, started from the same state, does this step: nothing was written here.
      const reason = 'another run is doing the same step right now; it completes it';
      deps.log.warn('target left to another run', { ...base, reason, actions: partial });
      const outcome = isManual(request) ? 'blocked' : partial.length > 0 ? 'retired' : 'unchanged';
      return { ...base, outcome, actions: partial, reason };
    }
    if (cause instanceof VerificationDeferredError) {
      // The deadline, not the service, ended the verification: no verdict, so no failure. The
      // new credential (if one was issued) stays Active and unstored for the next run to adopt
      // and verify; the recorded one stays current. Counted with the run's deferred targets.
      deps.log.warn('target deferred: its verification was cut by the deadline', {
        ...base,
        reason: cause.message,
        actions: partial,
        ...(cause.verification ? { verification: cause.verification } : {}),
      });
      return DEFERRED;
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
 * The time a plan needs before it is started (budget.ts): nothing when it does nothing, the
 * writes' reserve when it writes, plus the shortest verification worth starting when it issues
 * or adopts a credential that is verified. A quiet target never waits for a verification it
 * will not run.
 */
function needOf(plan: Plan, observed: ObservedTarget, deps: RunDeps): number {
  const issues = plan.actions.some((a) => a.type === 'issue' || a.type === 'adopt');
  return targetNeedMs({
    writes: plan.actions.length > 0,
    verifies: issues && verifiesTarget(observed.target, deps),
  });
}

/** The reasons given, joined; empty when none is (the report then carries no reason). */
function reasonOf(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p).join('; ');
}

/**
 * A target whose stale rotation was taken back and changed a credential (a take-back that only
 * removed the label is deferred instead), and nothing else done this run. `observed` is read
 * after the take-back, so its record is the current credential whether or not one was finished.
 */
function takenBackReport(
  base: Pick<TargetReport, 'secretId' | 'userName' | 'serviceName'>,
  takenBack: TakenBack,
  observed: ObservedTarget,
  why: string,
): TargetReport {
  // Finished (stored) is a rotation; otherwise the refused pending credential was deleted.
  const finished = takenBack.taken.some((a) => a.type === 'store');
  return {
    ...base,
    outcome: finished ? 'rotated' : 'retired',
    actions: [...takenBack.taken],
    currentCredentialId: recordedId(observed),
    reason: `${takenBack.note}; ${why}`,
    ...(finished ? { via: 'direct' as const } : {}),
    ...(takenBack.verification ? { verification: takenBack.verification } : {}),
  };
}
