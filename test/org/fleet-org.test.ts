// `npm run fleet -- --org`: every account of a saved local organization in one table, each
// account's status through its own handler, the account as the first column, the unmanaged
// credentials listed; usage mistakes and a missing state file are one clear line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as fleet } from '../../scripts/fleet.ts';
import { createOrganization, DEMO_ORG, runEverywhere, saveOrganization } from '../../scripts/org.ts';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await fleet(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('npm run fleet -- --org', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-org-'));
  const state = join(dir, 'org.json');
  beforeAll(async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const org = createOrganization();
    await runEverywhere(org, DEMO_ORG, { action: 'reconcile' }, { endpoint: org, maxAttempts: 2 });
    saveOrganization(state, org, DEMO_ORG);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows every account's targets with the account first, the failure, and the unmanaged credential; changes nothing", async () => {
    const before = readFileSync(state, 'utf8');
    const shown = await run('--org', '--state', state);

    // The throttled account's status run fails: exit code 1, the table still printed.
    expect(shown.code).toBe(1);
    const lines = shown.out.split('\n');
    expect(lines[0]?.split(/ {2,}/)).toEqual([
      'account',
      'user',
      'service',
      'current',
      'age',
      'other',
      'state',
      'next',
      'when',
    ]);
    const rows = lines.slice(1, 10).map((l) => l.split(/ {2,}/));
    expect(rows.map((r) => r[0])).toEqual([
      ...Array(3).fill('payments'),
      ...Array(3).fill('analytics'),
      ...Array(3).fill('sandbox'),
    ]);
    for (const r of rows.filter((x) => x[0] !== 'analytics')) expect(r[3]).toMatch(/^ACCA/);
    expect(rows.filter((r) => r[0] === 'analytics').map((r) => r.at(-1))).toEqual([
      'failed',
      'failed',
      'failed',
    ]);
    expect(shown.out).toMatch(
      /^analytics · app-keyspaces · cassandra\.amazonaws\.com: failed: .*Throttling/m,
    );
    expect(shown.out).toMatch(/unmanaged credentials \(no target covers them; reported, never touched\): 1/);
    expect(lines.find((l) => l.startsWith('sandbox') && l.includes('legacy-ci'))?.split(/ {2,}/)).toEqual([
      'sandbox',
      'legacy-ci',
      'codecommit.amazonaws.com',
      expect.stringMatching(/^ACCA/),
      'Active',
      '0d',
    ]);
    expect(shown.err).toContain('payments (111111111111), analytics (222222222222), sandbox (333333333333)');
    expect(readFileSync(state, 'utf8')).toBe(before);

    const json = await run('--org', '--state', state, '--json');
    const parsed = JSON.parse(json.out) as {
      account: string;
      report?: { action: string; unmanagedCredentials?: unknown[] };
    }[];
    expect(parsed.map((a) => a.account)).toEqual(['111111111111', '222222222222', '333333333333']);
    expect(parsed[2]?.report?.unmanagedCredentials).toHaveLength(1);
  });

  it('against a running organization emulator (npm run emulator:org): each account through its own key, over HTTP', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/org-main.ts', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`emulator:org exited with ${code}: ${out}`)));
      });
      const shown = await run('--org', '--endpoint', url);
      // Written right after the URL line; read once the fleet has run.
      expect(stderr).toMatch(/payments\s+111111111111\s+AWS_ACCESS_KEY_ID=AKIAPAYMENTS00000001/);
      expect(shown.code).toBe(1);
      const accounts = shown.out
        .split('\n')
        .slice(1)
        .filter((l) => /^(payments|analytics|sandbox) {2,}/.test(l))
        .map((l) => l.split(/ {2,}/)[0]);
      expect(new Set(accounts)).toEqual(new Set(['payments', 'analytics', 'sandbox']));
      expect(shown.out).toMatch(
        /^sandbox\s+legacy-ci\s+codecommit\.amazonaws\.com\s+ACCA\w+\s+Active\s+0d$/m,
      );
    } finally {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  });

  it('says what is wrong with a missing state file or a mixed-up command line', async () => {
    const missing = await run('--org', '--state', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.json does not exist: run "npm run demo:org" first/);
    const mixed = await run('--org', '--function', 'credential-rotator');
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/--org reads a local organization .*, not --function/);
  });
});

describe('npm run demo:org: the rollout as configured', () => {
  it("names the StackSet's OUs and regions, automatic deployment and what a leaving account keeps", async () => {
    const { describeRollout } = await import('../../scripts/demo-org.ts');
    const lines = describeRollout(mkdtempSync(join(tmpdir(), 'demo-org-'))).join('\n');
    expect(lines).toMatch(/StackSet\s+SERVICE_MANAGED, called as SELF/);
    expect(lines).toMatch(/OUs ou-demo-workloads1 × regions eu-west-1, us-east-1/);
    expect(lines).toMatch(
      /auto-deploy\s+on: an account that joins these OUs gets the rotator; an account that leaves loses its stack/,
    );
    expect(lines).toMatch(/parameters CentralEventBusArn, ObservabilitySinkArn, CentralRegion; 2 assets/);
  });
});
