// Malformed and hostile inputs (issue #5): each row is an input, the clear error (or the
// failed/blocked report reason) it must produce, naming the problem and the expected form,
// and the proof that nothing was written. Events go through the real handler (createHandler
// over a World's ports), whose logs and events are captured and scanned for secrets (I5).
//
// Secret values that are not a record are NOT errors: docs/DESIGN.md says any non-record means
// "bootstrap", so those rows expect a bootstrap (and its writes), not a rejection.
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, loadConfig } from '../../lambda/config.ts';
import { ConfigError, InvalidEventError, RunFailedError } from '../../lambda/errors.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../../lambda/contract.ts';
import { INTENT_STAGE } from '../../lambda/rotation/intent.ts';
import { handlerFor } from '../support/handler.ts';
import { World } from '../support/world.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const APP_SECRET = `service-credentials/app/${KEYSPACES}`;

interface Row {
  readonly name: string;
  /** Changes to the world before the event (after the app target's bootstrap). */
  readonly arrange?: (w: World) => void | Promise<void>;
  readonly event: unknown | ((w: World) => unknown);
  readonly error: RegExp;
  /** The error's class. @default InvalidEventError */
  readonly type?: new (
    ...args: never[]
  ) => Error;
  /**
   * `none`: no write call at all. `none-effective`: a write was attempted and refused (access
   * denied), nothing changed.
   * @default 'none'
   */
  readonly writes?: 'none' | 'none-effective';
}

const accepted = /Accepted events:/;
const cycle: Record<string, unknown> = { action: 'reconcile' };
cycle.self = cycle;
const denied = (operation: string, action: string) => ({
  operation,
  kind: 'fail' as const,
  times: Number.POSITIVE_INFINITY,
  error: {
    code: 'AccessDenied',
    status: 403,
    message: `User: arn:aws:sts::123456789012:assumed-role/rotator/fn is not authorized to perform: iam:${action} on resource: user app`,
  },
});
const deniedSm = (operation: string) => ({
  operation,
  kind: 'fail' as const,
  times: Number.POSITIVE_INFINITY,
  error: {
    code: 'AccessDeniedException',
    status: 400,
    message: `User: arn:aws:sts::123456789012:assumed-role/rotator/fn is not authorized to perform: secretsmanager:${operation}`,
  },
});

