// The budget numbers: each one derived from the setting it stands for, so a change to the
// probe retries, the probe timeout or the SDK attempts moves the minimum timeout with it.
import { describe, expect, it } from 'vitest';
import {
  cappedRetryBudgetMs,
  MIN_TIMEOUT_SECONDS_UNVERIFIED,
  MIN_TIMEOUT_SECONDS_VERIFIED,
  MIN_VERIFICATION_MS,
  minimumRunMs,
  minimumTimeoutSeconds,
  OBSERVE_RESERVE_MS,
  TARGET_WRITES_RESERVE_MS,
  targetNeedMs,
  throttledCallBackoffMs,
  timeoutProblem,
  VERIFICATION_BUDGET_MS,
  verificationBudgetMs,
} from '../lambda/budget.ts';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../lambda/probes/https.ts';
import { DEFAULT_RETRY_POLICY } from '../lambda/probes/retry.ts';

describe('budget', () => {
  it('sums the SDK backoff caps of a throttled call: 1 + 2 + 4 + 8 s over 5 attempts', () => {
    expect(throttledCallBackoffMs()).toBe(15_000);
    expect(throttledCallBackoffMs(1)).toBe(0);
    // The 20 s cap: retries 5 and 6 would wait 32 s and 64 s uncapped.
    expect(throttledCallBackoffMs(7)).toBe(1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 20_000);
    expect(TARGET_WRITES_RESERVE_MS).toBe(30_000);
  });

  it('takes the verification budget from the probe retry policy and the probe timeout', () => {
    expect(VERIFICATION_BUDGET_MS).toBe(DEFAULT_RETRY_POLICY.budgetMs + DEFAULT_PROBE_TIMEOUT_MS);
    expect(verificationBudgetMs({ ...DEFAULT_RETRY_POLICY, budgetMs: 20_000 })).toBe(30_000);
  });

  it('gives the minimum timeout for one verified and one unverified rotation', () => {
    expect(MIN_TIMEOUT_SECONDS_VERIFIED).toBe(135);
    expect(MIN_TIMEOUT_SECONDS_UNVERIFIED).toBe(45);
    expect(minimumRunMs(true) - minimumRunMs(false)).toBe(VERIFICATION_BUDGET_MS);
    expect(minimumTimeoutSeconds(true, { ...DEFAULT_RETRY_POLICY, budgetMs: 1 })).toBe(56);
  });

  it('names the minimum and why when a timeout is too short, and nothing when it fits', () => {
    expect(timeoutProblem(135, true)).toBeUndefined();
    expect(timeoutProblem(45, false)).toBeUndefined();
    const problem = timeoutProblem(120, true);
    expect(problem).toContain('a timeout of 120 s cannot fit one verified rotation');
    expect(problem).toContain('at least 135 s');
    expect(problem).toContain('90 s to verify');
    expect(timeoutProblem(44, false)).toContain('at least 45 s');
    expect(timeoutProblem(44, false)).not.toContain('verify');
  });

  it('reserves by need: nothing for a quiet plan, the writes for writes, the verification only for a verified issue', () => {
    expect(targetNeedMs({ writes: false, verifies: false })).toBe(0);
    expect(targetNeedMs({ writes: false, verifies: true })).toBe(0);
    expect(targetNeedMs({ writes: true, verifies: false })).toBe(TARGET_WRITES_RESERVE_MS);
    expect(targetNeedMs({ writes: true, verifies: true })).toBe(
      TARGET_WRITES_RESERVE_MS + VERIFICATION_BUDGET_MS,
    );
    expect(
      targetNeedMs({ writes: true, verifies: true }, { ...DEFAULT_RETRY_POLICY, budgetMs: 20_000 }),
    ).toBe(TARGET_WRITES_RESERVE_MS + 30_000);
    // One target's reads through the SDK's worst backoff; the minimum run covers it.
    expect(OBSERVE_RESERVE_MS).toBe(throttledCallBackoffMs());
    expect(minimumRunMs(true)).toBe(OBSERVE_RESERVE_MS + targetNeedMs({ writes: true, verifies: true }));
  });

  it('caps a verification by the time left, and gives none when one attempt does not fit', () => {
    expect(cappedRetryBudgetMs(10 * 60_000)).toBe(DEFAULT_RETRY_POLICY.budgetMs);
    expect(cappedRetryBudgetMs(TARGET_WRITES_RESERVE_MS + 50_000)).toBe(40_000);
    expect(cappedRetryBudgetMs(TARGET_WRITES_RESERVE_MS + MIN_VERIFICATION_MS)).toBe(0);
    expect(cappedRetryBudgetMs(TARGET_WRITES_RESERVE_MS + MIN_VERIFICATION_MS - 1)).toBeUndefined();
  });
});
