// The hand-off to Secrets Manager: a target whose rotation in Secrets Manager names this
// function is rotated by RotateSecret (its four steps, protocol.ts), not by the run itself.
import { RotationInProgressError } from '../errors.ts';
import type { Invocation, RunDeps } from './deps.ts';
import { ExecutionError, execute } from './execute.ts';
import type { ObservedTarget, Target, TargetReport } from './model.ts';
import type { PlannedAction } from './plan.ts';
import { recordedId } from './report.ts';

/** Lambda ARNs name the same function whatever qualifier (version, alias) they carry. */
export function sameFunction(a: string, b: string): boolean {
  const unqualified = (arn: string) => arn.split(':').slice(0, 7).join(':');
  return unqualified(a) === unqualified(b);
}

/** The version of a rotation Secrets Manager has started and not finished, if any. */
export function rotationInProgress(target: Target): string | undefined {
  const r = target.rotation;
  return r?.enabled && r.pendingVersionId ? r.pendingVersionId : undefined;
}

/** Whether the target's rotation is on in Secrets Manager with this function. */
export function rotatesThroughSecretsManager(target: Target, deps: RunDeps): boolean {
  const r = target.rotation;
  if (!r?.enabled || !r.functionArn) return false;
  return deps.functionArn === undefined || sameFunction(r.functionArn, deps.functionArn);
}

/**
 * Rule 2 for a target whose rotation in Secrets Manager names this function: the run does what
 * rule 1 asks first (the room the new credential needs), then starts RotateSecret, so that
 * Secrets Manager's dates and CloudTrail's rotation events are right; the four steps issue the
 * credential. Bootstrap and recovery never come here: they stay with the run.
 */
export async function startInSecretsManager(
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
    const versionId = await deps.secrets.rotateSecret(observed.target.secretId);
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
export function hasUsableRecord(observed: ObservedTarget): boolean {
  const id = recordedId(observed);
  return observed.credentials.some((c) => c.id === id && c.status === 'Active');
}
