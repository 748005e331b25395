// Verification in the direct rotation, end to end: the real handler and executor through the
// real SDK against the emulator, the real probes (cassandra-driver over TLS, HTTPS) against
// the emulator's service edges, which accept exactly the secrets IAM currently holds. The
// propagation delay is real time (3 s); only the probe's retry waits are scaled down.
import { afterEach, describe, expect, it } from 'vitest';
import { type ServiceEdges, startServiceEdges } from '../../emulator/edges/index.ts';
import {
  CODECOMMIT_REPOSITORY_TAG,
  ENV,
  SERVICE_NAME_TAG,
  toEnvironment,
  USER_NAME_TAG,
  VERIFICATION_TAG,
} from '../../lambda/contract.ts';
import { parseDeclaration } from '../../lambda/declared-targets.ts';
import { discover } from '../../lambda/rotation/discovery.ts';
import { loadConfig } from '../../lambda/config.ts';
import { ServiceProbes } from '../../lambda/probes/index.ts';
import { createVerifier } from '../../lambda/probes/verifier.ts';
import type { TargetReport } from '../../lambda/rotation/model.ts';
import type { VerificationMode } from '../../lambda/rotation/verification.ts';
import { EVENT_DETAIL_TYPE } from '../../lambda/telemetry.ts';
import { handlerFor } from '../support/handler.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const CODECOMMIT = 'codecommit.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';
const LOGS = 'logs.amazonaws.com';
const MINUTE = 60_000;

/** The production backoff (2 s doubling to 16 s within 80 s) scaled down 10 times. */
const SCALED_RETRY = { initialDelayMs: 200, maxDelayMs: 1_600, budgetMs: 8_000 };
/** For the never-valid cases: give up within half a second. */
const SHORT_RETRY = { initialDelayMs: 50, maxDelayMs: 100, budgetMs: 300 };

let world: World;
let edges: ServiceEdges;

function verifierFor(
  w: World,
  defaultMode: VerificationMode = 'enforce',
  retryPolicy: typeof SCALED_RETRY = SHORT_RETRY,
) {
  return createVerifier({
    probe: new ServiceProbes({
      ca: edges.ca,
      timeoutMs: 5_000,
      keyspacesEndpoint: edges.cqlEndpoint,
      codeCommitBaseUrl: edges.httpsUrl,
      bedrockBaseUrl: edges.httpsUrl,
      logsBaseUrl: edges.httpsUrl,
    }),
    region: w.emulator.region,
    defaultMode,
    retryPolicy,
  });
}

/** A world whose edges judge credentials by its own IAM state. */
async function setUp(defaultMode: VerificationMode = 'enforce', retryPolicy = SHORT_RETRY) {
  world = new World({ retryDelayMs: 0 });
  edges = await startServiceEdges(world.emulator, { repositories: ['app-repo'], logGroups: ['canary'] });
  world.verifyCredential = verifierFor(world, defaultMode, retryPolicy);
  return world;
}

afterEach(async () => {
  await edges?.close();
});

const entry = (report: { targets: readonly TargetReport[] }, arn: string) =>
  report.targets.find((t) => t.secretId === arn) as TargetReport;

function credentialsOf(userName: string, serviceName = KEYSPACES) {
  return world.emulator.iam.credentials({ userName, serviceName });
}

/** Bootstraps a Keyspaces target and moves the clock to its rotation; returns its ARN and first credential. */
async function dueForRotation(userName = 'app') {
  const arn = world.addTarget(userName, KEYSPACES);
  const first = entry(await world.run(), arn);
  expect(first.outcome).toBe('rotated');
  expect(first.verification?.outcome).toBe('verified');
  world.advanceDays(31);
  return { arn, oldId: first.currentCredentialId as string };
}

