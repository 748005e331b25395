// `npm test` off a terminal (CI, a pipe): plain text, failures and the closing summary only.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import config from '../vitest.config.ts';
import { outputOf } from './support/child.ts';

const scripts = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

describe('npm test off a terminal', () => {
  it('sets NO_COLOR before vitest and biome start (they read it, or its flag, at start-up)', async () => {
    // The script's own prelude, then what the commands after it would see.
    const prelude = (scripts.test ?? '').split('npm run typecheck')[0] ?? '';
    const ran = await outputOf(
      spawn('sh', ['-c', `${prelude} echo "NO_COLOR=$NO_COLOR"; echo "${scripts.lint}"`], {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(ran.stdout).toBe('NO_COLOR=1\nbiome ci --colors=off .\n');
  });

  it("uses vitest's minimal reporter there: no row per passing file, the summary kept", () => {
    // This worker's stdout is not a terminal, so the config evaluates as under CI.
    expect(process.stdout.isTTY).toBeFalsy();
    expect([config.test?.reporters].flat()[0]).toBe('minimal');
  });
});
