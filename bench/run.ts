// The bench of issue 17: the deployed configuration's figures, measured through the real
// handler and the real SDK against the local emulator on 127.0.0.1 (harness.ts says what
// "deployed" means and where it is read from). `npm run bench:record` (`--write`) runs the full
// counts and writes the tracked bench/results.json and .md; `npm run bench` (`--quick`) runs
// small fleets into .local/bench/ so a plain run leaves a clean checkout clean (its figures are
// not the reported ones). Never reaches AWS: dummy credentials, and every endpoint is loopback.
// Progress lines go to stderr, one every 10 s during a long step.
import { mkdirSync, writeFileSync } from 'node:fs';

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
});

// After the environment: the handler module reads it at import (its cold-start config).
const { criticalPath, quietRun, fleet } = await import('./figures.ts');
const { coldStart } = await import('./coldstart.ts');
const { renderMarkdown } = await import('./report.ts');
const { deployed, showProgress } = await import('./harness.ts');

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
// `--only coldstart` (or BENCH_ONLY=coldstart): some figures, e.g. `npm run bench -- --only fleet`.
const onlyArg = process.argv.indexOf('--only');
const only = (onlyArg >= 0 ? process.argv[onlyArg + 1] : process.env.BENCH_ONLY)?.split(',');
const want = (name: string) => !only || only.includes(name);
const started = performance.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
showProgress(10_000);
const record = process.argv.includes('--write');
if (record && (quick || only)) {
  process.stderr.write('--write records the full figures only: drop --quick, BENCH_QUICK and --only\n');
  process.exit(2);
}

log('0/4 the construct’s defaults (synth)');
const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length, quick },
  deployed: deployed(),
};

if (want('critical')) {
  log('1/4 critical path');
  results.criticalPath = await criticalPath(50, quick ? 1 : 3);
}
if (want('quiet')) {
  log('2/4 quiet run');
  results.quietRun = await quietRun(quick ? 200 : 1000);
}
if (want('fleet')) {
  // 2,000 due targets outlast a 300-s run at 20 IAM calls/s whatever a rotation costs (≥ 3
  // IAM calls as deployed): the run's count is its capacity. Quick: 300, which a run finishes.
  log('3/4 fleet throughput and rotations per run');
  results.fleet = await fleet(quick ? 300 : 2000);
}
if (want('coldstart')) {
  log('4/4 cold start');
  results.coldStart = await coldStart(quick ? 5 : 11);
}
results.runtimeSeconds = Math.round((performance.now() - started) / 100) / 10;
log('done');

// Only an explicit, full `--write` run replaces the reported figures.
const out = record ? 'bench/results' : '.local/bench/results';
mkdirSync('.local/bench', { recursive: true });
writeFileSync(`${out}.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${out}.md`, renderMarkdown(results));
process.stderr.write(`wrote ${out}.json and ${out}.md\n`);
process.exit(0);
