// The plan's phases, for the callers that carry out part of a plan: Secrets Manager's
// createSecret and finishSecret steps. The cut is the planner's, so no caller slices a plan itself.
import type { ObservedTarget, Policy } from './model.ts';
import { type Plan, type PlannedAction, planTarget } from './plan.ts';

/**
 * A plan cut at the step that stores a new current record: `before` makes room (rule 1's due
 * retirements, a forced rotation's early deletes), `issue` is that step (issue, adopt or a
 * rollback's restore), `after` retires what it replaced. A plan that stores nothing is all
 * `before`. The run carries out the whole plan; Secrets Manager's rotation steps carry out a
 * phase (the functions below).
 */
export interface PlanPhases {
  readonly before: readonly PlannedAction[];
  readonly issue?: PlannedAction | undefined;
  readonly after: readonly PlannedAction[];
}

export function phasesOf(plan: Plan): PlanPhases {
  const at = plan.actions.findIndex((a) => a.type === 'issue' || a.type === 'adopt' || a.type === 'restore');
  if (at < 0) return { before: plan.actions, after: [] };
  return { before: plan.actions.slice(0, at), issue: plan.actions[at], after: plan.actions.slice(at + 1) };
}

/**
 * Secrets Manager's createSecret: rule 1's due retirements and the issue (or the adoption of
 * what an earlier attempt issued), not the retirement of the credential it replaces, which is
 * finishSecret's once AWSCURRENT has moved. Refused (failed, no actions) when nothing can be
 * issued, typically both slots taken and one still in its grace period: deleting it early is
 * what a manual rotate with "force" is for, never a rotation step.
 */
export function planIssue(observed: ObservedTarget, policy: Policy, now: Date, requestId: string): Plan {
  const plan = planTarget(observed, policy, now, { command: 'rotate', force: false, requestId });
  const { before, issue } = phasesOf(plan);
  // A failed or blocked plan never carries an issue (the planner's rule), so this one test covers them.
  if (issue === undefined) {
    return {
      ...plan,
      outcome: 'failed',
      actions: [],
      reason: `no credential can be issued: ${plan.reason ?? `the target is ${plan.outcome}`}`,
    };
  }
  return { ...plan, actions: [...before, issue] };
}

/**
 * Secrets Manager's finishSecret: rule 1 alone (switch off, delete), on the replaced credential
 * once the new one is current; never an issue, an adoption or a switch back on.
 */
export function planRetirement(observed: ObservedTarget, policy: Policy, now: Date): Plan {
  const plan = planTarget(observed, policy, now);
  return { ...plan, actions: plan.actions.filter((a) => a.type === 'deactivate' || a.type === 'delete') };
}
