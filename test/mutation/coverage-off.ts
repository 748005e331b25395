// Setup file of a mutation run with coverage analysis "off" (test/mutation/vitest.config.ts adds
// it). Stryker's vitest runner reports the per-test coverage its instrumented code records
// whatever coverageAnalysis says, and Stryker then runs only the tests that reached a mutant
// in the dry run. Code built once and cached (events.ts's lazily built schemas) is reached by
// the first test that builds it only, so "off" would not be off. Dropping the recorded
// coverage before the runner reads it makes Stryker run every test for every mutant.
import { afterAll } from 'vitest';

/** Stryker's global namespace (INSTRUMENTER_CONSTANTS.NAMESPACE in @stryker-mutator/api). */
const STRYKER = '__stryker__';

// Vitest runs afterAll hooks last-registered first, and Stryker's setup file comes before this
// one: this hook runs before the one that hands the coverage to the runner.
afterAll(() => {
  const ns = (globalThis as Record<string, { mutantCoverage?: unknown } | undefined>)[STRYKER];
  if (ns) ns.mutantCoverage = undefined;
});
