// The one infra test that really bundles (esbuild, as `cdk synth` does): the deployed
// artifact must carry its own SDK and load in a plain Node process.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import { ACCOUNT, REGION, TARGETS, tempOutdir } from './helpers.ts';

/** A string only cassandra-driver's code holds (an error class's description). */
const CQL_DRIVER_TEXT = 'Represents an authentication error from the driver';

describe('the bundled function', () => {
  const outdir = tempOutdir();
  const app = new App({ outdir });
  const stack = new Stack(app, 'BundleStack', { env: { account: ACCOUNT, region: REGION } });
  new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
  app.synth();
  const asset = readdirSync(outdir).find(
    (d) => d.startsWith('asset.') && readdirSync(join(outdir, d)).includes('index.mjs'),
  );
  const bundle = join(outdir, String(asset), 'index.mjs');

  it('bundles the AWS SDK instead of relying on the runtime copy', () => {
    expect(asset).toBeDefined();
    const code = readFileSync(bundle, 'utf8');
    expect(code.match(/from\s*"@aws-sdk\/[^"]+"/g) ?? []).toEqual([]);
    expect(code).toContain('ListServiceSpecificCredentials');
  });

  it('keeps the CQL driver out of the file every cold start parses, in a chunk beside it', () => {
    const dir = join(outdir, String(asset));
    const main = readFileSync(bundle, 'utf8');
    // Booleans, not the code itself: a failure would print the whole minified bundle.
    expect(main.includes(CQL_DRIVER_TEXT)).toBe(false);
    const chunk = readdirSync(join(dir, 'chunks')).find((f) => f.startsWith('cassandra-driver-'));
    expect(chunk).toBeDefined();
    expect(readFileSync(join(dir, 'chunks', String(chunk)), 'utf8').includes(CQL_DRIVER_TEXT)).toBe(true);
    // Imported on first use, by a path relative to the handler, so it travels with the asset.
    expect(main.includes(`import("./chunks/${chunk}")`)).toBe(true);
  });

  it('loads in a fresh Node process and exports the handler', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`,
      ],
      {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('function');
  });
});
