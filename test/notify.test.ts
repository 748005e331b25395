import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createEventPublisher, PUT_EVENTS_BATCH_SIZE } from '../lambda/aws/eventbridge.ts';
import { AwsCallError } from '../lambda/errors.ts';
import { notify, recordMetrics, transitionsOf } from '../lambda/notify.ts';
import type { ActionTaken, RunReport, TargetReport } from '../lambda/rotation/model.ts';
import type { Log } from '../lambda/rotation/deps.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/telemetry.ts';

const NOW = new Date('2026-11-22T03:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const AT = '2026-11-22T03:00:01.000Z';
const arn = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:service-credentials/${name}-AbCdEf`;
const PASSWORD = 'fixturePasswordDoNotLeak0123456789abcdefghijklmnopqrstuvwxyz+/=';
const act = (type: ActionTaken['type'], credentialId: string): ActionTaken => ({
  type,
  credentialId,
  at: AT,
});

function target(name: string, overrides: Partial<TargetReport>): TargetReport {
  return {
    secretId: arn(name),
    userName: name,
    serviceName: 'cassandra.amazonaws.com',
    outcome: 'unchanged',
    actions: [],
    ...overrides,
  };
}

/** One target of every kind; the rotated one carries stray secret fields a buggy executor might add. */
function sampleReport(overrides: Partial<RunReport> = {}): RunReport {
  const rotated = {
    ...target('rotated', {
      outcome: 'rotated',
      actions: [
        act('create', 'ACCANEW0000000000001'),
        act('store', 'ACCANEW0000000000001'),
        act('deactivate', 'ACCAOLD0000000000001'),
      ],
      currentCredentialId: 'ACCANEW0000000000001',
      currentIssuedAt: daysAgo(0),
    }),
    password: PASSWORD,
    servicePassword: PASSWORD,
  } as TargetReport;
  return {
    action: 'reconcile',
    dryRun: false,
    startedAt: '2026-11-22T03:00:00.000Z',
    finishedAt: '2026-11-22T03:00:05.000Z',
    targets: [
      rotated,
      target('recovered', {
        outcome: 'recovered',
        actions: [act('reset', 'ACCAORPHAN0000000001'), act('store', 'ACCAORPHAN0000000001')],
        currentCredentialId: 'ACCAORPHAN0000000001',
        currentIssuedAt: daysAgo(2),
      }),
      target('retired', {
        serviceName: 'codecommit.amazonaws.com',
        outcome: 'retired',
        actions: [act('deactivate', 'ACCAR0000000000000001'), act('delete', 'ACCAR0000000000000002')],
        currentCredentialId: 'ACCACUR0000000000001',
        currentIssuedAt: daysAgo(12.5),
      }),
      target('stale', {
        outcome: 'unchanged',
        currentCredentialId: 'ACCASTALE00000000001',
        currentIssuedAt: daysAgo(29.25),
      }),
      target('blocked', {
        outcome: 'blocked',
        reason: 'both slots taken by unknown credentials',
        currentIssuedAt: undefined,
      }),
      target('failed', {
        serviceName: 'codecommit.amazonaws.com',
        outcome: 'failed',
        reason: 'CreateServiceSpecificCredential failed: Throttling: Rate exceeded',
        currentCredentialId: 'ACCAFAIL000000000001',
        currentIssuedAt: daysAgo(40),
      }),
    ],
    ...overrides,
  };
}

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let stdout: string[];
let writeSpy: MockInstance;
beforeEach(() => {
  stdout = [];
  writeSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  writeSpy.mockRestore();
});

const emfLines = (): Emf[] =>
  stdout
    .flatMap((c) => c.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);

const newMetrics = () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

function fakeLog(): Log & { calls: [string, string, Record<string, unknown> | undefined][] } {
  const calls: [string, string, Record<string, unknown> | undefined][] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => {
    calls.push([level, message, data]);
  };
  return { calls, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('transitionsOf', () => {
  it('names one transition per create+store, reset+store, deactivate, delete and failed target', () => {
    const kinds = transitionsOf(sampleReport()).map((e) => [
      e.transition,
      e.detail.userName,
      e.detail.credentialId,
    ]);
    expect(kinds).toEqual([
      ['rotated', 'rotated', 'ACCANEW0000000000001'],
      ['retired', 'rotated', 'ACCAOLD0000000000001'],
      ['recovered', 'recovered', 'ACCAORPHAN0000000001'],
      ['retired', 'retired', 'ACCAR0000000000000001'],
      ['deleted', 'retired', 'ACCAR0000000000000002'],
      ['failed', 'failed', 'ACCAFAIL000000000001'],
    ]);
  });

  it('gives a rotation the credential retired after it as previousCredentialId', () => {
    const [rotated] = transitionsOf(sampleReport());
    expect(rotated?.detail).toEqual({
      secretId: arn('rotated'),
      userName: 'rotated',
      serviceName: 'cassandra.amazonaws.com',
      credentialId: 'ACCANEW0000000000001',
      previousCredentialId: 'ACCAOLD0000000000001',
      at: AT,
    });
  });

  it('puts the reason on a failed target and the run end as its time', () => {
    const failed = transitionsOf(sampleReport()).find((e) => e.transition === 'failed');
    expect(failed?.detail.reason).toBe('CreateServiceSpecificCredential failed: Throttling: Rate exceeded');
    expect(failed?.detail.at).toBe('2026-11-22T03:00:05.000Z');
  });

  it('does not count a created credential that was never stored as a rotation', () => {
    const report = sampleReport({
      targets: [
        target('half', {
          outcome: 'failed',
          actions: [act('create', 'ACCAHALF000000000001')],
          reason: 'store failed',
        }),
      ],
    });
    expect(transitionsOf(report).map((e) => e.transition)).toEqual(['failed']);
  });

  it('has none for a dry run or a status report', () => {
    expect(transitionsOf(sampleReport({ dryRun: true }))).toEqual([]);
    expect(transitionsOf(sampleReport({ action: 'status' }))).toEqual([]);
  });

  it('carries no secret, whatever the report entries hold', () => {
    expect(JSON.stringify(transitionsOf(sampleReport()))).not.toContain(PASSWORD);
  });
});

describe('recordMetrics', () => {
  it('emits the counts and the oldest credential age, overall and per service', () => {
    const metrics = newMetrics();
    recordMetrics(sampleReport(), metrics, NOW);
    metrics.publishStoredMetrics();

    const lines = emfLines();
    const main = lines.find((l) => 'Targets' in l);
    expect(main).toMatchObject({
      service: METRICS_SERVICE,
      Rotations: 1,
      Recoveries: 1,
      Retirements: 2,
      Deletions: 1,
      FailedTargets: 1,
      BlockedTargets: 1,
      Targets: 6,
      DeferredTargets: 0,
      OldestCredentialAgeDays: 40,
    });
    expect(main?._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(main?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);

    const perService = Object.fromEntries(
      lines.filter((l) => 'ServiceName' in l).map((l) => [l.ServiceName, l.OldestCredentialAgeDays]),
    );
    expect(perService).toEqual({ 'cassandra.amazonaws.com': 29.25, 'codecommit.amazonaws.com': 40 });
    for (const l of lines.filter((x) => 'ServiceName' in x)) {
      expect(l._aws.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(
        expect.arrayContaining(['service', 'ServiceName']),
      );
    }
    expect(stdout.join('')).not.toContain(PASSWORD);
  });

  it('counts no transitions for a dry run but still reports targets and ages', () => {
    const metrics = newMetrics();
    recordMetrics(sampleReport({ dryRun: true }), metrics, NOW);
    metrics.publishStoredMetrics();
    const main = emfLines().find((l) => 'Targets' in l);
    expect(main).toMatchObject({ Rotations: 0, Recoveries: 0, Retirements: 0, Deletions: 0, Targets: 6 });
    expect(main?.OldestCredentialAgeDays).toBe(40);
  });

  it('emits no age when no target has a current credential', () => {
    const metrics = newMetrics();
    recordMetrics(sampleReport({ targets: [target('new', { outcome: 'blocked' })] }), metrics, NOW);
    metrics.publishStoredMetrics();
    const lines = emfLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('OldestCredentialAgeDays');
    expect(lines[0]).toMatchObject({ BlockedTargets: 1, Targets: 1 });
  });
});

describe('notify with EventBridge', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => {
    eventBridge.reset();
  });

  const sentEntries = (): PutEventsRequestEntry[] =>
    eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);

  it('sends one event per transition with the documented source, detail types and details', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const log = fakeLog();
    await notify(sampleReport(), {
      metrics: newMetrics(),
      publishEvents: createEventPublisher(new EventBridgeClient({}), 'ops-bus'),
      log,
      now: () => NOW,
    });

    const entries = sentEntries();
    expect(entries.map((e) => e.DetailType)).toEqual([
      EVENT_DETAIL_TYPE.rotated,
      EVENT_DETAIL_TYPE.retired,
      EVENT_DETAIL_TYPE.recovered,
      EVENT_DETAIL_TYPE.retired,
      EVENT_DETAIL_TYPE.deleted,
      EVENT_DETAIL_TYPE.failed,
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ Source: EVENT_SOURCE, EventBusName: 'ops-bus' });
      const detail = JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>;
      expect(
        Object.keys(detail).every((k) =>
          [
            'secretId',
            'userName',
            'serviceName',
            'credentialId',
            'previousCredentialId',
            'at',
            'reason',
          ].includes(k),
        ),
      ).toBe(true);
      expect(entry.Resources).toEqual([detail.secretId]);
      expect(entry.Time).toEqual(new Date(detail.at as string));
    }
    expect(JSON.parse(entries[2]?.Detail ?? '{}')).toEqual({
      secretId: arn('recovered'),
      userName: 'recovered',
      serviceName: 'cassandra.amazonaws.com',
      credentialId: 'ACCAORPHAN0000000001',
      at: AT,
    });
    expect(JSON.stringify(entries)).not.toContain(PASSWORD);
    expect(log.calls.filter(([level]) => level === 'warn')).toEqual([]);
  });

  it('sends events in batches of 10', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const deletes = Array.from({ length: 23 }, (_, i) =>
      act('delete', `ACCADEL${String(i).padStart(13, '0')}`),
    );
    const report = sampleReport({ targets: [target('many', { outcome: 'retired', actions: deletes })] });
    await notify(report, {
      metrics: newMetrics(),
      publishEvents: createEventPublisher(new EventBridgeClient({}), 'ops-bus'),
      log: fakeLog(),
      now: () => NOW,
    });
    const sizes = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(PUT_EVENTS_BATCH_SIZE).toBe(10);
    expect(sizes).toEqual([10, 10, 3]);
    expect(sentEntries().map((e) => JSON.parse(e.Detail ?? '{}').credentialId)).toEqual(
      deletes.map((d) => d.credentialId),
    );
  });

  it('sends nothing for a dry run, a status report or without a bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const publishEvents = createEventPublisher(new EventBridgeClient({}), 'ops-bus');
    const deps = { metrics: newMetrics(), log: fakeLog(), now: () => NOW };
    await notify(sampleReport({ dryRun: true }), { ...deps, publishEvents });
    await notify(sampleReport({ action: 'status' }), { ...deps, publishEvents });
    await notify(sampleReport(), deps);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('logs a warning and resolves when PutEvents fails', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('Access denied'), { name: 'AccessDeniedException' }));
    const log = fakeLog();
    const metrics = newMetrics();
    await expect(
      notify(sampleReport(), {
        metrics,
        publishEvents: createEventPublisher(new EventBridgeClient({}), 'ops-bus'),
        log,
        now: () => NOW,
      }),
    ).resolves.toBeUndefined();
    const warnings = log.calls.filter(([level]) => level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[1]).toBe('events not published');
    expect(warnings[0]?.[2]?.error).toContain('AccessDeniedException');
    // Metrics are still recorded.
    metrics.publishStoredMetrics();
    expect(emfLines().find((l) => 'Targets' in l)).toMatchObject({ Rotations: 1 });
  });

  it('reports entries EventBridge rejected, after trying every batch', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: '1' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [] });
    const publish = createEventPublisher(new EventBridgeClient({}), 'ops-bus');
    const events = Array.from({ length: 12 }, (_, i) => ({
      detailType: 'Credential Deleted',
      detail: { i },
    }));
    const error = await publish(events).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as Error).message).toContain('1 of 12 event(s) not published');
    expect((error as Error).message).toContain('InternalFailure');
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
  });
});
