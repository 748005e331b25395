// The retry wrapper on a fake probe and a fake clock: only rejections are retried, with
// capped exponential backoff inside the budget; every other outcome is final at once.
import { describe, expect, it } from 'vitest';
import type { CredentialProbe, ProbeOutcome, ProbeResult } from '../../lambda/probes/index.ts';
import { DEFAULT_RETRY_POLICY, RetryingProbe } from '../../lambda/probes/index.ts';
import { createVerifier } from '../../lambda/probes/verifier.ts';

const input = { serviceName: 'bedrock.amazonaws.com', region: 'us-east-1', credential: { secret: 'k' } };

/** A probe answering the given outcomes in turn (the last one forever). */
function scripted(...outcomes: ProbeOutcome[]): CredentialProbe & { calls: number } {
  const probe = {
    calls: 0,
    async verify(): Promise<ProbeResult> {
      const outcome = outcomes[Math.min(probe.calls++, outcomes.length - 1)] ?? 'verified';
      return { outcome, reason: `said ${outcome}`, attempts: 1 };
    },
  };
  return probe;
}

function fakeTiming() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    timing: {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}

describe('RetryingProbe', () => {
  it('retries rejections until the credential is verified', async () => {
    const { sleeps, timing } = fakeTiming();
    const probe = scripted('rejected', 'rejected', 'verified');
    const r = await new RetryingProbe(probe, DEFAULT_RETRY_POLICY, timing).verify(input);
    expect(r).toMatchObject({ outcome: 'verified', attempts: 3 });
    expect(sleeps).toEqual([2_000, 4_000]);
  });

  it('stops within the budget with waits capped at maxDelayMs, and says how long it tried', async () => {
    const { sleeps, timing } = fakeTiming();
    const r = await new RetryingProbe(scripted('rejected'), DEFAULT_RETRY_POLICY, timing).verify(input);
    expect(r.outcome).toBe('rejected');
    expect(sleeps).toEqual([2_000, 4_000, 8_000, 16_000, 16_000, 16_000, 16_000]);
    expect(r.reason).toBe('said rejected after 8 attempts over 78 s');
  });

  it("lowers the budget for one call (the run's time left), never raises it", async () => {
    const low = fakeTiming();
    const capped = await new RetryingProbe(scripted('rejected'), DEFAULT_RETRY_POLICY, low.timing).verify(
      input,
      10_000,
    );
    expect(capped).toMatchObject({ outcome: 'rejected', attempts: 3 });
    expect(low.sleeps).toEqual([2_000, 4_000]);

    const none = fakeTiming();
    const once = await new RetryingProbe(scripted('rejected'), DEFAULT_RETRY_POLICY, none.timing).verify(
      input,
      0,
    );
    expect(once).toMatchObject({ outcome: 'rejected', attempts: 1 });
    expect(none.sleeps).toEqual([]);

    const high = fakeTiming();
    await new RetryingProbe(scripted('rejected'), DEFAULT_RETRY_POLICY, high.timing).verify(input, 1_000_000);
    expect(high.sleeps.reduce((a, b) => a + b, 0)).toBe(78_000);
  });

  it('counts the time attempts take against the budget', async () => {
    let now = 0;
    const slow: CredentialProbe = {
      async verify() {
        now += 30_000;
        return { outcome: 'rejected', reason: 'no', attempts: 1 };
      },
    };
    const timing = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const r = await new RetryingProbe(slow, DEFAULT_RETRY_POLICY, timing).verify(input);
    // 30 s, wait 2 s, 30 s, wait 4 s, 30 s: the next wait would end past 80 s.
    expect(r.attempts).toBe(3);
  });

  it.each(['denied', 'unreachable', 'skipped', 'verified'] as const)('does not retry %s', async (outcome) => {
    const { sleeps, timing } = fakeTiming();
    const probe = scripted(outcome, 'verified');
    const r = await new RetryingProbe(probe, DEFAULT_RETRY_POLICY, timing).verify(input);
    expect(r).toMatchObject({ outcome, attempts: 1, reason: `said ${outcome}` });
    expect(sleeps).toEqual([]);
  });

  it('refuses a policy whose delays make no sense, naming the expected form', () => {
    expect(
      () => new RetryingProbe(scripted('verified'), { initialDelayMs: 0, maxDelayMs: 1, budgetMs: 1 }),
    ).toThrow(/0 < initialDelayMs <= maxDelayMs/);
  });
});

describe('createVerifier', () => {
  it("hands the run's retry budget to the retries", async () => {
    const { sleeps, timing } = fakeTiming();
    const verify = createVerifier({
      probe: scripted('rejected'),
      region: 'us-east-1',
      defaultMode: 'enforce',
      retryTiming: timing,
    });
    const target = { secretId: 's', secretName: 's', userName: 'u', serviceName: 'bedrock.amazonaws.com' };
    const issued = {
      id: 'ACCA1',
      userName: 'u',
      serviceName: 'bedrock.amazonaws.com',
      status: 'Active' as const,
      createdAt: new Date(0),
      serviceCredentialSecret: 'k',
    };
    const v = await verify(target, issued, { retryBudgetMs: 10_000 });
    expect(v).toMatchObject({ mode: 'enforce', outcome: 'rejected', attempts: 3 });
    expect(sleeps).toEqual([2_000, 4_000]);
  });
});
