import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../lambda/errors.ts';
import { MAX_EVENT_BYTES, parseEvent } from '../lambda/events.ts';
import type { Command } from '../lambda/rotation/commands.ts';
import { SAMPLE_EVENT_COMMANDS } from './support/sample-events.ts';

const EVENTS_DIR = join(import.meta.dirname, '..', 'events');
const sample = (file: string): unknown => JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));
const scheduledRule = sample('scheduled-rule.json') as Record<string, unknown>;
const scheduler = sample('scheduler.json') as Record<string, unknown>;

const ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:service-credentials/app/cassandra.amazonaws.com-AbCdEf';

function rejectionOf(event: unknown): InvalidEventError {
  try {
    parseEvent(event);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return error as InvalidEventError;
  }
  throw new Error(`accepted ${JSON.stringify(event)?.slice(0, 200)}`);
}

describe('parseEvent', () => {
  describe('sample events (events/*.json)', () => {
    const expected = SAMPLE_EVENT_COMMANDS;

    it('has an expected command for every sample file', () => {
      const files = readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json'));
      expect(files.sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(Object.entries(expected))('accepts %s', (file, command) => {
      expect(parseEvent(sample(file))).toEqual(command);
    });
  });

  describe('accepted forms', () => {
    it.each<[string, unknown, Command]>([
      [
        'reconcile dry run false',
        { action: 'reconcile', dryRun: false },
        { action: 'reconcile', dryRun: false },
      ],
      [
        'rotate by ARN, dry run',
        { action: 'rotate', secretId: ARN, dryRun: true },
        { action: 'rotate', target: { secretId: ARN }, force: false, dryRun: true },
      ],
      [
        'rotate by user and service, forced dry run',
        {
          action: 'rotate',
          userName: 'ci+bot=1,a.b@c-d_e',
          serviceName: 'codecommit.amazonaws.com',
          force: true,
          dryRun: true,
        },
        {
          action: 'rotate',
          target: { userName: 'ci+bot=1,a.b@c-d_e', serviceName: 'codecommit.amazonaws.com' },
          force: true,
          dryRun: true,
        },
      ],
      [
        'rotate with force false',
        { action: 'rotate', secretId: 'a/b', force: false },
        { action: 'rotate', target: { secretId: 'a/b' }, force: false, dryRun: false },
      ],
      [
        'status by secret',
        { action: 'status', secretId: 'x' },
        { action: 'status', target: { secretId: 'x' } },
      ],
      ['status with dryRun (already dry)', { action: 'status', dryRun: true }, { action: 'status' }],
      [
        'scheduler event with a replay field',
        { ...scheduler, 'replay-name': 'r1' },
        { action: 'reconcile', dryRun: false },
      ],
      [
        'rule event with detail as "{}"',
        { ...scheduledRule, detail: '{}' },
        { action: 'reconcile', dryRun: false },
      ],
      [
        '64-character user name',
        { action: 'status', userName: 'u'.repeat(64), serviceName: 'bedrock.amazonaws.com' },
        {
          action: 'status',
          target: { userName: 'u'.repeat(64), serviceName: 'bedrock.amazonaws.com' },
        },
      ],
    ])('accepts %s', (_name, event, command) => {
      expect(parseEvent(event)).toEqual(command);
    });
  });

  describe('rejected events', () => {
    const big = { action: 'reconcile', padding: 'p'.repeat(MAX_EVENT_BYTES) };
    const cycle: Record<string, unknown> = { action: 'reconcile' };
    cycle.self = cycle;

    // [what is wrong, event, fragments the message must contain]
    const cases: [string, unknown, string[]][] = [
      ['no event', undefined, ['must be a JSON object', 'undefined']],
      ['null', null, ['must be a JSON object', 'null']],
      ['an array', [{ action: 'reconcile' }], ['must be a JSON object', 'an array']],
      ['a string', 'reconcile', ['must be a JSON object', 'a string "reconcile"']],
      ['a number', 42, ['must be a JSON object', 'a number 42']],
      ['an empty object', {}, ['missing "action"']],
      [
        'an unknown action',
        { action: 'rotate-all' },
        ['unknown action "rotate-all"', '"reconcile", "rotate", "rollback", "revoke", "status"'],
      ],
      ['a non-string action', { action: 1 }, ['unknown action 1']],
      [
        'a typo in dryRun',
        { action: 'rotate', secretId: 's', dryrun: true },
        ['unknown field(s) "dryrun"', 'did you mean "dryRun"'],
      ],
      ['an unknown field on reconcile', { action: 'reconcile', all: true }, ['unknown field(s) "all"']],
      ['an unknown field on status', { action: 'status', verbose: 1 }, ['unknown field(s) "verbose"']],
      [
        'dryRun as a string',
        { action: 'reconcile', dryRun: 'true' },
        ['"dryRun" must be true or false, got "true"'],
      ],
      [
        'force as a number',
        { action: 'rotate', secretId: 's', force: 1 },
        ['"force" must be true or false, got 1'],
      ],
      [
        'force on reconcile',
        { action: 'reconcile', force: true },
        ['"force" applies only to action "rotate"'],
      ],
      [
        'force on status',
        { action: 'status', force: true },
        ['"force" applies only to action "rotate", not "status"'],
      ],
      ['rotate without a target', { action: 'rotate' }, ['"rotate" needs a target']],
      ['rotate with only force', { action: 'rotate', force: true }, ['"rotate" needs a target']],
      [
        'both secretId and userName',
        { action: 'rotate', secretId: 's', userName: 'u', serviceName: 'cassandra.amazonaws.com' },
        ['either "secretId" or "userName" and "serviceName", not both'],
      ],
      [
        'userName without serviceName',
        { action: 'rotate', userName: 'u' },
        ['"userName" needs "serviceName"'],
      ],
      [
        'serviceName without userName',
        { action: 'status', serviceName: 'cassandra.amazonaws.com' },
        ['"serviceName" needs "userName"'],
      ],
      ['secretId as a number', { action: 'rotate', secretId: 123 }, ['"secretId" must be a string, got 123']],
      ['an empty secretId', { action: 'rotate', secretId: '' }, ['"secretId" must be a secret name']],
      [
        'a secretId with a space',
        { action: 'rotate', secretId: 'my secret' },
        ['"secretId" must be a secret name', '"my secret"'],
      ],
      [
        'a malformed ARN',
        { action: 'rotate', secretId: 'arn:aws:s3:::bucket' },
        ['or a Secrets Manager secret ARN'],
      ],
      [
        'a secretId over 2048 characters',
        { action: 'rotate', secretId: `arn:${'a'.repeat(2100)}` },
        ['"secretId" must be'],
      ],
      [
        'a user name with invalid characters',
        { action: 'rotate', userName: 'alice smith', serviceName: 'cassandra.amazonaws.com' },
        ['"userName" must be an IAM user name', '"alice smith"'],
      ],
      [
        'a user name over 64 characters',
        { action: 'rotate', userName: 'u'.repeat(65), serviceName: 'cassandra.amazonaws.com' },
        ['"userName" must be an IAM user name (1-64'],
      ],
      [
        'a service name that is not an AWS service host',
        { action: 'rotate', userName: 'u', serviceName: 'cassandra' },
        ['"serviceName" must be a service name like "cassandra.amazonaws.com"'],
      ],
      [
        'a service name with upper case',
        { action: 'status', userName: 'u', serviceName: 'Cassandra.amazonaws.com' },
        ['"serviceName" must be'],
      ],
      ['an oversized payload', big, [`at most ${MAX_EVENT_BYTES} bytes (8 KiB)`]],
      ['a circular object', cycle, ['not JSON']],
      [
        'a scheduled event with the wrong detail-type',
        { ...scheduledRule, 'detail-type': 'EC2 Instance State-change Notification' },
        ['"detail-type" must be "Scheduled Event"'],
      ],
      [
        'a scheduled event from another source',
        { ...scheduledRule, source: 'aws.ec2' },
        ['"source" must be "aws.events" or "aws.scheduler"'],
      ],
      [
        'a scheduled event with a detail',
        { ...scheduler, detail: '{"action":"rotate"}' },
        [`"detail" must be {} or "{}"`],
      ],
      [
        'a scheduled event with a detail object',
        { ...scheduledRule, detail: { x: 1 } },
        [`"detail" must be {} or "{}"`],
      ],
      [
        'a scheduled event with dryRun',
        { ...scheduledRule, dryRun: true },
        ['cannot carry command fields ("dryRun")'],
      ],
      [
        'a scheduled event with an action',
        { ...scheduler, action: 'rotate' },
        ['cannot carry command fields ("action")'],
      ],
    ];

    it('has at least 20 cases', () => {
      expect(cases.length).toBeGreaterThanOrEqual(20);
    });

    it.each(cases)('rejects %s, saying what is wrong and what is accepted', (_name, event, fragments) => {
      const error = rejectionOf(event);
      for (const fragment of fragments) expect(error.message).toContain(fragment);
      expect(error.message).toContain('Accepted events:');
      expect(error.message).toContain('{"action": "reconcile"}');
    });

    it('reports every problem of an event at once', () => {
      const { message } = rejectionOf({ action: 'status', force: true, secretId: 7, extra: 1 });
      expect(message).toContain('"force" applies only');
      expect(message).toContain('"secretId" must be a string');
      expect(message).toContain('unknown field(s) "extra"');
    });

    it('never echoes a large value back', () => {
      const huge = 'Z'.repeat(5000);
      for (const event of [
        { action: huge },
        { action: 'rotate', secretId: huge },
        { action: 'reconcile', [huge]: true },
        { action: 'reconcile', padding: huge.repeat(4) },
      ]) {
        const { message } = rejectionOf(event);
        expect(message).not.toContain('Z'.repeat(100));
      }
    });

    it('lists at most five unknown fields', () => {
      const event = Object.fromEntries([
        ['action', 'reconcile'],
        ...Array.from({ length: 9 }, (_, i) => [`k${i}`, i]),
      ]);
      const { message } = rejectionOf(event);
      expect(message).toContain('"k4"');
      expect(message).not.toContain('"k5"');
      expect(message).toContain('and 4 more');
    });
  });
});
