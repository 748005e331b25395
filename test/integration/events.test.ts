// Every sample event in events/ is accepted by the handler against the demo account (the
// one `npm start` and `npm run invoke` create), in an order in which each one has something
// to do. A new sample file is picked up here without a change. A sample naming a credential
// id holds an example id (the demo account's are random): it is given the target's other
// credential, as an operator would take it from `status`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, outcomes, startLocalAws } from './local-aws.ts';

const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events');
const ORDER = [
  'scheduled-rule.json',
  'scheduler.json',
  'reconcile.json',
  'dry-run.json',
  'status.json',
  'status-target.json',
  'rotate-target.json',
  'rotate-secret-force.json',
  'rollback-target.json',
  'revoke-current.json',
  'revoke-credential-delete.json',
];
const files = readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json'));
const ordered = [
  ...ORDER.filter((f) => files.includes(f)),
  ...files.filter((f) => !ORDER.includes(f)).sort(),
];

const EXPECTED: Record<string, Record<string, string>> = {
  'scheduled-rule.json': {
    'app-keyspaces': 'rotated',
    'app-codecommit': 'rotated',
    'app-bedrock': 'rotated',
  },
  'status-target.json': { 'app-keyspaces': 'unchanged' },
  'rotate-target.json': { 'app-keyspaces': 'rotated' },
  'rotate-secret-force.json': { 'app-keyspaces': 'rotated' },
  'rollback-target.json': { 'app-keyspaces': 'rolled-back' },
  'revoke-current.json': { 'app-keyspaces': 'revoked' },
  'revoke-credential-delete.json': { 'app-keyspaces': 'revoked' },
};

describe('sample events (events/*.json) against the emulator', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  it('covers every sample event', () => {
    expect([...ordered].sort()).toEqual([...files].sort());
    expect(files.length).toBeGreaterThanOrEqual(ORDER.length);
  });

  it.each(ordered)('accepts %s', async (file) => {
    const event = JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8')) as Record<string, unknown>;
    if (typeof event.credentialId === 'string') {
      const { report } = await aws.invoke({ action: 'status', secretId: event.secretId });
      const other = report?.targets[0]?.credentials?.find((c) => !c.current);
      expect(other).toBeDefined();
      event.credentialId = other?.id;
    }

    const { report, error } = await aws.invoke(event);

    expect(error).toBeUndefined();
    expect(report?.targets.length).toBeGreaterThan(0);
    expect(report?.targets.filter((t) => t.outcome === 'failed' || t.outcome === 'blocked')).toEqual([]);
    if (EXPECTED[file]) expect(outcomes(report)).toEqual(EXPECTED[file]);
    expect(aws.lockoutProblems()).toEqual([]);
  });
});
