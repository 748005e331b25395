// Stryker for one mutation target, named by MUTATION_TARGET and MUTATION_FILE (set by
// scripts/mutation.ts). Stryker 9.x: 10.x needs Node 22. tsconfigFile points nowhere on purpose:
// TypeScript 7 (native) has no JavaScript API for Stryker's tsconfig step, and the type check
// stays with `tsc`, so no checker plugin either.
const target = process.env.MUTATION_TARGET;
const file = process.env.MUTATION_FILE;
if (!target || !file)
  throw new Error('run through `npm run test:mutation` (MUTATION_TARGET/MUTATION_FILE unset)');

// MUTATION_RUNNER=command: a fresh vitest process per mutant, every test each time. Slow; a
// cross-check of the vitest runner's verdicts. Code built once and cached (events.ts's lazily
// built schemas) needs coverage "off" under the vitest runner, which coverage-off.ts makes real.
const fresh = process.env.MUTATION_RUNNER === 'command';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: fresh ? 'command' : 'vitest',
  commandRunner: { command: 'npx vitest run --config test/mutation/vitest.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'test/mutation/vitest.config.ts' },
  mutate: [file],
  tsconfigFile: 'test/mutation/no-tsconfig.json',
  coverageAnalysis: fresh ? 'off' : (process.env.MUTATION_COVERAGE ?? 'perTest'),
  // The machine is shared; a higher number only slows every run on it.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${target}.html` },
  jsonReporter: { fileName: `reports/mutation/${target}.json` },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  incremental: false,
  cleanTempDir: true,
};