describe('verification in the direct rotation (enforce)', () => {
  it('verifies a credential that becomes valid only 3 s after issue, after backoff, and completes the rotation', async () => {
    await setUp('enforce', SCALED_RETRY);
    const { arn, oldId } = await dueForRotation();
    edges.authority.propagationDelayMs = 3_000;
    const since = edges.cql.authAttempts.length;

    const report = entry(await world.run(), arn);

    expect(report.outcome).toBe('rotated');
    expect(report.verification).toMatchObject({ mode: 'enforce', outcome: 'verified' });
    expect(report.verification?.attempts).toBeGreaterThan(1);
    const attempts = edges.cql.authAttempts.slice(since);
    expect(attempts.filter((a) => !a.accepted).length).toBeGreaterThan(0);
    expect(attempts.at(-1)?.accepted).toBe(true);
    // Stored only once verified, and only then the old one retired.
    expect(report.actions.map((a) => a.type)).toEqual(['create', 'store', 'deactivate']);
    expect(report.actions[2]?.credentialId).toBe(oldId);
    expect(world.recordedId(arn)).toBe(report.currentCredentialId);
    edges.authority.propagationDelayMs = 0;
    await world.expectInvariants([arn]);
  });

  it('fails a credential that never authenticates: the old one stays current and Active, the new one is deleted; the next run completes', async () => {
    await setUp();
    const { arn, oldId } = await dueForRotation();
    edges.authority.setFault(KEYSPACES, 'reject');
    const handler = handlerFor(world);

    const failed = await handler.invoke({ action: 'reconcile' });

    expect(failed.error).toBeDefined(); // the run reports the failed target as an error
    const report = entry(failed.report ?? { targets: [] }, arn);
    expect(report.outcome).toBe('failed');
    expect(report.reason).toMatch(/failed verification \(rejected\).*0x0100.*it was deleted.*stays current/);
    expect(report.verification).toMatchObject({ mode: 'enforce', outcome: 'rejected' });
    expect(report.verification?.attempts).toBeGreaterThan(1);
    const newId = report.verification?.credentialId;
    expect(report.actions.map((a) => `${a.type} ${a.credentialId}`)).toEqual([
      `create ${newId}`,
      `delete ${newId}`,
    ]);
    expect(report.currentCredentialId).toBe(oldId);
    expect(world.recordedId(arn)).toBe(oldId);
    const left = credentialsOf('app');
    expect(left.map((c) => [c.ServiceSpecificCredentialId, c.Status])).toEqual([[oldId, 'Active']]);
    expect(left.length).toBeLessThanOrEqual(2);
    world.expectNoLockout([arn]);
    world.expectNoViolations();
    // An event and a metric say so.
    const types = failed.events.map((e) => e.detailType);
    expect(types).toContain(EVENT_DETAIL_TYPE.unverified);
    expect(types).toContain(EVENT_DETAIL_TYPE.failed);
    expect(types).not.toContain(EVENT_DETAIL_TYPE.rotated);
    expect(failed.output).toMatch(/"VerificationFailures":1\b/);
    expect(failed.output).toMatch(/"FailedTargets":1\b/);

    edges.authority.setFault(KEYSPACES, undefined);
    world.emulator.clock.advance(MINUTE);
    const next = await handler.invoke({ action: 'reconcile' });

    expect(next.error).toBeUndefined();
    const done = entry(next.result ?? { targets: [] }, arn);
    expect(done.outcome).toBe('rotated');
    expect(done.verification?.outcome).toBe('verified');
    expect(world.recordedId(arn)).not.toBe(oldId);
    expect(next.output).toMatch(/"VerificationFailures":0\b/);
    await world.expectInvariants([arn]);
  });

  it('fails at once, with that reason, when the credential authenticates but lacks permission (CQL 0x2100)', async () => {
    await setUp('enforce', SCALED_RETRY);
    const { arn, oldId } = await dueForRotation();
    edges.authority.setFault(KEYSPACES, 'deny');
    const since = edges.cql.authAttempts.length;

    const report = entry(await world.run(), arn);

    expect(report.outcome).toBe('failed');
    expect(report.verification).toMatchObject({ outcome: 'denied', attempts: 1 });
    expect(report.reason).toContain('0x2100 (Unauthorized)');
    expect(edges.cql.authAttempts.length - since).toBe(1);
    expect(world.recordedId(arn)).toBe(oldId);
    expect(credentialsOf('app')).toHaveLength(1);
  });

  it('verifies an adopted credential too, and deletes it when the service refuses it', async () => {
    await setUp();
    const { arn, oldId } = await dueForRotation();
    // An interrupted run: the credential was created, the store failed.
    world.emulator.faults.add({
      operation: 'PutSecretValue',
      kind: 'fail',
      times: Number.POSITIVE_INFINITY,
      match: (p) => p.VersionStages === undefined,
    });
    await world.run();
    world.emulator.faults.clear();
    expect(credentialsOf('app')).toHaveLength(2);
    edges.authority.setFault(KEYSPACES, 'reject');
    world.emulator.clock.advance(MINUTE);

    const report = entry(await world.run(), arn);

    expect(report.outcome).toBe('failed');
    expect(report.actions.map((a) => a.type)).toEqual(['reset', 'delete']);
    expect(credentialsOf('app').map((c) => c.ServiceSpecificCredentialId)).toEqual([oldId]);
    world.expectNoLockout([arn]);
    world.expectNoViolations();

    edges.authority.setFault(KEYSPACES, undefined);
    world.emulator.clock.advance(MINUTE);
    expect(entry(await world.run(), arn).outcome).toBe('rotated');
    await world.expectInvariants([arn]);
  });

  it('verifies every service: Keyspaces, CodeCommit (repository from its tag), Bedrock; Logs without a canary group is skipped', async () => {
    await setUp();
    const keyspaces = world.addTarget('ks', KEYSPACES);
    const git = world.addTarget('git', CODECOMMIT);
    world.emulator.secrets.TagResource({
      SecretId: git,
      Tags: [{ Key: CODECOMMIT_REPOSITORY_TAG, Value: 'app-repo' }],
    });
    const bedrock = world.addTarget('ai', BEDROCK);
    const logs = world.addTarget('logger', LOGS);

    const report = await world.run();

    for (const arn of [keyspaces, git, bedrock]) {
      expect(entry(report, arn)).toMatchObject({ outcome: 'rotated', verification: { outcome: 'verified' } });
    }
    expect(entry(report, logs)).toMatchObject({ outcome: 'rotated', verification: { outcome: 'skipped' } });
    expect(entry(report, logs).verification?.reason).toContain('canary log group');
    await world.expectInvariants();
  });
});

