// Turns a run's report into what operators watch: CloudWatch metrics (through Powertools
// Metrics, flushed by the handler's logMetrics middleware) and one EventBridge event per
// credential transition. Everything is built field by field from ids, names and times in
// the report, so no password or API key can reach a metric or an event. Publishing is best
// effort: a failure is logged and never fails the run or hides its report.
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BusEvent, PublishEvents } from './aws/eventbridge.ts';
import type { Command, TargetRef } from './rotation/commands.ts';
import type { RunReport, TargetReport } from './rotation/model.ts';
import type { Log } from './rotation/deps.ts';
import { redactHeld } from './redact.ts';
import { rejectedSummary } from './rotation/rejected.ts';
import { passed } from './rotation/verification.ts';
import { AUDIT_DETAIL_TYPE, EVENT_DETAIL_TYPE, METRIC } from './telemetry.ts';

export type Transition = keyof typeof EVENT_DETAIL_TYPE;

/** The `detail` of every transition event. Ids, names and times only. */
export interface TransitionDetail {
  readonly secretId: string;
  readonly userName: string;
  readonly serviceName: string;
  /** The credential concerned; absent only on `failed` when the target has no current credential. */
  readonly credentialId?: string | undefined;
  /**
   * rotated: the credential retired in the same run after the new one was stored, when there was
   * one; rolledBack: the credential rolled back (retired by the rollback).
   */
  readonly previousCredentialId?: string | undefined;
  /** revoked: the credential AWSCURRENT names after the revoke (a new one when the current one leaked). */
  readonly currentCredentialId?: string | undefined;
  /** When the transition happened (the action's time; the run's end for `failed`), ISO 8601. */
  readonly at: string;
  /** failed, unverified: what went wrong. */
  readonly reason?: string | undefined;
}

export interface TransitionEvent {
  readonly transition: Transition;
  readonly detail: TransitionDetail;
}

/** Dimension of the per-service OldestCredentialAgeDays metric. */
export const SERVICE_NAME_DIMENSION = 'ServiceName';

const DAY_MS = 86_400_000;

function detailOf(
  t: TargetReport,
  fields: {
    credentialId: string | undefined;
    at: string;
    previousCredentialId?: string;
    currentCredentialId?: string | undefined;
    reason?: string | undefined;
  },
): TransitionDetail {
  // Built from named fields only (never by spreading a report entry), so nothing else leaks.
  return {
    secretId: t.secretId,
    userName: t.userName,
    serviceName: t.serviceName,
    ...(fields.credentialId !== undefined ? { credentialId: fields.credentialId } : {}),
    ...(fields.previousCredentialId !== undefined
      ? { previousCredentialId: fields.previousCredentialId }
      : {}),
    ...(fields.currentCredentialId !== undefined ? { currentCredentialId: fields.currentCredentialId } : {}),
    at: fields.at,
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
  };
}

/** The transitions one target went through, in the order its actions were taken. */
function transitionsOfTarget(t: TargetReport, reportAction: RunReport['action']): TransitionEvent[] {
  const out: TransitionEvent[] = [];
  t.actions.forEach((action, i) => {
    switch (action.type) {
      case 'store': {
        // A stored credential is a transition only once it was issued (create) or re-issued
        // (reset) in this run; a create that never got stored is left to the next run's recovery.
        const issued = t.actions
          .slice(0, i)
          .findLast(
            (a) => (a.type === 'create' || a.type === 'reset') && a.credentialId === action.credentialId,
          );
        // finishSecret's store is AWSCURRENT moving to what createSecret issued earlier.
        if (!issued && reportAction !== 'rotation-step') break;
        if (!issued || issued.type === 'create') {
          // Rule 2: after storing the new credential, the run retires the one it replaced.
          const previous = t.actions
            .slice(i + 1)
            .find(
              (a) =>
                (a.type === 'deactivate' || a.type === 'delete') && a.credentialId !== action.credentialId,
            );
          out.push({
            transition: 'rotated',
            detail: detailOf(t, {
              credentialId: action.credentialId,
              at: action.at,
              ...(previous ? { previousCredentialId: previous.credentialId } : {}),
            }),
          });
        } else {
          out.push({
            transition: 'recovered',
            detail: detailOf(t, { credentialId: action.credentialId, at: action.at }),
          });
        }
        break;
      }
      case 'deactivate':
        out.push({
          transition: 'retired',
          detail: detailOf(t, { credentialId: action.credentialId, at: action.at }),
        });
        break;
      case 'delete':
        out.push({
          transition: 'deleted',
          detail: detailOf(t, { credentialId: action.credentialId, at: action.at }),
        });
        break;
      default:
        break;
    }
  });
  return out;
}

