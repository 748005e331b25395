// Runs scripts/moto-fidelity.ts: the same Secrets Manager sequence against moto and the
// emulator; every difference must be a confirmed KNOWN_MOTO_DEVIATIONS entry. Skipped when
// moto is not installed.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KNOWN_MOTO_DEVIATIONS, runFidelity, STEPS } from '../../scripts/moto-fidelity.ts';

const motoInstalled = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;

describe('emulator fidelity against moto (Secrets Manager)', () => {
  it.skipIf(!motoInstalled)(
    'differs from moto only where moto deviates from AWS',
    { timeout: 120_000 },
    async () => {
      const results = await runFidelity();
      expect(results).toHaveLength(STEPS.length);
      const unexpected = results.filter((r) => r.verdict === 'DIFFER');
      expect(unexpected).toEqual([]);
      expect(results.filter((r) => r.verdict === 'agree').length).toBeGreaterThan(results.length / 2);
    },
  );

  it('names only cases that exist, and the emulator follows AWS in each', () => {
    const names = new Set(STEPS.map((s) => s[0]));
    for (const d of KNOWN_MOTO_DEVIATIONS) {
      for (const c of d.cases) expect(names.has(c), c).toBe(true);
      expect(d.emulator).toBe('aws');
    }
  });
});
