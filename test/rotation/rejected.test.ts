// The summary of the secrets a run refused (rejected.ts): what the one log line and the one
// event say, however many secrets were refused.
import { describe, expect, it } from 'vitest';
import type { RejectedSecret } from '../../lambda/rotation/model.ts';
import { REJECTED_LISTED, rejectedSummary } from '../../lambda/rotation/rejected.ts';

const KEYSPACES = 'cassandra.amazonaws.com';

function rejected(n: number, lookAlike = false): RejectedSecret {
  const name = `${lookAlike ? 'declared' : 'tagged'}-${n}`;
  return {
    secretId: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-Ab12Cd`,
    secretName: name,
    userName: `user-${n}`,
    serviceName: KEYSPACES,
    reason: lookAlike ? 'not the ARN the stack created' : 'tagged but not declared',
    ...(lookAlike ? { lookAlike: true } : {}),
  };
}

describe('rejectedSummary', () => {
  it('is empty for a run that refused nothing', () => {
    expect(rejectedSummary([])).toEqual({ count: 0, lookAlikes: 0, secrets: [], notListed: 0 });
  });

  it('lists every secret of a short list, look-alikes first, in their order otherwise', () => {
    const secrets = [rejected(1), rejected(2, true), rejected(3), rejected(4, true)];
    expect(rejectedSummary(secrets)).toStrictEqual({
      count: 4,
      lookAlikes: 2,
      secrets: [rejected(2, true), rejected(4, true), rejected(1), rejected(3)],
      notListed: 0,
    });
  });

  it(`names at most ${REJECTED_LISTED}, counting the rest`, () => {
    const secrets = [
      ...Array.from({ length: REJECTED_LISTED }, (_, i) => rejected(i)),
      rejected(100, true),
      rejected(101),
    ];
    const summary = rejectedSummary(secrets);
    expect(REJECTED_LISTED).toBe(20);
    expect(summary.count).toBe(REJECTED_LISTED + 2);
    expect(summary.lookAlikes).toBe(1);
    expect(summary.notListed).toBe(2);
    expect(summary.secrets).toHaveLength(REJECTED_LISTED);
    // The look-alike is listed although it came last; the last tagged ones are left out.
    expect(summary.secrets[0]).toStrictEqual(rejected(100, true));
    expect(summary.secrets.map((s) => s.secretName).slice(1)).toEqual(
      Array.from({ length: REJECTED_LISTED - 1 }, (_, i) => `tagged-${i}`),
    );
  });

  it('carries only the named fields of each secret, and `lookAlike` only when set', () => {
    const carrying = { ...rejected(1), note: 'anything else an entry may carry', lookAlike: false };
    expect(rejectedSummary([carrying]).secrets).toStrictEqual([
      {
        secretId: rejected(1).secretId,
        secretName: 'tagged-1',
        userName: 'user-1',
        serviceName: KEYSPACES,
        reason: 'tagged but not declared',
      },
    ]);
  });
});
