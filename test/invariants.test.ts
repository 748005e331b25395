// The verification library itself: each check finds what it is for, and says it without the
// secret. (Every other test layer relies on these checks passing only when the invariant holds.)
import { describe, expect, it } from 'vitest';
import { AwsEmulator } from '../emulator/index.ts';
import { DAY_MS } from '../lambda/rotation/retirement.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/contract.ts';
import {
  CHECKS,
  countdown,
  createWithoutStoreProblems,
  describeForScan,
  fakeLambdaContext,
  findLeakedSecrets,
  lockoutProblems,
  retireProblems,
  strayProblems,
} from '../invariants/index.ts';

const POLICY = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };
const SERVICE = 'cassandra.amazonaws.com';

/** One target whose secret records a freshly issued credential, as a completed run leaves it. */
function account() {
  const emulator = new AwsEmulator();
  emulator.iam.createUser('app');
  const cred = emulator.iam.issueCredential('app', SERVICE);
  const arn = emulator.secrets.createSecret('service-credentials/app/cassandra.amazonaws.com', {
    tags: { [USER_NAME_TAG]: 'app', [SERVICE_NAME_TAG]: SERVICE },
    value: JSON.stringify({
      username: cred.ServiceUserName,
      password: cred.ServicePassword,
      credentialId: cred.ServiceSpecificCredentialId,
    }),
  });
  return { emulator, arn, id: cred.ServiceSpecificCredentialId, password: String(cred.ServicePassword) };
}

describe('invariants/', () => {
  it('I1: finds nothing on a working target, and an Inactive current credential', () => {
    const { emulator, id } = account();
    expect(lockoutProblems(emulator)).toEqual([]);
    emulator.iam.setStatus(id, 'Inactive');
    expect(lockoutProblems(emulator).map((p) => p.check)).toEqual([CHECKS.lockout]);
  });

  it('I1: finds a placeholder and a stored password IAM no longer holds', () => {
    const { emulator, arn, id } = account();
    emulator.iam.ResetServiceSpecificCredential({ UserName: 'app', ServiceSpecificCredentialId: id });
    expect(lockoutProblems(emulator)[0]?.message).toMatch(/not the one IAM last issued/);
    emulator.secrets.putValue(arn, 'placeholder');
    expect(lockoutProblems(emulator)[0]?.message).toMatch(/no credential record/);
  });

  it('I4: an Active unrecorded credential is stray unless in flight or within the overlap', () => {
    const { emulator } = account();
    emulator.iam.issueCredential('app', SERVICE);
    expect(strayProblems(emulator, POLICY, { allowInFlight: true })).toEqual([]);
    expect(strayProblems(emulator, POLICY).map((p) => p.check)).toEqual([CHECKS.stray]);
    expect(strayProblems(emulator, { ...POLICY, overlapDays: 1 })).toEqual([]);
  });

  it('I2/I3: deactivating the current credential, and deleting within the grace period', () => {
    const { emulator, id } = account();
    const other = emulator.iam.issueCredential('app', SERVICE).ServiceSpecificCredentialId;
    const deactivate = { op: 'deactivate', userName: 'app', id } as const;
    expect(retireProblems(emulator, POLICY, deactivate, false).map((p) => p.check)).toEqual([
      CHECKS.currentTouched,
    ]);
    const remove = { op: 'delete', userName: 'app', id: other } as const;
    expect(retireProblems(emulator, POLICY, remove, false).map((p) => p.check)).toEqual([CHECKS.earlyDelete]);
    expect(retireProblems(emulator, POLICY, remove, true)).toEqual([]);
    emulator.clock.advance(7 * DAY_MS);
    expect(retireProblems(emulator, POLICY, remove, false)).toEqual([]);
  });

  it("I3 allows deleting the rotator's own credential that no secret version ever recorded (failed verification)", () => {
    const { emulator } = account();
    const fresh = emulator.iam.issueCredential('app', SERVICE).ServiceSpecificCredentialId;
    const remove = { op: 'delete', userName: 'app', id: fresh } as const;
    expect(retireProblems(emulator, POLICY, remove, false, new Set([fresh]))).toEqual([]);
    // Someone else's credential is not the rotator's to delete early.
    expect(retireProblems(emulator, POLICY, remove, false, new Set()).map((p) => p.check)).toEqual([
      CHECKS.earlyDelete,
    ]);
  });

  it('I4: a credential a run issued but did not store', () => {
    const target = { secretId: 's', actions: [{ type: 'create', credentialId: 'A' }] };
    const report = { targets: [target] } as unknown as Parameters<typeof createWithoutStoreProblems>[0];
    expect(createWithoutStoreProblems(report).map((p) => p.check)).toEqual([CHECKS.createWithoutStore]);
  });

  it('I5: finds a secret in text and in an error cause, named without its value', () => {
    const { password } = account();
    const odd = 'short!'; // outside the usual alphabet and length: found as a plain substring
    const error = new Error('outer', { cause: new Error(`inner ${password}`) });
    const found = findLeakedSecrets(
      [describeForScan(error), `x${odd}y`],
      [password, odd, 'absent-secret-0000'],
    );
    expect(found).toEqual([`issued secret #0 (${password.length} chars)`, 'issued secret #1 (6 chars)']);
    expect(found.join('')).not.toContain(password);
    expect(findLeakedSecrets([describeForScan({ report: 'clean' })], [password])).toEqual([]);
  });

  it('I5: finds a secret encoded (base64 in a Basic token, hex, URL- and JSON-escaped), named by its form', () => {
    const secret = 'pa/ss+wo rd"with%odd=chars-0123456789';
    const basic = Buffer.from(`app-at-123456789012:${secret}`).toString('base64');
    const cases: [string, string][] = [
      [`Authorization: Basic ${basic}`, 'base64 at byte offset'],
      [`body=${Buffer.from(secret).toString('hex').toUpperCase()}`, 'hex, upper case'],
      [
        `?p=${encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
        'URL-encoded, lower-case hex',
      ],
      [JSON.stringify({ value: secret }), 'JSON-escaped'],
      [Buffer.from(secret).toString('base64url'), 'base64url'],
    ];
    for (const [text, form] of cases) {
      const found = findLeakedSecrets([text], [secret]);
      expect(found.join(' '), text).toContain(form);
      expect(found.join(''), text).not.toContain(secret);
    }
    expect(findLeakedSecrets([Buffer.from('nothing secret here').toString('base64')], [secret])).toEqual([]);
  });

  it('the fake Lambda context: a fixed or counting-down deadline', () => {
    expect(fakeLambdaContext({ remainingMs: 123 }).getRemainingTimeInMillis()).toBe(123);
    const remaining = fakeLambdaContext({ remainingMs: countdown(1000) }).getRemainingTimeInMillis();
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(1000);
    expect(countdown(-5)()).toBe(0);
  });
});
