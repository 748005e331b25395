// The run: a scheduled reconcile or an operator's command (rotate, status, rollback, revoke).
// It discovers targets, observes each one, asks the planner what to do, and carries the plan
// out (execute.ts), or hands a due rotation to Secrets Manager (handoff.ts). It keeps no state
// between runs: everything it needs is read from IAM and Secrets Manager, so an interrupted
// run is simply finished by the next one (the planner's rule 4). Secrets Manager's rotation
// steps are not run here: the handler sends them to protocol.ts.
import { randomUUID } from 'node:crypto';
import { IntentClaimedError, VerificationFailedError } from '../errors.ts';
import { type Command, isManual, type TargetRequest } from './commands.ts';
import { mapBounded } from './concurrency.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DEADLINE_RESERVE_MS,
  BULK_OBSERVATION_THRESHOLD,
  type Invocation,
  type Mode,
  type RunDeps,
} from './deps.ts';
import { ExecutionError, execute } from './execute.ts';
import {
  hasUsableRecord,
  rotatesThroughSecretsManager,
  rotationInProgress,
  startInSecretsManager,
} from './handoff.ts';
import { MAX_INVOCATION_MS } from './intent.ts';
import type { ActionTaken, RejectedSecret, RunReport, Target, TargetReport } from './model.ts';
import { findAndObserve, observe, observeInBulk, type Prefetched } from './observe.ts';
import { planOperator } from './operator.ts';
import { phasesOf } from './phases.ts';
import { planTarget } from './plan.ts';
import { describeFailure, reportPlan } from './report.ts';
import { VERIFICATION_RESERVE_MS } from './verification.ts';
import { discover } from './discovery.ts';
import { rejectedSummary } from './rejected.ts';

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
  const reserve =
    deps.deadlineReserveMs ??
    DEFAULT_DEADLINE_RESERVE_MS + (deps.verifyCredential ? VERIFICATION_RESERVE_MS : 0);
  const done = await mapBounded(targets, deps.concurrency ?? DEFAULT_CONCURRENCY, async (target) => {
    if (deps.remainingTimeMs && deps.remainingTimeMs() < reserve) {
      deferred.push(target.secretId);
      return undefined;
    }
    return processTarget(target, mode, request, invocation, deps, observations?.get(target.secretId));
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

async function processTarget(
  target: Target,
  mode: Mode,
  request: TargetRequest,
  invocation: Invocation,
  deps: RunDeps,
  prefetched: Prefetched | undefined,
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
        outcome: isManual(request) ? 'blocked' : 'unchanged',
        actions: [],
        via: 'secrets-manager',
        reason,
      };
    }
    const observed = await observe(target, deps, prefetched, request.command === 'rollback');
    const plan =
      request.command === 'rollback' || request.command === 'revoke'
        ? planOperator(observed, deps.policy, deps.now(), request)
        : planTarget(observed, deps.policy, deps.now(), request);
    if (mode !== 'apply') return reportPlan(base, plan, mode, observed);
    const { before, issue } = phasesOf(plan);
    if (
      issue?.type === 'issue' &&
      request.command === 'reconcile' &&
      rotatesThroughSecretsManager(target, deps) &&
      hasUsableRecord(observed)
    ) {
      return await startInSecretsManager(base, observed, before, invocation, deps);
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
      ...(plan.tampering ? { tampering: plan.tampering } : {}),
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
      const outcome = isManual(request) ? 'blocked' : partial.length > 0 ? 'retired' : 'unchanged';
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