/**
 * Every credential transition of a run: unverified (a new credential the service did not
 * accept, whatever the mode), rotated (create + store), recovered (reset + store), retired
 * (deactivate), deleted (delete), and failed (a target whose outcome is `failed`).
 * Dry runs and status reports changed nothing, so they have none.
 */
export function transitionsOf(report: RunReport): TransitionEvent[] {
  if (report.dryRun || report.action === 'status') return [];
  const out: TransitionEvent[] = [];
  for (const t of report.targets) {
    const v = t.verification;
    if (v && !passed(v.outcome)) {
      const checked = t.actions.find(
        (a) => (a.type === 'create' || a.type === 'reset') && a.credentialId === v.credentialId,
      );
      out.push({
        transition: 'unverified',
        detail: detailOf(t, {
          credentialId: v.credentialId,
          at: checked?.at ?? report.finishedAt,
          reason: `${v.outcome} (verification: ${v.mode}): ${v.reason}`,
        }),
      });
    }
    out.push(...transitionsOfTarget(t, report.action), ...operatorTransitions(t, report.finishedAt));
    if (t.outcome === 'failed') {
      out.push({
        transition: 'failed',
        detail: detailOf(t, { credentialId: t.currentCredentialId, at: report.finishedAt, reason: t.reason }),
      });
    }
  }
  return out;
}

/**
 * The operator's transitions, after the credential transitions they caused. Rolled back: the
 * current credential, and the one it replaced (the rollback's deactivate or delete). Revoked:
 * the credential of the last deactivate or delete (operator.ts plans the revoked credential's
 * own steps last); a revoke that found it switched off already changed nothing and sends none.
 */
function operatorTransitions(t: TargetReport, finishedAt: string): TransitionEvent[] {
  const retired = t.actions.filter((a) => a.type === 'deactivate' || a.type === 'delete');
  if (t.outcome === 'rolled-back') {
    const stored = t.actions.find((a) => a.type === 'store');
    const previous = retired[0];
    return [
      {
        transition: 'rolledBack',
        detail: detailOf(t, {
          credentialId: t.currentCredentialId,
          at: stored?.at ?? finishedAt,
          ...(previous ? { previousCredentialId: previous.credentialId } : {}),
        }),
      },
    ];
  }
  const revoked = retired.at(-1);
  if (t.outcome === 'revoked' && revoked) {
    return [
      {
        transition: 'revoked',
        detail: detailOf(t, {
          credentialId: revoked.credentialId,
          at: revoked.at,
          currentCredentialId: t.currentCredentialId,
        }),
      },
    ];
  }
  return [];
}

export function toBusEvent(event: TransitionEvent): BusEvent {
  const { secretId, at } = event.detail;
  return {
    detailType: EVENT_DETAIL_TYPE[event.transition],
    detail: event.detail,
    time: new Date(at),
    // Only an ARN is a resource EventBridge rules can match on.
    resources: secretId.startsWith('arn:') ? [secretId] : undefined,
  };
}

