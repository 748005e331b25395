// The credential inventory, run by the handler after a full run (reconcile, or status of every
// target): IAM's ListServiceSpecificCredentials with AllUsers, once per service, then
// inventory.ts decides what no target covers. The result goes out as a field of the report
// (`unmanagedCredentials`), one `Unmanaged Credentials Found` event and the
// `UnmanagedCredentials` metric. It only lists: no credential it finds is ever written.
// Best effort like notify.ts: a failed listing is logged and leaves the report without the
// field, never fails the run or hides its report.
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BusEvent, PublishEvents } from './aws/eventbridge.ts';
import type { CredentialsPort } from './aws/ports.ts';
import { inventoryServices, type UnmanagedCredential, unmanagedCredentials } from './inventory.ts';
import type { Command } from './rotation/commands.ts';
import type { Credential, RunReport } from './rotation/model.ts';
import type { Log } from './rotation/deps.ts';
import { KNOWN_SERVICES } from './rotation/services.ts';
import { AUDIT_DETAIL_TYPE, METRIC } from './telemetry.ts';

/** A report with the inventory's finding (only after a full run with the inventory on). */
export interface InventoriedReport extends RunReport {
  readonly unmanagedCredentials?: readonly UnmanagedCredential[] | undefined;
}

/**
 * At most this many credentials in the event (EventBridge takes 256 KB per entry); the count
 * is always whole, and the report lists them all.
 */
export const EVENT_CREDENTIAL_LIMIT = 100;

export interface InventoryDeps {
  readonly credentials: CredentialsPort;
  readonly metrics: Metrics;
  readonly publishEvents?: PublishEvents | undefined;
  readonly log: Log;
  readonly now: () => Date;
}

/**
 * Whether a run covered every target, so that "not covered" means "no target": a reconcile, or
 * a status of all targets, that deferred nothing. A run about to time out leaves targets out
 * of its report, whose credentials would look unmanaged.
 */
export function isFullRun(command: Command, report: RunReport): boolean {
  const full =
    command.action === 'reconcile' || (command.action === 'status' && command.target === undefined);
  return full && (report.deferred?.length ?? 0) === 0;
}

/** The report with `unmanagedCredentials` added, the event sent and the metric recorded. Never throws. */
export async function takeInventory(report: RunReport, deps: InventoryDeps): Promise<InventoriedReport> {
  const listAll = deps.credentials.listAllCredentials?.bind(deps.credentials);
  if (!listAll) {
    deps.log.warn('credential inventory skipped: the IAM adapter cannot list all users');
    return report;
  }
  // Rejected secrets are not targets: a credential only they name is unmanaged.
  const covered = report.targets.map((t) => ({ userName: t.userName, serviceName: t.serviceName }));
  let listed: Credential[];
  try {
    listed = [];
    for (const service of inventoryServices(Object.keys(KNOWN_SERVICES), covered)) {
      listed.push(...(await listAll(service)));
    }
  } catch (error) {
    deps.log.warn('credential inventory failed', { error: (error as Error).message });
    return report;
  }
  const found = unmanagedCredentials(listed, covered, deps.now());
  try {
    deps.metrics.addMetric(METRIC.unmanagedCredentials, MetricUnit.Count, found.length);
  } catch (error) {
    deps.log.warn('inventory metric not recorded', { error: (error as Error).message });
  }
  if (found.length > 0) {
    deps.log.warn('unmanaged credentials found', { count: found.length });
    if (deps.publishEvents) {
      try {
        await deps.publishEvents([unmanagedCredentialsEvent(found, deps.now())]);
      } catch (error) {
        deps.log.warn('inventory event not published', { error: (error as Error).message });
      }
    }
  }
  return { ...report, unmanagedCredentials: found };
}

/** One event per run: the count, and the credentials (oldest first) up to the limit. */
export function unmanagedCredentialsEvent(found: readonly UnmanagedCredential[], at: Date): BusEvent {
  // Field by field, so that nothing but ids, names, status and times can reach the bus.
  const credentials = found.slice(0, EVENT_CREDENTIAL_LIMIT).map((c) => ({
    userName: c.userName,
    serviceName: c.serviceName,
    credentialId: c.credentialId,
    status: c.status,
    issuedAt: c.issuedAt,
    ageDays: c.ageDays,
  }));
  return {
    detailType: AUDIT_DETAIL_TYPE.unmanagedCredentials,
    time: at,
    detail: {
      count: found.length,
      credentials,
      ...(found.length > credentials.length ? { notListed: found.length - credentials.length } : {}),
      at: at.toISOString(),
    },
  };
}
