// The probes bundled as the function is bundled (scripts/build.ts HANDLER_BUNDLE: ESM,
// minified, module/main fields, the createRequire banner, code splitting), loaded in a fresh
// Node process, and run against the emulator's CQL edge: proves cassandra-driver (a CommonJS
// package) loads and works from its own chunk of the ESM bundle, imported on first use, and
// that classification by CQL code survives minification.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceEdges, startServiceEdges } from '../../emulator/edges/index.ts';
import { AwsEmulator } from '../../emulator/index.ts';
import { HANDLER_BUNDLE } from '../../scripts/build.ts';

const run = promisify(execFile);

const SCRIPT = `
const { ServiceProbes } = await import(process.env.BUNDLE);
const probes = new ServiceProbes({ ca: process.env.CA, keyspacesEndpoint: process.env.ENDPOINT, timeoutMs: 5000 });
const r = await probes.verify({
  serviceName: 'cassandra.amazonaws.com', region: 'us-east-1',
  credential: { serviceUserName: process.env.USER_NAME, secret: process.env.PASSWORD },
});
console.log(JSON.stringify(r));`;

describe('the probes in the function bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-bundle-'));
  const bundle = join(dir, 'index.mjs');
  const emulator = new AwsEmulator();
  let edges: ServiceEdges;

  beforeAll(async () => {
    await build({
      ...HANDLER_BUNDLE,
      entryPoints: ['lambda/probes/index.ts'],
      outdir: dir,
      logLevel: 'silent',
    });
    edges = await startServiceEdges(emulator);
    emulator.iam.createUser('app');
  });
  afterAll(async () => {
    await edges.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function probeFromBundle(password?: string): Promise<{ outcome: string; reason: string }> {
    const c = emulator.iam.issueCredential('app', 'cassandra.amazonaws.com');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      env: {
        PATH: process.env.PATH,
        BUNDLE: bundle,
        CA: edges.ca,
        ENDPOINT: edges.cqlEndpoint,
        USER_NAME: c.ServiceUserName,
        PASSWORD: password ?? c.ServicePassword,
      },
      encoding: 'utf8',
    });
    emulator.iam.removeCredential(c.ServiceSpecificCredentialId);
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  }

  it('bundles cassandra-driver in a chunk of its own instead of importing the package', () => {
    const chunk = readdirSync(join(dir, 'chunks')).find((f) => f.startsWith('cassandra-driver-'));
    const code = readFileSync(join(dir, 'chunks', String(chunk)), 'utf8');
    // Booleans, not the code itself: a failure would print the whole minified bundle.
    expect(/from\s*"cassandra-driver"/.test(code)).toBe(false);
    expect(code.includes('Represents an authentication error from the driver')).toBe(true);
    expect(readFileSync(bundle, 'utf8').includes('Represents an authentication error from the driver')).toBe(
      false,
    );
  });

  it('loads in a fresh Node process and verifies a Keyspaces credential', async () => {
    expect(await probeFromBundle()).toMatchObject({ outcome: 'verified' });
  });

  it('still classifies a refused password by CQL code once minified', async () => {
    expect(await probeFromBundle('not-the-password')).toMatchObject({ outcome: 'rejected' });
  });
});
