// Figure 5: cold start. Builds the deployed bundle with the package build's own esbuild
// options (scripts/build.ts: ESM, minified, mainFields module/main, the createRequire
// banner, platform node, code splitting so the CQL driver is a chunk loaded on first use), the
// same handler as one file with the driver inlined (the build before splitting: the "before"
// figure), and a baseline bundle that only constructs the two SDK clients, then spawns `node`
// on each bundle in turn and times the import (module init) in the child. Median of N.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HANDLER_BUNDLE } from '../scripts/build.ts';
import { median, progress } from './harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.local', 'bench');

const BASELINE_SOURCE = `// Baseline: the two SDK clients, constructed, and nothing else.
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export const iam = new IAMClient({});
export const secrets = new SecretsManagerClient({});
`;

/** Imports the bundle and prints how long the import (module evaluation included) took. */
const PROBE = `const c = process.cpuUsage(); const t = performance.now(); await import(process.argv[1]); const u = process.cpuUsage(c); process.stdout.write(JSON.stringify([performance.now() - t, (u.user + u.system) / 1000]));`;

export interface ColdStartFigure {
  readonly runs: number;
  readonly target: string;
  readonly handler: Timings & { largestInputs: [string, number][] };
  readonly baseline: Timings;
  /** The handler as one file, CQL driver inlined (no code splitting): what splitting saves. */
  readonly inlinedDriver?: Timings | undefined;
  /** Median init wall time, handler / baseline: the figure. */
  readonly ratio: number;
  /** The same on CPU time (less sensitive to other load on the machine). */
  readonly cpuRatio: number;
  readonly goal: number;
}

interface Timings {
  readonly bytes: number;
  readonly initMs: number[];
  readonly medianMs: number;
  readonly medianCpuMs: number;
}

/** Builds `entry` into `outdir`/index.mjs (chunks beside it), or as one file with `split: false`. */
async function bundle(entry: string, outdir: string, split = true) {
  const result = await build({
    ...HANDLER_BUNDLE,
    ...(split ? {} : { splitting: false }),
    entryPoints: [entry],
    outdir,
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** Package (or our own folder) -> bytes in the entry file (what init parses), largest first. */
function largestInputs(metafile: Awaited<ReturnType<typeof bundle>>): [string, number][] {
  const sizes = new Map<string, number>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('/index.mjs')) continue;
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = m ? (m[1] as string) : (path.split('/')[0] ?? path);
      sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 8);
}

/** [wall ms, CPU ms] of one import of `file` in a fresh node. */
function initTime(file: string): [number, number] {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, file], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // What the construct sets on the deployed function.
      ROTATE_AFTER_DAYS: '30',
      OVERLAP_DAYS: '0',
      GRACE_PERIOD_DAYS: '7',
      SECRET_NAME_PREFIX: 'service-credentials/',
      EVENT_BUS_NAME: 'default',
      POWERTOOLS_SERVICE_NAME: 'credential-rotator',
      POWERTOOLS_METRICS_NAMESPACE: 'ServiceCredentialRotator',
    },
  });
  try {
    const [wall, cpu] = JSON.parse(child.stdout) as [number, number];
    if (child.status === 0 && Number.isFinite(wall) && Number.isFinite(cpu)) return [wall, cpu];
  } catch {
    // reported below
  }
  throw new Error(`init probe of ${file} failed: ${child.stderr || child.stdout}`);
}

export async function coldStart(runs = 15): Promise<ColdStartFigure> {
  mkdirSync(OUT, { recursive: true });
  const baselineEntry = join(OUT, 'baseline-entry.ts');
  writeFileSync(baselineEntry, BASELINE_SOURCE);
  rmSync(join(OUT, 'handler'), { recursive: true, force: true });
  const handlerFile = join(OUT, 'handler', 'index.mjs');
  const inlinedFile = join(OUT, 'handler-inlined', 'index.mjs');
  const baselineFile = join(OUT, 'baseline', 'index.mjs');
  const meta = await bundle(join(ROOT, 'lambda', 'handler.ts'), join(OUT, 'handler'));
  await bundle(join(ROOT, 'lambda', 'handler.ts'), join(OUT, 'handler-inlined'), false);
  await bundle(baselineEntry, join(OUT, 'baseline'));

  // Interleaved, after one warm-up each (disk cache), so drift hits all alike.
  initTime(handlerFile);
  initTime(inlinedFile);
  initTime(baselineFile);
  const h: [number, number][] = [];
  const n: [number, number][] = [];
  const b: [number, number][] = [];
  for (let i = 0; i < runs; i++) {
    h.push(initTime(handlerFile));
    n.push(initTime(inlinedFile));
    b.push(initTime(baselineFile));
    if ((i + 1) % 5 === 0) progress(`        … ${i + 1}/${runs} interleaved init triples`);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  const timings = (file: string, xs: [number, number][]): Timings => ({
    bytes: statSync(file).size,
    initMs: xs.map(([wall]) => round(wall)),
    medianMs: round(median(xs.map(([wall]) => wall))),
    medianCpuMs: round(median(xs.map(([, cpu]) => cpu))),
  });
  const handler = timings(handlerFile, h);
  const baseline = timings(baselineFile, b);
  return {
    runs,
    target: 'node20',
    handler: { ...handler, largestInputs: largestInputs(meta) },
    baseline,
    inlinedDriver: timings(inlinedFile, n),
    ratio: Math.round((handler.medianMs / baseline.medianMs) * 100) / 100,
    cpuRatio: Math.round((handler.medianCpuMs / baseline.medianCpuMs) * 100) / 100,
    goal: 1.15,
  };
}
