// The credential inventory: which credentials no target covers (pure), and how the handler
// reports them after a full run (a report field, one event, one metric), never touching them.
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import type { CredentialsPort } from '../../lambda/aws/ports.ts';
import { inventoryServices, unmanagedCredentials } from '../../lambda/inventory.ts';
import type { Credential, RunReport } from '../../lambda/rotation/model.ts';
import { AUDIT_DETAIL_TYPE, METRIC } from '../../lambda/telemetry.ts';
import {
  EVENT_CREDENTIAL_LIMIT,
  isFullRun,
  takeInventory,
  unmanagedCredentialsEvent,
} from '../../lambda/unmanaged.ts';

const NOW = new Date('2026-06-30T00:00:00Z');
const cred = (
  id: string,
  userName: string,
  serviceName: string,
  createdAt: string,
  status: Credential['status'] = 'Active',
): Credential => ({
  id,
  userName,
  serviceName,
  status,
  createdAt: new Date(createdAt),
});

describe('unmanagedCredentials (pure)', () => {
  it('lists the credentials whose user and service no target covers, oldest first, with status and whole days of age', () => {
    const listed = [
      cred('ACCA1', 'app', 'cassandra.amazonaws.com', '2026-06-01T00:00:00Z'),
      cred('ACCA2', 'legacy', 'codecommit.amazonaws.com', '2026-05-01T12:00:00Z', 'Inactive'),
      cred('ACCA3', 'app', 'bedrock.amazonaws.com', '2026-06-29T23:00:00Z'),
      cred('ACCA4', 'legacy', 'codecommit.amazonaws.com', '2026-06-20T00:00:00Z', 'Expired'),
    ];
    const found = unmanagedCredentials(
      listed,
      [{ userName: 'app', serviceName: 'cassandra.amazonaws.com' }],
      NOW,
    );
    expect(found).toEqual([
      {
        userName: 'legacy',
        serviceName: 'codecommit.amazonaws.com',
        credentialId: 'ACCA2',
        status: 'Inactive',
        issuedAt: '2026-05-01T12:00:00.000Z',
        ageDays: 59,
      },
      {
        userName: 'legacy',
        serviceName: 'codecommit.amazonaws.com',
        credentialId: 'ACCA4',
        status: 'Expired',
        issuedAt: '2026-06-20T00:00:00.000Z',
        ageDays: 10,
      },
      // The same user, another service: a target covers a pair, not a user.
      {
        userName: 'app',
        serviceName: 'bedrock.amazonaws.com',
        credentialId: 'ACCA3',
        status: 'Active',
        issuedAt: '2026-06-29T23:00:00.000Z',
        ageDays: 0,
      },
    ]);
  });

  it('matches user names case-insensitively (IAM does) and lists a credential seen twice once', () => {
    const c = cred('ACCA1', 'App', 'cassandra.amazonaws.com', '2026-06-01T00:00:00Z');
    expect(
      unmanagedCredentials([c], [{ userName: 'app', serviceName: 'cassandra.amazonaws.com' }], NOW),
    ).toEqual([]);
    expect(unmanagedCredentials([c, c], [], NOW).map((u) => u.credentialId)).toEqual(['ACCA1']);
  });

  it('lists every known service and any other a target names', () => {
    expect(
      inventoryServices(
        ['b.amazonaws.com', 'a.amazonaws.com'],
        [{ userName: 'u', serviceName: 'new.amazonaws.com' }],
      ),
    ).toEqual(['a.amazonaws.com', 'b.amazonaws.com', 'new.amazonaws.com']);
  });
});

const report = (
  targets: { userName: string; serviceName: string }[],
  extra: Partial<RunReport> = {},
): RunReport => ({
  action: 'reconcile',
  dryRun: false,
  startedAt: NOW.toISOString(),
  finishedAt: NOW.toISOString(),
  targets: targets.map((t) => ({
    ...t,
    secretId: `arn:${t.userName}`,
    outcome: 'unchanged',
    actions: [],
  })) as unknown as RunReport['targets'],
  ...extra,
});

