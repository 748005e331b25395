// Runs scripts/moto-fidelity.ts: the same Secrets Manager sequence against moto and the
// emulator; every difference must be a confirmed KNOWN_MOTO_DEVIATIONS entry. moto ships in
// the machine image; without it this test fails with instructions instead of skipping, so a
// green `npm test` always means the emulator was checked against a third party.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KNOWN_MOTO_DEVIATIONS, runFidelity, STEPS } from '../../scripts/moto-fidelity.ts';

/** Why moto cannot be used here, or undefined when `python3 -m moto.server` can run. */
function motoMissing(python = 'python3'): string | undefined {
  const probe = spawnSync(python, ['-c', 'import moto.server'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').at(-1) ?? 'unknown error');
  return (
    `moto is not available to ${python} (${why}): the fidelity check needs it. ` +
    'Install it with `pip install "moto[server]"` (or `apt-get install python3-moto`) and run the tests again'
  );
}

describe('emulator fidelity against moto (Secrets Manager)', () => {
  it('differs from moto only where moto deviates from AWS', { timeout: 120_000 }, async () => {
    const missing = motoMissing();
    if (missing) throw new Error(missing);
    const results = await runFidelity();
    expect(results).toHaveLength(STEPS.length);
    const unexpected = results.filter((r) => r.verdict === 'DIFFER');
    expect(unexpected).toEqual([]);
    expect(results.filter((r) => r.verdict === 'agree').length).toBeGreaterThan(results.length / 2);
  });

  it('fails with instructions, not a skip, when moto is missing', () => {
    const why = motoMissing('python3-that-does-not-exist');
    expect(why).toMatch(
      /^moto is not available to python3-that-does-not-exist \(.+\): the fidelity check needs it/,
    );
    expect(why).toContain('pip install "moto[server]"');
  });

  it('names only cases that exist, and the emulator follows AWS in each', () => {
    const names = new Set(STEPS.map((s) => s[0]));
    for (const d of KNOWN_MOTO_DEVIATIONS) {
      for (const c of d.cases) expect(names.has(c), c).toBe(true);
      expect(d.emulator).toBe('aws');
    }
  });
});
