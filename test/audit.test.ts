// Audited manual commands: whoever may invoke the function may force a rotation (an early
// deletion), so each rotate, force, status and dry run is recorded under the invocation's
// request id, in a log line and a `Manual Command` event, before it runs.
import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../lambda/aws/eventbridge.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import { DEFAULT_POLICY } from '../lambda/config.ts';
import { createHandler } from '../lambda/handler.ts';
import { AUDIT_DETAIL_TYPE, METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/telemetry.ts';
import { fakeLambdaContext as lambdaContext } from '../invariants/index.ts';
import { handlerFor } from './support/handler.ts';
import { World } from './support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const REQUEST_ID = 'c6af9ac6-7b61-11e6-9a41-93e812345678';
const context = () => lambdaContext({ awsRequestId: REQUEST_ID });

const auditEvents = (events: readonly BusEvent[]) =>
  events.filter((e) => e.detailType === AUDIT_DETAIL_TYPE.manualCommand);

function auditLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.message === 'manual command');
}

describe('manual commands are audited', () => {
  it.each([
    [
      { action: 'rotate', userName: 'app', serviceName: KEYSPACES },
      { action: 'rotate', force: false, dryRun: false },
    ],
    [
      { action: 'rotate', userName: 'app', serviceName: KEYSPACES, force: true },
      { action: 'rotate', force: true, dryRun: false },
    ],
    [
      { action: 'rotate', userName: 'app', serviceName: KEYSPACES, dryRun: true },
      { action: 'rotate', force: false, dryRun: true },
    ],
    [
      { action: 'status', userName: 'app', serviceName: KEYSPACES },
      { action: 'status', force: false, dryRun: true },
    ],
    [
      { action: 'rollback', userName: 'app', serviceName: KEYSPACES },
      { action: 'rollback', force: false, dryRun: false },
    ],
    [
      {
        action: 'revoke',
        userName: 'app',
        serviceName: KEYSPACES,
        credentialId: 'ACCAEXAMPLE0CREDENTIAL1',
        delete: true,
      },
      {
        action: 'revoke',
        force: false,
        dryRun: false,
        credentialId: 'ACCAEXAMPLE0CREDENTIAL1',
        delete: true,
      },
    ],
    [
      { action: 'revoke', userName: 'app', serviceName: KEYSPACES, dryRun: true },
      { action: 'revoke', force: false, dryRun: true, delete: false },
    ],
  ])('%j names its request id in a log line and an event', async (event, expected) => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const handler = handlerFor(w);

    const run = await handler.invoke(event, context());

    expect(run.error).toBeUndefined();
    const detail = {
      ...expected,
      target: { userName: 'app', serviceName: KEYSPACES },
      requestId: REQUEST_ID,
      at: expect.any(String),
    };
    expect(auditEvents(run.events)).toEqual([expect.objectContaining({ detail })]);
    expect(auditLines(run.output)).toEqual([expect.objectContaining({ ...detail, level: 'INFO' })]);
  });

  it('records the command before it runs, so a failed one is recorded too', async () => {
    const w = new World();
    const handler = handlerFor(w);

    const run = await handler.invoke(
      {
        action: 'rotate',
        secretId: 'service-credentials/nobody/x',
        force: true,
      },
      context(),
    );

    expect(run.error).toBeInstanceOf(Error);
    expect(auditEvents(run.events)).toEqual([
      expect.objectContaining({
        detail: expect.objectContaining({
          target: { secretId: 'service-credentials/nobody/x' },
          force: true,
          requestId: REQUEST_ID,
        }),
      }),
    ]);
  });

  it('sends a revoke as a Credential Revoked event, after the transitions it caused', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const handler = handlerFor(w);
    await handler.invoke({ action: 'reconcile' }, context());
    const leaked = w.recordedId('service-credentials/app/cassandra.amazonaws.com');

    const run = await handler.invoke(
      { action: 'revoke', userName: 'app', serviceName: KEYSPACES },
      context(),
    );

    expect(run.error).toBeUndefined();
    const types = run.events.map((e) => e.detailType);
    expect(types).toEqual([
      'Manual Command',
      'Credential Rotated',
      'Credential Retired',
      'Credential Revoked',
    ]);
    expect(run.events.at(-1)?.detail).toMatchObject({ credentialId: leaked, userName: 'app' });
  });

  it('does not record the scheduled reconcile as a manual command', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const handler = handlerFor(w);

    const run = await handler.invoke({ action: 'reconcile' });

    expect(run.error).toBeUndefined();
    expect(auditEvents(run.events)).toEqual([]);
    expect(auditLines(run.output)).toEqual([]);
  });

  it('still runs the command when the event cannot be published; the log line is the record', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const handler = createHandler({
      config: { policy: DEFAULT_POLICY, secretNamePrefix: undefined, eventBusName: 'bus' },
      credentials: w.credentials,
      secrets: w.secrets,
      now: () => w.now(),
      publishEvents: async () => {
        throw new Error('PutEvents failed: AccessDeniedException');
      },
      logger: new Logger({ serviceName: METRICS_SERVICE, logLevel: 'DEBUG' }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
    });
    const chunks: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        chunks.push(String(chunk));
        return true;
      }),
    );
    try {
      const report = await handler({ action: 'rotate', userName: 'app', serviceName: KEYSPACES }, context());
      expect(report.targets[0]?.outcome).toBe('rotated');
    } finally {
      for (const spy of spies) spy.mockRestore();
      w.scanned.push(chunks.join(''));
    }
    const output = chunks.join('');
    expect(auditLines(output)).toEqual([
      expect.objectContaining({ requestId: REQUEST_ID, action: 'rotate' }),
    ]);
    expect(output).toContain('"message":"manual command event not published"');
  });
});
