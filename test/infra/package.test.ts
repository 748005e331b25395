// The package as a platform team gets it: `npm pack`, installed from the tarball into an app
// outside this repository (offline; aws-cdk-lib and constructs linked from this repository's
// node_modules, as an app would already have them), used from plain JavaScript and from
// TypeScript. The global setup has built lib/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM_ENV = {
  ...process.env,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

const CONSUMER_JS = `
import { App, Stack } from 'aws-cdk-lib';
import { ServiceCredentialRotator } from 'service-credential-rotator';
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
const rotator = new ServiceCredentialRotator(stack, 'Rotator', {
  targets: [{ userName: 'orders', serviceName: 'cassandra.amazonaws.com' }],
  consoleTestEvents: true,
});
rotator.addTarget({ userName: 'ci', serviceName: 'codecommit.amazonaws.com' });
app.synth();
`;

// Type-checks only: the declarations must resolve, and wrong props must be an error.
const CONSUMER_TS = `
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type RotatorAlarms, ServiceCredentialRotator } from 'service-credential-rotator';
const stack = new Stack(new App(), 'Consumer');
const rotator = new ServiceCredentialRotator(stack, 'Rotator', {
  targets: [{ userName: 'orders', serviceName: 'cassandra.amazonaws.com' }],
  timeout: Duration.minutes(3),
});
rotator.grantRead(new iam.AccountRootPrincipal(), { userName: 'orders', serviceName: 'cassandra.amazonaws.com' });
export const alarms: RotatorAlarms = rotator.alarms;
export const period: number = rotator.metricRotations().period.toSeconds();
// @ts-expect-error: an unknown prop is an error, so the props' types did resolve
new ServiceCredentialRotator(stack, 'Bad', { targets: [], unknownProp: 1 });
`;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('the packed package, installed in an app outside the repository', () => {
  const work = mkdtempSync(join(tmpdir(), 'rotator-consumer-'));
  const app = join(work, 'app');
  let packed: PackResult;
  let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  let outdir: string;

  beforeAll(() => {
    // --ignore-scripts: prepack would rebuild what the global setup has just built.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: ROOT,
      env: NPM_ENV,
      encoding: 'utf8',
    });
    packed = (JSON.parse(out) as PackResult[])[0] as PackResult;
    mkdirSync(app);
    const link = (name: string) => `file:${join(ROOT, 'node_modules', name)}`;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: {
          'service-credential-rotator': `file:${join(work, packed.filename)}`,
          'aws-cdk-lib': link('aws-cdk-lib'),
          constructs: link('constructs'),
        },
      }),
    );
    // --legacy-peer-deps: npm 11 fails to place peers satisfied by linked folders.
    execFileSync('npm', ['install', '--offline', '--ignore-scripts', '--legacy-peer-deps'], {
      cwd: app,
      env: NPM_ENV,
      stdio: 'pipe',
    });
    writeFileSync(join(app, 'app.mjs'), CONSUMER_JS);
    outdir = join(work, 'cdk.out');
    execFileSync(process.execPath, ['app.mjs', outdir], {
      cwd: app,
      env: { ...process.env, CDK_VALIDATION: 'false' },
    });
    template = JSON.parse(readFileSync(join(outdir, 'Consumer.template.json'), 'utf8'));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const resources = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);

  it('ships the built library, its declarations and the bundled handler, and no source', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'lib/infra/rotator/index.js',
        'lib/infra/rotator/index.d.ts',
        'lib/handler/index.mjs',
      ]),
    );
    // The CQL driver ships as a chunk of its own, loaded by the handler only for a Keyspaces probe.
    expect(paths.some((p) => /^lib\/handler\/chunks\/cassandra-driver-\w+\.mjs$/.test(p))).toBe(true);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => /^(test|emulator|scripts|bench|infra)\//.test(p))).toEqual([]);
  });

  it('synthesizes the function from the prebuilt handler, with no bundling at synth', () => {
    const [fn] = resources('AWS::Lambda::Function').filter((r) => r.Properties.Handler === 'index.handler');
    expect(fn?.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    // The function's own asset (the declared-targets layer is another).
    const asset = `asset.${String((fn?.Properties.Code as { S3Key?: string } | undefined)?.S3Key).replace(/\.zip$/, '')}`;
    expect(readdirSync(join(outdir, asset)).sort()).toEqual(['chunks', 'index.mjs']);
  });

  it('creates a tagged secret per target, the one added after construction included', () => {
    const names = resources('AWS::SecretsManager::Secret').map((r) => r.Properties.Name);
    expect(names).toEqual([
      'service-credentials/orders/cassandra.amazonaws.com',
      'service-credentials/ci/codecommit.amazonaws.com',
    ]);
  });

  it('creates the ten alarms, and the console test events from inside the package', () => {
    expect(resources('AWS::CloudWatch::Alarm')).toHaveLength(10);
    const [schema] = resources('AWS::EventSchemas::Schema');
    expect(JSON.parse(String(schema?.Properties.Content)).components.examples.reconcile).toEqual({
      value: { action: 'reconcile' },
    });
  });

  it('type-checks a TypeScript app against the shipped declarations', () => {
    writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          // aws-cdk-lib's own declarations use Disposable.
          lib: ['es2022', 'esnext.disposable'],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(() =>
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
