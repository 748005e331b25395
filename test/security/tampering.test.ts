// Tampering (security review, round two): an administrator overwrote AWSCURRENT with a
// placeholder (PutSecretValue), and the next run took it for a new secret: it issued a
// credential and switched off the one applications used, in the same run. A value the
// rotator did not write is now reported (event, metric) and never obeyed: the credential in
// use stays Active, and its record is written back when AWSPREVIOUS proves which one it is.
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { AWSCURRENT, AWSPREVIOUS } from '../../emulator/index.ts';
import { METRIC } from '../../lambda/telemetry.ts';
import { handlerFor } from '../support/handler.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const PLACEHOLDER = 'placeholder: the first run issues a credential';

/** A target rotated once by the handler: its credential is the one applications use. */
async function rotatedOnce() {
  const w = new World();
  const secret = w.addTarget('alice', KEYSPACES);
  const handler = handlerFor(w);
  const first = await handler.invoke({ action: 'reconcile' });
  expect(first.error).toBeUndefined();
  const inUse = w.recordedId(secret) as string;
  expect(inUse).toBeDefined();
  return { w, secret, handler, inUse, record: w.emulator.secrets.valueAt(secret) as string };
}

/** The administrator's write, through the API as the review did it. */
const overwrite = (w: World, secret: string, value: string) =>
  w.secretsClient.send(new PutSecretValueCommand({ SecretId: secret, SecretString: value }));

const iamWrites = (w: World, since: number) =>
  w.emulator.calls.slice(since).filter((c) => c.service === 'iam' && !c.operation.startsWith('List'));

