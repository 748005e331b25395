// mapBounded (concurrency.ts): the executor's bound on targets processed at once. No clock:
// each call yields a few event-loop turns, and the test counts the calls in flight.
import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../lambda/rotation/concurrency.ts';

/** `turns` turns of the event loop: later calls can finish before earlier ones. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs mapBounded over `items`, recording the most calls in flight and the order they started. */
async function observe(items: readonly number[], limit: number) {
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  const results = await mapBounded(items, limit, async (n) => {
    started.push(n);
    inFlight++;
    most = Math.max(most, inFlight);
    // The first items take longest, so completion order is the reverse of the input's.
    await yieldTurns(items.length - n + 1);
    inFlight--;
    return `r${n}`;
  });
  return { results, most, started };
}

describe('mapBounded', () => {
  it('keeps the input order in its results, whatever order the calls finish in', async () => {
    const { results } = await observe([1, 2, 3, 4, 5], 5);
    expect(results).toStrictEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('has at most `limit` calls in flight, and uses all of them', async () => {
    const { results, most, started } = await observe([1, 2, 3, 4, 5, 6, 7], 3);
    expect(most).toBe(3);
    expect(started.toSorted()).toStrictEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(results).toStrictEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
  });

  it('calls each item once and starts them in input order', async () => {
    const { started } = await observe([1, 2, 3, 4], 2);
    expect(started).toStrictEqual([1, 2, 3, 4]);
  });

  it('runs one at a time when the limit is below 1, rather than none', async () => {
    for (const limit of [0, -3]) {
      const { results, most } = await observe([1, 2, 3], limit);
      expect(results).toStrictEqual(['r1', 'r2', 'r3']);
      expect(most).toBe(1);
    }
  });

  it('runs every item at once when the limit exceeds their number', async () => {
    const { most, results } = await observe([1, 2], 10);
    expect(most).toBe(2);
    expect(results).toStrictEqual(['r1', 'r2']);
  });

  it('returns no results for no items, without calling', async () => {
    let calls = 0;
    expect(await mapBounded([], 4, async () => ++calls)).toStrictEqual([]);
    expect(calls).toBe(0);
  });

  it('fails with the first error a call throws', async () => {
    await expect(
      mapBounded([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('call 2 failed');
        return n;
      }),
    ).rejects.toThrow('call 2 failed');
  });
});
