// The local scripts: `npm start` (scripts/demo.ts) completes its timeline with every check
// passing and prints no secret; `npm run invoke` (scripts/invoke.ts) keeps the emulator's
// state, virtual clock included, between invocations, targets a running endpoint with
// --endpoint, and keeps stdout for the report; user mistakes, for invoke and the standalone
// emulator, end in one line and exit code 2 (these run as processes, as npm runs them).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { DAY_MS } from '../../lambda/rotation/retirement.ts';
import { main as demo } from '../../scripts/demo.ts';
import { main as invoke } from '../../scripts/invoke.ts';
import { createDemoAccount } from '../../scripts/local.ts';
import { findLeakedSecrets, lockoutProblems } from '../../invariants/index.ts';
import { outputOf, type Ran } from '../support/child.ts';

describe('npm start (scripts/demo.ts)', () => {
  it('runs the whole timeline with every check passing, and prints no password or API key', async () => {
    const lines: string[] = [];
    const emulator = new AwsEmulator();
    const envBefore = { ...process.env };

    const code = await demo({ print: (line) => lines.push(line), emulator });

    const output = lines.join('\n');
    expect(output).not.toContain('✗');
    expect(code).toBe(0);
    expect(output).toMatch(/✓ 12 steps, every check passed/);
    expect(lines.filter((l) => l.includes('✓ outcomes as expected · I1 no lockout'))).toHaveLength(12);
    // Every new credential is verified with its service; one is refused, one verified after backoff.
    expect(output).toMatch(/verify {2}\S+ rejected \(enforce, \d+ attempts\): .*0x0100/);
    expect(output).toMatch(/verify {2}\S+ verified \(enforce, \d+ attempts\): Keyspaces .* accepted/);
    expect(output).toMatch(/verify {2}\S+ verified \(enforce, 1 attempt\): CodeCommit repository app-repo/);
    expect(output).toMatch(/handler threw RunFailedError: 1 target\(s\) failed: .*app-codecommit/);
    expect(output).toMatch(/app-codecommit · codecommit\.amazonaws\.com\s+recovered/);
    // A rotation started from Secrets Manager, its four steps through the handler.
    expect(output).toMatch(
      /createSecret OK · setSecret OK · testSecret OK · finishSecret OK → succeeded · LastRotatedDate day 70/,
    );
    expect(emulator.issuedSecrets().length).toBeGreaterThan(0);
    expect(findLeakedSecrets([output], emulator.issuedSecrets())).toEqual([]);
    expect(process.env).toEqual(envBefore);
  });
});

describe('npm run invoke (scripts/invoke.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'invoke-'));
  const state = join(dir, 'state.json');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await invoke([...argv, '--state', state], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    const report = out.length > 0 ? (JSON.parse(out.join('\n')) as RunReport) : undefined;
    return { code, report, err: err.join('\n') };
  };
  const outcomeOf = (report: RunReport | undefined) =>
    report?.targets.map((t) => `${t.userName} ${t.outcome}`);

  it('creates the demo account on first use, then keeps state and clock between invocations', async () => {
    const first = await run('events/reconcile.json');
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/new demo account: 3 targets/);
    expect(outcomeOf(first.report)).toEqual([
      'app-keyspaces rotated',
      'app-codecommit rotated',
      'app-bedrock rotated',
    ]);

    const quiet = await run('{"action":"reconcile"}');
    expect(outcomeOf(quiet.report)).toEqual([
      'app-keyspaces unchanged',
      'app-codecommit unchanged',
      'app-bedrock unchanged',
    ]);

    const later = await run('events/rotate-target.json', '--advance', '31d');
    expect(later.code).toBe(0);
    expect(outcomeOf(later.report)).toEqual(['app-keyspaces rotated']);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { clockOffsetMs: number };
    expect(saved.clockOffsetMs).toBe(31 * DAY_MS);

    const status = await run('events/status.json');
    expect(outcomeOf(status.report)).toEqual([
      'app-keyspaces unchanged',
      'app-codecommit planned',
      'app-bedrock planned',
    ]);
  });

  it('exits 1 with the error when the handler throws, and 2 on a usage error', async () => {
    const rejected = await run('{"action":"rotat"}');
    expect(rejected.code).toBe(1);
    expect(rejected.report).toBeUndefined();
    expect(rejected.err).toMatch(/handler threw InvalidEventError: invalid event: unknown action "rotat"/);

    expect((await run('events/reconcile.json', '--advance', '3 weeks')).code).toBe(2);
    expect((await run('no-such-event.json')).code).toBe(2);
  });

  it('starts again from a fresh demo account with --reset', async () => {
    const reset = await run('events/status.json', '--reset');
    expect(reset.err).toMatch(/new demo account/);
    expect(reset.report?.targets.map((t) => t.outcome)).toEqual(['planned', 'planned', 'planned']);
    expect(JSON.parse(readFileSync(state, 'utf8')).clockOffsetMs).toBe(0);
  });
});

