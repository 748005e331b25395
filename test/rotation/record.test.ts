// The secret value format: what a record holds for each kind of credential, and how a value
// read back is classified (valid, absent = bootstrap, foreign = someone else's pair).
import { describe, expect, it } from 'vitest';
import type { CredentialRecord, IssuedCredential, Target } from '../../lambda/rotation/model.ts';
import {
  issuedFromRecord,
  parseRecord,
  recordFromIssued,
  serializeRecord,
} from '../../lambda/rotation/record.ts';

const TARGET: Target = {
  secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf',
  secretName: 'app',
  userName: 'app-user',
  serviceName: 'cassandra.amazonaws.com',
};
const CREATED = new Date('2026-11-22T03:00:00.000Z');
const EXPIRES = new Date('2027-11-22T03:00:00.000Z');

const PASSWORD: IssuedCredential = {
  id: 'ACCA0000000000000001',
  userName: 'app-user',
  serviceName: 'cassandra.amazonaws.com',
  status: 'Active',
  createdAt: CREATED,
  serviceUserName: 'app-user-at-123456789012',
  servicePassword: 'pw-not-a-real-one',
};
const API_KEY: IssuedCredential = {
  id: 'ACCA0000000000000002',
  userName: 'app-user',
  serviceName: 'bedrock.amazonaws.com',
  status: 'Active',
  createdAt: CREATED,
  alias: 'app-user+1-at-123456789012',
  serviceCredentialSecret: 'key-not-a-real-one',
  expiresAt: EXPIRES,
};

const RECORD: CredentialRecord = {
  credentialId: 'ACCA0000000000000001',
  userName: 'app-user',
  serviceName: 'cassandra.amazonaws.com',
  issuedAt: '2026-11-22T03:00:00.000Z',
  username: 'app-user-at-123456789012',
  password: 'pw-not-a-real-one',
};
const value = (fields: Record<string, unknown>) => JSON.stringify(fields);

describe('recordFromIssued', () => {
  it('records a user name and password with IAM’s CreateDate, and no expiry when IAM gave none', () => {
    expect(recordFromIssued(PASSWORD)).toStrictEqual(RECORD);
  });

  it('records an API key with its alias and expiry', () => {
    expect(recordFromIssued(API_KEY)).toStrictEqual({
      credentialId: 'ACCA0000000000000002',
      userName: 'app-user',
      serviceName: 'bedrock.amazonaws.com',
      issuedAt: '2026-11-22T03:00:00.000Z',
      apiKey: 'key-not-a-real-one',
      alias: 'app-user+1-at-123456789012',
      expiresAt: '2027-11-22T03:00:00.000Z',
    });
  });

  it('records the expiry of a password credential that has one', () => {
    expect(recordFromIssued({ ...PASSWORD, expiresAt: EXPIRES }).expiresAt).toBe('2027-11-22T03:00:00.000Z');
  });

  it.each([
    ['password', { servicePassword: undefined }],
    ['user name', { serviceUserName: undefined }],
  ])('refuses an IAM answer without a %s, naming the credential and nothing secret', (_, missing) => {
    expect(() => recordFromIssued({ ...PASSWORD, ...missing })).toThrow(
      'IAM returned credential ACCA0000000000000001 without a password or secret',
    );
  });
});

describe('parseRecord', () => {
  it('reads back what it writes, for both kinds', () => {
    expect(parseRecord(serializeRecord(RECORD), TARGET)).toStrictEqual({ kind: 'valid', record: RECORD });
    const key = recordFromIssued(API_KEY);
    const bedrock = { ...TARGET, serviceName: 'bedrock.amazonaws.com' };
    expect(parseRecord(serializeRecord(key), bedrock)).toStrictEqual({ kind: 'valid', record: key });
  });

  it('reads times written with a UTC offset', () => {
    const offset = {
      ...RECORD,
      issuedAt: '2026-11-22T04:00:00+01:00',
      expiresAt: '2027-11-22T04:00:00+01:00',
      rolledBackAt: '2026-12-01T09:30:00-05:00',
    };
    expect(parseRecord(value(offset), TARGET)).toStrictEqual({ kind: 'valid', record: offset });
  });

  it.each([
    ['no value', undefined, 'secret has no value'],
    ['a placeholder that is not JSON', 'placeholder', 'placeholder value, so a first credential is issued'],
    ['JSON that is not a record', value({ hello: 'world' }), 'secret value is not a credential record'],
    ['a user name without a password', value({ ...RECORD, password: undefined }), 'not a credential record'],
    ['a password without a user name', value({ ...RECORD, username: undefined }), 'not a credential record'],
    ['an empty credential id', value({ ...RECORD, credentialId: '' }), 'not a credential record'],
    ['an empty user name', value({ ...RECORD, userName: '' }), 'not a credential record'],
    ['an empty service name', value({ ...RECORD, serviceName: '' }), 'not a credential record'],
    [
      'an issue time that is not ISO 8601',
      value({ ...RECORD, issuedAt: 'yesterday' }),
      'not a credential record',
    ],
    [
      'an expiry that is not ISO 8601',
      value({ ...RECORD, expiresAt: 'next year' }),
      'not a credential record',
    ],
  ])('reads %s as absent (bootstrap)', (_, raw, reason) => {
    const parsed = parseRecord(raw, TARGET);
    expect(parsed.kind).toBe('absent');
    expect(parsed.kind === 'absent' && parsed.reason).toContain(reason);
  });

  it('accepts an API key record without user name and password', () => {
    const key = { ...RECORD, username: undefined, password: undefined, apiKey: 'k', alias: 'a' };
    expect(parseRecord(value(key), TARGET).kind).toBe('valid');
  });

  it.each([
    ['another user, same service', { userName: 'someone-else' }, 'someone-else/cassandra.amazonaws.com'],
    [
      'the same user, another service',
      { serviceName: 'codecommit.amazonaws.com' },
      'app-user/codecommit.amazonaws.com',
    ],
  ])('reads a record of %s as foreign, naming both pairs', (_, fields, recorded) => {
    expect(parseRecord(value({ ...RECORD, ...fields }), TARGET)).toStrictEqual({
      kind: 'foreign',
      reason: `secret records a credential of ${recorded}, but its tags name app-user/cassandra.amazonaws.com`,
    });
  });
});

// A stored credential rebuilt for a probe (testSecret, the take-back of a stale rotation): the
// secret parts come from the record, the rest from IAM's listing.
describe('issuedFromRecord', () => {
  const { servicePassword: _p, serviceUserName: _u, ...listedPassword } = PASSWORD;

  it("takes the password and the record's user name over the listing's", () => {
    const listed = { ...listedPassword, serviceUserName: 'listed-name' };
    expect(issuedFromRecord(listed, RECORD)).toEqual({
      ...listed,
      serviceUserName: 'app-user-at-123456789012',
      servicePassword: 'pw-not-a-real-one',
      serviceCredentialSecret: undefined,
    });
  });

  it("keeps the listing's user name for an API key record, which has none", () => {
    const { serviceCredentialSecret: _s, ...listedKey } = API_KEY;
    const keyRecord = recordFromIssued(API_KEY);
    expect(issuedFromRecord({ ...listedKey, serviceUserName: 'listed-name' }, keyRecord)).toEqual({
      ...listedKey,
      serviceUserName: 'listed-name',
      servicePassword: undefined,
      serviceCredentialSecret: 'key-not-a-real-one',
    });
  });
});
