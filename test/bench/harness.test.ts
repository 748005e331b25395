// Smoke test of the bench's pieces (no timings asserted): the world serves the real handler
// over HTTP, seeding leaves targets that satisfy the invariants, and the invariant checks
// catch a lockout and a leaked secret.
import { describe, expect, it } from 'vitest';
import { BenchWorld, captured } from '../../bench/harness.ts';
import { checkInvariants } from '../../bench/invariants.ts';

describe('bench harness', () => {
  it('rotates seeded due targets through the real handler and passes the invariant checks', async () => {
    const world = await new BenchWorld().start();
    try {
      world.seed({ count: 3, ageDays: 31 });
      const run = await world.invoke({ action: 'reconcile' });
      expect(run.error).toBeUndefined();
      expect(run.report?.targets.map((t) => t.outcome)).toEqual(['rotated', 'rotated', 'rotated']);
      expect(run.calls.some((c) => c.operation === 'CreateServiceSpecificCredential')).toBe(true);
      const result = await checkInvariants(world);
      expect(result.violations).toEqual(
        Object.fromEntries(Object.keys(result.violations).map((k) => [k, 0])),
      );
      expect(result.passed).toBe(true);
    } finally {
      await world.stop();
    }
  });

  it('reports a lockout and a leaked secret', async () => {
    const world = await new BenchWorld().start();
    try {
      const [arn] = world.seed({ count: 1, ageDays: 1 });
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
