// The rotation-step event as Secrets Manager sends it, parsed strictly: every mistake is
// named, with the accepted forms, before anything is touched.
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../lambda/events.ts';
import { InvalidEventError } from '../../lambda/errors.ts';
import { sameFunction } from '../../lambda/rotation/pending.ts';

const ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:service-credentials/app/cassandra.amazonaws.com-Ab12Cd';
const TOKEN = 'c2a1a6a4-7f0e-4a54-9d3b-1e0f7a4b2c9d';

function rejection(event: unknown): string {
  try {
    parseEvent(event);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return (error as Error).message;
  }
  throw new Error('the event was accepted');
}

describe('parseEvent with a rotation step', () => {
  it.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)('accepts %s', (step) => {
    expect(parseEvent({ Step: step, SecretId: ARN, ClientRequestToken: TOKEN })).toEqual({
      action: 'rotation-step',
      step,
      secretId: ARN,
      token: TOKEN,
    });
  });

  it('accepts the RotationToken Secrets Manager sends across accounts, and ignores it', () => {
    expect(
      parseEvent({ Step: 'testSecret', SecretId: ARN, ClientRequestToken: TOKEN, RotationToken: 'abc' }),
    ).toEqual({ action: 'rotation-step', step: 'testSecret', secretId: ARN, token: TOKEN });
  });

  it('names an unknown step and lists the four', () => {
    expect(rejection({ Step: 'create_secret', SecretId: ARN, ClientRequestToken: TOKEN })).toMatch(
      /"Step" must be one of "createSecret", "setSecret", "testSecret", "finishSecret", got "create_secret"/,
    );
  });

  it('rejects a token outside 32-64 characters, a missing SecretId and unknown fields', () => {
    const message = rejection({ Step: 'createSecret', ClientRequestToken: 'x'.repeat(65), secretid: ARN });
    expect(message).toMatch(/"ClientRequestToken" must be 32-64/);
    expect(message).toMatch(/"SecretId" must be a string, got undefined/);
    expect(message).toMatch(/unknown field\(s\) "secretid" \(did you mean "SecretId"\?\)/);
    expect(message).toMatch(/Accepted events:/);
  });

  it('rejects a step mixed with command fields', () => {
    expect(
      rejection({
        Step: 'createSecret',
        SecretId: ARN,
        ClientRequestToken: TOKEN,
        action: 'rotate',
        force: true,
      }),
    ).toMatch(/a rotation step cannot carry command fields \("action", "force"\)/);
  });
});

describe('parseEvent with a malformed rotation step', () => {
  const step = { Step: 'createSecret', SecretId: ARN, ClientRequestToken: TOKEN };

  it('says what SecretId must be', () => {
    expect(rejection({ ...step, SecretId: 'arn:aws:secretsmanager:nowhere' })).toContain(
      '"SecretId" must be a Secrets Manager secret ARN (or name), got "arn:aws:secretsmanager:nowhere"',
    );
  });

  it('names a ClientRequestToken that is not a string', () => {
    expect(rejection({ ...step, ClientRequestToken: 12345 })).toContain(
      '"ClientRequestToken" must be a string, got 12345',
    );
  });

  it('takes a RotationToken of 1-4096 characters, and names one that is not', () => {
    expect(parseEvent({ ...step, RotationToken: 'r'.repeat(4096) })).toMatchObject({ token: TOKEN });
    expect(rejection({ ...step, RotationToken: '' })).toContain(
      '"RotationToken" must be 1-4096 characters, got 0',
    );
    expect(rejection({ ...step, RotationToken: 'r'.repeat(4097) })).toContain(
      '"RotationToken" must be 1-4096 characters, got 4097',
    );
    expect(rejection({ ...step, RotationToken: 7 })).toContain('"RotationToken" must be a string, got 7');
  });

  it('names command fields in a step once, not again as unknown fields', () => {
    expect(rejection({ ...step, dryRun: true })).toMatch(
      /^invalid event: a rotation step cannot carry command fields \("dryRun"\); send one or the other\.\n/,
    );
  });
});

describe('sameFunction', () => {
  it('compares Lambda ARNs without their qualifier', () => {
    const fn = 'arn:aws:lambda:eu-west-1:123456789012:function:rotator';
    expect(sameFunction(fn, `${fn}:live`)).toBe(true);
    expect(sameFunction(`${fn}:$LATEST`, fn)).toBe(true);
    expect(sameFunction(fn, 'arn:aws:lambda:eu-west-1:123456789012:function:other')).toBe(false);
    expect(sameFunction(fn, 'arn:aws:lambda:eu-west-1:210987654321:function:rotator')).toBe(false);
  });
});
