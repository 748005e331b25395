// The local scripts, run in-process: `npm start` (scripts/demo.ts) completes its timeline
// with every check passing and prints no secret; `npm run invoke` (scripts/invoke.ts) keeps
// the emulator's state, virtual clock included, between invocations.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { DAY_MS } from '../../lambda/rotation/plan.ts';
import { main as demo } from '../../scripts/demo.ts';
import { main as invoke } from '../../scripts/invoke.ts';
import { findLeakedSecrets } from '../../verify/index.ts';

describe('npm start (scripts/demo.ts)', () => {
  it('runs the whole timeline with every check passing, and prints no password or API key', async () => {
    const lines: string[] = [];
    const emulator = new AwsEmulator();
    const envBefore = { ...process.env };

    const code = await demo({ print: (line) => lines.push(line), emulator });

    const output = lines.join('\n');
    expect(output).not.toContain('✗');
    expect(code).toBe(0);
    expect(output).toMatch(/✓ 9 steps, every check passed/);
    expect(lines.filter((l) => l.includes('✓ outcomes as expected · I1 no lockout'))).toHaveLength(9);
    expect(output).toMatch(/handler threw RunFailedError: 1 target\(s\) failed: .*app-codecommit/);
    expect(output).toMatch(/app-codecommit · codecommit\.amazonaws\.com\s+recovered/);
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