const EVENT_ROWS: Row[] = [
  // --- not an object
  { name: 'null', event: null, error: /the event must be a JSON object, got null/ },
  {
    name: 'a string',
    event: 'reconcile',
    error: /the event must be a JSON object, got a string "reconcile"/,
  },
  {
    name: 'an array',
    event: [{ action: 'reconcile' }],
    error: /the event must be a JSON object, got an array/,
  },
  { name: 'a number', event: 42, error: /the event must be a JSON object, got a number 42/ },
  {
    // middy hands the handler {} for an undefined event.
    name: 'undefined',
    event: undefined,
    error: /missing "action" \(or not a scheduled event\)/,
  },
  { name: 'a circular object', event: cycle, error: /the event is not JSON \(it cannot be serialized\)/ },
  // --- commands
  { name: 'an empty object', event: {}, error: /missing "action" \(or not a scheduled event\)/ },
  {
    name: 'an unknown action',
    event: { action: 'rotate-all' },
    error:
      /unknown action "rotate-all"; expected one of "reconcile", "rotate", "rollback", "revoke", "status"/,
  },
  {
    name: 'an action in the wrong case',
    event: { action: 'ROTATE', secretId: APP_SECRET },
    error: /unknown action "ROTATE"; expected one of/,
  },
  { name: 'a non-string action', event: { action: 1 }, error: /unknown action 1; expected one of/ },
  {
    name: 'a misspelt dryRun (would rotate for real if ignored)',
    event: { action: 'reconcile', dryrun: true },
    error: /unknown field\(s\) "dryrun" \(did you mean "dryRun"\?\); allowed here: "action", "dryRun"/,
  },
  {
    name: 'dryRun as a string',
    event: { action: 'reconcile', dryRun: 'yes' },
    error: /"dryRun" must be true or false, got "yes"/,
  },
  {
    name: 'force on a reconcile',
    event: { action: 'reconcile', force: true },
    error: /"force" applies only to action "rotate", not "reconcile"/,
  },
  {
    name: 'force as a string',
    event: { action: 'rotate', secretId: APP_SECRET, force: 'true' },
    error: /"force" must be true or false, got "true"/,
  },
  {
    name: 'rollback without a target',
    event: { action: 'rollback' },
    error: /"rollback" needs a target: "secretId", or "userName" and "serviceName"/,
  },
  {
    name: 'rollback with force',
    event: { action: 'rollback', secretId: APP_SECRET, force: true },
    error: /"force" applies only to action "rotate", not "rollback"/,
  },
  {
    name: 'rollback naming a credential',
    event: { action: 'rollback', secretId: APP_SECRET, credentialId: 'ACCAEXAMPLE0CREDENTIAL1' },
    error: /"credentialId" applies only to action "revoke", not "rollback"/,
  },
  {
    name: 'revoke without a target',
    event: { action: 'revoke', credentialId: 'ACCAEXAMPLE0CREDENTIAL1' },
    error: /"revoke" needs a target: "secretId", or "userName" and "serviceName"/,
  },
  {
    name: 'revoke with a malformed credentialId',
    event: { action: 'revoke', secretId: APP_SECRET, credentialId: 'ACCA; rm -rf /' },
    error: /"credentialId" must be an IAM service-specific credential id \(20-128 letters and digits/,
  },
  {
    name: 'revoke with delete as a string (would delete if read loosely)',
    event: { action: 'revoke', secretId: APP_SECRET, delete: 'yes' },
    error: /"delete" must be true or false, got "yes"/,
  },
  {
    name: 'revoke with a misspelt credentialId',
    event: { action: 'revoke', secretId: APP_SECRET, credentialID: 'ACCAEXAMPLE0CREDENTIAL1' },
    error: /unknown field\(s\) "credentialID" \(did you mean "credentialId"\?\)/,
  },
  {
    name: 'delete on a rotate',
    event: { action: 'rotate', secretId: APP_SECRET, delete: true },
    error: /"delete" applies only to action "revoke", not "rotate"/,
  },
  {
    name: 'a scheduled event carrying a revoke',
    event: { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}, credentialId: 'x' },
    error: /a scheduled event cannot carry command fields \("credentialId"\)/,
  },
  {
    name: 'rotate without a target',
    event: { action: 'rotate' },
    error: /"rotate" needs a target: "secretId", or "userName" and "serviceName"/,
  },
  {
    name: 'both secretId and userName',
    event: { action: 'rotate', secretId: APP_SECRET, userName: 'app', serviceName: KEYSPACES },
    error: /give either "secretId" or "userName" and "serviceName", not both/,
  },
  {
    name: 'userName without serviceName',
    event: { action: 'rotate', userName: 'app' },
    error: /"userName" needs "serviceName" too/,
  },
  {
    name: 'a secretId with shell characters',
    event: { action: 'rotate', secretId: 'x; rm -rf / #' },
    error:
      /"secretId" must be a secret name \(1-512 characters of letters, digits and \/_\+=\.@-\) or a Secrets Manager secret ARN, got "x; rm -rf \/ #"/,
  },
  {
    name: 'a secretId that is a foreign ARN',
    event: { action: 'status', secretId: 'arn:aws:iam::123456789012:user/app' },
    error: /"secretId" must be a secret name .* or a Secrets Manager secret ARN/,
  },
  {
    name: 'a userName with a NUL and a newline',
    event: { action: 'rotate', userName: 'app\u0000\nadmin', serviceName: KEYSPACES },
    error:
      /"userName" must be an IAM user name usable as a tag value \(1-64 characters of letters, digits and \+=\.@_-\)/,
  },
  {
    name: 'a serviceName without .amazonaws.com',
    event: { action: 'rotate', userName: 'app', serviceName: 'cassandra' },
    error:
      /"serviceName" must be a service name like "cassandra\.amazonaws\.com" \(at most 128 characters[^)]*\), got "cassandra"/,
  },
  {
    name: 'a numeric secretId',
    event: { action: 'status', secretId: 123 },
    error: /"secretId" must be a string, got 123/,
  },
  {
    name: 'a huge payload',
    event: { action: 'reconcile', padding: 'x'.repeat(20_000) },
    error: /the event is \d+ bytes of JSON; at most 8192 bytes \(8 KiB\) are accepted/,
  },
  {
    name: 'a __proto__ key (JSON.parse makes it an own property)',
    event: JSON.parse('{"__proto__":{"action":"reconcile"}}'),
    error: /missing "action"/,
  },
  // --- schedules
  {
    name: 'a scheduled event carrying command fields',
    event: {
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      detail: {},
      action: 'rotate',
      force: true,
    },
    error:
      /a scheduled event cannot carry command fields \("action", "force"\); send a command event instead/,
  },
  {
    name: 'another detail-type',
    event: { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.events', detail: {} },
    error: /"detail-type" must be "Scheduled Event", got "AWS API Call via CloudTrail"/,
  },
  {
    name: 'a schedule from a foreign source',
    event: { 'detail-type': 'Scheduled Event', source: 'my.app', detail: {} },
    error: /"source" must be "aws\.events" or "aws\.scheduler", got "my\.app"/,
  },
  {
    name: 'a schedule with a non-empty detail',
    event: { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: '{"action":"rotate"}' },
    error: /a scheduled event's "detail" must be \{\} or "\{\}"/,
  },
  // --- valid events, bad targets: the run fails before any write
  {
    name: 'rotate of a secret that does not exist',
    event: { action: 'rotate', secretId: 'service-credentials/nobody/cassandra.amazonaws.com' },
    error:
      /DescribeSecret failed: ResourceNotFoundException: Secrets Manager can't find the specified secret/,
    type: Error,
  },
  {
    name: 'rotate of a user no secret is tagged for',
    event: { action: 'rotate', userName: 'ghost', serviceName: KEYSPACES },
    error:
      /no secret is tagged credential-rotator:user-name=ghost and credential-rotator:service-name=cassandra\.amazonaws\.com; expected a secret created by the stack/,
    type: Error,
  },
  {
    name: 'rotate of an untagged secret',
    arrange: (w) => void w.emulator.secrets.createSecret('some/other/secret', { value: 'x' }),
    event: { action: 'rotate', secretId: 'some/other/secret' },
    error:
      /some\/other\/secret is not a rotation target: secret some\/other\/secret lacks a value for tag credential-rotator:user-name and credential-rotator:service-name/,
    type: Error,
  },
];

