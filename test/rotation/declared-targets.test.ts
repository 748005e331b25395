// Declared targets against the emulator through the real SDK: the declaration, not the tags,
// decides which secret holds which (user, service) pair. Reproduces the two attacks a
// security review found with tags alone: retagging a secret to point it at another user, and
// a second secret carrying a declared pair's tags.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  type DeclaredTarget,
  parseDeclaration,
  serializeDeclaration,
} from '../../lambda/declared-targets.ts';
import { TargetConfigError, TargetNotFoundError } from '../../lambda/errors.ts';
import type { Command, TargetRef } from '../../lambda/rotation/commands.ts';
import type { RunReport, TargetReport } from '../../lambda/rotation/model.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import { METRIC } from '../../lambda/telemetry.ts';
import { handlerFor } from '../support/handler.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const PLACEHOLDER = 'placeholder: the first run issues a credential';

const declare = (userName: string, serviceName = KEYSPACES): DeclaredTarget => ({
  secretName: `service-credentials/${userName}/${serviceName}`,
  userName,
  serviceName,
});

/** Runs the executor with a declaration, recorded in the world like World.run. */
async function runDeclared(
  w: World,
  targets: DeclaredTarget[],
  command: Command = { action: 'reconcile', dryRun: false },
): Promise<RunReport> {
  const report = await runCommand(command, {
    credentials: w.credentials,
    secrets: w.secrets,
    policy: w.policy,
    now: () => w.now(),
    log: w.log,
    declaredTargets: parseDeclaration({ version: 1, targets }),
  });
  w.reports.push(report);
  return report;
}

/** IAM writes (create, reset, update, delete) for one user since `since`. */
const iamWritesFor = (w: World, since: number, userName: string) =>
  w.emulator.calls
    .slice(since)
    .filter((c) => c.service === 'iam' && !c.operation.startsWith('List') && c.params.UserName === userName);

const byUser = (r: RunReport, userName: string) =>
  r.targets.find((t) => t.userName === userName) as TargetReport;

