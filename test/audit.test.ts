// Audited manual commands: whoever may invoke the function may force a rotation (an early
// deletion), so each rotate, force, status and dry run is recorded under the invocation's
// request id, in a log line and a `Manual Command` event, before it runs.
import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../lambda/aws/eventbridge.ts';
import { AUDIT_DETAIL_TYPE } from '../lambda/telemetry.ts';
import { handlerFor, lambdaContext } from './support/handler.ts';
import { World } from './support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const REQUEST_ID = lambdaContext().awsRequestId;

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
  ])('%j names its request id in a log line and an event', async (event, expected) => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const handler = handlerFor(w);

    const run = await handler.invoke(event);

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

    const run = await handler.invoke({
      action: 'rotate',
      secretId: 'service-credentials/nobody/x',
      force: true,
    });

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

  it('does not record the scheduled reconcile as a manual command', async () => {
    const w = new World();
    w.addTarget('app', KEYSPACES);
    const handler = handlerFor(w);

    const run = await handler.invoke({ action: 'reconcile' });

    expect(run.error).toBeUndefined();
    expect(auditEvents(run.events)).toEqual([]);
    expect(auditLines(run.output)).toEqual([]);
  });
});