/** Valid events on a broken world: the target is reported failed, the handler throws RunFailedError. */
const TARGET_ROWS: Row[] = [
  {
    name: "a secret holding another target's record",
    arrange: (w) => {
      w.addTarget('bob', KEYSPACES, { value: String(w.emulator.secrets.valueAt(APP_SECRET)) });
    },
    event: { action: 'reconcile' },
    error:
      /records a credential of app\/cassandra\.amazonaws\.com, but its tags name bob\/cassandra\.amazonaws\.com/,
  },
  {
    name: 'a secret missing the service tag',
    arrange: (w) => {
      w.emulator.iam.createUser('carol');
      w.emulator.secrets.createSecret('service-credentials/carol', {
        tags: { [USER_NAME_TAG]: 'carol' },
        value: 'x',
      });
    },
    event: { action: 'reconcile' },
    error:
      /secret service-credentials\/carol lacks a value for tag credential-rotator:service-name; a target needs both/,
  },
  {
    name: 'a blank user tag',
    arrange: (w) => {
      w.emulator.secrets.createSecret('service-credentials/blank', {
        tags: { [USER_NAME_TAG]: '  ', [SERVICE_NAME_TAG]: KEYSPACES },
        value: 'x',
      });
    },
    event: { action: 'reconcile' },
    error: /lacks a value for tag credential-rotator:user-name/,
  },
  {
    name: 'two secrets tagged for the same user and service',
    arrange: (w) => {
      w.addTarget('dave', KEYSPACES);
      w.addTarget('dave', KEYSPACES, { secretName: 'copy/of/dave' });
    },
    event: { action: 'reconcile' },
    error:
      /all name dave\/cassandra\.amazonaws\.com; exactly one secret may manage a user's credentials for a service: remove the tags from the others/,
  },
  {
    name: 'an unknown IAM user',
    arrange: (w) => {
      w.addTarget('ghost', KEYSPACES);
      w.emulator.iam.deleteUser('ghost');
    },
    event: { action: 'reconcile' },
    error: /NoSuchEntity.*The user with name ghost cannot be found/,
  },
  {
    name: 'an unsupported service',
    arrange: (w) => void w.addTarget('app', 'ec2.amazonaws.com'),
    event: { action: 'reconcile' },
    error: /No such service ec2\.amazonaws\.com is supported for Service Specific Credentials/,
  },
  {
    name: 'a rotate of a secret scheduled for deletion',
    arrange: async (w) => {
      await w.secretsClient.send(new DeleteSecretCommand({ SecretId: APP_SECRET, RecoveryWindowInDays: 7 }));
    },
    event: { action: 'rotate', secretId: APP_SECRET },
    error: /marked for deletion.*restore the secret to resume rotation/,
  },
  {
    name: 'AccessDenied from IAM (List)',
    arrange: (w) =>
      w.emulator.faults.add(denied('ListServiceSpecificCredentials', 'ListServiceSpecificCredentials')),
    event: { action: 'reconcile' },
    error:
      /ListServiceSpecificCredentials failed: AccessDenied: User: .* is not authorized to perform: iam:ListServiceSpecificCredentials/,
  },
  {
    name: 'AccessDenied from IAM (Create, on a forced rotate)',
    arrange: (w) =>
      w.emulator.faults.add(denied('CreateServiceSpecificCredential', 'CreateServiceSpecificCredential')),
    event: { action: 'rotate', secretId: APP_SECRET, force: true },
    // Create's answers carry secrets, so AWS's message is withheld; the request id finds it in CloudTrail.
    error:
      /CreateServiceSpecificCredential failed: AccessDenied: AWS's message withheld: this call carries a secret \(HTTP 403, request id [\w-]+\)/,
    writes: 'none-effective',
  },
  {
    name: 'AccessDeniedException from Secrets Manager (GetSecretValue)',
    arrange: (w) => w.emulator.faults.add(deniedSm('GetSecretValue')),
    event: { action: 'reconcile' },
    error:
      /GetSecretValue failed: AccessDeniedException: .*not authorized to perform: secretsmanager:GetSecretValue/,
  },
];

