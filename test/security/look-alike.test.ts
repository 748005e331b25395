// The recreated-secret attack (security review, round two): force-delete a declared secret and
// create one with the same name and tags. Matched by name, the next run wrote the user's new
// credential into the attacker's secret and switched off the one applications used. Pinned to
// the ARN the deploying stack created (DescribeStackResources, through the real SDK against
// the emulator's fake stack), the look-alike gets nothing and is reported once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SECRET_RESOURCE_TYPE } from '../../emulator/index.ts';
import { StackResources } from '../../lambda/aws/cloudformation.ts';
import { loadConfig } from '../../lambda/config.ts';
import { ENV, SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import { type DeclaredTarget, serializeDeclaration } from '../../lambda/declared-targets.ts';
import { RunFailedError } from '../../lambda/errors.ts';
import { METRIC } from '../../lambda/telemetry.ts';
import { handlerFor } from '../support/handler.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const logicalIdOf = (user: string) => `Secret${user[0]?.toUpperCase()}${user.slice(1)}Keyspaces`;

/** A world whose targets a fake stack deployed, and the handler as the construct deploys it. */
function deployed(users: string[]) {
  const w = new World();
  const stackId = w.emulator.stacks.createStack('CredentialRotator');
  const arns: Record<string, string> = {};
  const declared: DeclaredTarget[] = [];
  for (const user of users) {
    const arn = w.addTarget(user, KEYSPACES);
    arns[user] = arn;
    w.emulator.stacks.addResource(stackId, {
      logicalId: logicalIdOf(user),
      type: SECRET_RESOURCE_TYPE,
      physicalId: arn,
    });
    declared.push({
      secretName: `service-credentials/${user}/${KEYSPACES}`,
      userName: user,
      serviceName: KEYSPACES,
      logicalId: logicalIdOf(user),
    });
  }
  const file = join(mkdtempSync(join(tmpdir(), 'look-alike-')), 'declared-targets.json');
  writeFileSync(file, serializeDeclaration(declared));
  const cloudFormation = new CloudFormationClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: w.emulator.requestHandler(),
  });
  const handler = handlerFor(
    w,
    { declaredTargetsFile: file, deploymentStackId: stackId },
    { deployment: new StackResources(cloudFormation) },
  );
  return { w, stackId, arns, handler };
}

/** The attacker: force-delete the secret, recreate it with the same name and tags. */
async function recreate(w: World, user: string): Promise<string> {
  const name = `service-credentials/${user}/${KEYSPACES}`;
  await w.secretsClient.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
  const created = await w.secretsClient.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: 'placeholder: the first run issues a credential',
      Tags: [
        { Key: USER_NAME_TAG, Value: user },
        { Key: SERVICE_NAME_TAG, Value: KEYSPACES },
      ],
    }),
  );
  return created.ARN as string;
}

