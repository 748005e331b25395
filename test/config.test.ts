import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, loadConfig } from '../lambda/config.ts';
import { type Config, toEnvironment } from '../lambda/contract.ts';
import { ConfigError } from '../lambda/errors.ts';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      policy: DEFAULT_POLICY,
      secretNamePrefix: undefined,
      eventBusName: undefined,
      bulkCredentialListing: false,
    });
    expect(DEFAULT_POLICY).toEqual({ rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 });
  });

  it('treats empty values as unset and trims the rest', () => {
    expect(
      loadConfig({
        ROTATE_AFTER_DAYS: ' 45 ',
        OVERLAP_DAYS: '',
        GRACE_PERIOD_DAYS: '1.5',
        SECRET_NAME_PREFIX: ' ',
        EVENT_BUS_NAME: 'ops',
      }),
    ).toEqual({
      policy: { rotateAfterDays: 45, overlapDays: 0, gracePeriodDays: 1.5 },
      secretNamePrefix: undefined,
      eventBusName: 'ops',
      bulkCredentialListing: false,
    });
  });

  it('gives an empty or blank value the default, not 0 (which Number("") would give)', () => {
    expect(loadConfig({ GRACE_PERIOD_DAYS: '' }).policy.gracePeriodDays).toBe(7);
    expect(loadConfig({ ROTATE_AFTER_DAYS: '  ' }).policy.rotateAfterDays).toBe(30);
  });

  it('turns bulk credential listing on only for "true", and names the variable otherwise', () => {
    expect(loadConfig({ BULK_CREDENTIAL_LISTING: 'true' }).bulkCredentialListing).toBe(true);
    expect(loadConfig({ BULK_CREDENTIAL_LISTING: 'false' }).bulkCredentialListing).toBe(false);
    expect(() => loadConfig({ BULK_CREDENTIAL_LISTING: 'yes' })).toThrow(
      /BULK_CREDENTIAL_LISTING must be "true" or "false"/,
    );
  });

  it.each([
    ['ROTATE_AFTER_DAYS', '-1'],
    ['OVERLAP_DAYS', '-0.5'],
    ['GRACE_PERIOD_DAYS', '-7'],
    ['ROTATE_AFTER_DAYS', 'thirty'],
    ['OVERLAP_DAYS', '1d'],
    ['GRACE_PERIOD_DAYS', 'Infinity'],
  ])('rejects %s=%s, naming the variable and the expected form', (name, value) => {
    const { message } = errorOf({ [name]: value });
    expect(message).toContain(name);
    expect(message).toContain('finite number of days >= 0');
    expect(message).toContain(JSON.stringify(value));
  });

  it('rejects periods where the grace period outlasts the rotation, explaining the rule', () => {
    const { message } = errorOf({ ROTATE_AFTER_DAYS: '10', OVERLAP_DAYS: '3', GRACE_PERIOD_DAYS: '7' });
    expect(message).toContain('must be greater than OVERLAP_DAYS + GRACE_PERIOD_DAYS');
    expect(message).toContain('3 + 7 = 10');
  });

  it('rejects a rotation period of 0', () => {
    expect(errorOf({ ROTATE_AFTER_DAYS: '0', GRACE_PERIOD_DAYS: '0' }).message).toContain('must be > 0');
  });

  it('names ROTATE_AFTER_DAYS, OVERLAP_DAYS and GRACE_PERIOD_DAYS when the periods are inconsistent', () => {
    const { message } = errorOf({ ROTATE_AFTER_DAYS: '10', OVERLAP_DAYS: '3', GRACE_PERIOD_DAYS: '7' });
    for (const name of ['ROTATE_AFTER_DAYS', 'OVERLAP_DAYS', 'GRACE_PERIOD_DAYS'])
      expect(message).toContain(name);
  });

  it('names ROTATE_AFTER_DAYS when it is 0', () => {
    expect(errorOf({ ROTATE_AFTER_DAYS: '0', GRACE_PERIOD_DAYS: '0' }).message).toContain(
      'ROTATE_AFTER_DAYS',
    );
  });
});

describe('toEnvironment', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9/_+=.@-]{1,40}$/);
  const config: fc.Arbitrary<Config> = fc
    .record({
      overlapDays: fc.integer({ min: 0, max: 30 }),
      gracePeriodDays: fc.double({ min: 0, max: 30, noNaN: true }),
      extra: fc.double({ min: 0.001, max: 365, noNaN: true }),
      secretNamePrefix: fc.option(name, { nil: undefined }),
      eventBusName: fc.option(name, { nil: undefined }),
      bulkCredentialListing: fc.boolean(),
    })
    .map(({ overlapDays, gracePeriodDays, extra, ...rest }) => ({
      policy: { rotateAfterDays: overlapDays + gracePeriodDays + extra, overlapDays, gracePeriodDays },
      ...rest,
    }))
    .filter((c) => c.policy.rotateAfterDays > c.policy.overlapDays + c.policy.gracePeriodDays);

  it('writes the environment from which loadConfig reads the same configuration', () => {
    fc.assert(
      fc.property(config, (c) => {
        expect(loadConfig(toEnvironment(c))).toEqual(c);
      }),
    );
  });

  it('leaves unset options out, so the function applies its own defaults', () => {
    const env = toEnvironment({
      policy: DEFAULT_POLICY,
      secretNamePrefix: undefined,
      eventBusName: undefined,
      bulkCredentialListing: false,
    });
    expect(env).toEqual({ ROTATE_AFTER_DAYS: '30', OVERLAP_DAYS: '0', GRACE_PERIOD_DAYS: '7' });
  });
});