async function world(): Promise<World> {
  const w = new World({ retryDelayMs: 0 });
  w.addTarget('app', KEYSPACES);
  await w.run(); // a bootstrapped target: a secret exists that must not leak or change
  return w;
}

function expectNoWrites(w: World, since: number, writes: Row['writes']): void {
  const all = w.writesSince(since);
  if (writes === 'none-effective') {
    // The intent written before a Create (and marked ended after the Create was denied) is the
    // rotator's own bookkeeping under its own staging label: ids and times, nothing a user reads.
    expect(
      all.filter((c) => c.endsWith('-> OK') && !c.includes(`"VersionStages":["${INTENT_STAGE}"]`)),
      'no write took effect',
    ).toEqual([]);
  } else {
    expect(all, 'no write call at all').toEqual([]);
  }
}

describe('bad input through the handler', () => {
  it.each(EVENT_ROWS.map((r) => [r.name, r] as const))('rejects %s, touching nothing', async (_, row) => {
    const w = await world();
    await row.arrange?.(w);
    const since = w.emulator.calls.length;
    const { error, output } = await handlerFor(w).invoke(row.event);
    expect(error, 'the handler throws').toBeInstanceOf(row.type ?? InvalidEventError);
    expect((error as Error).message).toMatch(row.error);
    if ((row.type ?? InvalidEventError) === InvalidEventError) {
      expect((error as Error).message, 'lists the accepted forms').toMatch(accepted);
      // Quoted input is cut short, never echoed whole.
      expect((error as Error).message.length).toBeLessThan(2_000);
    }
    expect(output, 'the failure is logged').toMatch(/"level":"ERROR"/);
    expectNoWrites(w, since, row.writes);
  });

  it.each(TARGET_ROWS.map((r) => [r.name, r] as const))(
    'reports %s as failed, touching nothing',
    async (_, row) => {
      const w = await world();
      await row.arrange?.(w);
      const since = w.emulator.calls.length;
      const { error, output, events } = await handlerFor(w).invoke(row.event);
      expect(error).toBeInstanceOf(RunFailedError);
      expect((error as Error).message).toMatch(row.error);
      expect(output, 'the run finishes the other targets and logs the failure').toMatch(/run finished/);
      expect(
        events.some((e) => e.detailType.toLowerCase().includes('fail')),
        'a failure event is sent',
      ).toBe(true);
      expectNoWrites(w, since, row.writes);
    },
  );

  it('aborts a run whose discovery is denied (ListSecrets), touching nothing', async () => {
    const w = await world();
    w.emulator.faults.add(deniedSm('ListSecrets'));
    const since = w.emulator.calls.length;
    const { error } = await handlerFor(w).invoke({ action: 'reconcile' });
    expect((error as Error).message).toMatch(
      /ListSecrets failed: AccessDeniedException: .*not authorized to perform: secretsmanager:ListSecrets/,
    );
    expectNoWrites(w, since, 'none');
  });
});

