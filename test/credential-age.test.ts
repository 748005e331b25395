// maxCredentialAgeDays: the organisation's limit on a key's lifetime (e.g. an SCP on
// iam:ServiceSpecificCredentialAgeDays) caps CredentialAgeDays for the services that take it,
// and is refused at synth and cold start when a key would expire before its replacement.
import { describe, expect, it } from 'vitest';
import { loadConfig, validatePolicy } from '../lambda/config.ts';
import { ConfigError } from '../lambda/errors.ts';
import { credentialAgeDays, validateMaxCredentialAgeDays } from '../lambda/rotation/services.ts';
import { World } from './support/world.ts';

const BEDROCK = 'bedrock.amazonaws.com';
const LOGS = 'logs.amazonaws.com';
const KEYSPACES = 'cassandra.amazonaws.com';

describe('credentialAgeDays with maxCredentialAgeDays', () => {
  const policy = { rotateAfterDays: 25, overlapDays: 2, gracePeriodDays: 7 };

  it('issues keys with the smaller of the formula and the limit', () => {
    expect(credentialAgeDays(BEDROCK, policy)).toBe(34);
    expect(credentialAgeDays(BEDROCK, { ...policy, maxCredentialAgeDays: 30 })).toBe(30);
    expect(credentialAgeDays(LOGS, { ...policy, maxCredentialAgeDays: 30 })).toBe(30);
    expect(credentialAgeDays(BEDROCK, { ...policy, maxCredentialAgeDays: 90 })).toBe(34);
  });

  it('leaves services without expiry alone', () => {
    expect(credentialAgeDays(KEYSPACES, { ...policy, maxCredentialAgeDays: 30 })).toBeUndefined();
  });
});

describe('validateMaxCredentialAgeDays', () => {
  it('accepts a limit a key outlives its replacement and overlap under', () => {
    expect(validateMaxCredentialAgeDays(30, { rotateAfterDays: 25, overlapDays: 2 })).toBe(30);
    expect(validateMaxCredentialAgeDays(undefined, { rotateAfterDays: 30, overlapDays: 0 })).toBeUndefined();
  });

  it('refuses a limit a key would not outlive, naming the rule', () => {
    expect(() => validateMaxCredentialAgeDays(30, { rotateAfterDays: 30, overlapDays: 0 })).toThrow(
      'maxCredentialAgeDays (30) must be greater than rotateAfterDays + overlapDays (30 + 0 = 30): a key must outlive its replacement',
    );
    expect(() => validateMaxCredentialAgeDays(30, { rotateAfterDays: 25, overlapDays: 5 })).toThrow(
      ConfigError,
    );
  });

  it.each([0, 2.5, 36_601, Number.NaN])('refuses %s, naming IAM range', (max) => {
    expect(() => validateMaxCredentialAgeDays(max, { rotateAfterDays: 1, overlapDays: 0 })).toThrow(
      'maxCredentialAgeDays must be a whole number of days from 1 to 36600',
    );
  });

  it('is part of validatePolicy, for the construct at synth', () => {
    expect(() =>
      validatePolicy({ rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7, maxCredentialAgeDays: 30 }),
    ).toThrow('maxCredentialAgeDays (30) must be greater than rotateAfterDays + overlapDays');
  });
});

describe('MAX_CREDENTIAL_AGE_DAYS', () => {
  it('is optional', () => {
    expect(loadConfig({}).policy).not.toHaveProperty('maxCredentialAgeDays');
  });

  it('is read into the policy', () => {
    expect(
      loadConfig({ ROTATE_AFTER_DAYS: '25', MAX_CREDENTIAL_AGE_DAYS: ' 30 ' }).policy.maxCredentialAgeDays,
    ).toBe(30);
  });

  it('fails the cold start with the environment names when a key would not outlive rotation', () => {
    expect(() => loadConfig({ MAX_CREDENTIAL_AGE_DAYS: '30' })).toThrow(
      'MAX_CREDENTIAL_AGE_DAYS (30) must be greater than ROTATE_AFTER_DAYS + OVERLAP_DAYS (30 + 0 = 30)',
    );
    expect(() => loadConfig({ MAX_CREDENTIAL_AGE_DAYS: 'thirty' })).toThrow(
      'MAX_CREDENTIAL_AGE_DAYS must be a whole number',
    );
  });
});

describe('against the emulator', () => {
  it('issues a Bedrock key with CredentialAgeDays = maxCredentialAgeDays', async () => {
    const w = new World({
      policy: { rotateAfterDays: 25, overlapDays: 0, gracePeriodDays: 7, maxCredentialAgeDays: 30 },
    });
    w.addTarget('app', BEDROCK);

    await w.run();

    expect(
      w.emulator.callsOf('CreateServiceSpecificCredential').map((c) => c.params.CredentialAgeDays),
    ).toEqual(['30']);
    await w.expectInvariants();
  });
});