/** Runs a script as npm would, in a child process; resolves when it exits. */
function runScript(args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  return outputOf(
    spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

describe('npm run invoke, as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'invoke-process-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers an invalid policy variable with one line naming it, exit code 2, and touches nothing', async () => {
    const state = join(dir, 'bad-policy.json');

    const ran = await runScript(['scripts/invoke.ts', 'events/status.json', '--state', state], {
      ROTATE_AFTER_DAYS: 'thirty',
    });

    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(
      /^invalid configuration: ROTATE_AFTER_DAYS must be a finite number of days >= 0, got "thirty"$/m,
    );
    expect(ran.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(state)).toBe(false);
  });

  it('keeps stdout for the report with --verbose: logs and metrics go to stderr', async () => {
    const ran = await runScript([
      'scripts/invoke.ts',
      'events/scheduled-rule.json',
      '--verbose',
      '--state',
      join(dir, 'verbose.json'),
    ]);

    expect(ran.code).toBe(0);
    expect((JSON.parse(ran.stdout) as RunReport).targets).toHaveLength(3);
    expect(ran.stderr).toMatch(/"level":"INFO"/);
    expect(ran.stderr).toMatch(/"_aws":\{/);
  });
});

describe('npm run invoke -- --endpoint URL', () => {
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await invoke(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('runs the handler against a running endpoint, on the real clock', async () => {
    const emulator = new AwsEmulator();
    createDemoAccount(emulator);
    const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const ran = await run('events/reconcile.json', '--endpoint', server.url);

      expect(ran.code).toBe(0);
      expect((JSON.parse(ran.out) as RunReport).targets.map((t) => t.outcome)).toEqual([
        'rotated',
        'rotated',
        'rotated',
      ]);
      expect(lockoutProblems(emulator)).toEqual([]);
      expect(ran.err).toContain(`endpoint ${server.url} (region us-east-1; real clock)`);
    } finally {
      await server.close();
    }
  });

  it('refuses the state-file options and a URL that is not one', async () => {
    const mixed = await run('events/status.json', '--endpoint', 'http://127.0.0.1:1', '--advance', '1d');
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/^--advance: only for the state file, not with --endpoint/);
    const bad = await run('events/status.json', '--endpoint', '127.0.0.1:4566');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--endpoint must be a URL such as http:\/\/127\.0\.0\.1:4566/);
  });
});

describe('npm run emulator (emulator/main.ts)', () => {
  it('reports a busy port in one line, exit code 2', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const ran = await runScript(['emulator/main.ts', '--port', String(port)]);

      expect(ran.code).toBe(2);
      expect(ran.stderr.trim()).toBe(
        `port ${port} on 127.0.0.1 is already in use (another emulator, or LocalStack?): stop it or choose another --port`,
      );
    } finally {
      taken.close();
    }
  });

  it('answers an unknown option and a bad --seed with the usage, exit code 2', async () => {
    const unknown = await runScript(['emulator/main.ts', '--prot', '4566']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Unknown option '--prot'/);
    expect(unknown.stderr).toMatch(/usage: npm run emulator --/);
    const seed = await runScript(['emulator/main.ts', '--seed', 'prod']);
    expect(seed.code).toBe(2);
    expect(seed.stderr.trim()).toBe('--seed must be demo or none, got "prod"');
  });
});
