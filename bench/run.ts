// `npm run bench`: the five figures of issue #6, measured through the real handler and the
// real SDK against the local emulator on 127.0.0.1, written to .local/bench/results.json and
// .md; `--write` (`npm run bench:record`) writes the tracked bench/results.json and .md
// instead, so a plain run leaves a clean checkout clean. Never reaches AWS: dummy
// credentials, and every endpoint is loopback. Progress lines go to stderr, one every 10 s
// during a long step. BENCH_QUICK=1 runs small fleets (for trying things out; the figures
// are not the reported ones).
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
const { criticalPath, steadyState, fleet, deadline } = await import('./figures.ts');
const { coldStart } = await import('./coldstart.ts');
const { renderMarkdown } = await import('./report.ts');
const { showProgress } = await import('./harness.ts');

const quick = process.env.BENCH_QUICK === '1';
// `--only coldstart` (or BENCH_ONLY=coldstart): some figures, e.g. `npm run bench -- --only coldstart`.
const onlyArg = process.argv.indexOf('--only');
const only = (onlyArg >= 0 ? process.argv[onlyArg + 1] : process.env.BENCH_ONLY)?.split(',');
const want = (name: string) => !only || only.includes(name);
const started = performance.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
showProgress(10_000);
const record = process.argv.includes('--write');
if (record && (quick || only)) {
  process.stderr.write('--write records the full figures only: drop BENCH_QUICK and --only\n');
  process.exit(2);
}

const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length, quick },
};

if (want('critical')) {
  log('1/5 critical path');
  results.criticalPath = await criticalPath(50, 3);
}
if (want('steady')) {
  log('2/5 steady state');
  results.steadyState = await steadyState(quick ? 200 : 1000);
}
if (want('fleet')) {
  log('3/5 fleet rotation under throttling');
  results.fleet = await fleet(quick ? 200 : 2000);
}
if (want('deadline')) {
  log('4/5 deadline');
  results.deadline = await deadline(quick ? 80 : 150, quick ? 35_000 : 38_000);
}
if (want('coldstart')) {
  log('5/5 cold start');
  results.coldStart = await coldStart(quick ? 5 : 15);
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