describe('a secret recreated under a declared name (look-alike)', () => {
  it('gets nothing: no value written, the credential in use stays Active, one event and the metric', async () => {
    const { w, arns, handler } = deployed(['alice', 'bob']);
    const first = await handler.invoke({ action: 'reconcile' });
    expect(first.error).toBeUndefined();
    const inUse = w.recordedId(arns.alice as string) as string;
    expect(inUse).toBeDefined();

    const lookAlike = await recreate(w, 'alice');
    expect(lookAlike).not.toBe(arns.alice);
    const valueBefore = w.emulator.secrets.valueAt(lookAlike);
    // Due, so a run that took the look-alike for alice's secret would rotate into it.
    w.advanceDays(31);
    const since = w.emulator.calls.length;
    const run = await handler.invoke({ action: 'reconcile' });

    const aliceWrites = w.emulator.calls
      .slice(since)
      .filter((c) => c.service === 'iam' && !c.operation.startsWith('List') && c.params.UserName === 'alice');
    expect(aliceWrites).toEqual([]);
    const secretWrites = w.emulator.calls
      .slice(since)
      .filter((c) => c.service === 'secretsmanager' && c.params.SecretId === lookAlike);
    expect(secretWrites.map((c) => c.operation)).not.toContain('PutSecretValue');
    expect(secretWrites.map((c) => c.operation)).not.toContain('GetSecretValue');
    expect(w.emulator.secrets.valueAt(lookAlike)).toBe(valueBefore);
    expect(w.emulator.iam.credential(inUse)?.Status).toBe('Active');

    // The declared target is failed (its deployed secret is gone); bob rotates as usual.
    expect(run.error).toBeInstanceOf(RunFailedError);
    const byUser = Object.fromEntries((run.report?.targets ?? []).map((t) => [t.userName, t]));
    expect(byUser.bob?.outcome).toBe('rotated');
    expect(byUser.alice?.outcome).toBe('failed');
    expect(byUser.alice?.reason).toContain('not the one the stack created');

    const rejected = run.events.filter((e) => e.detailType === 'Secret Rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.detail).toMatchObject({
      count: 1,
      lookAlikes: 1,
      notListed: 0,
      secrets: [{ secretId: lookAlike, lookAlike: true }],
    });
    expect(run.output).toMatch(new RegExp(`"${METRIC.rejectedSecrets}":1\\b`));
    w.expectNoLeaks();
  });

  it('a manual rotate of the look-alike is refused, touching nothing', async () => {
    const { w, handler } = deployed(['alice']);
    await handler.invoke({ action: 'reconcile' });
    const lookAlike = await recreate(w, 'alice');
    const since = w.emulator.calls.length;
    for (const target of [{ secretId: lookAlike }, { userName: 'alice', serviceName: KEYSPACES }]) {
      const run = await handler.invoke({ action: 'rotate', ...target });
      expect(String((run.error as Error)?.message)).toContain('look-alike');
    }
    expect(w.writesSince(since)).toEqual([]);
  });

  it('one summary event for many rejected secrets, naming at most 20', async () => {
    const { w, handler } = deployed(['alice']);
    for (let i = 0; i < 45; i++) w.addTarget(`stray${i}`, KEYSPACES);
    const run = await handler.invoke({ action: 'reconcile' });
    expect(run.error).toBeUndefined();
    const rejected = run.events.filter((e) => e.detailType === 'Secret Rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.detail).toMatchObject({ count: 45, lookAlikes: 0, notListed: 25 });
    const detail = rejected[0]?.detail as { secrets: unknown[] } | undefined;
    expect(detail?.secrets).toHaveLength(20);
    expect(run.output.match(/"message":"secrets rejected"/g)).toHaveLength(1);
    expect(run.output).toMatch(new RegExp(`"${METRIC.rejectedSecrets}":45\\b`));
  });

  it('a secret the stack does not know under its declared logical id is never written', async () => {
    const { w, stackId, arns, handler } = deployed(['alice']);
    // The stack now records another secret under alice's logical id (as after a replacement).
    w.emulator.stacks.addResource(stackId, {
      logicalId: logicalIdOf('alice'),
      type: SECRET_RESOURCE_TYPE,
      physicalId: `${arns.alice}-other`,
    });
    const since = w.emulator.calls.length;
    const run = await handler.invoke({ action: 'reconcile' });
    expect(run.report?.targets.map((t) => t.outcome)).toEqual(['failed']);
    expect(w.writesSince(since)).toEqual([]);
  });
});

describe('deployed mode at cold start', () => {
  it('refuses a declaration entry without logicalId when a stack is named', () => {
    const w = new World();
    const file = join(mkdtempSync(join(tmpdir(), 'look-alike-')), 'declared-targets.json');
    writeFileSync(
      file,
      serializeDeclaration([
        { secretName: `service-credentials/alice/${KEYSPACES}`, userName: 'alice', serviceName: KEYSPACES },
      ]),
    );
    expect(() =>
      handlerFor(w, { declaredTargetsFile: file, deploymentStackId: 'arn:aws:cloudformation:x' }),
    ).toThrow(/have no logicalId.*expected every declared entry to carry "logicalId"/);
  });

  const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/CredentialRotator/0f1e';

  it('refuses to start when a stack deployed it without DECLARED_TARGETS_FILE', () => {
    expect(() => loadConfig({ [ENV.deploymentStackId]: STACK })).toThrow(
      /DEPLOYMENT_STACK_ID is set .* but DECLARED_TARGETS_FILE is not; expected DECLARED_TARGETS_FILE .* or TAG_DISCOVERY=true/,
    );
  });

  it('tag discovery under a stack only by the explicit opt-in', () => {
    const config = loadConfig({ [ENV.deploymentStackId]: STACK, [ENV.tagDiscovery]: 'true' });
    expect(config).toMatchObject({ deploymentStackId: STACK, tagDiscovery: true });
    expect(config.declaredTargetsFile).toBeUndefined();
    expect(() => loadConfig({ [ENV.deploymentStackId]: STACK, [ENV.tagDiscovery]: 'yes' })).toThrow(
      'TAG_DISCOVERY must be "true" or "false"',
    );
    // Local runs (no stack): tags decide without a declaration, as before.
    expect(loadConfig({})).not.toHaveProperty('deploymentStackId');
    expect(
      loadConfig({ [ENV.deploymentStackId]: STACK, [ENV.declaredTargetsFile]: '/opt/x.json' }),
    ).toMatchObject({
      deploymentStackId: STACK,
      declaredTargetsFile: '/opt/x.json',
    });
  });
});
