// `npm run test:mutation [-- TARGET ...] [--coverage perTest|off]`: Stryker mutation testing of the
// rotation rules, one target at a time against the suites aimed at it (test/mutation/targets.ts).
// No TARGET means all of them, in turn. Reports go to reports/mutation/TARGET.html and .json;
// the exit code is 1 when a target scores below the 90% floor, 2 on a usage error.
// `--coverage off` runs every test of the target for every mutant: slower, but it does not trust
// perTest coverage, which misses code that runs once and is cached (see docs/RELIABILITY.md).
// Without it each target uses its own setting (test/mutation/targets.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MUTATION_TARGETS } from '../test/mutation/targets.ts';

/** The score every rules file must keep (issue: "at least 90% with the suites that target those files"). */
const FLOOR = 90;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { coverage: { type: 'string' } },
});
const names = positionals.length > 0 ? positionals : Object.keys(MUTATION_TARGETS);
const unknown = names.filter((n) => MUTATION_TARGETS[n] === undefined);
if (unknown.length > 0 || (values.coverage !== undefined && !['perTest', 'off'].includes(values.coverage))) {
  console.error(
    `usage: npm run test:mutation -- [TARGET ...] [--coverage perTest|off]; TARGET is one of ${Object.keys(MUTATION_TARGETS).join(', ')}`,
  );
  process.exit(2);
}

interface Report {
  files: Record<string, { mutants: { status: string }[] }>;
}

/** Stryker's mutation score: killed and timed out over all valid mutants. */
function score(report: Report): { score: number; killed: number; survived: number; total: number } {
  const statuses = Object.values(report.files).flatMap((f) => f.mutants.map((m) => m.status));
  const detected = statuses.filter((s) => s === 'Killed' || s === 'Timeout').length;
  const survived = statuses.filter((s) => s === 'Survived' || s === 'NoCoverage').length;
  const total = detected + survived;
  return { score: total === 0 ? 100 : (100 * detected) / total, killed: detected, survived, total };
}

const lines: string[] = [];
let below = false;
for (const name of names) {
  const target = MUTATION_TARGETS[name];
  if (target === undefined) continue;
  const run = spawnSync('npx', ['stryker', 'run', 'test/mutation/stryker.config.mjs'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      MUTATION_TARGET: name,
      MUTATION_FILE: target.mutate,
      MUTATION_COVERAGE: values.coverage ?? target.coverage,
    },
  });
  if (run.status !== 0) {
    console.error(`stryker failed on ${name} (exit ${run.status})`);
    process.exit(1);
  }
  const result = score(JSON.parse(readFileSync(`reports/mutation/${name}.json`, 'utf8')) as Report);
  below ||= result.score < FLOOR;
  lines.push(
    `${target.mutate}: ${result.score.toFixed(2)}% (${result.killed}/${result.total} detected, ${result.survived} survived)`,
  );
}
console.log(`\nmutation scores (floor ${FLOOR}%):\n${lines.join('\n')}`);
process.exit(below ? 1 : 0);