async function retag(w: World, secretId: string, tags: Record<string, string>): Promise<void> {
  await w.secretsClient.send(
    new UntagResourceCommand({ SecretId: secretId, TagKeys: [USER_NAME_TAG, SERVICE_NAME_TAG] }),
  );
  if (Object.keys(tags).length > 0) {
    await w.secretsClient.send(
      new TagResourceCommand({
        SecretId: secretId,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
}

describe('declared targets', () => {
  it("retagging attack: user B's tags moved onto placeholder secret A change no credential", async () => {
    const w = new World();
    const declared = [declare('alice'), declare('bob'), declare('carol')];
    const b = w.addTarget('bob', KEYSPACES);
    await runDeclared(w, [declare('bob')]);
    const bobsCredential = w.recordedId(b);
    expect(bobsCredential).toBeDefined();
    // A is deployed (placeholder) and so is C; before the next run, someone moves B's tags onto A.
    const a = w.addTarget('alice', KEYSPACES);
    const c = w.addTarget('carol', KEYSPACES);
    await retag(w, b, {});
    await retag(w, a, { [USER_NAME_TAG]: 'bob', [SERVICE_NAME_TAG]: KEYSPACES });
    w.advanceDays(31); // bob's credential is due: the attack's best moment
    const since = w.emulator.calls.length;

    const report = await runDeclared(w, declared);

    // No credential of alice or bob changed; A was not written; B keeps its credential.
    expect(iamWritesFor(w, since, 'bob')).toEqual([]);
    expect(iamWritesFor(w, since, 'alice')).toEqual([]);
    expect(w.emulator.secrets.valueAt(a)).toBe(PLACEHOLDER);
    expect(w.recordedId(b)).toBe(bobsCredential);
    expect(w.emulator.iam.credential(String(bobsCredential))?.Status).toBe('Active');
    expect(byUser(report, 'alice')).toMatchObject({
      outcome: 'failed',
      actions: [],
      reason: expect.stringContaining(
        `is declared for alice/${KEYSPACES} but tagged bob/${KEYSPACES}: not written`,
      ),
    });
    expect(byUser(report, 'bob')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('was not found with tag'),
    });
    // The third declared target is not stopped by the other two.
    expect(byUser(report, 'carol').outcome).toBe('rotated');
    expect(w.recordedId(c)).toBeDefined();
    w.expectNoViolations();
  });

  it('without a declaration the same retagging would hand B to A (why declarations exist)', async () => {
    const w = new World();
    const b = w.addTarget('bob', KEYSPACES);
    await w.run();
    const a = w.addTarget('alice', KEYSPACES);
    // (the same moves as above)
    await retag(w, b, {});
    await retag(w, a, { [USER_NAME_TAG]: 'bob', [SERVICE_NAME_TAG]: KEYSPACES });
    w.advanceDays(31);
    const since = w.emulator.calls.length;

    await w.run();

    // Bob's next credential went into A, and the one B's applications use was retired.
    expect(iamWritesFor(w, since, 'bob').length).toBeGreaterThan(0);
    expect(w.emulator.secrets.valueAt(a)).not.toBe(PLACEHOLDER);
    expect(w.emulator.iam.credential(String(w.recordedId(b)))?.Status).toBe('Inactive');
  });

  it("an undeclared secret with a declared pair's tags changes nothing and stops no declared target", async () => {
    const w = new World();
    const declared = [declare('alice'), declare('bob')];
    const a = w.addTarget('alice', KEYSPACES);
    const b = w.addTarget('bob', KEYSPACES);
    await runDeclared(w, declared);
    const intruder = w.emulator.secrets.createSecret('service-credentials/alice/copy', {
      tags: { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: KEYSPACES },
      value: PLACEHOLDER,
    });
    const since = w.emulator.calls.length;

    const quiet = await runDeclared(w, declared);

    expect(w.writesSince(since)).toEqual([]);
    expect(quiet.targets.map((t) => t.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(quiet.rejected).toEqual([
      expect.objectContaining({
        secretId: intruder,
        userName: 'alice',
        reason: expect.stringContaining(
          `that pair is declared for secret service-credentials/alice/${KEYSPACES}`,
        ),
      }),
    ]);

    // When alice's credential is due, it rotates as declared; the intruder is never written.
    const aliceBefore = w.recordedId(a);
    w.advanceDays(31);
    const due = await runDeclared(w, declared);
    expect(byUser(due, 'alice').outcome).toBe('rotated');
    expect(byUser(due, 'bob').outcome).toBe('rotated');
    expect(w.recordedId(a)).not.toBe(aliceBefore);
    expect(w.recordedId(b)).toBeDefined();
    expect(w.emulator.secrets.valueAt(intruder)).toBe(PLACEHOLDER);
    expect(due.rejected).toHaveLength(1);
    await w.expectInvariants([a, b]);
  });

  it('through the handler: the declaration file decides, the rejected secret is a warning, metric and event', async () => {
    const w = new World();
    const path = join(mkdtempSync(join(tmpdir(), 'declared-')), 'targets.json');
    writeFileSync(path, serializeDeclaration([declare('alice')]));
    w.addTarget('alice', KEYSPACES);
    const intruder = w.emulator.secrets.createSecret('service-credentials/alice/copy', {
      tags: { [USER_NAME_TAG]: 'alice', [SERVICE_NAME_TAG]: KEYSPACES },
    });
    const handler = handlerFor(w, { declaredTargetsFile: path });

    const run = await handler.invoke({ action: 'reconcile' });

    expect(run.error).toBeUndefined();
    expect(run.result?.targets.map((t) => t.outcome)).toEqual(['rotated']);
    expect(w.emulator.secrets.valueAt(intruder)).toBeUndefined();
    const rejected = run.events.filter((e) => e.detailType === 'Secret Rejected');
    expect(rejected).toEqual([
      expect.objectContaining({
        resources: [intruder],
        detail: expect.objectContaining({
          count: 1,
          lookAlikes: 0,
          notListed: 0,
          secrets: [expect.objectContaining({ secretId: intruder })],
        }),
      }),
    ]);
    expect(run.output).toContain('"message":"secrets rejected"');
    expect(run.output).toMatch(new RegExp(`"${METRIC.rejectedSecrets}":1\\b`));
  });

  it('a bad declaration file fails the cold start, naming the entry', () => {
    const w = new World();
    const path = join(mkdtempSync(join(tmpdir(), 'declared-')), 'targets.json');
    writeFileSync(
      path,
      JSON.stringify({ version: 1, targets: [{ ...declare('alice'), serviceName: 's3.amazonaws.com' }] }),
    );

    expect(() => handlerFor(w, { declaredTargetsFile: path })).toThrow(
      /targets\[0\].*unknown service "s3.amazonaws.com"/,
    );
  });

  describe('manual commands', () => {
    it('rotate a declared target by user and service, or by secret', async () => {
      const w = new World();
      const a = w.addTarget('alice', KEYSPACES);
      const byPair = await runDeclared(w, [declare('alice')], {
        action: 'rotate',
        target: { userName: 'alice', serviceName: KEYSPACES },
        force: false,
        dryRun: false,
      });
      expect(byPair.targets[0]?.outcome).toBe('rotated');
      const status = await runDeclared(w, [declare('alice')], { action: 'status', target: { secretId: a } });
      expect(status.targets[0]?.currentCredentialId).toBe(w.recordedId(a));
    });

    it('refuse an undeclared secret, an undeclared pair and a retagged declared secret, writing nothing', async () => {
      const w = new World();
      const a = w.addTarget('alice', KEYSPACES);
      const intruder = w.addTarget('bob', KEYSPACES);
      const since = w.emulator.calls.length;
      const rotate = (target: TargetRef) =>
        runDeclared(w, [declare('alice')], { action: 'rotate', target, force: true, dryRun: false });

      await expect(rotate({ secretId: intruder })).rejects.toThrow(TargetNotFoundError);
      await expect(rotate({ secretId: intruder })).rejects.toThrow('is not a declared target');
      await expect(rotate({ userName: 'bob', serviceName: KEYSPACES })).rejects.toThrow(
        `no declared target is bob/${KEYSPACES}`,
      );
      await retag(w, a, { [USER_NAME_TAG]: 'bob', [SERVICE_NAME_TAG]: KEYSPACES });
      await expect(rotate({ userName: 'alice', serviceName: KEYSPACES })).rejects.toThrow(TargetConfigError);
      await expect(rotate({ secretId: a })).rejects.toThrow('is declared for alice');
      expect(
        w.writesSince(since).filter((c) => !c.startsWith('TagResource') && !c.startsWith('UntagResource')),
      ).toEqual([]);
    });
  });
});