describe('verification modes', () => {
  it('warn: reports a refused credential (log, event, metric) and completes the rotation', async () => {
    await setUp('warn');
    const { arn, oldId } = await dueForRotation();
    edges.authority.setFault(KEYSPACES, 'reject');

    const invocation = await handlerFor(world).invoke({ action: 'reconcile' });

    const report = entry(invocation.result ?? { targets: [] }, arn);
    expect(report.outcome).toBe('rotated');
    expect(report.verification).toMatchObject({ mode: 'warn', outcome: 'rejected' });
    expect(world.recordedId(arn)).not.toBe(oldId);
    expect(invocation.events.map((e) => e.detailType)).toEqual(
      expect.arrayContaining([EVENT_DETAIL_TYPE.unverified, EVENT_DETAIL_TYPE.rotated]),
    );
    expect(invocation.output).toMatch(/"VerificationFailures":1\b/);
    expect(invocation.output).toContain('credential failed verification; stored anyway (verification: warn)');
  });

  it("off: no probe is asked; a target's own tag overrides the deployment's mode", async () => {
    await setUp('enforce');
    edges.authority.setFault(KEYSPACES, 'reject');
    const arn = world.addTarget('app', KEYSPACES);
    world.emulator.secrets.TagResource({ SecretId: arn, Tags: [{ Key: VERIFICATION_TAG, Value: 'off' }] });
    const since = edges.cql.authAttempts.length;

    const report = entry(await world.run(), arn);

    expect(report.outcome).toBe('rotated');
    expect(report.verification).toMatchObject({ mode: 'off', outcome: 'skipped', attempts: 0 });
    expect(edges.cql.authAttempts.length).toBe(since);
  });

  it('a mode tag that is not a mode fails the target, naming the tag and the accepted values, touching nothing', async () => {
    await setUp();
    const arn = world.addTarget('app', KEYSPACES);
    world.emulator.secrets.TagResource({
      SecretId: arn,
      Tags: [{ Key: VERIFICATION_TAG, Value: 'enforced' }],
    });
    const since = world.emulator.calls.length;

    const report = entry(await world.run(), arn);

    expect(report.outcome).toBe('failed');
    expect(report.reason).toContain(
      `tag ${VERIFICATION_TAG} must be one of off, warn, enforce, got "enforced"`,
    );
    expect(world.writesSince(since)).toEqual([]);
  });
});

describe('the VERIFICATION setting', () => {
  it('is read from the environment and written back by toEnvironment', () => {
    const config = loadConfig({ [ENV.verification]: 'warn' });
    expect(config.verification).toBe('warn');
    expect(toEnvironment(config)[ENV.verification]).toBe('warn');
    expect(loadConfig({}).verification).toBeUndefined();
  });

  it('refuses anything but off, warn or enforce, naming the variable', () => {
    expect(() => loadConfig({ [ENV.verification]: 'strict' })).toThrow(
      'VERIFICATION must be one of off, warn, enforce, got "strict"',
    );
  });
});

describe('verification settings of declared targets', () => {
  const secret = (tags: Record<string, string>) => ({
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s/app-AbCdEf',
    name: 's/app',
    tags: { [USER_NAME_TAG]: 'app', [SERVICE_NAME_TAG]: CODECOMMIT, ...tags },
  });

  it('come from the declaration; the secret’s tags cannot switch verification off', () => {
    const declared = parseDeclaration({
      version: 1,
      targets: [
        {
          secretName: 's/app',
          userName: 'app',
          serviceName: CODECOMMIT,
          verification: 'enforce',
          codeCommitRepository: 'app-repo',
        },
      ],
    });
    const { targets } = discover([secret({ [VERIFICATION_TAG]: 'off' })], declared);
    expect(targets[0]?.verification).toEqual({ mode: 'enforce', codeCommitRepository: 'app-repo' });
    // Even a tag that is not a mode does not touch a declared target.
    expect(discover([secret({ [VERIFICATION_TAG]: 'nonsense' })], declared).targets).toHaveLength(1);
  });

  it('refuse a mode that is not one, naming the entry and the accepted values', () => {
    expect(() =>
      parseDeclaration({
        version: 1,
        targets: [{ secretName: 's/app', userName: 'app', serviceName: KEYSPACES, verification: 'strict' }],
      }),
    ).toThrow(/targets\[0\] \(secret "s\/app"\): verification must be one of off, warn, enforce/);
  });
});