function deps(listAll: CredentialsPort['listAllCredentials']) {
  const metrics = new Metrics({ namespace: 'test', serviceName: 'test' });
  const added = vi.spyOn(metrics, 'addMetric');
  const published: unknown[] = [];
  const warnings: string[] = [];
  const credentials = {
    listCredentials: vi.fn(),
    listAllCredentials: listAll,
    createCredential: vi.fn(),
    resetCredential: vi.fn(),
    setCredentialStatus: vi.fn(),
    deleteCredential: vi.fn(),
  } as unknown as CredentialsPort;
  return {
    credentials,
    added,
    published,
    warnings,
    deps: {
      credentials,
      metrics,
      publishEvents: async (events: readonly unknown[]) => {
        published.push(...events);
      },
      log: { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} },
      now: () => NOW,
    },
  };
}

describe('takeInventory (the handler step)', () => {
  it('adds the field, sends one event and records the count, listing each service once and writing nothing', async () => {
    const listAll = vi.fn(async (service?: string) =>
      service === 'codecommit.amazonaws.com'
        ? [cred('ACCAX', 'legacy', service, '2026-06-01T00:00:00Z')]
        : [],
    );
    const d = deps(listAll);
    const out = await takeInventory(
      report([{ userName: 'app', serviceName: 'cassandra.amazonaws.com' }]),
      d.deps,
    );

    expect(out.unmanagedCredentials?.map((c) => c.credentialId)).toEqual(['ACCAX']);
    expect(listAll.mock.calls.map((c) => c[0])).toEqual([
      'bedrock.amazonaws.com',
      'cassandra.amazonaws.com',
      'codecommit.amazonaws.com',
      'logs.amazonaws.com',
    ]);
    expect(d.added).toHaveBeenCalledWith(METRIC.unmanagedCredentials, 'Count', 1);
    expect(d.published).toEqual([
      expect.objectContaining({
        detailType: AUDIT_DETAIL_TYPE.unmanagedCredentials,
        detail: expect.objectContaining({ count: 1 }),
      }),
    ]);
    for (const write of [
      'createCredential',
      'resetCredential',
      'setCredentialStatus',
      'deleteCredential',
    ] as const) {
      expect(d.credentials[write]).not.toHaveBeenCalled();
    }
  });

  it('a clean account: the field is empty, the metric says 0, no event', async () => {
    const d = deps(async () => []);
    const out = await takeInventory(report([]), d.deps);
    expect(out.unmanagedCredentials).toEqual([]);
    expect(d.added).toHaveBeenCalledWith(METRIC.unmanagedCredentials, 'Count', 0);
    expect(d.published).toEqual([]);
  });

  it('a failed listing (AccessDenied) leaves the report as it was and says so in a warning', async () => {
    const d = deps(async () => {
      throw new Error('AccessDenied: not authorized to perform iam:ListServiceSpecificCredentials');
    });
    const before = report([]);
    expect(await takeInventory(before, d.deps)).toBe(before);
    expect(d.warnings).toEqual(['credential inventory failed']);
    expect(d.added).not.toHaveBeenCalled();
  });

  it('the event carries the count whole and at most the limit of credentials, ids and times only', () => {
    const many = Array.from({ length: EVENT_CREDENTIAL_LIMIT + 5 }, (_, i) => ({
      userName: `u${i}`,
      serviceName: 'codecommit.amazonaws.com',
      credentialId: `ACCA${i}`,
      status: 'Active' as const,
      issuedAt: NOW.toISOString(),
      ageDays: 1,
      password: 'must-not-leak',
    }));
    const event = unmanagedCredentialsEvent(many, NOW);
    const detail = event.detail as { count: number; credentials: unknown[]; notListed: number };
    expect(detail.count).toBe(EVENT_CREDENTIAL_LIMIT + 5);
    expect(detail.credentials).toHaveLength(EVENT_CREDENTIAL_LIMIT);
    expect(detail.notListed).toBe(5);
    expect(JSON.stringify(event)).not.toContain('must-not-leak');
  });

  it('runs only after a full run: reconcile, or status of all, that deferred nothing', () => {
    expect(isFullRun({ action: 'reconcile', dryRun: false }, report([]))).toBe(true);
    expect(isFullRun({ action: 'status' }, report([]))).toBe(true);
    expect(isFullRun({ action: 'status', target: { secretId: 'x' } }, report([]))).toBe(false);
    expect(
      isFullRun({ action: 'rotate', target: { secretId: 'x' }, force: false, dryRun: false }, report([])),
    ).toBe(false);
    expect(isFullRun({ action: 'reconcile', dryRun: false }, report([], { deferred: ['arn:x'] }))).toBe(
      false,
    );
  });
});
