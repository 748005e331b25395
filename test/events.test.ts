import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../lambda/errors.ts';
import { ACCEPTED_EVENTS, MAX_EVENT_BYTES, parseEvent, quote } from '../lambda/events.ts';
import { SERVICE_NAME, USER_NAME } from '../lambda/naming.ts';
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
          userName: 'ci+bot=1.a.b@c-d_e',
          serviceName: 'codecommit.amazonaws.com',
          force: true,
          dryRun: true,
        },
        {
          action: 'rotate',
          target: { userName: 'ci+bot=1.a.b@c-d_e', serviceName: 'codecommit.amazonaws.com' },
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
        ['"userName" must be an IAM user name usable as a tag value (1-64'],
      ],
      [
        // Secrets Manager tag values take no comma, and the user name is a tag value.
        'a user name with a comma',
        { action: 'rotate', userName: 'ci,bot', serviceName: 'cassandra.amazonaws.com' },
        ['"userName" must be an IAM user name usable as a tag value', '"ci,bot"'],
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

// The edges of each accepted form: lengths at and one past their limit, the parts of each
// pattern, and the exact words of the messages an operator reads.
describe('parseEvent at the edges', () => {
  const rotateBy = (secretId: string) => ({ action: 'rotate', secretId });
  const statusOf = (userName: string, serviceName: string) => ({ action: 'status', userName, serviceName });

  it.each([
    ['a name of every allowed character', 'a/b_c+d=e.f@g-h9'],
    ['a 512-character name', 'n'.repeat(512)],
    ['a GovCloud ARN', 'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:app/x-AbCdEf'],
    ['a 2048-character ARN', `arn:aws:secretsmanager:us-east-1:123456789012:secret:${'n'.repeat(2048 - 53)}`],
  ])('accepts a secretId that is %s', (_, secretId) => {
    expect(secretId.length).toBeLessThanOrEqual(2048);
    expect(parseEvent(rotateBy(secretId))).toEqual({
      action: 'rotate',
      target: { secretId },
      force: false,
      dryRun: false,
    });
  });

  it.each([
    ['a 513-character name', 'n'.repeat(513)],
    ['a 2049-character ARN', `arn:aws:secretsmanager:us-east-1:123456789012:secret:${'n'.repeat(2049 - 53)}`],
    ['an ARN of another service', 'arn:aws:ssm:us-east-1:123456789012:secret:x'],
    ['an ARN of another partition spelling', 'arn:azure:secretsmanager:us-east-1:123456789012:secret:x'],
    ['an ARN with an 11-digit account', 'arn:aws:secretsmanager:us-east-1:12345678901:secret:x'],
    ['an ARN with a 13-digit account', 'arn:aws:secretsmanager:us-east-1:1234567890123:secret:x'],
    ['an ARN without a region', 'arn:aws:secretsmanager::123456789012:secret:x'],
    ['an ARN without a name', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:'],
    ['an ARN of something else than a secret', 'arn:aws:secretsmanager:us-east-1:123456789012:key:x'],
    ['an ARN whose name has a space', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:a b'],
    ['an ARN with a prefix', 'xarn:aws:secretsmanager:us-east-1:123456789012:secret:x'],
    ['an ARN inside another', 'arn:x arn:aws:secretsmanager:us-east-1:123456789012:secret:x'],
    ['a name with a colon', 'a:b'],
    ['a name after a space', ' a'],
  ])('rejects a secretId that is %s, saying what a secretId is', (_, secretId) => {
    expect(rejectionOf(rotateBy(secretId)).message).toContain(
      '"secretId" must be a secret name (1-512 characters of letters, digits and /_+=.@-) or a Secrets Manager secret ARN, got "',
    );
  });

  it.each([
    ['a one-label service', 'a.amazonaws.com'],
    ['a service with hyphens and digits', 'ec2-instance-connect2.amazonaws.com'],
    ['a service of several labels', 'runtime.bedrock.amazonaws.com'],
    ['a one-character inner label', 'x.y.amazonaws.com'],
  ])('accepts %s', (_, serviceName) => {
    expect(parseEvent(statusOf('u', serviceName))).toStrictEqual({
      action: 'status',
      target: { userName: 'u', serviceName },
    });
  });

  it.each([
    ['a label starting with a hyphen', '-a.amazonaws.com'],
    ['a label ending with a hyphen', 'a-.amazonaws.com'],
    ['an empty label', 'a..amazonaws.com'],
    ['another domain', 'cassandra.amazonaws.com.example.org'],
    ['a look-alike domain', 'cassandra.amazonawsXcom'],
    ['a host after a path', 'example.org/cassandra.amazonaws.com'],
    ['a bare suffix', '.amazonaws.com'],
    ['129 characters', `${'a'.repeat(115)}.amazonaws.com`],
  ])('rejects a service name with %s', (_, serviceName) => {
    expect(rejectionOf(statusOf('u', serviceName)).message).toContain(
      `"serviceName" must be ${SERVICE_NAME.expected}, got ${JSON.stringify(serviceName).slice(0, 60)}`,
    );
  });

  it('accepts a 128-character service name', () => {
    const serviceName = `${'a'.repeat(114)}.amazonaws.com`;
    expect(serviceName).toHaveLength(128);
    expect(parseEvent(statusOf('u', serviceName))).toStrictEqual({
      action: 'status',
      target: { userName: 'u', serviceName },
    });
  });

  it.each([
    ['a space at the start', ' alice'],
    ['a space at the end', 'alice '],
    ['no character', ''],
  ])('rejects a user name with %s', (_, userName) => {
    expect(rejectionOf(statusOf(userName, 'cassandra.amazonaws.com')).message).toContain(
      `"userName" must be ${USER_NAME.expected}, got "`,
    );
  });

  it.each([
    [
      'a number',
      { action: 'status', userName: 7, serviceName: 'cassandra.amazonaws.com' },
      '"userName" must be a string, got 7',
    ],
    [
      'a list',
      { action: 'status', userName: 'u', serviceName: ['x'] },
      '"serviceName" must be a string, got ["x"]',
    ],
    ['a boolean', { action: 'rotate', secretId: true }, '"secretId" must be a string, got true'],
    ['null', { action: 'reconcile', dryRun: null }, '"dryRun" must be true or false, got null'],
  ])('names the field and the value when a field is %s', (_, event, expected) => {
    expect(rejectionOf(event).message).toContain(expected);
  });

  it('accepts an event of exactly the size limit and rejects one byte more, counting UTF-8 bytes', () => {
    const sized = (bytes: number, char = 'p') => {
      const event = { action: 'reconcile', padding: '' };
      const overhead = Buffer.byteLength(JSON.stringify(event), 'utf8');
      return { ...event, padding: char.repeat((bytes - overhead) / Buffer.byteLength(char, 'utf8')) };
    };
    // At the limit the size check passes: what is left to reject is the unknown field.
    expect(rejectionOf(sized(MAX_EVENT_BYTES)).message).toContain('unknown field(s) "padding"');
    expect(rejectionOf(sized(MAX_EVENT_BYTES + 1)).message).toContain(
      `the event is ${MAX_EVENT_BYTES + 1} bytes of JSON; at most 8192 bytes (8 KiB) are accepted`,
    );
    // 'é' is one character but two bytes: 4096 of them are fewer characters than the limit.
    const accented = { action: 'reconcile', padding: 'é'.repeat(MAX_EVENT_BYTES / 2) };
    expect(JSON.stringify(accented).length).toBeLessThan(MAX_EVENT_BYTES);
    expect(rejectionOf(accented).message).toContain('bytes of JSON; at most 8192 bytes');
    expect(MAX_EVENT_BYTES).toBe(8192);
  });

  it.each([
    ['a dry run', { action: 'reconcile', dryRun: true }, { action: 'reconcile', dryRun: true }],
    ['no dryRun', { action: 'reconcile' }, { action: 'reconcile', dryRun: false }],
    [
      'a rotate without flags',
      { action: 'rotate', userName: 'u', serviceName: 'cassandra.amazonaws.com' },
      {
        action: 'rotate',
        target: { userName: 'u', serviceName: 'cassandra.amazonaws.com' },
        force: false,
        dryRun: false,
      },
    ],
    [
      'a forced rotate',
      { action: 'rotate', secretId: 's', force: true },
      { action: 'rotate', target: { secretId: 's' }, force: true, dryRun: false },
    ],
    ['status of everything', { action: 'status' }, { action: 'status' }],
    ['status with dryRun false', { action: 'status', dryRun: false }, { action: 'status' }],
  ])('reads %s exactly', (_, event, command) => {
    expect(parseEvent(event)).toStrictEqual(command);
  });

  it.each([
    ['no detail', (e: Record<string, unknown>) => ({ ...e, detail: undefined }), 'got undefined'],
    ['a null detail', (e: Record<string, unknown>) => ({ ...e, detail: null }), 'got null'],
    ['an array detail', (e: Record<string, unknown>) => ({ ...e, detail: [] }), 'got []'],
    ['"null" as a string', (e: Record<string, unknown>) => ({ ...e, detail: 'null' }), 'got "null"'],
    ['"[]" as a string', (e: Record<string, unknown>) => ({ ...e, detail: '[]' }), 'got "[]"'],
    ['a string that is not JSON', (e: Record<string, unknown>) => ({ ...e, detail: '{' }), 'got "{"'],
  ])('rejects a scheduled event with %s', (_, change, got) => {
    expect(rejectionOf(change(scheduledRule)).message).toContain(
      `invalid event: a scheduled event's "detail" must be {} or "{}", ${got}.\nAccepted events:`,
    );
  });

  it('takes an event with only a "source" for a malformed schedule, not a command', () => {
    expect(rejectionOf({ source: 'aws.events', detail: {} }).message).toContain(
      '"detail-type" must be "Scheduled Event", got undefined',
    );
    expect(rejectionOf({ 'detail-type': 'Scheduled Event', detail: {} }).message).toContain(
      '"source" must be "aws.events" or "aws.scheduler", got undefined',
    );
  });

  it('names every command field a scheduled event carries', () => {
    expect(rejectionOf({ ...scheduledRule, action: 'rotate', dryRun: true, force: true }).message).toContain(
      'a scheduled event cannot carry command fields ("action", "dryRun", "force"); send a command event instead',
    );
    expect(rejectionOf({ ...scheduler, secretId: 's', userName: 'u', serviceName: 'x' }).message).toContain(
      'cannot carry command fields ("secretId", "userName", "serviceName")',
    );
  });

  it('says which fields each action allows, and suggests the one an unknown field miscapitalises', () => {
    expect(rejectionOf({ action: 'reconcile', DryRun: true }).message).toContain(
      'unknown field(s) "DryRun" (did you mean "dryRun"?); allowed here: "action", "dryRun"',
    );
    expect(rejectionOf({ action: 'rotate', secretId: 's', FORCE: true }).message).toContain(
      'unknown field(s) "FORCE" (did you mean "force"?); allowed here: "action", "secretId", "userName", "serviceName", "force", "dryRun"',
    );
    expect(rejectionOf({ action: 'status', SecretId: 's', x: 1 }).message).toContain(
      'unknown field(s) "SecretId" (did you mean "secretId"?), "x"; allowed here: "action", "secretId", "userName", "serviceName", "dryRun"',
    );
  });

  it('names the fields of rollback and revoke: the allowed list, a bad credential id, a flag that is not a boolean', () => {
    expect(rejectionOf({ action: 'rollback', secretId: 's', Force: true }).message).toContain(
      'unknown field(s) "Force"; allowed here: "action", "secretId", "userName", "serviceName", "dryRun"',
    );
    expect(rejectionOf({ action: 'revoke', secretId: 's', CredentialId: 'x' }).message).toContain(
      'unknown field(s) "CredentialId" (did you mean "credentialId"?); allowed here: "action", "secretId", "userName", "serviceName", "credentialId", "delete", "dryRun"',
    );
    expect(rejectionOf({ action: 'revoke', secretId: 's', credentialId: 'short' }).message).toContain(
      '"credentialId" must be an IAM service-specific credential id (20-128 letters and digits, as "status" lists them), got "short"',
    );
    expect(rejectionOf({ action: 'revoke', secretId: 's', delete: 'yes' }).message).toContain(
      '"delete" must be true or false, got "yes"',
    );
    expect(rejectionOf({ action: 'rollback', secretId: 's', dryRun: 'yes' }).message).toContain(
      '"dryRun" must be true or false, got "yes"',
    );
  });

  it('names "dryRun" when it is not a boolean, whatever the action', () => {
    for (const action of ['rotate', 'revoke', 'status'] as const) {
      expect(rejectionOf({ action, secretId: 's', dryRun: 'yes' }).message).toContain(
        '"dryRun" must be true or false, got "yes"',
      );
    }
  });

  it('says "credentialId" and "delete" belong to revoke, dropping them before the action\'s own check', () => {
    // Exact messages: the action's strict schema would otherwise also call them unknown fields.
    expect(rejectionOf({ action: 'rotate', secretId: 's', delete: true }).message).toBe(
      `invalid event: "delete" applies only to action "revoke", not "rotate".\n${ACCEPTED_EVENTS}`,
    );
    expect(
      rejectionOf({ action: 'rollback', secretId: 's', credentialId: 'ACCA0123456789EXAMPLE', delete: false })
        .message,
    ).toBe(
      'invalid event: "credentialId" applies only to action "revoke", not "rollback"; ' +
        `"delete" applies only to action "revoke", not "rollback".\n${ACCEPTED_EVENTS}`,
    );
  });

  it('takes a credential id only whole: 20-128 word characters from start to end', () => {
    const id = 'ACCA0123456789EXAMPLE';
    expect(parseEvent({ action: 'revoke', secretId: 's', credentialId: id })).toStrictEqual({
      action: 'revoke',
      target: { secretId: 's' },
      credentialId: id,
      delete: false,
      dryRun: false,
    });
    for (const bad of [`${id} `, `-${id}`, `${id}/x`]) {
      expect(rejectionOf({ action: 'revoke', secretId: 's', credentialId: bad }).message).toContain(
        `"credentialId" must be an IAM service-specific credential id`,
      );
    }
  });

  it('gives a revoke without "credentialId" no credentialId field (the current one is meant)', () => {
    expect(
      parseEvent({ action: 'revoke', userName: 'u', serviceName: 'cassandra.amazonaws.com' }),
    ).toStrictEqual({
      action: 'revoke',
      target: { userName: 'u', serviceName: 'cassandra.amazonaws.com' },
      delete: false,
      dryRun: false,
    });
  });

  it('lists exactly five unknown fields without "more"', () => {
    const event = { action: 'reconcile', k0: 0, k1: 1, k2: 2, k3: 3, k4: 4 };
    const { message } = rejectionOf(event);
    expect(message).toContain('"k4"; allowed here');
    expect(message).not.toContain('more');
  });

  it('rejects a secretId with a user name alone as both ways, not as a half pair', () => {
    const { message } = rejectionOf({ action: 'rotate', secretId: 's', userName: 'u' });
    expect(message).toContain('give either "secretId" or "userName" and "serviceName", not both');
    expect(message).not.toContain('needs');
  });

  it('rejects a target given both ways on status too', () => {
    expect(
      rejectionOf({ action: 'status', secretId: 's', serviceName: 'cassandra.amazonaws.com' }).message,
    ).toContain('give either "secretId" or "userName" and "serviceName", not both');
  });

  it('says exactly what is wrong, then the accepted forms', () => {
    expect(rejectionOf({ action: 'reconcile', force: true, all: 1 }).message).toBe(
      `invalid event: "force" applies only to action "rotate", not "reconcile"; unknown field(s) "all"; allowed here: "action", "dryRun".\n${ACCEPTED_EVENTS}`,
    );
    expect(rejectionOf({}).message).toBe(
      `invalid event: missing "action" (or not a scheduled event).\n${ACCEPTED_EVENTS}`,
    );
  });

  it('lists every accepted form', () => {
    expect(ACCEPTED_EVENTS.split('\n')).toEqual([
      'Accepted events:',
      expect.stringMatching(/^- an EventBridge schedule: .*source aws\.events.*source aws\.scheduler/),
      '- {"action": "reconcile"}',
      expect.stringMatching(
        /^- \{"action": "rotate", "secretId": .*"userName".*"serviceName".*"force": true$/,
      ),
      expect.stringMatching(
        /^- \{"action": "rollback", "secretId": .*"userName".*"serviceName".*previous credential current again$/,
      ),
      expect.stringMatching(
        /^- \{"action": "revoke", "secretId": .*"credentialId": "<id>" \(default: the current one\) and "delete": true$/,
      ),
      '- {"action": "status"}, optionally with "secretId", or "userName" and "serviceName"',
      '- any command above with "dryRun": true (plan and report, change nothing)',
      expect.stringMatching(
        /^- a Secrets Manager rotation step: \{"Step": "createSecret" \| "setSecret" \| "testSecret" \| "finishSecret", "SecretId": .*"ClientRequestToken".*, optionally with "RotationToken"$/,
      ),
    ]);
  });

  it.each([
    ['a boolean', true, 'the event must be a JSON object, got a boolean true'],
    ['a string', 'x', 'the event must be a JSON object, got a string "x"'],
    ['null', null, 'the event must be a JSON object, got null.'],
    ['nothing', undefined, 'the event must be a JSON object, got no event (undefined)'],
    ['an array', [1], 'the event must be a JSON object, got an array [1]'],
  ])('describes %s that is not an event', (_, event, expected) => {
    expect(rejectionOf(event).message).toContain(expected);
  });
});

describe('quote', () => {
  it('quotes a value as JSON, up to 60 characters whole', () => {
    expect(quote('x'.repeat(58))).toBe(`"${'x'.repeat(58)}"`);
    expect(quote(undefined)).toBe('undefined');
    expect(quote({ a: 1 })).toBe('{"a":1}');
  });

  it('cuts a longer value at 60 characters and says how long it was', () => {
    expect(quote('x'.repeat(59))).toBe(`"${'x'.repeat(59)}...(61 chars)`);
    expect(quote('abcdef', 3)).toBe('"ab...(8 chars)');
  });

  it('renders what JSON cannot hold without throwing', () => {
    expect(quote(() => 1)).toBe('() => 1');
    expect(quote(10n)).toBe('[object BigInt]');
  });
});