/** Age of the current credential per target, in days, for those that have one. */
function currentAges(report: RunReport, now: Date): { serviceName: string; days: number }[] {
  const ages: { serviceName: string; days: number }[] = [];
  for (const t of report.targets) {
    if (!t.currentIssuedAt) continue;
    const issued = Date.parse(t.currentIssuedAt);
    if (Number.isNaN(issued)) continue;
    ages.push({ serviceName: t.serviceName, days: Math.max(0, (now.getTime() - issued) / DAY_MS) });
  }
  return ages;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Adds the run's metrics to `metrics` (published by the logMetrics middleware) and emits the
 * per-service OldestCredentialAgeDays at once through single metrics. Transition counts are
 * the transitions of transitionsOf (so 0 for dry runs and status); FailedTargets,
 * BlockedTargets and Targets count targets by outcome.
 */
export function recordMetrics(report: RunReport, metrics: Metrics, now: Date): void {
  const transitions = transitionsOf(report);
  const count = (kind: TransitionEvent['transition']) =>
    transitions.filter((e) => e.transition === kind).length;
  const outcomes = (outcome: TargetReport['outcome']) =>
    report.targets.filter((t) => t.outcome === outcome).length;

  metrics.addMetric(METRIC.rotations, MetricUnit.Count, count('rotated'));
  metrics.addMetric(METRIC.recoveries, MetricUnit.Count, count('recovered'));
  metrics.addMetric(METRIC.retirements, MetricUnit.Count, count('retired'));
  metrics.addMetric(METRIC.deletions, MetricUnit.Count, count('deleted'));
  metrics.addMetric(METRIC.failedTargets, MetricUnit.Count, outcomes('failed'));
  metrics.addMetric(METRIC.blockedTargets, MetricUnit.Count, outcomes('blocked'));
  metrics.addMetric(METRIC.targets, MetricUnit.Count, report.targets.length);
  metrics.addMetric(METRIC.rejectedSecrets, MetricUnit.Count, report.rejected?.length ?? 0);
  metrics.addMetric(
    METRIC.tamperedSecrets,
    MetricUnit.Count,
    report.targets.filter((t) => t.tampering !== undefined).length,
  );
  metrics.addMetric(METRIC.verificationFailures, MetricUnit.Count, count('unverified'));
  metrics.addMetric(METRIC.deferredTargets, MetricUnit.Count, report.deferred?.length ?? 0);

  const ages = currentAges(report, now);
  if (ages.length === 0) return;
  metrics.addMetric(
    METRIC.oldestCredentialAgeDays,
    MetricUnit.NoUnit,
    round2(Math.max(...ages.map((a) => a.days))),
  );
  const oldestPerService = new Map<string, number>();
  for (const { serviceName, days } of ages) {
    oldestPerService.set(serviceName, Math.max(days, oldestPerService.get(serviceName) ?? 0));
  }
  for (const [serviceName, days] of oldestPerService) {
    const single = metrics.singleMetric();
    single.addDimension(SERVICE_NAME_DIMENSION, serviceName);
    single.addMetric(METRIC.oldestCredentialAgeDays, MetricUnit.NoUnit, round2(days));
  }
}

export interface NotifyDeps {
  readonly metrics: Metrics;
  /** Absent when no event bus is configured: no events are sent. */
  readonly publishEvents?: PublishEvents | undefined;
  readonly log: Log;
  readonly now: () => Date;
}

/** Metrics and transition events for a finished run. Never throws. */
export async function notify(report: RunReport, deps: NotifyDeps): Promise<void> {
  try {
    recordMetrics(report, deps.metrics, deps.now());
  } catch (error) {
    deps.log.warn('metrics not recorded', { error: messageOf(error) });
  }
  if (!deps.publishEvents) return;
  const events = transitionsOf(report);
  const rejections = [...rejectionsOf(report), ...tamperingsOf(report)];
  if (events.length === 0 && rejections.length === 0) return;
  try {
    await deps.publishEvents([...events.map(toBusEvent), ...rejections]);
    deps.log.debug('events published', { count: events.length });
  } catch (error) {
    deps.log.warn('events not published', { count: events.length, error: messageOf(error) });
  }
}

/**
 * One `Secret Rejected` event per run that rejected any secret (tagged but not declared, or a
 * look-alike of a declared secret: a declared name without the ARN the stack created): counts
 * and the first few secrets (rejected.ts), not one event each, so that a thousand tagged
 * secrets cannot flood the bus. Sent on every run that sees them (dry runs and status
 * included: it is an observation, not a change).
 */
export function rejectionsOf(report: RunReport): BusEvent[] {
  const rejected = report.rejected ?? [];
  if (rejected.length === 0) return [];
  const summary = rejectedSummary(rejected);
  const arns = summary.secrets.map((r) => r.secretId).filter((id) => id.startsWith('arn:'));
  return [
    {
      detailType: AUDIT_DETAIL_TYPE.secretRejected,
      detail: { ...summary, at: report.finishedAt },
      time: new Date(report.finishedAt),
      resources: arns.length > 0 ? arns : undefined,
    },
  ];
}

/**
 * One `Secret Tampering Detected` event per target whose AWSCURRENT held a value the rotator
 * did not write, with what the run did instead: `restored` (the record of the credential in
 * use written back), `planned` (a dry run or status saw it) or `held` (nothing written; the
 * target failed). Sent on every run that sees it: it is an observation.
 */
export function tamperingsOf(report: RunReport): BusEvent[] {
  return report.targets.flatMap((t) => {
    if (t.tampering === undefined) return [];
    const response = t.outcome === 'recovered' ? 'restored' : t.outcome === 'planned' ? 'planned' : 'held';
    return [
      {
        detailType: AUDIT_DETAIL_TYPE.secretTampering,
        detail: {
          secretId: t.secretId,
          userName: t.userName,
          serviceName: t.serviceName,
          ...(t.currentCredentialId !== undefined ? { credentialId: t.currentCredentialId } : {}),
          response,
          reason: t.tampering,
          at: report.finishedAt,
        },
        time: new Date(report.finishedAt),
        resources: t.secretId.startsWith('arn:') ? [t.secretId] : undefined,
      },
    ];
  });
}

/** The `detail` of a `Manual Command` event: what was asked, and by which invocation. */
export interface ManualCommandDetail {
  readonly action: 'rotate' | 'status' | 'rollback' | 'revoke';
  readonly target?: TargetRef | undefined;
  readonly force: boolean;
  /** revoke: the credential named (absent: the current one). */
  readonly credentialId?: string | undefined;
  /** revoke: deleted at once. */
  readonly delete?: boolean | undefined;
  readonly dryRun: boolean;
  /** The Lambda invocation's request id (also in CloudTrail's Invoke data event, and in every log line). */
  readonly requestId: string;
  /** Who asked, when the invocation says (a Cognito identity); Lambda does not pass the IAM caller. */
  readonly caller?: string | undefined;
  readonly at: string;
}

/** The audit record of a manual command, or undefined for a scheduled reconcile. */
export function manualCommandOf(
  command: Command,
  requestId: string,
  at: Date,
  caller?: string | undefined,
): ManualCommandDetail | undefined {
  // A rotation step is Secrets Manager's call: CloudTrail records who started the rotation.
  if (command.action === 'reconcile' || command.action === 'rotation-step') return undefined;
  return {
    action: command.action,
    // Built field by field: a target reference holds names only.
    ...(command.target
      ? {
          target:
            'secretId' in command.target
              ? { secretId: command.target.secretId }
              : { userName: command.target.userName, serviceName: command.target.serviceName },
        }
      : {}),
    force: command.action === 'rotate' ? command.force : false,
    ...(command.action === 'revoke'
      ? {
          ...(command.credentialId !== undefined ? { credentialId: command.credentialId } : {}),
          delete: command.delete,
        }
      : {}),
    // A status changes nothing, like a dry run.
    dryRun: command.action === 'status' ? true : command.dryRun,
    requestId,
    ...(caller ? { caller } : {}),
    at: at.toISOString(),
  };
}

export function manualCommandEvent(detail: ManualCommandDetail): BusEvent {
  return {
    detailType: AUDIT_DETAIL_TYPE.manualCommand,
    detail,
    time: new Date(detail.at),
    resources: undefined,
  };
}

/** A failure's text for a log line, redacted with every secret the process holds (redact.ts). */
function messageOf(error: unknown): string {
  return redactHeld(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}
