// Vitest for a mutation run: the project's settings, narrowed to the suites of one target
// (MUTATION_TARGET, set by scripts/mutation.ts) and without the package build, which no
// targeted suite needs.
import { existsSync } from 'node:fs';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.ts';
import { MUTATION_TARGETS } from './targets.ts';

const name = process.env.MUTATION_TARGET ?? '';
const target = MUTATION_TARGETS[name];
if (target === undefined) {
  throw new Error(
    `MUTATION_TARGET must be one of ${Object.keys(MUTATION_TARGETS).join(', ')}; got '${name}'`,
  );
}

const merged = mergeConfig(base, defineConfig({}));
merged.test.reporters = ['default'];
merged.test.globalSetup = [];
merged.test.include = target.tests.filter((file) => existsSync(file));
// coverageAnalysis "off" (scripts/mutation.ts sets MUTATION_COVERAGE): every test for every
// mutant, which Stryker's vitest runner does only without the coverage it records (see the file).
if (process.env.MUTATION_COVERAGE === 'off') {
  merged.test.setupFiles = [...merged.test.setupFiles, 'test/mutation/coverage-off.ts'];
}
export default merged;
