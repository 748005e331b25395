// The run's dependencies (deps.ts): whether a target's new credential is checked with its
// service, from the verifier given and the target's and the deployment's modes.
import { describe, expect, it } from 'vitest';
import { type RunDeps, verifiesTarget } from '../../lambda/rotation/deps.ts';
import type { Target } from '../../lambda/rotation/model.ts';
import type { VerifyCredential } from '../../lambda/rotation/verification.ts';

const TARGET: Target = {
  secretId: 'arn:secret',
  secretName: 's',
  userName: 'alice',
  serviceName: 'cassandra.amazonaws.com',
};
const verifier: VerifyCredential = async () => ({
  mode: 'enforce',
  outcome: 'verified',
  reason: 'accepted',
  attempts: 1,
});

function deps(extra: Partial<RunDeps>): RunDeps {
  return {
    credentials: {} as RunDeps['credentials'],
    secrets: {} as RunDeps['secrets'],
    policy: { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 },
    now: () => new Date(0),
    log: { debug() {}, info() {}, warn() {}, error() {} },
    ...extra,
  };
}

describe('verifiesTarget', () => {
  it('is false without a verifier, whatever the modes say', () => {
    expect(
      verifiesTarget({ ...TARGET, verification: { mode: 'enforce' } }, deps({ verificationMode: 'enforce' })),
    ).toBe(false);
  });

  it("with a verifier, follows the target's own mode first, then the deployment's, then enforce", () => {
    const off = { ...TARGET, verification: { mode: 'off' } } as const;
    const warn = { ...TARGET, verification: { mode: 'warn' } } as const;
    expect(verifiesTarget(off, deps({ verifyCredential: verifier, verificationMode: 'enforce' }))).toBe(
      false,
    );
    expect(verifiesTarget(warn, deps({ verifyCredential: verifier, verificationMode: 'off' }))).toBe(true);
    expect(verifiesTarget(TARGET, deps({ verifyCredential: verifier, verificationMode: 'off' }))).toBe(false);
    expect(verifiesTarget(TARGET, deps({ verifyCredential: verifier, verificationMode: 'warn' }))).toBe(true);
    expect(verifiesTarget(TARGET, deps({ verifyCredential: verifier }))).toBe(true);
  });
});
