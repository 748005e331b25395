// runCommand (dispatch.ts): Secrets Manager's rotation steps go to the step runner, every
// other command to the run. A scripted Secrets Manager records which one was asked: the run
// lists targets, a step describes the one secret it names.
import { describe, expect, it } from 'vitest';
import type { SecretSummary } from '../lambda/aws/ports.ts';
import { runCommand } from '../lambda/dispatch.ts';
import { RotationStepRejectedError } from '../lambda/errors.ts';
import type { RunDeps } from '../lambda/rotation/deps.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:untagged-Ab12Cd';
const NOW = new Date('2026-03-01T12:00:00.000Z');

function deps(): { deps: RunDeps; calls: string[] } {
  const calls: string[] = [];
  const untagged: SecretSummary = { arn: ARN, name: 'untagged', tags: {} };
  const secrets = {
    listTargetSecrets: async () => {
      calls.push('listTargetSecrets');
      return [];
    },
    describeSecret: async (id: string) => {
      calls.push(`describeSecret ${id}`);
      return untagged;
    },
  } as unknown as RunDeps['secrets'];
  return {
    calls,
    deps: {
      credentials: {} as RunDeps['credentials'],
      secrets,
      policy: { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 },
      now: () => NOW,
      log: { debug() {}, info() {}, warn() {}, error() {} },
    },
  };
}

describe('runCommand', () => {
  it('runs a command on the targets it discovers', async () => {
    const { deps: d, calls } = deps();
    const report = await runCommand({ action: 'reconcile', dryRun: false }, d);
    expect(report.targets).toStrictEqual([]);
    expect(calls).toStrictEqual(['listTargetSecrets']);
  });

  it("sends a rotation step to the step runner, which checks the step's own secret", async () => {
    const { deps: d, calls } = deps();
    const step = {
      action: 'rotation-step',
      step: 'createSecret',
      secretId: ARN,
      token: 't'.repeat(32),
    } as const;
    await expect(runCommand(step, d)).rejects.toBeInstanceOf(RotationStepRejectedError);
    expect(calls).toStrictEqual([`describeSecret ${ARN}`]);
  });
});
