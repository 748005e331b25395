// Smoke test of the bench's pieces (no timings asserted): the deployed configuration is read
// from a synthesized stack; the world seeds targets with the deployed rotation schedule, holds
// a concurrency slot per invocation, has Secrets Manager's steps run the real handler, counts
// rotations from the secrets; the invariant checks catch a lockout and a leaked secret.
import { DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { deployedConfiguration, type DeployedConfiguration } from '../../bench/deployed.ts';
import { BenchWorld, captured } from '../../bench/harness.ts';
import { checkInvariants } from '../../bench/invariants.ts';
import { checkedConcurrency } from '../../infra/rotator/validation.ts';
import { rotationRuleDays } from '../../infra/rotator/targets.ts';
import { createClients } from '../../lambda/aws/clients.ts';
import { DEFAULT_POLICY, DEFAULT_VERIFICATION_MODE } from '../../lambda/contract.ts';

/** The construct's defaults as its own modules state them (the synth is checked against these). */
const DEPLOYED: DeployedConfiguration = {
  timeoutSeconds: 300,
  reservedConcurrency: checkedConcurrency(undefined),
  rotationRuleDays: rotationRuleDays(DEFAULT_POLICY.rotateAfterDays),
  rotateImmediatelyOnUpdate: false,
  verification: DEFAULT_VERIFICATION_MODE,
  bulkCredentialListing: false,
  declaredTargets: true,
  policy: DEFAULT_POLICY,
};

describe('bench harness', () => {
  it('reads the deployed configuration from a synthesized stack', () => {
    const d = deployedConfiguration();
    expect(d).toEqual({ ...DEPLOYED, timeoutSeconds: d.timeoutSeconds });
    expect(Number.isInteger(d.timeoutSeconds) && d.timeoutSeconds > 0).toBe(true);
  }, 60_000);

  it('seeds targets with the rotation schedule, holds a slot per invocation, and counts a console rotation', async () => {
    const world = await new BenchWorld({ deployed: DEPLOYED, handshakeLatency: 0 }).start();
    try {
      const [arn] = await world.seed({ count: 1, ageDays: 31 });
      const { secrets } = createClients();
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: arn }));
      expect(described).toMatchObject({
        RotationEnabled: true,
        RotationLambdaARN: world.functionArn,
        RotationRules: { AutomaticallyAfterDays: DEPLOYED.rotationRuleDays },
      });
      expect(world.emulator.rotations.invocationsInFlight).toBe(0);
      const status = world.invoke({ action: 'status' });
      expect(world.emulator.rotations.invocationsInFlight).toBe(1);
      expect((await status).error).toBeUndefined();
      expect(world.emulator.rotations.invocationsInFlight).toBe(0);

      // The console's "Rotate secret immediately": Secrets Manager runs the handler's four steps.
      const before = world.currentCredentials();
      await secrets.send(new RotateSecretCommand({ SecretId: arn }));
      await world.emulator.rotations.settled();
      expect(world.steps.map((s) => [s.step, s.error])).toEqual([
        ['createSecret', undefined],
        ['setSecret', undefined],
        ['testSecret', undefined],
        ['finishSecret', undefined],
      ]);
      expect(world.rotatedSince(before)).toEqual([arn]);
      const result = await checkInvariants(world);
      expect(result.examples).toEqual([]);
      expect(result.passed).toBe(true);
    } finally {
      await world.stop();
    }
  }, 30_000);

  it('reports a lockout and a leaked secret', async () => {
    const world = await new BenchWorld({ deployed: DEPLOYED, handshakeLatency: 0 }).start();
    try {
      const [arn] = await world.seed({ count: 1, ageDays: 1 });
      const record = JSON.parse(String(world.emulator.secrets.valueAt(String(arn))));
      world.emulator.iam.setStatus(record.credentialId, 'Inactive');
      captured.push(`oops ${record.password} oops`);
      const result = await checkInvariants(world);
      expect(result.passed).toBe(false);
      expect(result.violations['I1 no lockout']).toBeGreaterThan(0);
      expect(result.violations['I5 no secret in logs/reports/errors']).toBe(1);
    } finally {
      captured.length = 0;
      await world.stop();
    }
  });
});