describe('a value in AWSCURRENT the rotator did not write', () => {
  it('an admin placeholder: the credential in use stays Active, its record is written back, reported', async () => {
    const { w, secret, handler, inUse, record } = await rotatedOnce();
    await overwrite(w, secret, PLACEHOLDER);
    const since = w.emulator.calls.length;

    const run = await handler.invoke({ action: 'reconcile' });

    expect(iamWrites(w, since)).toEqual([]);
    expect(w.emulator.iam.credential(inUse)?.Status).toBe('Active');
    expect(JSON.parse(w.emulator.secrets.valueAt(secret, AWSCURRENT) ?? '')).toEqual(JSON.parse(record));
    expect(run.error).toBeUndefined();
    expect(run.result?.targets[0]).toMatchObject({ outcome: 'recovered', currentCredentialId: inUse });
    expect(run.result?.targets[0]?.tampering).toContain('holds no credential record');
    const events = run.events.filter((e) => e.detailType === 'Secret Tampering Detected');
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({ secretId: secret, credentialId: inUse, response: 'restored' });
    expect(run.output).toMatch(new RegExp(`"${METRIC.tamperedSecrets}":1\\b`));
    // And the run after is quiet: the restored record is the rotator's own.
    const after = await handler.invoke({ action: 'reconcile' });
    expect(after.result?.targets[0]?.outcome).toBe('unchanged');
    expect(after.result?.targets[0]?.tampering).toBeUndefined();
    w.expectNoLeaks();
  });

  it('when due: the usual rotation from the credential in use, as if nothing had been written', async () => {
    const { w, secret, handler, inUse } = await rotatedOnce();
    w.advanceDays(31);
    await overwrite(w, secret, PLACEHOLDER);
    const run = await handler.invoke({ action: 'reconcile' });
    // What the schedule does to a due credential anyway: a new record over the foreign value,
    // then rule 1 on the one it replaced (overlapDays 0: switched off once the new one is stored).
    expect(run.result?.targets[0]?.outcome).toBe('rotated');
    expect(run.result?.targets[0]?.tampering).toBeDefined();
    const current = w.recordedId(secret) as string;
    expect(current).not.toBe(inUse);
    expect(w.emulator.iam.credential(current)?.Status).toBe('Active');
    const since = w.emulator.calls.length;
    const next = await handler.invoke({ action: 'reconcile' });
    expect(next.result?.targets[0]?.outcome).toBe('unchanged');
    expect(w.writesSince(since)).toEqual([]);
  });

  it('not due, an older credential to retire: written back, and rule 1 goes on in the same run', async () => {
    const { w, secret, handler } = await rotatedOnce();
    w.advanceDays(31);
    await handler.invoke({ action: 'reconcile' }); // rotated: the first credential is Inactive now
    const inUse = w.recordedId(secret) as string;
    w.advanceDays(8); // past the grace period of the first one
    await overwrite(w, secret, PLACEHOLDER);
    const run = await handler.invoke({ action: 'reconcile' });
    expect(run.result?.targets[0]?.outcome).toBe('recovered');
    expect(run.result?.targets[0]?.actions.map((a) => a.type)).toEqual(['store', 'delete']);
    expect(w.recordedId(secret)).toBe(inUse);
    expect(w.emulator.iam.credential(inUse)?.Status).toBe('Active');
    const since = w.emulator.calls.length;
    await handler.invoke({ action: 'reconcile' });
    expect(w.writesSince(since)).toEqual([]);
  });

  it('placeholders pushed AWSPREVIOUS out too: held as failed, nothing written, the credential stays Active', async () => {
    const { w, secret, handler, inUse } = await rotatedOnce();
    await overwrite(w, secret, PLACEHOLDER);
    await overwrite(w, secret, `${PLACEHOLDER} (again)`);
    expect(w.emulator.secrets.valueAt(secret, AWSPREVIOUS)).toBe(PLACEHOLDER);
    const since = w.emulator.calls.length;
    const run = await handler.invoke({ action: 'reconcile' });
    expect(w.writesSince(since)).toEqual([]);
    expect(w.emulator.iam.credential(inUse)?.Status).toBe('Active');
    expect(run.report?.targets[0]).toMatchObject({ outcome: 'failed' });
    expect(run.report?.targets[0]?.reason).toContain('held');
    const events = run.events.filter((e) => e.detailType === 'Secret Tampering Detected');
    expect(events[0]?.detail).toMatchObject({ response: 'held' });
  });

  it('a record of another user, or of a credential IAM does not list: restored, nothing retired', async () => {
    for (const forge of [
      (r: Record<string, unknown>) => ({ ...r, userName: 'mallory' }),
      (r: Record<string, unknown>) => ({ ...r, credentialId: 'ACCAFORGEDFORGED00001' }),
    ]) {
      const { w, secret, handler, inUse, record } = await rotatedOnce();
      await overwrite(w, secret, JSON.stringify(forge(JSON.parse(record))));
      const since = w.emulator.calls.length;
      const run = await handler.invoke({ action: 'reconcile' });
      expect(iamWrites(w, since)).toEqual([]);
      expect(w.emulator.iam.credential(inUse)?.Status).toBe('Active');
      expect(run.result?.targets[0]?.outcome).toBe('recovered');
      expect(w.recordedId(secret)).toBe(inUse);
    }
  });

  it('a manual rotate is held too; with "force": true the operator overrides it', async () => {
    const { w, secret, handler, inUse } = await rotatedOnce();
    await overwrite(w, secret, PLACEHOLDER);
    const since = w.emulator.calls.length;
    const held = await handler.invoke({ action: 'rotate', secretId: secret });
    expect(held.report?.targets[0]?.outcome).toBe('failed');
    expect(w.writesSince(since)).toEqual([]);
    const forced = await handler.invoke({ action: 'rotate', secretId: secret, force: true });
    expect(forced.result?.targets[0]?.outcome).toBe('rotated');
    expect(w.recordedId(secret)).not.toBe(inUse);
  });

  it('a dry run reports it and changes nothing', async () => {
    const { w, secret, handler } = await rotatedOnce();
    await overwrite(w, secret, PLACEHOLDER);
    const since = w.emulator.calls.length;
    const run = await handler.invoke({ action: 'reconcile', dryRun: true });
    expect(w.writesSince(since)).toEqual([]);
    expect(run.result?.targets[0]?.tampering).toBeDefined();
  });

  it("a new secret's placeholder is not tampering: the first run bootstraps it", async () => {
    const w = new World();
    const secret = w.addTarget('alice', KEYSPACES);
    const run = await handlerFor(w).invoke({ action: 'reconcile' });
    expect(run.result?.targets[0]).toMatchObject({ outcome: 'rotated' });
    expect(run.result?.targets[0]?.tampering).toBeUndefined();
    expect(w.recordedId(secret)).toBeDefined();
  });
});
