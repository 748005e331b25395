// The commands (commands.ts): which requests are an operator's, and the rotation steps' order.
import { describe, expect, it } from 'vitest';
import { isManual, ROTATION_STEPS, type TargetRequest } from '../../lambda/rotation/commands.ts';

describe('isManual', () => {
  it('is false for the schedule only: an intent another run claimed blocks a manual change', () => {
    const requests: [TargetRequest, boolean][] = [
      [{ command: 'reconcile' }, false],
      [{ command: 'reconcile', requestId: 'r' }, false],
      [{ command: 'rotate', force: false }, true],
      [{ command: 'rotate', force: true }, true],
      [{ command: 'rollback' }, true],
      [{ command: 'revoke', delete: false }, true],
    ];
    for (const [request, manual] of requests)
      expect([request, isManual(request)]).toStrictEqual([request, manual]);
  });
});

describe('ROTATION_STEPS', () => {
  it("lists Secrets Manager's four steps in the order it calls them", () => {
    expect(ROTATION_STEPS).toStrictEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
  });
});