describe('secret values that are not a record mean bootstrap (docs/DESIGN.md), not an error', () => {
  const values: [string, string][] = [
    ['not JSON', 'hunter2'],
    ['JSON of the wrong shape', '{"user":"app","pass":"x"}'],
    ['JSON null', 'null'],
    ['a JSON array', '[1,2,3]'],
    [
      'a record with an invalid issuedAt',
      '{"credentialId":"ACCA1","userName":"app","serviceName":"cassandra.amazonaws.com","issuedAt":"yesterday","username":"u","password":"p"}',
    ],
    ['a 60 KB value', 'x'.repeat(60_000)],
  ];
  it.each(values)('bootstraps a secret holding %s', async (_, value) => {
    const w = new World({ retryDelayMs: 0 });
    const arn = w.addTarget('app', KEYSPACES, { value });
    const { result } = await handlerFor(w).invoke({ action: 'reconcile' });
    expect(result?.targets[0]?.outcome).toBe('rotated');
    expect(result?.targets[0]?.reason).toMatch(
      /placeholder value, so a first credential is issued|secret value is not a credential record/,
    );
    await w.expectInvariants([arn]);
  });
});

describe('configuration (loadConfig)', () => {
  it('takes the defaults when nothing is set', () => {
    expect(loadConfig({}).policy).toEqual(DEFAULT_POLICY);
  });
  const rows: [string, Record<string, string>, RegExp][] = [
    [
      'a negative period',
      { ROTATE_AFTER_DAYS: '-1' },
      /ROTATE_AFTER_DAYS must be a finite number of days >= 0, got "-1"/,
    ],
    [
      'NaN',
      { ROTATE_AFTER_DAYS: 'NaN' },
      /ROTATE_AFTER_DAYS must be a finite number of days >= 0, got "NaN"/,
    ],
    ['letters', { OVERLAP_DAYS: 'abc' }, /OVERLAP_DAYS must be a finite number of days >= 0, got "abc"/],
    [
      'a unit',
      { ROTATE_AFTER_DAYS: '30 days' },
      /ROTATE_AFTER_DAYS must be a finite number of days >= 0, got "30 days"/,
    ],
    [
      'Infinity',
      { GRACE_PERIOD_DAYS: 'Infinity' },
      /GRACE_PERIOD_DAYS must be a finite number of days >= 0, got "Infinity"/,
    ],
    [
      'an overflow',
      { ROTATE_AFTER_DAYS: '1e400' },
      /ROTATE_AFTER_DAYS must be a finite number of days >= 0, got "1e400"/,
    ],
    ['rotate 0', { ROTATE_AFTER_DAYS: '0' }, /ROTATE_AFTER_DAYS must be > 0 days, got 0/],
    [
      'inconsistent periods',
      { ROTATE_AFTER_DAYS: '5', GRACE_PERIOD_DAYS: '7' },
      /ROTATE_AFTER_DAYS \(5\) must be greater than OVERLAP_DAYS \+ GRACE_PERIOD_DAYS \(0 \+ 7 = 7\)/,
    ],
  ];
  it.each(rows)('rejects %s at cold start with a clear error', (_, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('the I5 scan', () => {
  it('finds an issued password in captured handler output, without printing it', async () => {
    const w = await world();
    const secret = w.emulator.issuedSecrets()[0] as string;
    w.scanned.push(`{"level":"INFO","message":"oops","password":"${secret}"}`);
    const found = w.leakedSecrets();
    expect(found).toEqual([`issued secret #0 (${secret.length} chars)`]);
    expect(found.join('')).not.toContain(secret);
    w.scanned.length = 0; // the global afterEach scan would fail this test otherwise
  });
});
